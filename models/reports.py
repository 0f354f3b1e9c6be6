"""Anonymised report figures for a municipality: per district, cost category, team and month or quarter.

What counts:
- A request counts once it was posted (posted_at set); drafts never count. It falls in the month or
  quarter of its posted_at and in the budget year it was posted in.
- grants: status granted; total and median of granted_amount_cents; "lower" when granted < asked;
  "loans" when granted as a loan. solved: status solved_alternative; the share solved without money is
  solved / decided, where decided = granted + rejected + solved. rejected, expired: by status.
- time to decision: decided_at − posted_at in hours (median, share within 24 h) over decided requests.
- time to card: the first Card.handed_over_at of a granted request − its decided_at (median hours).
- underspend per team: the team's annual budget for the year − what it granted in that year.

The rows are read with one narrow, filtered query (municipality, budget year, team, category) and grouped
here: every figure needs the grouped values for its median anyway, and the set is one municipality-year.

Small-number suppression (`suppress`, used by page, chart and downloads alike):
1. Primary: a cell counting 1 to 4 requests is suppressed: it shows "< 5" and its amounts are hidden.
   (An empty cell, 0 requests, reveals no one and is shown.)
2. Complementary: a table is read with its totals (a total per row, per column and a grand total). Each
   row and each column, together with its total, is one sum: cells = total. A sum with exactly one hidden
   member lets that member be worked back out, so the smallest other shown non-empty member of that sum
   (a cell or the total itself) is suppressed as well. This repeats until no sum has exactly one hidden
   member. Amounts follow the counts: a hidden count hides every figure of that cell.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from sqlalchemy import func
from sqlmodel import Session, select

from models.cards import Card
from models.requests import RequestKind, RequestStatus, SpendRequest
from models.teams import BudgetYear, CostCategory, District, Team, TeamBudget
from models.votes import Vote

#: cells counting fewer requests than this are suppressed
THRESHOLD = 5
PERIODS = ("month", "quarter")
DIMENSIONS = ("district", "category", "team", "period")
TOTAL = "__total__"


@dataclass
class Figures:
    """The figures of one cell: a group of requests."""

    requests: int = 0
    grants: int = 0
    granted_cents: int = 0
    median_granted_cents: int | None = None
    lower: int = 0
    loans: int = 0
    solved: int = 0
    rejected: int = 0
    expired: int = 0
    decided: int = 0
    median_decision_hours: float | None = None
    within_24h_share: float | None = None
    median_card_hours: float | None = None
    suppressed: bool = False

    @property
    def solved_share(self) -> float | None:
        return self.solved / self.decided if self.decided else None


@dataclass
class Row:
    """The narrow facts of one posted request."""

    team_id: int
    district_id: int
    category_id: int | None
    posted_at: datetime
    decided_at: datetime | None
    status: str
    amount_cents: int | None
    granted_cents: int | None
    granted_kind: str | None
    card_at: datetime | None


@dataclass
class Report:
    """Figures per group of one dimension, with the total, after suppression."""

    dimension: str
    labels: dict = field(default_factory=dict)
    cells: dict = field(default_factory=dict)  # key -> Figures, in label order
    total: Figures = field(default_factory=Figures)


def _hours(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 3600


def budget_year_of(session: Session, municipality_id: int, year: int) -> BudgetYear | None:
    """The municipality's budget year `year`, or None."""
    return session.exec(select(BudgetYear).where(BudgetYear.municipality_id == municipality_id,
                                                 BudgetYear.year == year)).first()


def report_rows(session: Session, municipality_id: int, year: int, *, district_id: int | None = None,
                category_id: int | None = None, team_id: int | None = None) -> list[Row]:
    """The posted requests of the municipality's budget year `year`, filtered; one query."""
    budget_year = budget_year_of(session, municipality_id, year)
    if budget_year is None:
        return []
    card_at = (select(Card.request_id, func.min(Card.handed_over_at).label("card_at"))
               .where(Card.handed_over_at.is_not(None)).group_by(Card.request_id).subquery())
    query = (select(SpendRequest.team_id, Team.district_id, SpendRequest.cost_category_id, SpendRequest.posted_at,
                    SpendRequest.decided_at, SpendRequest.status, SpendRequest.amount_cents,
                    SpendRequest.granted_amount_cents, SpendRequest.granted_kind, card_at.c.card_at)
             .join(Team, Team.id == SpendRequest.team_id)
             .join(District, District.id == Team.district_id)
             .outerjoin(card_at, card_at.c.request_id == SpendRequest.id)
             .where(District.municipality_id == municipality_id, SpendRequest.budget_year_id == budget_year.id,
                    SpendRequest.posted_at.is_not(None)))
    if district_id is not None:
        query = query.where(Team.district_id == district_id)
    if category_id is not None:
        query = query.where(SpendRequest.cost_category_id == category_id)
    if team_id is not None:
        query = query.where(SpendRequest.team_id == team_id)
    return [Row(*values) for values in session.exec(query)]


