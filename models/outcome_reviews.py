"""Outcome reviews (issue 13 §2): 30 days after a grant the requesting worker says how it went.

(Table only so far; the verbs follow.)
"""
from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel


class OutcomeReview(SQLModel, table=True):
    """The review of one granted request: asked once, answered once."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="spendrequest.id", unique=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    asked_at: datetime
    answered_at: datetime | None = None
    answered_by_id: int | None = Field(default=None, foreign_key="member.id")
    #: helped, partly, not, regret (would not do it again)
    outcome: str | None = Field(default=None, max_length=10)
    #: one lesson learned, checked by the personal-data guard
    lesson: str = Field(default="", sa_type=Text)
