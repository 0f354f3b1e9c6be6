"""Shared knowledge (issue 13 §3): tips shared across the teams of a municipality, and members who offer
their expertise on a topic.

(Tables only so far; the verbs follow.)
"""
from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.clock import utcnow


class Tip(SQLModel, table=True):
    """A short tip by a member: what helped, which provision fits which need."""

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    #: the author's team when it was written
    team_id: int = Field(foreign_key="team.id")
    author_id: int = Field(foreign_key="member.id")
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)
    archived_at: datetime | None = None
    #: the request solved with another provision that the tip was made from, if any
    source_request_id: int | None = Field(default=None, foreign_key="spendrequest.id")


class TipCategory(SQLModel, table=True):
    """A cost category a tip is tagged with."""

    tip_id: int = Field(foreign_key="tip.id", primary_key=True)
    category_id: int = Field(foreign_key="costcategory.id", primary_key=True, index=True)


class ExpertTopic(SQLModel, table=True):
    """A member available for questions on a topic (debt counselling, benefits, youth …)."""

    __table_args__ = (UniqueConstraint("member_id", "topic"),)
    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    topic: str = Field(max_length=60)
    created_at: datetime = Field(default_factory=utcnow)


class ExpertQuestion(SQLModel, table=True):
    """A request put to an expert: from then on the expert may see that request."""

    __table_args__ = (UniqueConstraint("request_id", "expert_id"),)
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="spendrequest.id", index=True)
    expert_id: int = Field(foreign_key="member.id", index=True)
    asked_by_id: int = Field(foreign_key="member.id")
    topic: str = Field(max_length=60)
    created_at: datetime = Field(default_factory=utcnow)
