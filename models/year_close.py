"""Closing a budget year: what blocks it, carrying a grant over, the close itself, and the year statement.

Invariants:
- A year is closed only after it ended (models.clock), once, and only when nothing blocks it
  (`close_blockers`): no open request posted in it, no grant whose money it holds that was not loaded,
  no card of it loaded and not settled (spent or returned), no load batch not yet executed.
- A grant not loaded is carried over to the next budget year (which must be open: not closed) as one
  ledger entry: reserved(old) −x, carried(old) +x, carried(new) −x, reserved(new) +x (what a top-up
  already brought onto the team account leaves the old year from the bank). The request keeps its own
  year; `carried_to_year_id` names the year whose accounts hold its money, and its reserved card follows.
- The close books what is left of each team's year (available + reserved + bank) to `to_municipality`
  and sets `closed_at`: from then on models.ledger.post_entry refuses every entry in the year. So per team
  and closed year: budget + repayments received + carried in = spent + lent + carried out + to_municipality
  (`StatementRow.balanced`), and available, reserved, bank and cards are all zero.
"""
from dataclasses import dataclass, field, fields

from flask_babel import lazy_gettext as _l
from sqlalchemy import case
from sqlmodel import Session, func, select

from models.audit import EVENT_LABELS, record
from models.batch_lines import LoadBatch
from models.batches import open_batch
from models.cards import Card, CardState, cards_of_request
from models.clock import today, utcnow
from models.grants import money_year_id, not_loaded_blocker, take_back_postings
from models.ledger import Account, AccountKind, Entry, Posting, account, lock_for_money, lock_municipality, post_entry
from models.loans import Repayment
from models.members import Member
from models.receipts import Receipt
from models.requests import RequestKind, RequestStatus, SpendRequest
from models.rules import RuleViolation
from models.teams import BudgetYear, District, Team, TeamBudget, teams_of_municipality

#: what is left of a year at its close, booked to the municipality
_LEFT_OVER = (AccountKind.AVAILABLE, AccountKind.RESERVED, AccountKind.BANK)


@dataclass
class Blockers:
    """What stands in the way of closing a year, each list with what its rows need."""

    #: (request, team, requester's name): open requests posted in the year (wait, or the requester withdraws)
    open_requests: list = field(default_factory=list)
    #: (request, team, card or None): grants whose money the year holds, not loaded (cancel or carry over)
    grants_not_loaded: list = field(default_factory=list)
    #: (card, team): cards of the year loaded and not settled (returned or spent)
    cards_not_settled: list = field(default_factory=list)
    #: the municipality's load batch not yet executed, if any
    open_batch: LoadBatch | None = None

    def __bool__(self) -> bool:
        return bool(self.open_requests or self.grants_not_loaded or self.cards_not_settled or self.open_batch)


def close_blockers(session: Session, municipality_id: int, budget_year: BudgetYear) -> Blockers:
    """The checklist of the year close: everything that must be settled first."""
    found = Blockers(open_batch=open_batch(session, municipality_id))
    rows = session.exec(select(SpendRequest, Team, Member.display_name).join(Team, Team.id == SpendRequest.team_id)
                        .join(District, District.id == Team.district_id)
                        .join(Member, Member.id == SpendRequest.requester_id)
                        .where(District.municipality_id == municipality_id, SpendRequest.status == RequestStatus.OPEN,
                               SpendRequest.budget_year_id == budget_year.id).order_by(SpendRequest.posted_at)).all()
    found.open_requests = [tuple(row) for row in rows]
    granted = session.exec(select(SpendRequest, Team).join(Team, Team.id == SpendRequest.team_id)
                           .join(District, District.id == Team.district_id)
                           .where(District.municipality_id == municipality_id,
                                  SpendRequest.status == RequestStatus.GRANTED,
                                  func.coalesce(SpendRequest.carried_to_year_id, SpendRequest.budget_year_id)
                                  == budget_year.id,
                                  ~select(Card.id).where(Card.request_id == SpendRequest.id,
                                                         Card.loaded_at.is_not(None)).exists())
                           .order_by(SpendRequest.id)).all()
    cards = _live_cards(session, [request.id for request, _team in granted])
    found.grants_not_loaded = [(request, team, cards.get(request.id)) for request, team in granted]
    found.cards_not_settled = [tuple(row) for row in session.exec(
        select(Card, Team).join(Team, Team.id == Card.team_id).join(District, District.id == Team.district_id)
        .where(District.municipality_id == municipality_id, Card.budget_year_id == budget_year.id,
               Card.loaded_at.is_not(None), Card.closed_at.is_(None)).order_by(Card.id)).all()]
    return found