def figures_of(rows: list[Row]) -> Figures:
    """The figures of a group of rows."""
    granted = [row for row in rows if row.status == RequestStatus.GRANTED]
    amounts = sorted(row.granted_cents or 0 for row in granted)
    decided = [row for row in rows if row.status in (RequestStatus.GRANTED, RequestStatus.REJECTED,
                                                     RequestStatus.SOLVED) and row.decided_at]
    decision_hours = [_hours(row.decided_at, row.posted_at) for row in decided]
    card_hours = [_hours(row.card_at, row.decided_at) for row in granted if row.card_at and row.decided_at]
    return Figures(
        requests=len(rows), grants=len(granted), granted_cents=sum(amounts),
        median_granted_cents=round(median(amounts)) if amounts else None,
        lower=sum(1 for row in granted if (row.granted_cents or 0) < (row.amount_cents or 0)),
        loans=sum(1 for row in granted if row.granted_kind == RequestKind.LOAN),
        solved=sum(1 for row in rows if row.status == RequestStatus.SOLVED),
        rejected=sum(1 for row in rows if row.status == RequestStatus.REJECTED),
        expired=sum(1 for row in rows if row.status == RequestStatus.EXPIRED),
        decided=len(decided),
        median_decision_hours=round(median(decision_hours), 1) if decision_hours else None,
        within_24h_share=(sum(1 for hours in decision_hours if hours <= 24) / len(decision_hours)
                          if decision_hours else None),
        median_card_hours=round(median(card_hours), 1) if card_hours else None)


def period_of(moment: datetime, period: str) -> str:
    """'2026-03' for a month, '2026-K1' for a quarter."""
    if period == "quarter":
        return f"{moment.year}-K{(moment.month - 1) // 3 + 1}"
    return f"{moment.year}-{moment.month:02d}"


def key_of(row: Row, dimension: str, period: str):
    if dimension == "district":
        return row.district_id
    if dimension == "category":
        return row.category_id
    if dimension == "team":
        return row.team_id
    return period_of(row.posted_at, period)


def labels_of(session: Session, municipality_id: int, dimension: str, keys, language: str = "nl") -> dict:
    """Readable names of the keys of a dimension."""
    if dimension == "district":
        return {d.id: d.name for d in session.exec(select(District).where(District.municipality_id == municipality_id))
                if d.id in keys}
    if dimension == "team":
        return {t.id: t.name for t in session.exec(select(Team).join(District).where(
            District.municipality_id == municipality_id)) if t.id in keys}
    if dimension == "category":
        names = {c.id: (c.name_en if language == "en" else c.name_nl) for c in session.exec(
            select(CostCategory).where(CostCategory.municipality_id == municipality_id))}
        return {key: names.get(key, "—") for key in keys}
    return {key: key for key in keys}


def report(session: Session, municipality_id: int, year: int, dimension: str = "district", period: str = "month",
           *, language: str = "nl", **filters) -> Report:
    """The figures per group of `dimension`, with their total, suppressed."""
    rows = report_rows(session, municipality_id, year, **filters)
    groups = defaultdict(list)
    for row in rows:
        groups[key_of(row, dimension, period)].append(row)
    labels = labels_of(session, municipality_id, dimension, set(groups), language)
    order = sorted(groups, key=lambda key: (str(labels.get(key, "")), str(key)))
    result = Report(dimension=dimension, labels=labels, cells={key: figures_of(groups[key]) for key in order},
                    total=figures_of(rows))
    counts = {(key, TOTAL): figures.requests for key, figures in result.cells.items()}
    counts[(TOTAL, TOTAL)] = result.total.requests
    hidden = suppress(counts)
    for key, figures in result.cells.items():
        figures.suppressed = (key, TOTAL) in hidden
    result.total.suppressed = (TOTAL, TOTAL) in hidden
    return result


