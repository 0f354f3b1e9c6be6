"""Loans: the agreed repayment of a loan grant, and the repayments as they come in.

Invariants:
- Only a granted loan has repayment terms; only its requester agrees them (1 cent up to the granted
  amount, due today or later), and may change them; every change is audited.
- What is lent is what the client got of the loan card: its loaded amount once the card was handed over,
  or, once the card is settled (spent or returned), what `models.ledger.settle_card` booked to `lent`
  (loaded minus what came back). A card not handed over lends nothing.
- A repayment is positive, never more than what is outstanding (lent minus repaid), received today or
  earlier; the requester or a coordinator of the municipality registers it. It is booked into the team's
  available budget of the budget year that contains the day it was received (repayments → available),
  never into a closed year; the year that lent keeps its `lent` balance. So outstanding is never negative:
  a returned loan card cannot bring back more than what was not yet repaid (models.cards.return_card).
- A loan is overdue when its agreed due date has passed and something is still outstanding.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, case
from sqlmodel import Field, Session, SQLModel, func, select

from models.audit import EVENT_LABELS, record
from models.clock import today, utcnow
from models.rules import RuleViolation


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


_ISO_DAY = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$", re.ASCII)
_DUTCH_DAY = re.compile(r"^([0-9]{1,2})-([0-9]{1,2})-([0-9]{4})$", re.ASCII)


def parse_day(raw: str | None, *, field: str) -> date:
    """A date from a form: 2026-12-31 (a date field) or 31-12-2026 (typed); RuleViolation beside `field`."""
    text = (raw or "").strip()
    if not text:
        raise RuleViolation(_l("Vul een datum in."), field=field)
    iso, dutch = _ISO_DAY.match(text), _DUTCH_DAY.match(text)
    year, month, day = iso.groups() if iso else (dutch.group(3), dutch.group(2), dutch.group(1)) if dutch else (0, 0, 0)
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise RuleViolation(_l("Vul een datum in, bijvoorbeeld 31-12-2026."), field=field) from None


def is_loan(request) -> bool:
    """Whether the request is a granted loan."""
    from models.requests import RequestKind, RequestStatus

    return request.status == RequestStatus.GRANTED and request.granted_kind == RequestKind.LOAN


def _lent_by_card():
    """What one card of a loan lent (see the module docstring), as an SQL expression over Card."""
    from models.cards import Card, CardState

    settled = Card.state.in_((CardState.SPENT, CardState.RETURNED))
    return case((settled, Card.loaded_amount_cents - func.coalesce(Card.returned_amount_cents, 0)),
                (Card.handed_over_at.is_not(None), Card.loaded_amount_cents), else_=0)


def _lent_on(request_id):
    """What the cards of the request (`request_id`: a value or a correlated column) lent, as a scalar subquery.

    Read through the cards' request index: never a sum over every card of the installation."""
    from models.cards import Card

    return select(func.coalesce(func.sum(_lent_by_card()), 0)).where(
        Card.request_id == request_id, Card.loaded_amount_cents.is_not(None)).scalar_subquery()


def _repaid_on(request_id):
    """What was repaid on the request (a value or a correlated column), as a scalar subquery."""
    return select(func.coalesce(func.sum(Repayment.amount_cents), 0)).where(
        Repayment.request_id == request_id).scalar_subquery()


@dataclass
class LoanPosition:
    """Where a loan stands: what was lent, repaid and is outstanding, and the agreed repayment."""
    lent_cents: int
    repaid_cents: int
    agreed_cents: int | None
    due_on: date | None
    #: the day it was read (the forms' default and bounds)
    today: date

    @property
    def outstanding_cents(self) -> int:
        """What the household still owes."""
        return self.lent_cents - self.repaid_cents

    @property
    def overdue(self) -> bool:
        """The agreed due date has passed and something is still outstanding."""
        return self.due_on is not None and self.due_on < self.today and self.outstanding_cents > 0


def repaid_cents(session: Session, request_id: int | None) -> int:
    """What was repaid on the request so far (0 for no request, or one that is no loan)."""
    if request_id is None:
        return 0
    return session.exec(select(func.coalesce(func.sum(Repayment.amount_cents), 0))
                        .where(Repayment.request_id == request_id)).one()


def loan_position(session: Session, request) -> LoanPosition:
    """The loan's position now (one query)."""
    lent_cents, repaid_cents = session.exec(select(_lent_on(request.id), _repaid_on(request.id))).one()
    return LoanPosition(lent_cents=int(lent_cents), repaid_cents=int(repaid_cents),
                        agreed_cents=request.repayment_amount_cents, due_on=request.repayment_due_on, today=today())


@dataclass
class OverdueLoan:
    """A loan of the team whose due date passed with money outstanding (no client data)."""
    request_id: int
    due_on: date
    outstanding_cents: int


