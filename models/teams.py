"""Municipalities, districts, teams, budget years and cost categories.

Invariants:
- Every team belongs to one district, every district to one municipality.
- Team settings are sane: quorum at least 1, caps and thresholds positive, expiry at least one hour
  (checked both here, for a clear message, and by CHECK constraints, for anything else writing).
  Each has an upper bound too (TEAM_SETTINGS), so no date computed from it overflows: quorum at most 15,
  amounts at most MAX_AMOUNT_CENTS, expiry at most 30 days, and the reminder not later than the expiry.
- A team has at most one annual budget per budget year, never negative.
"""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from models.clock import today, utcnow
from models.money import MAX_AMOUNT_CENTS


DEFAULT_QUORUM = 3
DEFAULT_HOUSEHOLD_CAP_CENTS = 50_000
DEFAULT_ACCOUNT_CAP_CENTS = 50_000
DEFAULT_ESCALATION_THRESHOLD_CENTS = DEFAULT_HOUSEHOLD_CAP_CENTS  # a team decides up to the cap on its own
DEFAULT_REQUEST_EXPIRY_HOURS = 72
DEFAULT_REMINDER_AFTER_HOURS = 4

#: The cost categories of docs/domain.md, as (code, Dutch name, English name).
DEFAULT_COST_CATEGORIES = [
    ("groceries", "Boodschappen en leefgeld", "Groceries and living money"),
    ("housing", "Huur en wonen", "Rent and housing"),
    ("energy", "Energie", "Energy"),
    ("transport", "Vervoer", "Transport"),
    ("medical", "Medisch en medicijnen", "Medical and medicine"),
    ("clothing", "Kleding", "Clothing"),
    ("children", "Kinderen en school", "Children and school"),
    ("furnishing", "Inrichting", "Furnishing"),
    ("fees", "Leges en administratiekosten", "Fees and admin costs"),
    ("other", "Overig", "Other"),
]


class Municipality(SQLModel, table=True):
    """A city that funds team budgets; one installation can serve several."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)


class District(SQLModel, table=True):
    """A stadsdeel or wijk: the area a team works in, and a reporting dimension."""

    __table_args__ = (UniqueConstraint("municipality_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    name: str = Field(max_length=100)
    #: archived instead of deleted: its teams and history stay
    archived_at: datetime | None = None


class Team(SQLModel, table=True):
    """A group of workers from several organisations who decide together over one budget."""

    __table_args__ = (
        UniqueConstraint("district_id", "name"),
        CheckConstraint("quorum >= 1", name="team_quorum_positive"),
        CheckConstraint("household_cap_cents > 0", name="team_household_cap_positive"),
        CheckConstraint("account_cap_cents > 0", name="team_account_cap_positive"),
        CheckConstraint("escalation_threshold_cents > 0", name="team_escalation_positive"),
        CheckConstraint("request_expiry_hours >= 1", name="team_expiry_positive"),
        CheckConstraint("reminder_after_hours >= 1", name="team_reminder_positive"),
    )
    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="district.id", index=True)
    name: str = Field(max_length=100)
    #: the team bank account (derdenrekening) behind its cards, an IBAN checked with schwifty
    iban: str | None = Field(default=None, max_length=34)
    #: archived instead of deleted: no new requests, history kept
    archived_at: datetime | None = None
    #: how many voting members must approve before a request is granted
    quorum: int = DEFAULT_QUORUM
    #: most one household may receive per budget year, across all teams of the municipality
    household_cap_cents: int = DEFAULT_HOUSEHOLD_CAP_CENTS
    #: most the team bank account may hold at any time
    account_cap_cents: int = DEFAULT_ACCOUNT_CAP_CENTS
    #: above this amount a client_manager must approve too
    escalation_threshold_cents: int = DEFAULT_ESCALATION_THRESHOLD_CENTS
    #: an open request without a decision expires after this many hours
    request_expiry_hours: int = DEFAULT_REQUEST_EXPIRY_HOURS
    #: members who have not voted this long after posting see a reminder
    reminder_after_hours: int = DEFAULT_REMINDER_AFTER_HOURS


class BudgetYear(SQLModel, table=True):
    """A municipality's budget period (usually a calendar year)."""

    __table_args__ = (
        UniqueConstraint("municipality_id", "year"),
        CheckConstraint("ends_on > starts_on", name="budget_year_ordered"),
    )
    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    year: int
    starts_on: date
    ends_on: date
    #: set by the year close; from then on the ledger refuses every entry in this year
    closed_at: datetime | None = None
    closed_by_id: int | None = Field(default=None, foreign_key="member.id")


