"""Spend requests (aanvragen): drafting, posting, withdrawing, and the discussion under them.

Invariants:
- A household is only ever a keyed hash (HMAC-SHA256 with the server's household secret) of the
  worker's own case reference; the reference itself is never stored.
- A draft may be incomplete; posting needs every field, an amount of 1 cent up to the team's household
  cap, a cost category of the team's municipality, a budget year covering today, and text without
  personal data (models.privacy). Comments are checked the same way.
- Only the requester edits, posts or withdraws their request; team leaders and observers do not request.
- Status changes only along TRANSITIONS (beside RequestStatus, here); anything else raises
  RuleViolation. Every change is audited.
"""
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Index, Text
from sqlmodel import Field, Session, SQLModel, select

from models.audit import record
from models.clock import today, utcnow
from models.events import RequestPosted, record_outcome
from models.members import Membership, Role
from models.bounds import parse_id
from models.catalogue import provisions_for_category
from models.money import parse_amount
from models.privacy import check_no_personal_data, check_texts_for_personal_data
from models.rules import RuleViolation, step
from models.teams import CostCategory, District, Team, current_budget_year

TEXT_MAX = 2000
NOTE_MAX = 500


class RequestStatus(StrEnum):
    """Where a request is in its life."""

    DRAFT = "draft"
    OPEN = "open"
    GRANTED = "granted"
    REJECTED = "rejected"
    SOLVED = "solved_alternative"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class RequestKind(StrEnum):
    """Gift or loan."""

    GIFT = "gift"
    LOAN = "loan"


STATUS_LABELS = {
    RequestStatus.DRAFT: _l("concept"),
    RequestStatus.OPEN: _l("open"),
    RequestStatus.GRANTED: _l("toegekend"),
    RequestStatus.REJECTED: _l("afgewezen"),
    RequestStatus.SOLVED: _l("opgelost met een andere voorziening"),
    RequestStatus.WITHDRAWN: _l("ingetrokken"),
    RequestStatus.EXPIRED: _l("verlopen"),
    RequestStatus.CANCELLED: _l("toekenning geannuleerd"),
}
KIND_LABELS = {RequestKind.GIFT: _l("gift"), RequestKind.LOAN: _l("lening")}

S = RequestStatus
TRANSITIONS = {
    (S.DRAFT, "post"): S.OPEN,
    (S.DRAFT, "discard"): S.WITHDRAWN,
    (S.OPEN, "grant"): S.GRANTED,
    (S.OPEN, "reject"): S.REJECTED,
    (S.OPEN, "solve"): S.SOLVED,
    (S.OPEN, "withdraw"): S.WITHDRAWN,
    (S.OPEN, "expire"): S.EXPIRED,
    (S.GRANTED, "cancel"): S.CANCELLED,
}
FINAL_STATUSES = {S.GRANTED, S.REJECTED, S.SOLVED, S.WITHDRAWN, S.EXPIRED, S.CANCELLED}

REQUESTING_ROLES = (Role.WORKER, Role.INCOME_CONSULTANT, Role.PROVISIONS_EXPERT, Role.CLIENT_MANAGER,
                    Role.PROGRAMME_MANAGER)


