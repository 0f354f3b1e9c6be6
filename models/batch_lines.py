"""The load batch tables, and what a batch not executed yet holds for a team's money.

The tables live apart from the verbs (models.batches) so that models.cards can ask what a waiting
batch tops up without importing models.batches, which imports models.cards: the imports go one way,
batches → cards → batch_lines. Invariants of batches: see models.batches.
"""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Text
from sqlmodel import Field, Session, SQLModel, func, select

from models.clock import utcnow


class LineKind(StrEnum):
    """What a batch line does."""

    TOP_UP = "top_up"
    LOAD = "load"


class LoadBatch(SQLModel, table=True):
    """One bank order of a municipality's foundation."""

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    created_by_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow)
    #: set by the first download; from then on the batch is frozen
    downloaded_at: datetime | None = None
    #: the pain.001 file as first downloaded, returned again on every later download
    sepa_xml: str | None = Field(default=None, sa_type=Text)
    executed_at: datetime | None = None
    executed_by_id: int | None = Field(default=None, foreign_key="member.id")


class BatchLine(SQLModel, table=True):
    """One transfer in a batch: a top-up of a team account, or the load of one card."""

    __table_args__ = (CheckConstraint("amount_cents > 0", name="batchline_amount_positive"),)
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="loadbatch.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    kind: str = Field(max_length=10)
    amount_cents: int
    budget_year_id: int = Field(foreign_key="budgetyear.id")
    card_id: int | None = Field(default=None, foreign_key="card.id", index=True)
    request_id: int | None = Field(default=None, foreign_key="spendrequest.id")
    #: the remittance information: anonymous
    reference: str = Field(max_length=60)
    #: the ledger entry posted when the batch was executed
    entry_id: int | None = Field(default=None, foreign_key="entry.id")


def pending_top_ups_cents(session: Session, team_id: int) -> int:
    """Top-ups of the team in a batch that is not executed yet."""
    return int(session.exec(select(func.coalesce(func.sum(BatchLine.amount_cents), 0))
                            .join(LoadBatch, LoadBatch.id == BatchLine.batch_id)
                            .where(BatchLine.team_id == team_id, BatchLine.kind == LineKind.TOP_UP,
                                   LoadBatch.executed_at.is_(None))).one())
