"""Loans: the agreed repayment of a loan grant, and the repayments as they come in.

Invariants:
- Only a granted loan has repayment terms; a repayment is positive and never more than what is
  outstanding (what was lent minus what was repaid).
- A repayment is booked into the team's available budget of the budget year in which it was received
  (repayments → available), never into a closed year; the year that lent keeps its `lent` balance.
"""
from datetime import date, datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from models.clock import utcnow


class Repayment(SQLModel, table=True):
    """Money a household paid back on a loan, as the worker registered it."""

    __table_args__ = (CheckConstraint("amount_cents > 0", name="repayment_positive"),)
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="spendrequest.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    amount_cents: int
    received_on: date
    #: the budget year it was booked into (the one containing `received_on`)
    budget_year_id: int = Field(foreign_key="budgetyear.id")
    entry_id: int = Field(foreign_key="entry.id")
    recorded_by_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow)
