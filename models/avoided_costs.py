"""The value triangle and avoided costs (issue 13 §4): escalation scenarios per municipality with a reference
cost and its source, and the scenarios a request prevents with their likelihood.

A request argues its case on three sides (the *waardendriehoek*): is it allowed (`SpendRequest.legitimacy`,
the income consultant's domain), what does the household do itself (`own_contribution`), and what does it
prevent (`prevents`, and here the scenarios it prevents with a likelihood: *rendement*).

Invariants:
- A scenario belongs to one municipality; its Dutch name is unique there (archived ones included), both
  names are one line of at most 100 characters, its source one line of at most 300, and its reference cost
  is at least 1 cent. Nothing is deleted: a scenario is archived and can be brought back.
- A request picks scenarios of its own team's municipality only, each once, with a likelihood of 1 up to
  100 percent. A newly picked scenario must be active; one already picked on the request stays (archived
  later) until the worker drops it.
- The expected avoided cost of a request is Σ reference cost × likelihood / 100 over its scenarios, each
  term rounded to whole cents (half a cent up), so the page's lines add up to its total. It uses the
  catalogue's reference cost as it is now, so a corrected figure corrects every report.
- Totals per team and district count granted requests only (a request granted and then cancelled no
  longer counts), of one budget year. They follow the reports' small-number rule (models.reports.suppress):
  a team or district built from fewer than 5 requests is suppressed, its amounts hidden, and so is what
  else is needed (another team, a district, the total) to keep it from being worked back out: a district is
  the sum of its teams, and the total the sum of the teams and of the districts.
- Every change of the catalogue (added, changed, moved, archived, restored) is an audit event of the
  municipality (models.audit `record_in_municipality`, in its hash chain), with the names before and after.
"""
import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from models.audit import EVENT_LABELS, changed_fields, record_in_municipality
from models.bounds import parse_id
from models.catalogue import _one_line, _unique
from models.clock import utcnow
from models.money import parse_amount
from models.reports import TOTAL, narrowed, suppress
from models.requests import RequestStatus, SpendRequest
from models.rules import RuleViolation
from models.teams import District, Team

NAME_MAX = 100
SOURCE_MAX = 300
EVENT_LABELS.update({"scenario_added": _l("scenario toegevoegd"), "scenario_changed": _l("scenario gewijzigd"),
                     "scenario_moved": _l("scenario verplaatst"), "scenario_archived": _l("scenario gearchiveerd"),
                     "scenario_restored": _l("scenario weer in gebruik")})
#: the likelihoods the request form offers (any whole percentage 1..100 is accepted)
LIKELIHOODS = (10, 25, 50, 75, 100)
#: the demo's example figures (models/seed.py): round numbers to show how it works, not real costs
EXAMPLE_SOURCE = "voorbeeld, geen echte bron"
EXAMPLE_SCENARIOS = [
    ("Huisuitzetting", "Eviction", 1_000_000),
    ("Afsluiting van energie", "Energy disconnection", 150_000),
    ("Uithuisplaatsing van een kind", "Child placed out of home", 5_000_000),
    ("Incassotraject en beslaglegging", "Debt collection and seizure", 200_000),
]


class AvoidedCostScenario(SQLModel, table=True):
    """An escalation a grant may prevent (an eviction, an energy disconnection …) and what it costs society."""

    __table_args__ = (CheckConstraint("reference_cost_cents > 0", name="scenario_cost_positive"),)
    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    name_nl: str = Field(max_length=100)
    name_en: str = Field(max_length=100)
    reference_cost_cents: int
    #: where the figure comes from (a report, a link)
    source: str = Field(default="", max_length=300)
    #: an example figure (the demo's), to be replaced by the municipality's own
    is_example: bool = False
    position: int = 0
    archived_at: datetime | None = None


class RequestScenario(SQLModel, table=True):
    """A scenario a request prevents, with the worker's estimate of how likely it was."""

    __table_args__ = (UniqueConstraint("request_id", "scenario_id"),
                      CheckConstraint("likelihood_percent BETWEEN 1 AND 100", name="scenario_likelihood_percent"))
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="spendrequest.id", index=True)
    scenario_id: int = Field(foreign_key="avoidedcostscenario.id")
    likelihood_percent: int


# --- the catalogue ---

