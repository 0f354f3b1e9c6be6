"""Budget years: opening a year with each team's budget, changing the budgets of a year not closed, and
what the coordinator must be told about the turn of the year.

Invariants:
- A municipality has at most one budget year per calendar year (a UniqueConstraint, and the check here
  under the municipality's money lock), from 1 January to 31 December; a year is opened for this
  calendar year or the next, never for one that has passed.
- Every team budget is set through `models.ledger.allocate_annual_budget`, so the difference goes funding →
  available in the same transaction and a budget never drops below what the team already granted; each
  change is an audit event of the team (`annual_budget`). Amounts are 0 to MAX_AMOUNT_CENTS.
- A closed year (`closed_at`) is never changed here.
- A request belongs to the year it was posted in (models/requests.py `post_request` books it into the
  year containing today, and refuses when there is none); it is decided against that year's accounts.
"""
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, func, select

from models.audit import EVENT_LABELS, record
from models.clock import today
from models.ledger import AccountKind, allocate_annual_budget, balance_cents, lock_municipality
from models.money import MAX_AMOUNT_CENTS
from models.rules import RuleViolation
from models.teams import BudgetYear, District, Team, TeamBudget, current_budget_year

#: the banner before the turn of the year shows from this day of December on
BANNER_FROM_DECEMBER_DAY = 1

EVENT_LABELS.update({"annual_budget": _l("jaarbudget vastgesteld")})

#: how the page names the state of a year (`year_state`)
STATE_LABELS = {
    "current": _l("lopend"),
    "upcoming": _l("geopend, begint nog"),
    "ended": _l("afgelopen, nog niet afgesloten"),
    "closed": _l("afgesloten"),
}


def budget_field(team_id: int) -> str:
    """The name a refusal about one team's budget stands beside (its input's id on the page)."""
    return f"budget_{team_id}"


def years_of(session: Session, municipality_id: int) -> list[BudgetYear]:
    """The municipality's budget years, newest first."""
    return list(session.exec(select(BudgetYear).where(BudgetYear.municipality_id == municipality_id)
                             .order_by(BudgetYear.year.desc())))


def year_totals(session: Session, municipality_id: int) -> dict[int, int]:
    """The sum of the team budgets per budget year id."""
    rows = session.exec(select(TeamBudget.budget_year_id, func.sum(TeamBudget.annual_budget_cents))
                        .join(BudgetYear, BudgetYear.id == TeamBudget.budget_year_id)
                        .where(BudgetYear.municipality_id == municipality_id)
                        .group_by(TeamBudget.budget_year_id)).all()
    return {year_id: int(total or 0) for year_id, total in rows}


def year_state(budget_year: BudgetYear, on: date) -> str:
    """closed, current (contains `on`), upcoming, or ended (over, not closed yet)."""
    if budget_year.closed_at is not None:
        return "closed"
    if budget_year.starts_on <= on <= budget_year.ends_on:
        return "current"
    return "upcoming" if budget_year.starts_on > on else "ended"


def year_to_open(session: Session, municipality_id: int, on: date) -> int | None:
    """The year the page offers to open: this one when it is missing, else the next one, else none."""
    existing = set(session.exec(select(BudgetYear.year).where(BudgetYear.municipality_id == municipality_id,
                                                              BudgetYear.year.in_([on.year, on.year + 1]))))
    return next((year for year in (on.year, on.year + 1) if year not in existing), None)


def year_banner(session: Session, municipality_id: int, on: date) -> dict | None:
    """What the coordinator must know about the turn of the year, or None:
    `missing`: no budget year contains today, so every post is refused;
    `next`: from 1 December, next year is not open yet."""
    if current_budget_year(session, municipality_id, on) is None:
        return {"missing": on.year}
    if on.month == 12 and on.day >= BANNER_FROM_DECEMBER_DAY and session.exec(select(BudgetYear.id).where(
            BudgetYear.municipality_id == municipality_id, BudgetYear.year == on.year + 1)).first() is None:
        return {"next": on.year + 1}
    return None


def _teams_shown(session: Session, municipality_id: int, budget_year_id: int | None) -> list[tuple[Team, District]]:
    """The municipality's teams that get a budget row: those not archived (nor their district), and any
    that already has a budget in `budget_year_id`."""
    with_budget = select(TeamBudget.team_id).where(TeamBudget.budget_year_id == budget_year_id)
    return list(session.exec(
        select(Team, District).join(District, District.id == Team.district_id)
        .where(District.municipality_id == municipality_id,
               (Team.archived_at.is_(None) & District.archived_at.is_(None)) | Team.id.in_(with_budget))
        .order_by(District.name, Team.name)))


def _budgets_in(session: Session, budget_year_id: int | None) -> dict[int, int]:
    if budget_year_id is None:
        return {}
    return dict(session.exec(select(TeamBudget.team_id, TeamBudget.annual_budget_cents)
                             .where(TeamBudget.budget_year_id == budget_year_id)).all())