def cross_table(session: Session, municipality_id: int, year: int, rows_by: str = "district",
                columns_by: str = "category", period: str = "month", *, language: str = "nl", **filters):
    """Request counts in a two-way table with totals: (row labels, column labels, counts, hidden keys).
    counts holds every cell, row total (row, TOTAL), column total (TOTAL, column) and (TOTAL, TOTAL)."""
    rows = report_rows(session, municipality_id, year, **filters)
    counts = defaultdict(int)
    for row in rows:
        r, c = key_of(row, rows_by, period), key_of(row, columns_by, period)
        counts[(r, c)] += 1
        counts[(r, TOTAL)] += 1
        counts[(TOTAL, c)] += 1
        counts[(TOTAL, TOTAL)] += 1
    row_keys = sorted({r for r, _ in counts if r != TOTAL}, key=str)
    column_keys = sorted({c for _, c in counts if c != TOTAL}, key=str)
    row_labels = labels_of(session, municipality_id, rows_by, set(row_keys), language)
    column_labels = labels_of(session, municipality_id, columns_by, set(column_keys), language)
    return row_labels, column_labels, dict(counts), suppress(dict(counts))


def suppress(counts: dict) -> set:
    """The keys to hide in a table of counts with its totals (see the module docstring).

    `counts` maps (row, column) to a count; the totals are (row, TOTAL), (TOTAL, column) and (TOTAL, TOTAL)
    where the table shows them. A missing key counts 0. Each row, with its total, and each column, with
    its total, is one sum; a sum whose total is absent (not shown) has no constraint."""
    hidden = {key for key, count in counts.items() if 0 < count < THRESHOLD}
    lines = defaultdict(list)  # sum -> its members (cells and the total)
    for (r, c) in counts:
        lines[("row", r)].append((r, c))
        lines[("column", c)].append((r, c))
    # a sum constrains only where its total is shown
    lines = [members for (kind, key), members in lines.items()
             if ((key, TOTAL) if kind == "row" else (TOTAL, key)) in counts and len(members) > 1]
    changed = True
    while changed:
        changed = False
        for members in lines:
            if sum(1 for key in members if key in hidden) != 1:
                continue
            candidates = [key for key in members if key not in hidden and counts[key] > 0]
            if candidates:
                hidden.add(min(candidates, key=lambda key: (counts[key], str(key))))
                changed = True
    return hidden


@dataclass
class TeamUnderspend:
    team_id: int
    name: str
    budget_cents: int
    granted_cents: int

    @property
    def unspent_cents(self) -> int:
        return self.budget_cents - self.granted_cents


def underspend(session: Session, municipality_id: int, year: int, team_id: int | None = None) -> list[TeamUnderspend]:
    """Per team: its annual budget for the year, what it granted in it (a grant carried to the year counts
    there), and the difference. Two grouped queries."""
    budget_year = budget_year_of(session, municipality_id, year)
    if budget_year is None:
        return []
    query = (select(Team.id, Team.name, TeamBudget.annual_budget_cents).join(District)
             .join(TeamBudget, TeamBudget.team_id == Team.id)
             .where(District.municipality_id == municipality_id, TeamBudget.budget_year_id == budget_year.id)
             .order_by(Team.name))
    if team_id is not None:
        query = query.where(Team.id == team_id)
    year_of_grant = func.coalesce(SpendRequest.carried_to_year_id, SpendRequest.budget_year_id)
    granted = dict(session.exec(
        select(SpendRequest.team_id, func.sum(SpendRequest.granted_amount_cents))
        .where(SpendRequest.status == RequestStatus.GRANTED, year_of_grant == budget_year.id)
        .group_by(SpendRequest.team_id)).all())
    return [TeamUnderspend(team, name, budget, int(granted.get(team, 0) or 0))
            for team, name, budget in session.exec(query)]