def _live_cards(session: Session, request_ids: list[int]) -> dict[int, Card]:
    if not request_ids:
        return {}
    return {card.request_id: card for card in session.exec(select(Card).where(
        Card.request_id.in_(request_ids), Card.state.in_([CardState.RESERVED, CardState.LOAD_REQUESTED])))}


def next_year(session: Session, budget_year: BudgetYear) -> BudgetYear | None:
    """The municipality's budget year after `budget_year`, if it was opened."""
    return session.exec(select(BudgetYear).where(BudgetYear.municipality_id == budget_year.municipality_id,
                                                  BudgetYear.year == budget_year.year + 1)).first()


def _check_may_administer(actor: Member, municipality_id: int) -> None:
    if not (actor.is_administrator or (actor.is_coordinator and actor.municipality_id == municipality_id)):
        raise RuleViolation(_l("Alleen de coördinator sluit een budgetjaar af."))


def carry_over(session: Session, request: SpendRequest, to_year: BudgetYear, actor: Member) -> None:
    """Carry a grant that was not loaded over to `to_year`: its money moves there in one entry."""
    lock_for_money(session, request.team_id)
    session.refresh(request)  # PostgreSQL: read before the money lock was taken
    team = session.get(Team, request.team_id)
    municipality_id = session.get(District, team.district_id).municipality_id
    _check_may_administer(actor, municipality_id)
    blocker = not_loaded_blocker(request, cards_of_request(session, request.id))
    if blocker:
        raise RuleViolation(blocker)
    from_year = session.get(BudgetYear, money_year_id(request))
    if to_year.municipality_id != municipality_id or to_year.year <= from_year.year:
        raise RuleViolation(_l("Een toekenning gaat over naar een later budgetjaar van de gemeente."))
    if to_year.closed_at is not None:
        raise RuleViolation(_l("Dit budgetjaar is afgesloten."))
    amount = request.granted_amount_cents
    post_entry(session, team.id, [
        *take_back_postings(session, team.id, from_year.id, amount),
        (account(session, team.id, from_year.id, AccountKind.CARRIED), amount),
        (account(session, team.id, to_year.id, AccountKind.CARRIED), -amount),
        (account(session, team.id, to_year.id, AccountKind.RESERVED), amount),
    ], memo=f"Overgedragen naar {to_year.year}: aanvraag {request.id}", request_id=request.id, actor_id=actor.id)
    request.carried_to_year_id = to_year.id
    request.updated_at = utcnow()
    session.add(request)
    for card in cards_of_request(session, request.id):
        if card.state == CardState.RESERVED:  # a reserved card is loaded from the new year's accounts
            card.budget_year_id = to_year.id
            session.add(card)
    record(session, team_id=team.id, request_id=request.id, actor_id=actor.id, action="carried_over",
           amount_cents=amount, year=to_year.year)


def year_has_ended(budget_year: BudgetYear) -> bool:
    """Whether the budget year's last day is past."""
    return today() > budget_year.ends_on


def close_year(session: Session, municipality_id: int, budget_year: BudgetYear, actor: Member) -> None:
    """Book what is left of every team's year to the municipality and freeze the year."""
    lock_municipality(session, municipality_id)
    session.refresh(budget_year)
    _check_may_administer(actor, municipality_id)
    if budget_year.municipality_id != municipality_id:
        raise RuleViolation(_l("Dit budgetjaar hoort bij een andere gemeente."))
    if budget_year.closed_at is not None:
        raise RuleViolation(_l("Dit budgetjaar is al afgesloten."))
    if not year_has_ended(budget_year):
        # the year's number, not its last day: a day is written in the reader's format, which models/ cannot
        # know (no app); the checklist beside this refusal names the day
        raise RuleViolation(_l("Budgetjaar %(year)s kan pas worden afgesloten als het voorbij is.", year=budget_year.year))
    if close_blockers(session, municipality_id, budget_year):
        raise RuleViolation(_l("Er staat nog iets open. Handel eerst de lijst hieronder af."))
    accounts: dict[int, list[Account]] = {}
    for found in session.exec(select(Account).where(Account.budget_year_id == budget_year.id).order_by(Account.id)):
        accounts.setdefault(found.team_id, []).append(found)
    for team_id, team_accounts in accounts.items():
        if any(acc.kind == AccountKind.CARDS and acc.balance_cents for acc in team_accounts):
            raise RuleViolation(_l("Er staat nog geld op kaarten van dit jaar."))
        left = [(acc, -acc.balance_cents) for acc in team_accounts if acc.kind in _LEFT_OVER and acc.balance_cents]
        total = -sum(amount for _acc, amount in left)
        if left:
            post_entry(session, team_id, [*left, (account(session, team_id, budget_year.id,
                                                           AccountKind.TO_MUNICIPALITY), total)],
                       memo=f"Afsluiting {budget_year.year}: niet besteed naar de gemeente", actor_id=actor.id)
        record(session, team_id=team_id, actor_id=actor.id, action="year_closed", year=budget_year.year,
               amount_cents=total)
    budget_year.closed_at, budget_year.closed_by_id = utcnow(), actor.id
    session.add(budget_year)