class TeamBudget(SQLModel, table=True):
    """The annual budget a team may grant from in one budget year."""

    __table_args__ = (
        UniqueConstraint("team_id", "budget_year_id"),
        CheckConstraint("annual_budget_cents >= 0", name="team_budget_not_negative"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    budget_year_id: int = Field(foreign_key="budgetyear.id", index=True)
    annual_budget_cents: int


class CostCategory(SQLModel, table=True):
    """A kostensoort: what a grant is for, the second reporting dimension."""

    __table_args__ = (UniqueConstraint("municipality_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    code: str = Field(max_length=40)
    name_nl: str = Field(max_length=100)
    name_en: str = Field(max_length=100)
    position: int = 0
    active: bool = True


class Provision(SQLModel, table=True):
    """A voorliggende voorziening: an existing provision that should pay instead (per municipality)."""

    __table_args__ = (UniqueConstraint("municipality_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    name: str = Field(max_length=100)
    #: one line that says what it is, for the worker who does not know it
    description: str = Field(default="", max_length=200)
    #: where to read more or apply (https only)
    link: str = Field(default="", max_length=300)
    position: int = 0
    active: bool = True


class ProvisionCategory(SQLModel, table=True):
    """Which cost categories a provision fits (it is offered on requests of these)."""

    provision_id: int = Field(foreign_key="provision.id", primary_key=True)
    cost_category_id: int = Field(foreign_key="costcategory.id", primary_key=True, index=True)


def municipality_of_team(session: Session, team: Team) -> Municipality:
    """The municipality a team belongs to (through its district)."""
    district = session.get(District, team.district_id)
    return session.get(Municipality, district.municipality_id)


def active_cost_categories(session: Session, team: Team) -> list[CostCategory]:
    """The cost categories a request of `team` may have: its municipality's active ones, in their order."""
    municipality_id = session.get(District, team.district_id).municipality_id
    return list(session.exec(select(CostCategory).where(CostCategory.municipality_id == municipality_id,
                                                        CostCategory.active).order_by(CostCategory.position)))


def cost_categories_by_id(session: Session, ids) -> dict[int, CostCategory]:
    """These cost categories, by id (none asked, none read)."""
    ids = {i for i in ids if i}
    return {c.id: c for c in session.exec(select(CostCategory).where(CostCategory.id.in_(ids)))} if ids else {}


def teams_of_municipality(session: Session, municipality_id: int) -> list[Team]:
    """All teams of a municipality, ordered by district and name."""
    statement = (
        select(Team)
        .join(District, Team.district_id == District.id)
        .where(District.municipality_id == municipality_id)
        .order_by(District.name, Team.name)
    )
    return list(session.exec(statement))


def budget_year_of(municipality_id: int, today: date) -> tuple:
    """The conditions that pick the municipality's budget year containing `today` (for a WHERE)."""
    return BudgetYear.municipality_id == municipality_id, BudgetYear.starts_on <= today, BudgetYear.ends_on >= today


def current_budget_year(session: Session, municipality_id: int, today: date) -> BudgetYear | None:
    """The budget year of the municipality that contains `today`, if any."""
    return session.exec(select(BudgetYear).where(*budget_year_of(municipality_id, today))).first()


def current_budget_years(session: Session, today: date) -> dict[int, BudgetYear]:
    """Every municipality's budget year that contains `today`, by municipality id (the administrators' list)."""
    return {year.municipality_id: year for year in session.exec(
        select(BudgetYear).where(BudgetYear.starts_on <= today, BudgetYear.ends_on >= today))}


def annual_budget_cents(session: Session, team: Team, budget_year: BudgetYear | None) -> int | None:
    """The team's annual budget in `budget_year`, or None when none was set."""
    if budget_year is None:
        return None
    statement = select(TeamBudget.annual_budget_cents).where(
        TeamBudget.team_id == team.id, TeamBudget.budget_year_id == budget_year.id
    )
    return session.exec(statement).first()


def add_default_cost_categories(session: Session, municipality: Municipality) -> None:
    """Give a municipality the cost categories of docs/domain.md."""
    for position, (code, name_nl, name_en) in enumerate(DEFAULT_COST_CATEGORIES):
        session.add(CostCategory(municipality_id=municipality.id, code=code, name_nl=name_nl,
                                 name_en=name_en, position=position))


def create_municipality(session: Session, name: str, *, year: int | None = None,
                        cost_categories: bool = True) -> tuple[Municipality, BudgetYear]:
    """A new municipality with the cost categories of docs/domain.md and its budget year `year` (the
    calendar year, this one by default): what the demo seed, the bench and the tests start from.
    `cost_categories=False` leaves the categories to the caller (tests that add their own)."""
    municipality = Municipality(name=name)
    session.add(municipality)
    session.flush()
    if cost_categories:
        from models.catalogue import add_default_provisions  # with the other provisions; it imports this module
        add_default_cost_categories(session, municipality)
        add_default_provisions(session, municipality)
    year = year or today().year
    budget_year = BudgetYear(municipality_id=municipality.id, year=year, starts_on=date(year, 1, 1),
                             ends_on=date(year, 12, 31))
    session.add(budget_year)
    session.flush()
    return municipality, budget_year


#: the settings a coordinator may change, with their lowest and highest allowed value
TEAM_SETTINGS = {
    "quorum": (1, 15),
    "household_cap_cents": (1, MAX_AMOUNT_CENTS),
    "account_cap_cents": (1, MAX_AMOUNT_CENTS),
    "escalation_threshold_cents": (1, MAX_AMOUNT_CENTS),
    "request_expiry_hours": (1, 30 * 24),  # a request waits at most 30 days: the household needs help now
    "reminder_after_hours": (1, 30 * 24),  # and not later than the expiry (checked below)
}


def change_team_settings(session: Session, team: Team, actor_id: int, **values: int) -> list[str]:
    """Change settings (all checked before any is applied), audit each change; returns the changed names."""
    from flask_babel import lazy_gettext as _l

    from models.audit import record
    from models.rules import RuleViolation

    for name, value in values.items():
        if name not in TEAM_SETTINGS:
            raise RuleViolation(_l("Onbekende instelling."), field=name)
        low, high = TEAM_SETTINGS[name]
        if not isinstance(value, int) or value < low:
            raise RuleViolation(_l("Vul een getal van minstens %(min)s in.", min=low), field=name)
        if name == "quorum" and value > high:
            raise RuleViolation(_l("Meer dan 15 ja-stemmen haalt een team niet."), field="quorum")
        if value > high:
            raise RuleViolation(_l("Vul een getal van hoogstens %(max)s in.", max=high), field=name)
    if values.get("reminder_after_hours", team.reminder_after_hours) > values.get("request_expiry_hours",
                                                                                  team.request_expiry_hours):
        raise RuleViolation(_l("De herinnering moet komen voordat de aanvraag verloopt."),
                            field="reminder_after_hours")
    changed = []
    for name, value in values.items():
        old = getattr(team, name)
        if old != value:
            setattr(team, name, value)
            record(session, team_id=team.id, actor_id=actor_id, action="setting_changed", setting=name, old=old, new=value)
            changed.append(name)
    session.add(team)
    return changed
