"""When a request is decided, and how: one transition table and the rules of docs/domain.md.

Invariants:
- Status changes only along TRANSITIONS; anything else raises RuleViolation.
- A request is granted when at least `quorum` voting members approved an amount, no stop stands, a
  client manager or a programme manager (ESCALATION_ROLES) is among the approvers when the amount is above
  the team's escalation threshold, and
  neither the household cap (per budget year, across all teams of the municipality) nor the team's
  available budget would be exceeded. The granted amount is the highest amount a quorum approved.
- It is rejected when a quorum rejects, solved with an alternative when a quorum says another provision
  fits, and expired after the team's expiry time without a decision. Expiring holds the money lock
  too, so it never overwrites a grant committed meanwhile.
- The grant's ledger entry (available → reserved) is written in the same transaction as the decision;
  callers hold models.ledger.lock_for_money, so concurrent decisions never overspend.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_
from sqlmodel import Session, func, select

from models.audit import record
from models.clock import utcnow
from models.events import RequestDecided, record_outcome
from models.ledger import AccountKind, account, balance_cents, lock_for_money, post_entry
from models.members import Membership, Role
from models.requests import RequestKind, RequestStatus, SpendRequest, transition
from models.teams import District, Team
from models.votes import APPROVING, Vote, VoteChoice, standing_stop

#: above a team's escalation threshold one of these roles must be among the approvals that back the amount
ESCALATION_ROLES = (Role.CLIENT_MANAGER, Role.PROGRAMME_MANAGER)


@dataclass
class Tally:
    """The votes on a request, counted."""

    approvals: int
    rejections: int
    alternatives: int
    #: the highest amount that a quorum approved, or None while fewer than a quorum approved
    quorum_amount_cents: int | None
    #: the alternative most often named
    alternative_name: str | None
    kind: str
    #: a client manager or programme manager backs the quorum's amount (needed above the escalation threshold)
    escalation_approved: bool


def tally(session: Session, request: SpendRequest, team: Team) -> Tally:
    """Count the votes of members who still have a vote."""
    # each vote with its voter's current role in the team (None when the voter left), in one query
    voted = session.exec(select(Vote, Membership.role).join(Membership, and_(
        Membership.member_id == Vote.member_id, Membership.team_id == team.id, Membership.ended_at.is_(None)),
        isouter=True).where(Vote.request_id == request.id).order_by(Vote.id)).all()
    roles = {vote.member_id: role for vote, role in voted}
    votes = [v for v, role in voted if role is not None and v.member_id != request.requester_id
             and role not in (Role.TEAM_LEADER, Role.OBSERVER)]
    approving = sorted((v for v in votes if v.choice in APPROVING), key=lambda v: v.amount_cents, reverse=True)
    quorum_amount = approving[team.quorum - 1].amount_cents if len(approving) >= team.quorum else None
    backing = [v for v in approving if quorum_amount is not None and v.amount_cents >= quorum_amount]
    loans = sum(1 for v in backing if v.choice == VoteChoice.LOAN)
    kind = RequestKind.LOAN if request.kind == RequestKind.LOAN or loans * 2 > len(backing) else RequestKind.GIFT
    alternatives = Counter(v.alternative_name for v in votes if v.choice == VoteChoice.ALTERNATIVE)
    return Tally(
        approvals=len(approving),
        rejections=sum(1 for v in votes if v.choice == VoteChoice.REJECT),
        alternatives=sum(alternatives.values()),
        quorum_amount_cents=quorum_amount,
        alternative_name=alternatives.most_common(1)[0][0] if alternatives else None,
        kind=kind,
        escalation_approved=any(roles[v.member_id] in ESCALATION_ROLES for v in backing),
    )


def household_granted_cents(session: Session, request: SpendRequest) -> int:
    """What the request's household already received this budget year, across the municipality's teams."""
    # the team and its district are usually in the session already (read with the membership): no query
    municipality_id = session.get(District, session.get(Team, request.team_id).district_id).municipality_id
    total = session.exec(
        select(func.coalesce(func.sum(SpendRequest.granted_amount_cents), 0))
        .join(Team, Team.id == SpendRequest.team_id).join(District, District.id == Team.district_id)
        .where(District.municipality_id == municipality_id, SpendRequest.household_key == request.household_key,
               SpendRequest.budget_year_id == request.budget_year_id, SpendRequest.status == RequestStatus.GRANTED)
    ).one()
    return int(total)


def grant_blocker(session: Session, request: SpendRequest, team: Team, amount_cents: int, tally_: Tally):
    """Why the request cannot be granted `amount_cents` now, or None."""
    if standing_stop(session, request.id):
        return _l("Er staat een stop op de aanvraag.")
    if amount_cents > team.escalation_threshold_cents and not tally_.escalation_approved:
        return _l("Boven de drempel moet ook een klantmanager of programmamanager instemmen.")
    if household_granted_cents(session, request) + amount_cents > team.household_cap_cents:
        return _l("Dit huishouden zou boven het maximum per jaar komen.")
    if balance_cents(session, team.id, request.budget_year_id, AccountKind.AVAILABLE) < amount_cents:
        return _l("Het team heeft niet genoeg budget over.")
    return None


def decide(session: Session, request: SpendRequest, team: Team, *, actor_id: int | None = None):
    """Decide the request if the votes (or the clock) say so; returns why a grant waits, if it does."""
    if not request.is_open:
        return None
    if is_past_expiry(request, team):
        _finish(session, request, "expire", actor_id=None)
        return None
    counted = tally(session, request, team)
    if counted.quorum_amount_cents is not None:
        blocker = grant_blocker(session, request, team, counted.quorum_amount_cents, counted)
        if blocker is None:
            _grant(session, request, team, counted, actor_id)
            return None
        if counted.rejections < team.quorum and counted.alternatives < team.quorum:
            return blocker
    if counted.rejections >= team.quorum:
        _finish(session, request, "reject", actor_id=actor_id)
    elif counted.alternatives >= team.quorum:
        request.alternative_name = counted.alternative_name
        _finish(session, request, "solve", actor_id=actor_id, alternative_name=counted.alternative_name)
    return None


def _grant(session: Session, request: SpendRequest, team: Team, counted: Tally, actor_id):
    amount = counted.quorum_amount_cents
    request.granted_amount_cents, request.granted_kind = amount, counted.kind
    post_entry(session, team.id, [
        (account(session, team.id, request.budget_year_id, AccountKind.AVAILABLE), -amount),
        (account(session, team.id, request.budget_year_id, AccountKind.RESERVED), amount),
    ], memo=f"Toekenning aanvraag {request.id}", request_id=request.id, actor_id=actor_id)
    _finish(session, request, "grant", actor_id=actor_id, amount_cents=amount, kind=counted.kind)


def _finish(session: Session, request: SpendRequest, action: str, *, actor_id, **detail):
    transition(request, action)
    request.decided_at = request.updated_at = utcnow()
    session.add(request)
    record(session, team_id=request.team_id, request_id=request.id, actor_id=actor_id,
           action=request.status, decision_seconds=request.decision_seconds, **detail)
    record_outcome(session, RequestDecided(request.id, request.requester_id))  # told only if this commits


def _expired_if_posted_before(team: Team):
    """Requests of the team posted at or before this moment have waited longer than its expiry time."""
    return utcnow() - timedelta(hours=team.request_expiry_hours)


def is_past_expiry(request: SpendRequest, team: Team) -> bool:
    """Whether the open request has waited longer than the team's expiry time (it expires when next looked at)."""
    return request.posted_at <= _expired_if_posted_before(team)