class SpendRequest(SQLModel, table=True):
    """An anonymised request for money for one household."""

    __table_args__ = (
        CheckConstraint("amount_cents IS NULL OR amount_cents > 0", name="request_amount_positive"),
        CheckConstraint("granted_amount_cents IS NULL OR granted_amount_cents > 0", name="request_granted_positive"),
        # the inbox's and the live poll's lookups, so they do not read a team's whole history
        Index("ix_spendrequest_team_status_posted", "team_id", "status", "posted_at"),
        Index("ix_spendrequest_team_requester_status", "team_id", "requester_id", "status"),
        Index("ix_spendrequest_team_decided", "team_id", "decided_at"),
        # the household cap's sum (models.decisions): without the year and status in the index, SQLite
        # walks every granted request of every year
        Index("ix_spendrequest_household_year_status", "household_key", "budget_year_id", "status"),
        # the year's report (models/reports.py) grouped from the index alone: counts, sums, durations
        Index("ix_spendrequest_year_figures", "budget_year_id", "team_id", "status", "granted_kind",
              "granted_amount_cents", "cost_category_id", "amount_cents", "carried_to_year_id", "posted_at",
              "decided_at", "id"),
        Index("ix_spendrequest_carried_to_year", "carried_to_year_id", "status", "team_id", "granted_amount_cents"),
        # the cross table (district × cost category), grouped in the index's own order
        Index("ix_spendrequest_year_team_category", "budget_year_id", "team_id", "cost_category_id", "posted_at"),
        # the inbox's overdue loans (models.loans.overdue_loans): the team's few loans, not all its grants
        Index("ix_spendrequest_team_loans_due", "team_id", "granted_kind", "status", "repayment_due_on"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    requester_id: int = Field(foreign_key="member.id", index=True)
    status: str = Field(default=RequestStatus.DRAFT, max_length=20, index=True)
    kind: str = Field(default=RequestKind.GIFT, max_length=10)
    amount_cents: int | None = None
    cost_category_id: int | None = Field(default=None, foreign_key="costcategory.id")
    situation: str = Field(default="", sa_type=Text)
    prevents: str = Field(default="", sa_type=Text)
    #: the value triangle's other two sides (models/avoided_costs.py): is it allowed (legitimiteit), and what
    #: the household does itself (betrokkenheid); `prevents` is its third (rendement)
    legitimacy: str = Field(default="", sa_type=Text)
    own_contribution: str = Field(default="", sa_type=Text)
    #: other provisions the worker already checked: names of the municipality's provisions as they were then
    #: (models.catalogue), kept as written even when a provision is renamed or archived later
    alternatives_checked: list = Field(default_factory=list, sa_type=JSON)
    alternatives_note: str = Field(default="", max_length=NOTE_MAX)
    #: HMAC of the worker's case reference; the reference itself is never stored
    household_key: str | None = Field(default=None, max_length=64)
    budget_year_id: int | None = Field(default=None, foreign_key="budgetyear.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    posted_at: datetime | None = None
    decided_at: datetime | None = None
    granted_amount_cents: int | None = None
    granted_kind: str | None = Field(default=None, max_length=10)
    #: the existing provision that fits instead (solved with an alternative)
    alternative_name: str | None = Field(default=None, max_length=200)
    #: when a grant not yet loaded was carried over at the year close: the year whose accounts now hold its
    #: money (the request still belongs to `budget_year_id`, the year it was posted in)
    carried_to_year_id: int | None = Field(default=None, foreign_key="budgetyear.id")
    #: a loan's agreed repayment: how much, and by when
    repayment_amount_cents: int | None = None
    repayment_due_on: date | None = None

    @property
    def is_open(self):
        """Posted and not decided yet."""
        return self.status == RequestStatus.OPEN

    @property
    def decision_seconds(self):
        """Time from posting to decision, once decided."""
        if self.posted_at and self.decided_at:
            return int((self.decided_at - self.posted_at).total_seconds())
        return None


def transition(request: SpendRequest, action: str) -> None:
    """Move the request along the table, or RuleViolation when that is not a step from here."""
    request.status = step(TRANSITIONS, RequestStatus(request.status), action,
                          refusal=_l("Dat kan niet meer bij deze aanvraag."))


class Comment(SQLModel, table=True):
    """A message in a request's discussion."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="spendrequest.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)


@dataclass
class DraftInput:
    """What a worker typed into the request form, before any checking."""

    amount: str = ""
    cost_category_id: str | int | None = None
    situation: str = ""
    prevents: str = ""
    legitimacy: str = ""
    own_contribution: str = ""
    #: the scenarios it prevents: scenario id -> likelihood in percent, as typed (models/avoided_costs.py)
    scenarios: dict = field(default_factory=dict)
    alternatives_checked: list = field(default_factory=list)
    alternatives_note: str = ""
    kind: str = RequestKind.GIFT
    household_reference: str = ""


def household_key(secret: str, reference: str) -> str:
    """The keyed hash that stands for a household; the same reference always gives the same key."""
    normalised = "".join(reference.split()).upper()
    return hmac.new(secret.encode(), normalised.encode(), hashlib.sha256).hexdigest()


def may_request(membership: Membership | None) -> bool:
    """Whether this member may draft and post requests in the team."""
    return membership is not None and membership.is_active and membership.role in REQUESTING_ROLES


def may_start_request(team: Team, membership: Membership | None) -> bool:
    """Whether a new request is offered to this member in this team: they may request, and the team is not
    archived (an archived team takes no new requests, post_request)."""
    return team.archived_at is None and may_request(membership)


def _text(value: str, field_name: str, limit: int) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise RuleViolation(_l("Gebruik hoogstens %(max)s tekens.", max=limit), field=field_name)
    return value


def save_draft(session: Session, team: Team, membership: Membership, data: DraftInput, *,
               household_secret: str, request: SpendRequest | None = None) -> SpendRequest:
    """Create or update a draft; only what was typed is checked, completeness waits for posting."""
    if not may_request(membership):
        raise RuleViolation(_l("Je rol in dit team kan geen aanvragen doen."))
    if request is not None and (request.requester_id != membership.member_id or request.status != RequestStatus.DRAFT):
        raise RuleViolation(_l("Alleen een eigen concept kan worden gewijzigd."))
    stored_checked = request.alternatives_checked if request is not None else []
    request = request or SpendRequest(team_id=team.id, requester_id=membership.member_id)
    amount_cents = parse_amount(data.amount) if (data.amount or "").strip() else None
    if amount_cents is not None and amount_cents > team.household_cap_cents:
        raise RuleViolation(_l("Het bedrag is hoger dan het maximum per huishouden."), field="amount")
    category = _category(session, team, data.cost_category_id)
    if data.kind not in {k.value for k in RequestKind}:
        raise RuleViolation(_l("Kies gift of lening."), field="kind")
    # only names offered for the category count (or already stored on this draft: an archived provision
    # that was ticked stays until unticked); anything else is dropped without a word, as an outbox replay
    # of an older form may hold names that were renamed since
    known = {p.name for p in provisions_for_category(session, category)} | set(stored_checked)
    checked = list(dict.fromkeys(name for name in data.alternatives_checked if name in known))
    request.amount_cents, request.cost_category_id, request.kind = amount_cents, category and category.id, data.kind
    request.situation = _text(data.situation, "situation", TEXT_MAX)
    request.prevents = _text(data.prevents, "prevents", TEXT_MAX)
    request.legitimacy = _text(data.legitimacy, "legitimacy", TEXT_MAX)
    request.own_contribution = _text(data.own_contribution, "own_contribution", TEXT_MAX)
    request.alternatives_checked = checked
    request.alternatives_note = _text(data.alternatives_note, "alternatives_note", NOTE_MAX)
    if (data.household_reference or "").strip():
        request.household_key = household_key(household_secret, data.household_reference)
    request.updated_at = utcnow()
    session.add(request)
    session.flush()
    return request


def _category(session: Session, team: Team, category_id) -> CostCategory | None:
    if category_id in (None, ""):
        return None
    category = session.get(CostCategory, parse_id(category_id) or 0)
    municipality_id = session.get(District, team.district_id).municipality_id
    if category is None or category.municipality_id != municipality_id or not category.active:
        raise RuleViolation(_l("Kies waarvoor het geld is."), field="cost_category_id")
    return category


def post_request(session: Session, request: SpendRequest, team: Team, member_id: int) -> SpendRequest:
    """Send a complete draft to the team, after checking it for personal data."""
    if request.requester_id != member_id:
        raise RuleViolation(_l("Alleen de aanvrager kan de aanvraag versturen."))
    if team.archived_at is not None:  # foundation: an archived team takes no new requests; the draft stays
        raise RuleViolation(_l("Dit team is gearchiveerd: er kunnen geen nieuwe aanvragen meer worden verstuurd."))
    missing = [(name, message) for name, value, message in [
        ("amount", request.amount_cents, _l("Vul een bedrag in.")),
        ("cost_category_id", request.cost_category_id, _l("Kies waarvoor het geld is.")),
        ("situation", request.situation, _l("Beschrijf de situatie.")),
        ("prevents", request.prevents, _l("Beschrijf wat het voorkomt.")),
        ("household_reference", request.household_key, _l("Vul je nummer voor dit huishouden in.")),
    ] if not value]
    if missing:
        raise RuleViolation(missing[0][1], field=missing[0][0])
    # checked again here: the cap may have been lowered since the draft was saved
    if request.amount_cents > team.household_cap_cents:
        raise RuleViolation(_l("Het bedrag is hoger dan het maximum per huishouden."), field="amount")
    # every finding in every text at once, so one edit fixes them all
    check_texts_for_personal_data({field_name: getattr(request, field_name) for field_name in (
        "situation", "prevents", "legitimacy", "own_contribution", "alternatives_note")})
    municipality_id = session.get(District, team.district_id).municipality_id
    budget_year = current_budget_year(session, municipality_id, today())
    if budget_year is None:
        raise RuleViolation(_l("Er is nog geen budget voor %(year)s. Je concept is bewaard; vraag de coördinator "
                               "het budgetjaar te openen.", year=utcnow().year))
    transition(request, "post")
    request.budget_year_id = budget_year.id
    request.posted_at = request.updated_at = utcnow()
    session.add(request)
    record(session, team_id=team.id, request_id=request.id, actor_id=member_id, action="posted",
           amount_cents=request.amount_cents, kind=request.kind)
    record_outcome(session, RequestPosted(request.id, team.id, request.requester_id))  # told only if this commits
    return request


def withdraw_request(session: Session, request: SpendRequest, member_id: int) -> None:
    """The requester takes back a draft or an open request."""
    if request.requester_id != member_id:
        raise RuleViolation(_l("Alleen de aanvrager kan de aanvraag intrekken."))
    transition(request, "withdraw" if request.status == RequestStatus.OPEN else "discard")
    request.decided_at = request.updated_at = utcnow()
    session.add(request)
    record(session, team_id=request.team_id, request_id=request.id, actor_id=member_id, action="withdrawn")


def add_comment(session: Session, request: SpendRequest, membership: Membership, body: str) -> Comment:
    """Add a message to the discussion of a posted request; personal data is refused."""
    if request.status == RequestStatus.DRAFT:
        raise RuleViolation(_l("Een concept heeft nog geen gesprek."))
    body = _text(body, "body", TEXT_MAX)
    if not body:
        raise RuleViolation(_l("Schrijf een bericht."), field="body")
    check_no_personal_data(body, field="body")
    comment = Comment(request_id=request.id, member_id=membership.member_id, body=body)
    session.add(comment)
    record(session, team_id=request.team_id, request_id=request.id, actor_id=membership.member_id, action="comment")
    return comment


def comments_of(session: Session, request_id: int) -> list[Comment]:
    """A request's discussion, oldest first."""
    return list(session.exec(select(Comment).where(Comment.request_id == request_id).order_by(Comment.id)))
