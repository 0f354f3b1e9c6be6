"""Reconciliation: bank lines matched to what the ledger expects, and flags for what is not simply fine.

(Tables only so far; the verbs follow.)
"""
from datetime import datetime

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.clock import utcnow


class BankFlag(SQLModel, table=True):
    """One reason a bank line (or an expected transfer the bank never showed) needs a coordinator's look."""

    __table_args__ = (UniqueConstraint("bank_line_id", "reason"), UniqueConstraint("batch_line_id", "reason"),
                      Index("ix_bankflag_queue", "municipality_id", "resolved_at"))
    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id")
    team_id: int = Field(foreign_key="team.id", index=True)
    #: the flagged line; None for a transfer the bank did not show (then batch_line_id is set)
    bank_line_id: int | None = Field(default=None, foreign_key="bankline.id", index=True)
    batch_line_id: int | None = Field(default=None, foreign_key="batchline.id")
    #: cash, purpose, overspent, after_settled, unmatched, not_seen
    reason: str = Field(max_length=20)
    #: what the check saw (an MCC, the category, amounts), never a person
    detail: dict = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    resolved_by_id: int | None = Field(default=None, foreign_key="member.id")
    #: accepted, asked_worker, linked
    resolution: str | None = Field(default=None, max_length=20)
    resolution_note: str = Field(default="", sa_type=Text)


class MerchantRule(SQLModel, table=True):
    """A municipality's own addition to what fits a cost category: a merchant category code or a keyword."""

    __table_args__ = (UniqueConstraint("municipality_id", "category_id", "kind", "value"),)
    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    category_id: int = Field(foreign_key="costcategory.id")
    #: mcc (an ISO 18245 code, four digits) or keyword (matched in the merchant's name and the line's text)
    kind: str = Field(max_length=10)
    value: str = Field(max_length=60)
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow)