def _overdue(team: Team):
    return select(SpendRequest).where(SpendRequest.team_id == team.id, SpendRequest.status == RequestStatus.OPEN,
                                      SpendRequest.posted_at <= _expired_if_posted_before(team))


def has_overdue_requests(session: Session, team: Team) -> bool:
    """Whether any open request of the team is past its expiry time (a cheap read, no lock)."""
    return session.exec(_overdue(team).limit(1)).first() is not None


def expire_overdue(session: Session, team: Team) -> int:
    """Expire the team's open requests past their expiry time; returns how many.

    On SQLite the caller starts the transaction with the write lock (models.db.begin_write) when
    `has_overdue_requests` says there is work, so the read here never has to be upgraded to a write.
    """
    if not has_overdue_requests(session, team):
        return 0  # the common case, on every poll of the team page: no lock taken
    # a vote may be granting one of them right now: wait for it, then look again at what it committed
    lock_for_money(session, team.id)
    requests = session.exec(_overdue(team).execution_options(populate_existing=True)).all()
    for request in requests:
        _finish(session, request, "expire", actor_id=None)
    return len(requests)


def redecide_open_requests(session: Session, team: Team, actor_id: int | None = None) -> None:
    """Let the rules look again at every open request, e.g. after the quorum or a cap changed."""
    for request in session.exec(select(SpendRequest).where(
            SpendRequest.team_id == team.id, SpendRequest.status == RequestStatus.OPEN).order_by(SpendRequest.posted_at)):
        decide(session, request, team, actor_id=actor_id)
