"""Votes and stops on an open request.

Invariants:
- Only voting members vote: active members of the request's team who are not the requester, not the
  team leader and not an observer. This is checked here, whatever a page shows or hides.
- One vote per member per request, changeable until the decision (the row is updated, the audit keeps
  every version).
- An approval names an amount: the request's amount (approve), a lower one (approve_lower) or at most
  the request's amount as a loan (loan). "Another provision fits" names the provision.
- Only an income consultant places or lifts a stop, always with a reason; while a stop stands the
  request cannot be granted.
"""
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from models.audit import record
from models.clock import utcnow
from models.members import NON_VOTING_ROLES, Membership, Role
from models.requests import SpendRequest
from models.rules import RuleViolation

REASON_MAX = 500


class VoteChoice(StrEnum):
    """What a member can answer."""

    APPROVE = "approve"
    APPROVE_LOWER = "approve_lower"
    LOAN = "loan"
    REJECT = "reject"
    ALTERNATIVE = "alternative"


APPROVING = (VoteChoice.APPROVE, VoteChoice.APPROVE_LOWER, VoteChoice.LOAN)
CHOICE_LABELS = {
    VoteChoice.APPROVE: _l("goedkeuren"),
    VoteChoice.APPROVE_LOWER: _l("goedkeuren, lager bedrag"),
    VoteChoice.LOAN: _l("lening voorstellen"),
    VoteChoice.REJECT: _l("afwijzen"),
    VoteChoice.ALTERNATIVE: _l("andere voorziening past"),
}


class Vote(SQLModel, table=True):
    """One member's current vote on a request."""

    __table_args__ = (
        UniqueConstraint("request_id", "member_id"),
        CheckConstraint("amount_cents IS NULL OR amount_cents > 0", name="vote_amount_positive"),
    )
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="spendrequest.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    choice: str = Field(max_length=20)
    #: the amount approved (approving choices only)
    amount_cents: int | None = None
    #: the provision that fits (choice "alternative" only)
    alternative_name: str | None = Field(default=None, max_length=200)
    reason: str = Field(default="", max_length=REASON_MAX)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Stop(SQLModel, table=True):
    """A brake by the income consultant: the request is possibly unlawful."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="spendrequest.id", index=True)
    placed_by_id: int = Field(foreign_key="member.id")
    reason: str = Field(max_length=REASON_MAX)
    placed_at: datetime = Field(default_factory=utcnow)
    lifted_by_id: int | None = Field(default=None, foreign_key="member.id")
    lifted_at: datetime | None = None
    lift_reason: str | None = Field(default=None, max_length=REASON_MAX)


def is_voting_member(membership: Membership | None, request: SpendRequest) -> bool:
    """Whether this membership gives a vote on this request."""
    return (membership is not None and membership.is_active and membership.team_id == request.team_id
            and membership.role not in NON_VOTING_ROLES and membership.member_id != request.requester_id)


def may_stop(membership: Membership | None, request: SpendRequest) -> bool:
    """Whether this membership may place or lift a stop on this request."""
    return (membership is not None and membership.is_active and membership.team_id == request.team_id
            and membership.role == Role.INCOME_CONSULTANT)


def _reason(raw: str | None, field: str = "reason") -> str:
    reason = " ".join((raw or "").split())
    if len(reason) > REASON_MAX:
        raise RuleViolation(_l("Gebruik hoogstens %(max)s tekens.", max=REASON_MAX), field=field)
    return reason


def cast_vote(session: Session, request: SpendRequest, membership: Membership, choice: str, *,
              amount_cents: int | None = None, alternative_name: str | None = None, reason: str = "") -> Vote:
    """Place or change the member's vote; the caller then lets models.decisions decide."""
    from models.privacy import check_no_personal_data

    if not request.is_open:
        raise RuleViolation(_l("Over deze aanvraag is al besloten."))
    if not is_voting_member(membership, request):
        raise RuleViolation(_l("Je kunt niet stemmen over deze aanvraag."))
    if choice not in {c.value for c in VoteChoice}:
        raise RuleViolation(_l("Kies een stem."), field="choice")
    amount_cents = _vote_amount(request, choice, amount_cents)
    alternative_name = " ".join((alternative_name or "").split()) or None
    if choice == VoteChoice.ALTERNATIVE and not alternative_name:
        raise RuleViolation(_l("Noem de voorziening die past."), field="alternative_name")
    if choice == VoteChoice.ALTERNATIVE:  # any name counts; one of the municipality's is written as it writes it
        alternative_name = _provision_name(session, request, alternative_name[:200])
    reason = _reason(reason)
    check_no_personal_data(reason, field="reason")
    vote = session.exec(select(Vote).where(Vote.request_id == request.id, Vote.member_id == membership.member_id)).first()
    vote = vote or Vote(request_id=request.id, member_id=membership.member_id, choice=choice)
    vote.choice, vote.amount_cents, vote.reason, vote.updated_at = choice, amount_cents, reason, utcnow()
    vote.alternative_name = alternative_name[:200] if choice == VoteChoice.ALTERNATIVE else None
    session.add(vote)
    session.flush()
    record(session, team_id=request.team_id, request_id=request.id, actor_id=membership.member_id, action="vote",
           choice=choice, amount_cents=amount_cents, alternative_name=vote.alternative_name, reason=reason)
    return vote