def overdue_loans(session: Session, team) -> list[OverdueLoan]:
    """The team's overdue loans, longest overdue first (one query)."""
    from models.requests import RequestKind, RequestStatus, SpendRequest

    # the team's granted requests through their index; each one's cards and repayments through theirs
    outstanding = _lent_on(SpendRequest.id) - _repaid_on(SpendRequest.id)
    rows = session.exec(
        select(SpendRequest.id, SpendRequest.repayment_due_on, outstanding)
        .where(SpendRequest.team_id == team.id, SpendRequest.status == RequestStatus.GRANTED,
               SpendRequest.granted_kind == RequestKind.LOAN, SpendRequest.repayment_due_on < today())
        .order_by(SpendRequest.repayment_due_on, SpendRequest.id)).all()
    return [OverdueLoan(request_id, due_on, int(amount)) for request_id, due_on, amount in rows if amount > 0]


def agree_repayment(session: Session, request, amount_cents: int, due_on: date, actor_id: int) -> None:
    """The requester records (or changes) the repayment agreed with the household: how much, by when."""
    if not is_loan(request):
        raise RuleViolation(_l("Alleen een toegekende lening krijgt een afspraak over terugbetalen."))
    if actor_id != request.requester_id:
        raise RuleViolation(_l("Alleen de aanvrager legt de afspraak vast."))
    if not 0 < amount_cents <= request.granted_amount_cents:
        raise RuleViolation(_l("Het bedrag kan niet hoger zijn dan de lening."), field="repayment_amount")
    if due_on < today():
        raise RuleViolation(_l("Kies een datum vanaf vandaag."), field="repayment_due_on")
    request.repayment_amount_cents, request.repayment_due_on = amount_cents, due_on
    session.add(request)
    record(session, team_id=request.team_id, request_id=request.id, actor_id=actor_id, action="repayment_agreed",
           amount_cents=amount_cents, due_on=due_on.isoformat())


def _may_register(session: Session, request, actor_id: int) -> bool:
    """The requester, or a coordinator (or administrator) of the request's municipality."""
    from models.members import Member
    from models.teams import District, Team

    if actor_id == request.requester_id:
        return True
    actor = session.get(Member, actor_id)
    if actor is None or actor.deactivated_at is not None:
        return False
    if actor.is_administrator:
        return True
    municipality_id = session.exec(select(District.municipality_id).join(Team, Team.district_id == District.id)
                                   .where(Team.id == request.team_id)).one()
    return actor.is_coordinator and actor.municipality_id == municipality_id


def record_repayment(session: Session, request, amount_cents: int, received_on: date, actor_id: int) -> Repayment:
    """Register money the household paid back: booked repayments → available in the year it came in."""
    from models.ledger import AccountKind, account, lock_for_money, post_entry
    from models.teams import District, Team, current_budget_year

    lock_for_money(session, request.team_id)
    session.refresh(request)  # what another transaction changed before the lock was ours
    if not is_loan(request):
        raise RuleViolation(_l("Alleen op een toegekende lening kan worden terugbetaald."))
    if not _may_register(session, request, actor_id):
        raise RuleViolation(_l("Alleen de aanvrager of een coördinator registreert een terugbetaling."))
    if amount_cents <= 0:
        raise RuleViolation(_l("Het bedrag moet groter zijn dan nul."), field="repaid_amount")
    if amount_cents > loan_position(session, request).outstanding_cents:
        raise RuleViolation(_l("Dat is meer dan er nog openstaat."), field="repaid_amount")
    if received_on > today():
        raise RuleViolation(_l("De datum van ontvangst kan niet in de toekomst liggen."), field="received_on")
    municipality_id = session.exec(select(District.municipality_id).join(Team, Team.district_id == District.id)
                                   .where(Team.id == request.team_id)).one()
    year = current_budget_year(session, municipality_id, received_on)
    if year is None:
        raise RuleViolation(_l("Er is geen budgetjaar voor die datum."), field="received_on")
    if year.closed_at is not None:
        raise RuleViolation(_l("Het budgetjaar %(year)s is afgesloten: kies een datum in een open jaar.",
                               year=year.year), field="received_on")
    entry = post_entry(session, request.team_id, [
        (account(session, request.team_id, year.id, AccountKind.REPAYMENTS), -amount_cents),
        (account(session, request.team_id, year.id, AccountKind.AVAILABLE), amount_cents),
    ], memo="Terugbetaling lening", request_id=request.id, actor_id=actor_id)
    repayment = Repayment(request_id=request.id, team_id=request.team_id, amount_cents=amount_cents,
                          received_on=received_on, budget_year_id=year.id, entry_id=entry.id,
                          recorded_by_id=actor_id)
    session.add(repayment)
    session.flush()
    record(session, team_id=request.team_id, request_id=request.id, actor_id=actor_id, action="repayment",
           amount_cents=amount_cents, received_on=received_on.isoformat())
    return repayment


EVENT_LABELS.update({
    "repayment_agreed": _l("afspraak over terugbetalen"),
    "repayment": _l("terugbetaling ontvangen"),
})