def find_year(session: Session, municipality_id: int, year: int) -> BudgetYear | None:
    """The municipality's budget year `year`, if it was opened."""
    return session.exec(select(BudgetYear).where(BudgetYear.municipality_id == municipality_id,
                                                 BudgetYear.year == year)).first()


def budgets_prefill(session: Session, municipality_id: int, copy_from_year: int | None) -> list[dict]:
    """One row per team that is not archived, with its budget in `copy_from_year` (0 when it had none;
    None: every budget 0). RuleViolation when `copy_from_year` was never opened."""
    source = None
    if copy_from_year is not None:
        source = find_year(session, municipality_id, copy_from_year)
        if source is None:
            raise RuleViolation(_l("Budgetjaar %(year)s bestaat niet.", year=copy_from_year), field="copy_from")
    budgets = _budgets_in(session, source and source.id)
    return [{"team": team, "district": district, "budget_cents": budgets.get(team.id, 0)}
            for team, district in _teams_shown(session, municipality_id, None)]


def budget_rows(session: Session, budget_year: BudgetYear) -> list[dict]:
    """One row per team of the year: its budget (None when it has none) and what it granted already (the
    lowest the budget may become)."""
    budgets = _budgets_in(session, budget_year.id)
    rows = []
    for team, district in _teams_shown(session, budget_year.municipality_id, budget_year.id):
        budget = budgets.get(team.id)
        available = balance_cents(session, team.id, budget_year.id, AccountKind.AVAILABLE)
        rows.append({"team": team, "district": district, "budget_cents": budget,
                     "committed_cents": (budget or 0) - available})
    return rows


def open_budget_year(session: Session, municipality_id: int, year: int, budgets: dict[int, int],
                     actor_id: int | None) -> BudgetYear:
    """Open `year` (1 January – 31 December) with each team's budget (team id → cents), audited."""
    lock_municipality(session, municipality_id)
    this_year = today().year
    if not this_year <= year <= this_year + 1:
        raise RuleViolation(_l("Open dit jaar (%(this)s) of het volgende (%(next)s).", this=this_year,
                               next=this_year + 1), field="year")
    if find_year(session, municipality_id, year) is not None:
        raise RuleViolation(_l("Budgetjaar %(year)s is al geopend; wijzig daar de budgetten.", year=year),
                            field="year")
    teams = _checked(session, municipality_id, budgets)
    budget_year = BudgetYear(municipality_id=municipality_id, year=year, starts_on=date(year, 1, 1),
                             ends_on=date(year, 12, 31))
    session.add(budget_year)
    session.flush()
    for team in teams:
        _allocate(session, team, budget_year, budgets[team.id], actor_id)
    return budget_year


def set_budgets(session: Session, budget_year: BudgetYear, budgets: dict[int, int], actor_id: int | None) -> int:
    """Change team budgets of a year that is not closed; returns how many changed. A budget never drops
    below what the team already granted (RuleViolation beside that team's field)."""
    lock_municipality(session, budget_year.municipality_id)
    session.refresh(budget_year)  # PostgreSQL: a close committed before the lock was granted
    if budget_year.closed_at is not None:
        raise RuleViolation(_l("Budgetjaar %(year)s is afgesloten; de budgetten liggen vast.",
                               year=budget_year.year))
    current = _budgets_in(session, budget_year.id)
    changed = [team for team in _checked(session, budget_year.municipality_id, budgets)
               if current.get(team.id) != budgets[team.id]]
    for team in changed:
        _allocate(session, team, budget_year, budgets[team.id], actor_id)
    return len(changed)


def _checked(session: Session, municipality_id: int, budgets: dict[int, int]) -> list[Team]:
    """The teams of `budgets`, each of the municipality and with an amount of 0 to MAX_AMOUNT_CENTS."""
    teams = {team.id: team for team, _district in session.exec(
        select(Team, District).join(District, District.id == Team.district_id)
        .where(District.municipality_id == municipality_id, Team.id.in_(list(budgets))))}
    for team_id, cents in budgets.items():
        if team_id not in teams:
            raise RuleViolation(_l("Dat team hoort niet bij deze gemeente."))
        if not isinstance(cents, int) or cents < 0:
            raise RuleViolation(_l("Een budget is nul of meer."), field=budget_field(team_id))
        if cents > MAX_AMOUNT_CENTS:
            raise RuleViolation(_l("Het bedrag mag hoogstens € 100.000,00 zijn."), field=budget_field(team_id))
    return [teams[team_id] for team_id in budgets]


def _allocate(session: Session, team: Team, budget_year: BudgetYear, cents: int, actor_id: int | None) -> None:
    old = _budgets_in(session, budget_year.id).get(team.id)
    try:
        allocate_annual_budget(session, team, budget_year.id, cents, actor_id=actor_id)
    except RuleViolation as refused:
        raise RuleViolation(refused.message, field=budget_field(team.id)) from refused
    record(session, team_id=team.id, actor_id=actor_id, action="annual_budget", year=budget_year.year,
           old_cents=old, new_cents=cents)