def _provision_name(session: Session, request: SpendRequest, name: str) -> str:
    """`name` as the municipality's provision of that name writes it, so votes for it are counted together."""
    from models.catalogue import canonical_provision_name
    from models.teams import District, Team

    district_id = session.get(Team, request.team_id).district_id
    return canonical_provision_name(session, session.get(District, district_id).municipality_id, name)


def _vote_amount(request: SpendRequest, choice: str, amount_cents: int | None) -> int | None:
    if choice == VoteChoice.APPROVE:
        return request.amount_cents
    if choice == VoteChoice.APPROVE_LOWER:
        if amount_cents is None or not 0 < amount_cents < request.amount_cents:
            raise RuleViolation(_l("Een lager bedrag ligt tussen nul en het gevraagde bedrag."), field="amount")
        return amount_cents
    if choice == VoteChoice.LOAN:
        # no amount means the amount asked; 0 is an amount, and refused below
        amount_cents = request.amount_cents if amount_cents is None else amount_cents
        if not 0 < amount_cents <= request.amount_cents:
            raise RuleViolation(_l("Een lening is hoogstens het gevraagde bedrag."), field="amount")
        return amount_cents
    return None


def votes_on(session: Session, request_id: int) -> list[Vote]:
    """The current votes on a request, oldest first."""
    return list(session.exec(select(Vote).where(Vote.request_id == request_id).order_by(Vote.id)))


def standing_stop(session: Session, request_id: int) -> Stop | None:
    """The stop that currently holds the request, if any."""
    return session.exec(select(Stop).where(Stop.request_id == request_id, Stop.lifted_at.is_(None))).first()


def place_stop(session: Session, request: SpendRequest, membership: Membership, reason: str) -> Stop:
    """The income consultant brakes the request, saying why."""
    if not request.is_open:
        raise RuleViolation(_l("Over deze aanvraag is al besloten."))
    if not may_stop(membership, request):
        raise RuleViolation(_l("Alleen de inkomensconsulent kan een stop zetten."))
    if standing_stop(session, request.id):
        raise RuleViolation(_l("Er staat al een stop op deze aanvraag."))
    reason = _reason(reason, "stop_reason")
    if not reason:
        raise RuleViolation(_l("Geef de reden van de stop."), field="stop_reason")
    stop = Stop(request_id=request.id, placed_by_id=membership.member_id, reason=reason)
    session.add(stop)
    record(session, team_id=request.team_id, request_id=request.id, actor_id=membership.member_id, action="stop",
           reason=reason)
    return stop


def lift_stop(session: Session, request: SpendRequest, membership: Membership, reason: str) -> Stop:
    """The income consultant lifts the stop, saying why; the caller then lets the team decide again."""
    if not may_stop(membership, request):
        raise RuleViolation(_l("Alleen de inkomensconsulent kan een stop opheffen."))
    stop = standing_stop(session, request.id)
    if stop is None:
        raise RuleViolation(_l("Er staat geen stop op deze aanvraag."))
    reason = _reason(reason, "stop_reason")
    if not reason:
        raise RuleViolation(_l("Geef de reden om de stop op te heffen."), field="stop_reason")
    stop.lifted_by_id, stop.lifted_at, stop.lift_reason = membership.member_id, utcnow(), reason
    session.add(stop)
    record(session, team_id=request.team_id, request_id=request.id, actor_id=membership.member_id,
           action="stop_lifted", reason=reason)
    return stop