@dataclass
class ScenarioInput:
    """What an administrator typed for a scenario, before any checking."""
    name_nl: str = ""
    name_en: str = ""
    reference_cost: str = ""
    source: str = ""
    is_example: bool = False


def scenarios_of(session: Session, municipality_id: int, *, active_only: bool = False) -> list[AvoidedCostScenario]:
    """The municipality's scenarios in their order (active ones first when archived ones are included)."""
    query = select(AvoidedCostScenario).where(AvoidedCostScenario.municipality_id == municipality_id)
    if active_only:
        query = query.where(AvoidedCostScenario.archived_at.is_(None))
    return list(session.exec(query.order_by(AvoidedCostScenario.archived_at.is_not(None),
                                            AvoidedCostScenario.position, AvoidedCostScenario.id)))


def _checked(session: Session, municipality_id: int, data: ScenarioInput, scenario: AvoidedCostScenario | None):
    name_nl = _one_line(data.name_nl, "name_nl", NAME_MAX, required=True)
    name_en = _one_line(data.name_en, "name_en", NAME_MAX, required=False) or name_nl
    others = [s for s in scenarios_of(session, municipality_id) if scenario is None or s.id != scenario.id]
    _unique(name_nl, [s.name_nl for s in others], "name_nl")
    cost = parse_amount(data.reference_cost, field="reference_cost")
    source = _one_line(data.source, "source", SOURCE_MAX, required=False)
    return name_nl, name_en, cost, source, others


def _record(session: Session, scenario: AvoidedCostScenario, action: str, actor_id, **detail) -> None:
    record_in_municipality(session, municipality_id=scenario.municipality_id, action=action, actor_id=actor_id,
                           scenario_id=scenario.id, name_nl=scenario.name_nl, name_en=scenario.name_en, **detail)


def add_scenario(session: Session, municipality_id: int, data: ScenarioInput, *,
                 actor_id: int | None = None) -> AvoidedCostScenario:
    """A new, active scenario at the end of the list."""
    name_nl, name_en, cost, source, others = _checked(session, municipality_id, data, None)
    scenario = AvoidedCostScenario(municipality_id=municipality_id, name_nl=name_nl, name_en=name_en,
                                   reference_cost_cents=cost, source=source, is_example=bool(data.is_example),
                                   position=max((s.position for s in others), default=-1) + 1)
    session.add(scenario)
    session.flush()
    _record(session, scenario, "scenario_added", actor_id, reference_cost_cents=cost)
    return scenario


def edit_scenario(session: Session, scenario: AvoidedCostScenario, data: ScenarioInput, *,
                  actor_id: int | None = None) -> None:
    """Save a scenario's names, cost, source and example flag; every request's expected cost follows."""
    name_nl, name_en, cost, source, _others = _checked(session, scenario.municipality_id, data, scenario)
    changed = changed_fields(scenario, {"name_nl": name_nl, "name_en": name_en, "reference_cost_cents": cost,
                                  "source": source, "is_example": bool(data.is_example)})
    scenario.name_nl, scenario.name_en, scenario.reference_cost_cents = name_nl, name_en, cost
    scenario.source, scenario.is_example = source, bool(data.is_example)
    session.add(scenario)
    if changed:
        _record(session, scenario, "scenario_changed", actor_id, changed=changed)


def set_scenario_active(session: Session, scenario: AvoidedCostScenario, active: bool, *,
                        actor_id: int | None = None) -> None:
    """Archive a scenario (no longer offered; requests that picked it keep it) or bring it back."""
    if (scenario.archived_at is None) != active:
        _record(session, scenario, "scenario_restored" if active else "scenario_archived", actor_id)
    scenario.archived_at = None if active else (scenario.archived_at or utcnow())
    session.add(scenario)


def move_scenario(session: Session, scenario: AvoidedCostScenario, by: int, *, actor_id: int | None = None) -> None:
    """Move a scenario one place up (-1) or down (1) among the municipality's scenarios (renumbered 0, 1 …)."""
    ordered = scenarios_of(session, scenario.municipality_id)
    index = next(i for i, s in enumerate(ordered) if s.id == scenario.id)
    target = max(0, min(len(ordered) - 1, index + by))
    ordered.insert(target, ordered.pop(index))
    for position, each in enumerate(ordered):
        each.position = position
        session.add(each)
    if target != index:  # places counted from 1, as the page shows them
        _record(session, scenario, "scenario_moved", actor_id,
                changed={"position": {"old": index + 1, "new": target + 1}})


