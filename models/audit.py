"""The audit trail: every state change of a request, a team setting or a municipality's setup, append-only.

Invariant: rows are only ever added; the timeline of a request is its events in id order. An event's
detail holds amounts, choices and reasons as the members wrote them, never a household reference.
The newest event id of a team is also the team's version, which live pages poll for.
An event belongs to a team (`record`) or, when it changes something of the whole municipality (its name,
districts, cost categories, other provisions, avoided-cost scenarios), to the municipality alone
(`record_in_municipality`: team_id empty, municipality_id set); the database refuses an event of neither.
"""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Index
from sqlmodel import Field, Session, SQLModel, func, select

from models.clock import utcnow
from models.members import Member


EVENT_LABELS = {
    "posted": _l("aanvraag verstuurd"),
    "vote": _l("stem"),
    "stop": _l("stop gezet"),
    "stop_lifted": _l("stop opgeheven"),
    "comment": _l("bericht"),
    "granted": _l("toegekend"),
    "rejected": _l("afgewezen"),
    "solved_alternative": _l("opgelost met een andere voorziening"),
    "withdrawn": _l("ingetrokken"),
    "expired": _l("verlopen"),
    "setting_changed": _l("instelling gewijzigd"),
    "receipt_added": _l("bonnetje toegevoegd"),
    "receipt_amount": _l("bedrag op bonnetje"),
    "no_receipt": _l("geen bonnetje mogelijk"),
}


class AuditEvent(SQLModel, table=True):
    """Who did what, when."""

    # team_version's MAX(id) per team, asked by every live poll: PostgreSQL would otherwise walk the
    # primary key backwards past every other team's newer events
    __table_args__ = (Index("ix_auditevent_team_id_id", "team_id", "id"),
                      CheckConstraint("team_id IS NOT NULL OR municipality_id IS NOT NULL",
                                      name="auditevent_team_or_municipality"))
    id: int | None = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    #: set only on an event without a team (a change of the municipality's setup): the chain it belongs to;
    #: a team's event finds its municipality through the team's district and leaves this empty
    municipality_id: int | None = Field(default=None, foreign_key="municipality.id", index=True)
    request_id: int | None = Field(default=None, foreign_key="spendrequest.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    #: posted, vote, stop, stop_lifted, comment, granted, rejected, solved_alternative, withdrawn,
    #: expired, draft_saved, setting_changed
    action: str = Field(max_length=32)
    detail: dict = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)
    #: place in the municipality's hash chain and the chain's hash up to this row (models.audit_chain)
    chain_seq: int | None = None
    chain_hash: str | None = Field(default=None, max_length=64)


def record(session: Session, *, team_id: int, action: str, actor_id: int | None = None,
           request_id: int | None = None, **detail) -> AuditEvent:
    """Append one event."""
    event = AuditEvent(team_id=team_id, request_id=request_id, actor_id=actor_id, action=action, detail=detail)
    session.add(event)
    return event


def changed_fields(thing, values: dict) -> dict:
    """{field: {"old": …, "new": …}} of the `values` that differ from `thing`'s attributes: what an event says
    was changed."""
    return {field: {"old": getattr(thing, field), "new": value} for field, value in values.items()
            if getattr(thing, field) != value}


def record_in_municipality(session: Session, *, municipality_id: int, action: str, actor_id: int | None = None,
                           **detail) -> AuditEvent:
    """Append one event about the municipality's setup, which no team owns."""
    event = AuditEvent(municipality_id=municipality_id, actor_id=actor_id, action=action, detail=detail)
    session.add(event)
    return event


def setup_changes(session: Session, municipality_id: int, *, limit: int = 200) -> list[tuple[AuditEvent, str | None]]:
    """The municipality's newest setup events (without a team), newest first, each with its actor's name."""
    return list(session.exec(select(AuditEvent, Member.display_name)
                             .outerjoin(Member, Member.id == AuditEvent.actor_id)
                             .where(AuditEvent.municipality_id == municipality_id, AuditEvent.team_id.is_(None))
                             .order_by(AuditEvent.id.desc()).limit(limit)))


def timeline(session: Session, request_id: int) -> list[AuditEvent]:
    """A request's events, oldest first."""
    return list(session.exec(select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(AuditEvent.id)))


def team_version(session: Session, team_id: int) -> int:
    """A number that grows with every change in the team (for ETags of live pages)."""
    return session.exec(select(func.coalesce(func.max(AuditEvent.id), 0)).where(AuditEvent.team_id == team_id)).one()
