"""The tamper-evident trail: audit events and ledger entries chained by hash, per municipality.

(Table only so far; the verbs follow.)
"""
from datetime import datetime

from sqlmodel import Field, SQLModel


class ChainHead(SQLModel, table=True):
    """The newest link of a municipality's chain, and the last verification of it."""

    municipality_id: int = Field(foreign_key="municipality.id", primary_key=True)
    seq: int = 0
    hash: str = Field(default="", max_length=64)
    last_verified_at: datetime | None = None
    last_verified_ok: bool | None = None
