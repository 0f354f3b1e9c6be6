"""What a member sees of their team at a glance: budget, open requests, own drafts, reminders.

Invariant: a constant number of queries whatever the size of the team's history (no query per request
or per vote), so the inbox stays fast as the ledger grows.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_
from sqlmodel import Session, select

from models.clock import today, utcnow
from models.decisions import is_past_expiry
from models.ledger import Account, AccountKind
from models.members import Membership
from models.requests import RequestStatus, SpendRequest
from models.teams import BudgetYear, CostCategory, District, budget_year_of
from models.votes import APPROVING, Stop, Vote, VoteChoice, is_voting_member

RECENT_DECISIONS = 10


@dataclass
class InboxRow:
    """One request as the inbox shows it."""

    request: SpendRequest
    category: CostCategory | None
    approvals: int
    rejections: int
    alternatives: int
    my_vote: str | None
    can_vote: bool
    #: the income consultant's standing stop, if any: the card says so and offers no swipe until it is lifted
    stop: Stop | None = None

    @property
    def waits_for_me(self):
        """Open, I may vote, and I have not."""
        return self.can_vote and self.my_vote is None

    @property
    def swipeable(self):
        """Waits for my vote and no stop holds it: a quick yes or no is offered only then."""
        return self.waits_for_me and self.stop is None


def balances(session: Session, team_id: int, budget_year_id: int) -> dict:
    """Every account balance of the team in the budget year, in one query."""
    return _every_kind(session.exec(select(Account.kind, Account.balance_cents).where(
        Account.team_id == team_id, Account.budget_year_id == budget_year_id)).all())


def _every_kind(pairs) -> dict:
    """(kind, balance) pairs as a balance for every kind of account (0 for an account not opened yet)."""
    found = {kind: cents for kind, cents in pairs if kind is not None}
    return {kind.value: found.get(kind.value, 0) for kind in AccountKind}


def _year_and_balances(session: Session, team_id: int, municipality_id: int) -> tuple:
    """This budget year and the team's balances in it (None, None without a budget year), in one query."""
    rows = session.exec(select(BudgetYear, Account.kind, Account.balance_cents).join(Account, and_(
        Account.budget_year_id == BudgetYear.id, Account.team_id == team_id), isouter=True)
        .where(*budget_year_of(municipality_id, today()))).all()
    if not rows:
        return None, None
    return rows[0][0], _every_kind((kind, cents) for _year, kind, cents in rows)


def team_overview(session: Session, team, membership: Membership) -> dict:
    """Everything the team's home page and its live region show."""
    municipality_id = session.get(District, team.district_id).municipality_id
    budget_year, money = _year_and_balances(session, team.id, municipality_id)
    open_requests = session.exec(_with_category().where(
        SpendRequest.team_id == team.id, SpendRequest.status == RequestStatus.OPEN)
        .order_by(SpendRequest.posted_at.desc())).all()
    open_ids = [r.id for r, _category in open_requests]
    counts, mine = _vote_counts(session, open_ids, membership.member_id)
    stops = _standing_stops(session, open_ids)
    rows = [InboxRow(request=r, category=category, approvals=counts[r.id]["approve"],
                     rejections=counts[r.id]["reject"], alternatives=counts[r.id]["alternative"],
                     my_vote=mine.get(r.id), can_vote=is_voting_member(membership, r), stop=stops.get(r.id))
            for r, category in open_requests]
    remind_before = utcnow() - timedelta(hours=team.reminder_after_hours)
    drafts = session.exec(_with_category().where(
        SpendRequest.team_id == team.id, SpendRequest.requester_id == membership.member_id,
        SpendRequest.status == RequestStatus.DRAFT).order_by(SpendRequest.updated_at.desc())).all()
    decided = session.exec(_with_category().where(
        SpendRequest.team_id == team.id, SpendRequest.decided_at.is_not(None),
        SpendRequest.status != RequestStatus.WITHDRAWN)
        .order_by(SpendRequest.decided_at.desc()).limit(RECENT_DECISIONS)).all()
    return {
        "budget_year": budget_year,
        # funding's balance is minus what was allocated to the team this year (models/ledger.py)
        "annual_budget_cents": (-money["funding"] or None) if money else None,
        "money": money,
        # granted money not on a card yet: reserved until a top-up brings it onto the team account (bank)
        "granted_not_on_cards_cents": money["reserved"] + money["bank"] if money else None,
        "rows": rows,
        "waiting_for_me": sum(1 for row in rows if row.waits_for_me),
        "overdue_for_me": sum(1 for row in rows if row.waits_for_me and row.request.posted_at <= remind_before),
        # open requests past the team's expiry time: the page expires them and reads the team again
        "expired_open": any(is_past_expiry(row.request, team) for row in rows),
        "drafts": drafts,
        "decided": decided,
    }


def _with_category():
    """A SELECT of requests, each with its cost category (None for a draft without one), in one query."""
    return select(SpendRequest, CostCategory).join(
        CostCategory, CostCategory.id == SpendRequest.cost_category_id, isouter=True)


def _standing_stops(session: Session, request_ids: list[int]) -> dict:
    """The standing stop of each of these requests that has one, in one query."""
    if not request_ids:
        return {}
    return {stop.request_id: stop for stop in session.exec(
        select(Stop).where(Stop.request_id.in_(request_ids), Stop.lifted_at.is_(None)))}


def _vote_counts(session: Session, request_ids: list[int], member_id: int):
    counts = defaultdict(lambda: {"approve": 0, "reject": 0, "alternative": 0})
    mine = {}
    if not request_ids:
        return counts, mine
    for request_id, voter_id, choice in session.exec(
            select(Vote.request_id, Vote.member_id, Vote.choice).where(Vote.request_id.in_(request_ids))):
        bucket = "approve" if choice in APPROVING else ("reject" if choice == VoteChoice.REJECT else "alternative")
        counts[request_id][bucket] += 1
        if voter_id == member_id:
            mine[request_id] = choice
    return counts, mine