def votes_per_member(session: Session, team_id: int, year: int, municipality_id: int) -> dict[int, int]:
    """How many requests of the team's year each member voted on (counts only, never how)."""
    budget_year = budget_year_of(session, municipality_id, year)
    if budget_year is None:
        return {}
    return dict(session.exec(
        select(Vote.member_id, func.count(Vote.id)).join(SpendRequest, SpendRequest.id == Vote.request_id)
        .where(SpendRequest.team_id == team_id, SpendRequest.budget_year_id == budget_year.id)
        .group_by(Vote.member_id)).all())


#: what a suppressed count shows, in pages, charts and downloads alike
SUPPRESSED = "< 5"
#: what a hidden amount or other figure of a suppressed cell shows
HIDDEN = "—"
#: the figure columns in order: (name, kind) where kind is count, cents, share or hours
COLUMNS = (("requests", "count"), ("grants", "count"), ("granted_cents", "cents"),
           ("median_granted_cents", "cents"), ("lower", "count"), ("loans", "count"), ("solved", "count"),
           ("solved_share", "share"), ("rejected", "count"), ("expired", "count"),
           ("median_decision_hours", "hours"), ("within_24h_share", "share"), ("median_card_hours", "hours"))


def shown(figures: Figures) -> list:
    """The values of a cell as everyone shows them: numbers (None where there is none), or, for a suppressed
    cell, SUPPRESSED for its request count and HIDDEN for every other figure."""
    if figures.suppressed:
        return [SUPPRESSED if name == "requests" else HIDDEN for name, _kind in COLUMNS]
    return [getattr(figures, name) for name, _kind in COLUMNS]


def report_table(result: Report) -> list[tuple[str, list]]:
    """(label, shown values) per group, then the total: the one table page, chart and downloads read."""
    lines = [(str(result.labels.get(key, key)), shown(figures)) for key, figures in result.cells.items()]
    return lines + [(TOTAL, shown(result.total))]


def participation(session: Session, team: Team, year: int, municipality_id: int) -> list[tuple[str, int]]:
    """(display name, how many requests they voted on) per active member of the team in the budget year:
    counts only, never how anyone voted. For the team leader, to encourage use."""
    from models.members import Member, Membership
    counts = votes_per_member(session, team.id, year, municipality_id)
    members = session.exec(select(Member.id, Member.display_name).join(Membership, Membership.member_id == Member.id)
                           .where(Membership.team_id == team.id, Membership.ended_at.is_(None))
                           .order_by(Member.display_name))
    return [(name, counts.get(member_id, 0)) for member_id, name in members]


def cross_table_shown(row_labels: dict, column_labels: dict, counts: dict, hidden: set) -> tuple[list, list]:
    """A `cross_table` as page and downloads show it: (column labels, then TOTAL) and per row, by label and
    then the TOTAL row, (label, values) where a value is a count, or SUPPRESSED where hidden."""
    def by_label(labels):
        return sorted(labels, key=lambda key: (str(labels[key]).casefold(), str(key)))
    columns = by_label(column_labels) + [TOTAL]

    def values(row):
        return [SUPPRESSED if (row, column) in hidden else counts.get((row, column), 0) for column in columns]
    lines = [(str(row_labels[row]), values(row)) for row in by_label(row_labels)] + [(TOTAL, values(TOTAL))]
    return [str(column_labels.get(column, column)) for column in columns], lines


def avoided_shown(row) -> list:
    """An avoided-cost total (models.avoided_costs.AvoidedRow) as everyone shows it: requests, granted cents,
    expected avoided cents; or SUPPRESSED and HIDDEN for a suppressed row."""
    if row.suppressed:
        return [SUPPRESSED, HIDDEN, HIDDEN]
    return [row.requests, row.granted_cents, row.avoided_cents]


def may_see_team_figures(member, membership, team: Team, municipality_id: int,
                         chosen_municipality_id: int | None = None) -> bool:
    """Whether `member` may see a team's own report and participation: the team's active team leader, or
    the coordinator of the team's municipality (an administrator in the municipality they chose). Other
    members of the team may not: the figures are for encouraging use, not for deciding."""
    from models.members import Role
    if member.is_administrator:
        coordinates = chosen_municipality_id is not None and chosen_municipality_id == municipality_id
    else:
        coordinates = member.is_coordinator and member.municipality_id == municipality_id
    return coordinates or (membership is not None and membership.is_active and membership.team_id == team.id
            and membership.member_id == member.id and membership.role == Role.TEAM_LEADER)