# --- the year statement ---------------------------------------------------------------------------------

#: outcomes counted in the statement, in the order it shows them
OUTCOMES = ("granted_full", "granted_lower", "loan", "alternative", "rejected", "expired", "withdrawn", "cancelled")
OUTCOME_LABELS = {
    "granted_full": _l("toegekend (volledig)"),
    "granted_lower": _l("lager bedrag"),
    "loan": _l("lening"),
    "alternative": _l("andere voorziening"),
    "rejected": _l("afgewezen"),
    "expired": _l("verlopen"),
    "withdrawn": _l("ingetrokken"),
    "cancelled": _l("toekenning geannuleerd"),
}


@dataclass
class StatementRow:
    """One team's year (or the municipality's, summed): money in cents, and requests counted by outcome."""

    name: str
    budget: int = 0
    granted: int = 0
    loaded: int = 0
    returned: int = 0
    spent_by_receipts: int = 0
    spent: int = 0
    lent: int = 0
    repaid: int = 0
    outstanding: int = 0
    carried_in: int = 0
    carried_out: int = 0
    to_municipality: int = 0
    counts: dict = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    @property
    def balanced(self) -> bool:
        """Budget + repayments + carried in = spent + lent + carried out + to the municipality."""
        return (self.budget + self.repaid + self.carried_in
                == self.spent + self.lent + self.carried_out + self.to_municipality)

    def add(self, other: "StatementRow") -> None:
        """Add another row's figures to this one."""
        for name in MONEY_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for outcome in OUTCOMES:
            self.counts[outcome] += other.counts[outcome]


MONEY_FIELDS = [f.name for f in fields(StatementRow) if f.name not in ("name", "counts")]
#: the money columns of the statement, in its order, with their headings
MONEY_LABELS = {
    "budget": _l("Budget"), "granted": _l("Toegekend"), "loaded": _l("Op kaarten geladen"),
    "returned": _l("Teruggekomen van kaarten"), "spent_by_receipts": _l("Besteed volgens bonnetjes"),
    "spent": _l("Besteed"), "lent": _l("Uitgeleend"), "repaid": _l("Terugbetaald"),
    "outstanding": _l("Openstaande leningen"), "carried_in": _l("Overgedragen uit vorig jaar"),
    "carried_out": _l("Overgedragen naar volgend jaar"), "to_municipality": _l("Niet besteed (naar de gemeente)"),
}


@dataclass
class Statement:
    """The year statement of a municipality: a row per team and the total."""

    budget_year: BudgetYear
    rows: list[StatementRow]
    total: StatementRow


def _per_team(rows) -> dict:
    found = {}
    for team_id, value in rows:
        found[team_id] = int(value or 0)
    return found