def add_example_scenarios(session: Session, municipality_id: int) -> list[AvoidedCostScenario]:
    """The demo's example scenarios, marked as examples with no real source (models/seed.py)."""
    return [add_scenario(session, municipality_id, ScenarioInput(name_nl, name_en, str(cents // 100), EXAMPLE_SOURCE,
                                                                 is_example=True))
            for name_nl, name_en, cents in EXAMPLE_SCENARIOS]


# --- a request's scenarios ---

@dataclass
class PickedScenario:
    """A scenario a request prevents, its likelihood, and its share of the expected avoided cost."""
    scenario: AvoidedCostScenario
    likelihood_percent: int

    @property
    def weighted_cents(self) -> int:
        return round_cents(self.scenario.reference_cost_cents * self.likelihood_percent)


def round_cents(cent_percents: int) -> int:
    """Cents × percent back to whole cents, half a cent up (integers only: no float rounding)."""
    return (cent_percents + 50) // 100


def expected_avoided_cents(picked: list[PickedScenario]) -> int:
    """Σ reference cost × likelihood / 100, each term rounded to whole cents."""
    return sum(p.weighted_cents for p in picked)


def scenarios_of_request(session: Session, request_id: int) -> list[PickedScenario]:
    """The scenarios a request prevents, in the catalogue's order (one query)."""
    rows = session.exec(select(AvoidedCostScenario, RequestScenario.likelihood_percent)
                        .join(RequestScenario, RequestScenario.scenario_id == AvoidedCostScenario.id)
                        .where(RequestScenario.request_id == request_id)
                        .order_by(AvoidedCostScenario.position, AvoidedCostScenario.id)).all()
    return [PickedScenario(scenario, likelihood) for scenario, likelihood in rows]


def offered_scenarios(session: Session, team: Team, request: SpendRequest | None) -> list[AvoidedCostScenario]:
    """What the request form offers: the active scenarios of the team's municipality, and any archived one
    this draft picked before (it stays until dropped)."""
    municipality_id = session.get(District, team.district_id).municipality_id
    picked = {p.scenario.id for p in scenarios_of_request(session, request.id)} if request and request.id else set()
    return [s for s in scenarios_of(session, municipality_id) if s.archived_at is None or s.id in picked]


def picks_of_request(session: Session, request_id: int) -> dict[str, str]:
    """A draft's picks as the request form shows them: scenario id → likelihood, both as text."""
    return {str(p.scenario.id): str(p.likelihood_percent) for p in scenarios_of_request(session, request_id)}


def choose_scenarios(session: Session, request: SpendRequest, municipality_id: int, picks: dict) -> None:
    """Store the scenarios a draft prevents: `picks` maps a scenario id to a likelihood in percent (text as
    typed; empty or "0" drops it). Another municipality's scenario, a new pick of an archived one, or a
    likelihood outside 1..100 is refused."""
    if request.status != RequestStatus.DRAFT:
        raise RuleViolation(_l("Dat kan niet meer bij deze aanvraag."))
    stored = {row.scenario_id: row for row in session.exec(
        select(RequestScenario).where(RequestScenario.request_id == request.id))}
    wanted: dict[int, int] = {}
    for raw_id, raw_likelihood in picks.items():
        scenario = session.get(AvoidedCostScenario, parse_id(raw_id) or 0)
        if scenario is None or scenario.municipality_id != municipality_id or (
                scenario.archived_at is not None and scenario.id not in stored):
            raise RuleViolation(_l("Kies een scenario uit de lijst."), field="scenarios")
        text = str(raw_likelihood or "").strip().rstrip("%").strip()
        if text in ("", "0"):
            continue
        # ASCII digits only: str.isdigit() also takes "²", which int() refuses
        if not re.fullmatch(r"[0-9]{1,3}", text) or not 1 <= int(text) <= 100:
            raise RuleViolation(_l("Kies een kans van 1 tot en met 100 procent."), field="scenarios")
        wanted[scenario.id] = int(text)
    for scenario_id, row in stored.items():
        if scenario_id not in wanted:
            session.delete(row)
        elif row.likelihood_percent != wanted[scenario_id]:
            row.likelihood_percent = wanted[scenario_id]
            session.add(row)
    for scenario_id, likelihood in wanted.items():
        if scenario_id not in stored:
            session.add(RequestScenario(request_id=request.id, scenario_id=scenario_id, likelihood_percent=likelihood))
    session.flush()


# --- totals ---

@dataclass
class AvoidedRow:
    """One team's or district's total: its name, granted requests with scenarios, expected avoided cost and
    what was granted to those requests."""
    name: str
    requests: int = 0
    avoided_cents: int = 0
    granted_cents: int = 0
    #: fewer than 5 requests, or hidden so that such a row cannot be worked back out: show "< 5", no amounts
    suppressed: bool = False


@dataclass
class AvoidedTotals:
    """The expected avoided costs of a budget year's granted requests, per team and per district."""
    by_team: list[AvoidedRow]
    by_district: list[AvoidedRow]
    total: AvoidedRow


def avoided_cost_totals(session: Session, municipality_id: int, budget_year_id: int | None, *,
                        district_id: int | None = None, team_id: int | None = None,
                        category_id: int | None = None) -> AvoidedTotals:
    """Per team and district of the municipality: the granted requests of the budget year that picked at
    least one scenario, their expected avoided cost (as each request page shows it) and their granted
    amount, suppressed where few (`suppress_avoided`). Teams and districts without any are left out; the
    filters narrow it to one district, team or cost category (one query)."""
    query = (
        select(SpendRequest.id, SpendRequest.granted_amount_cents, Team.id, Team.name, District.id, District.name,
               AvoidedCostScenario.reference_cost_cents, RequestScenario.likelihood_percent)
        .join(RequestScenario, RequestScenario.request_id == SpendRequest.id)
        .join(AvoidedCostScenario, AvoidedCostScenario.id == RequestScenario.scenario_id)
        .join(Team, Team.id == SpendRequest.team_id).join(District, District.id == Team.district_id)
        .where(District.municipality_id == municipality_id, SpendRequest.status == RequestStatus.GRANTED,
               SpendRequest.budget_year_id == budget_year_id))
    query = narrowed(query, district_id, category_id, team_id)
    per_request: dict[int, list] = {}
    for request_id, granted, team, team_name, district, district_name, cost, likelihood in session.exec(query):
        entry = per_request.setdefault(request_id, [granted or 0, (team, team_name), (district, district_name), 0])
        entry[3] += round_cents(cost * likelihood)
    teams: dict[int, AvoidedRow] = {}
    districts: dict[int, AvoidedRow] = {}
    district_of: dict[int, int] = {}
    total = AvoidedRow(name="")
    for granted, (team, team_name), (district, district_name), avoided in per_request.values():
        district_of[team] = district
        for row in (teams.setdefault(team, AvoidedRow(team_name)),
                    districts.setdefault(district, AvoidedRow(district_name)), total):
            row.requests += 1
            row.avoided_cents += avoided
            row.granted_cents += granted
    suppress_avoided(teams, districts, district_of, total)
    by_name = lambda row: row.name.casefold()  # noqa: E731
    return AvoidedTotals(sorted(teams.values(), key=by_name), sorted(districts.values(), key=by_name), total)


def suppress_avoided(teams: dict[int, AvoidedRow], districts: dict[int, AvoidedRow], district_of: dict[int, int],
                     total: AvoidedRow) -> None:
    """Mark the rows to hide. Read as one table of districts × teams (a team sits in one district): a cell is
    a team, a row total a district, a column total that team again, the grand total the municipality's; so
    models.reports.suppress sees every sum the page shows (district = its teams, total = the teams = the
    districts) and hides a second member wherever one alone would give a hidden row away."""
    counts = {(TOTAL, TOTAL): total.requests}
    for team_id, row in teams.items():
        counts[(district_of[team_id], team_id)] = counts[(TOTAL, team_id)] = row.requests
    for district_id, row in districts.items():
        counts[(district_id, TOTAL)] = row.requests
    hidden = suppress(counts)
    for team_id, row in teams.items():
        row.suppressed = (district_of[team_id], team_id) in hidden or (TOTAL, team_id) in hidden
    for district_id, row in districts.items():
        row.suppressed = (district_id, TOTAL) in hidden
    total.suppressed = (TOTAL, TOTAL) in hidden
