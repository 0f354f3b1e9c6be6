"""Policy signals (issue 13 §5): recurring needs across the teams of a municipality, for the municipality's
policy makers.

Invariants:
- A "would have been solved if …" note belongs to one decided request; it is written by a member of that
  request's team, holds no personal data (models.privacy) and is never edited, only added.
- Signals are read across all teams of one municipality and never name a member or a household; every
  count and every list of requests behind a signal obeys the small-number rule (k ≥ 5, models.reports).
Verbs take a session and never commit.
"""
from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from models.clock import utcnow


class SolvedIfNote(SQLModel, table=True):
    """A worker's note on a decided request: it would have been solved if … (a provision, a rule, a policy)."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="spendrequest.id", index=True)
    #: the request's municipality, kept here so the signals page reads one municipality's notes at once
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    author_id: int = Field(foreign_key="member.id")
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)