def year_statement(session: Session, municipality_id: int, budget_year: BudgetYear) -> Statement:
    """Per team of the municipality: the year's money and its requests by outcome (a handful of queries)."""
    teams = teams_of_municipality(session, municipality_id)
    year_id = budget_year.id
    rows = {team.id: StatementRow(name=team.name) for team in teams}
    money_year = func.coalesce(SpendRequest.carried_to_year_id, SpendRequest.budget_year_id)
    balances = session.exec(select(Account.team_id, Account.kind, Account.balance_cents)
                            .where(Account.budget_year_id == year_id)).all()
    kinds = {(team_id, kind): cents for team_id, kind, cents in balances}
    sides = session.exec(select(Account.team_id, Account.kind,
                                func.sum(case((Posting.amount_cents > 0, Posting.amount_cents), else_=0)),
                                func.sum(case((Posting.amount_cents < 0, -Posting.amount_cents), else_=0)))
                         .join(Posting, Posting.account_id == Account.id)
                         .where(Account.budget_year_id == year_id,
                                Account.kind.in_([AccountKind.CARDS, AccountKind.CARRIED]))
                         .group_by(Account.team_id, Account.kind)).all()
    sums = {(team_id, kind): (int(plus or 0), int(minus or 0)) for team_id, kind, plus, minus in sides}
    budgets = _per_team(session.exec(select(TeamBudget.team_id, TeamBudget.annual_budget_cents)
                                     .where(TeamBudget.budget_year_id == year_id)).all())
    granted = _per_team(session.exec(select(SpendRequest.team_id, func.sum(SpendRequest.granted_amount_cents))
                                     .where(SpendRequest.budget_year_id == year_id,
                                            SpendRequest.status == RequestStatus.GRANTED)
                                     .group_by(SpendRequest.team_id)).all())
    returned = _per_team(session.exec(select(Card.team_id, func.sum(Card.returned_amount_cents))
                                      .where(Card.budget_year_id == year_id, Card.returned_amount_cents.is_not(None))
                                      .group_by(Card.team_id)).all())
    by_receipts = _per_team(session.exec(select(SpendRequest.team_id, func.sum(Receipt.amount_cents))
                                         .join(Receipt, Receipt.request_id == SpendRequest.id)
                                         .where(money_year == year_id).group_by(SpendRequest.team_id)).all())
    outstanding = _outstanding_loans(session, year_id)
    for team_id, row in rows.items():
        row.budget = budgets.get(team_id, 0)
        row.granted = granted.get(team_id, 0)
        row.loaded = sums.get((team_id, AccountKind.CARDS), (0, 0))[0]
        row.returned = returned.get(team_id, 0)
        row.spent_by_receipts = by_receipts.get(team_id, 0)
        row.spent = kinds.get((team_id, AccountKind.SPENT), 0)
        row.lent = kinds.get((team_id, AccountKind.LENT), 0)
        row.repaid = -kinds.get((team_id, AccountKind.REPAYMENTS), 0)
        row.outstanding = outstanding.get(team_id, 0)
        row.carried_out, row.carried_in = sums.get((team_id, AccountKind.CARRIED), (0, 0))
        row.to_municipality = kinds.get((team_id, AccountKind.TO_MUNICIPALITY), 0)
    for team_id, status, kind, full, count in session.exec(
            select(SpendRequest.team_id, SpendRequest.status, SpendRequest.granted_kind,
                   SpendRequest.granted_amount_cents >= SpendRequest.amount_cents, func.count())
            .where(SpendRequest.budget_year_id == year_id)
            .group_by(SpendRequest.team_id, SpendRequest.status, SpendRequest.granted_kind,
                      SpendRequest.granted_amount_cents >= SpendRequest.amount_cents)).all():
        outcome = _outcome(status, kind, full)
        if outcome and team_id in rows:
            rows[team_id].counts[outcome] += count
    total = StatementRow(name=str(_l("Gemeente")))
    for row in rows.values():
        total.add(row)
    return Statement(budget_year=budget_year, rows=list(rows.values()), total=total)


def _outcome(status: str, kind: str | None, full) -> str | None:
    if status == RequestStatus.GRANTED:
        return "loan" if kind == RequestKind.LOAN else ("granted_full" if full else "granted_lower")
    return {RequestStatus.SOLVED: "alternative", RequestStatus.REJECTED: "rejected", RequestStatus.EXPIRED: "expired",
            RequestStatus.WITHDRAWN: "withdrawn", RequestStatus.CANCELLED: "cancelled"}.get(status)


def _outstanding_loans(session: Session, year_id: int) -> dict[int, int]:
    """Per team: what was lent from the year's accounts and not repaid yet (repayments of any year)."""
    lent = session.exec(select(Entry.request_id, Account.team_id, func.sum(Posting.amount_cents))
                        .join(Posting, Posting.entry_id == Entry.id).join(Account, Account.id == Posting.account_id)
                        .where(Account.budget_year_id == year_id, Account.kind == AccountKind.LENT)
                        .group_by(Entry.request_id, Account.team_id)).all()
    if not lent:
        return {}
    repaid = dict(session.exec(select(Repayment.request_id, func.sum(Repayment.amount_cents))
                               .where(Repayment.request_id.in_([request_id for request_id, _t, _c in lent]))
                               .group_by(Repayment.request_id)).all())
    found = {}
    for request_id, team_id, cents in lent:
        found[team_id] = found.get(team_id, 0) + max(0, int(cents) - int(repaid.get(request_id) or 0))
    return found


EVENT_LABELS.update({"carried_over": _l("overgedragen naar het volgende budgetjaar"),
                     "year_closed": _l("budgetjaar afgesloten")})
