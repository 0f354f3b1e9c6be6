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

How it is read (the report page must stay fast at a year of 100,000 requests): the database groups.
Each query is grouped by the column the dimension needs (team, cost category or the month of posted_at,
`_SQL_KEYS`) and read from one covering index (ix_spendrequest_year_figures, migration 0016); districts
are summed from their teams and quarters from their months here, which only adds up counts.
- counts and sums are grouped by status, loan or gift and granted amount: a median of amounts is read
  from that histogram, since amounts repeat;
- durations come back as whole microseconds (`_Microseconds`, per dialect), so the hours, their median
  and the 24-hour line are exactly those of the Python timedelta. A median needs every value, which no
  index holds, so the duration figures are kept per process and read again only when the fingerprint of
  the decided requests (read with the counts) or of the handed-over cards changes (`_duration_figures`).
`report_rows` and `figures_of` keep the same figures as a plain computation over the rows, one dataclass
per request: the tests hold the grouped path to it.

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

from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from threading import Lock
from weakref import WeakKeyDictionary

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, String, and_, case, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
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
DECIDED = (RequestStatus.GRANTED, RequestStatus.REJECTED, RequestStatus.SOLVED)


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


def _budget_year(session: Session, municipality_id: int, year: int | BudgetYear) -> BudgetYear | None:
    """`year` itself when the caller already read the budget year (the report page reads it once for its
    several tables), else the municipality's budget year of that number."""
    if isinstance(year, BudgetYear):
        return year if year.municipality_id == municipality_id else None
    return budget_year_of(session, municipality_id, year)


def report_year(years: list[int], wanted: int | None, this_year: int) -> int:
    """The year a report shows: `wanted` if it is one of the municipality's budget `years`, else this year
    if it is, else the newest of them (this year when there are none)."""
    if wanted in years:
        return wanted
    return this_year if this_year in years or not years else years[0]


def _first_card():
    """Per request, when its first card was handed over."""
    return (select(Card.request_id, func.min(Card.handed_over_at).label("card_at"))
            .where(Card.handed_over_at.is_not(None)).group_by(Card.request_id).subquery())


def report_rows(session: Session, municipality_id: int, year: int, *, district_id: int | None = None,
                category_id: int | None = None, team_id: int | None = None) -> list[Row]:
    """The posted requests of the municipality's budget year `year`, filtered, one Row each: the plain
    computation the grouped queries of `report` are held to (slow at scale: one object per request)."""
    budget_year = budget_year_of(session, municipality_id, year)
    if budget_year is None:
        return []
    card_at = _first_card()
    query = (select(SpendRequest.team_id, Team.district_id, SpendRequest.cost_category_id, SpendRequest.posted_at,
                    SpendRequest.decided_at, SpendRequest.status, SpendRequest.amount_cents,
                    SpendRequest.granted_amount_cents, SpendRequest.granted_kind, card_at.c.card_at)
             .join(Team, Team.id == SpendRequest.team_id)
             .join(District, District.id == Team.district_id)
             .outerjoin(card_at, card_at.c.request_id == SpendRequest.id)
             .where(District.municipality_id == municipality_id, SpendRequest.budget_year_id == budget_year.id,
                    SpendRequest.posted_at.is_not(None)))
    return [Row(*values) for values in session.exec(narrowed(query, district_id, category_id, team_id))]


def narrowed(query, district_id: int | None = None, category_id: int | None = None, team_id: int | None = None):
    """A query of requests joined to their team, narrowed to the district, cost category and team given."""
    if district_id is not None:
        query = query.where(Team.district_id == district_id)
    if category_id is not None:
        query = query.where(SpendRequest.cost_category_id == category_id)
    if team_id is not None:
        query = query.where(SpendRequest.team_id == team_id)
    return query


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


# --- the grouped queries ----------------------------------------------------------------------------------

class _Month(FunctionElement):
    """'YYYY-MM' of a timestamp as stored (UTC), as period_of reads it."""

    type = String()
    inherit_cache = True


@compiles(_Month)
def _month_default(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM')"


@compiles(_Month, "sqlite")
def _month_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


class _Microseconds(FunctionElement):
    """Whole microseconds from the second timestamp to the first: exact, as timedelta counts them."""

    type = BigInteger()
    inherit_cache = True


@compiles(_Microseconds)
def _microseconds_default(element, compiler, **kw):
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) * 1000000 AS BIGINT)"


@compiles(_Microseconds, "sqlite")
def _microseconds_sqlite(element, compiler, **kw):
    # SQLAlchemy stores 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds from julianday (rounded, so exact) plus
    # the difference of the six digits after the point
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return (f"(CAST(round((julianday(substr({later}, 1, 19)) - julianday(substr({earlier}, 1, 19))) * 86400) "
            f"AS INTEGER) * 1000000 + (CAST(substr({later}, 21, 6) AS INTEGER) "
            f"- CAST(substr({earlier}, 21, 6) AS INTEGER)))")


#: the column each dimension is grouped by in SQL
_SQL_KEYS = {"district": SpendRequest.team_id, "team": SpendRequest.team_id,
             "category": SpendRequest.cost_category_id, "period": _Month(SpendRequest.posted_at)}


@dataclass
class _Scope:
    """What one report reads: a budget year, the municipality's teams within the filters, a category."""

    budget_year_id: int
    district_of: dict  # team id -> district id
    category_id: int | None

    def where(self):
        """The conditions of the posted requests in scope (the leading columns of the covering index)."""
        conditions = [SpendRequest.budget_year_id == self.budget_year_id,
                      SpendRequest.team_id.in_(sorted(self.district_of)), SpendRequest.posted_at.is_not(None)]
        if self.category_id is not None:
            conditions.append(SpendRequest.cost_category_id == self.category_id)
        return and_(*conditions)

    def key(self, dimension: str, period: str):
        """The report's key of a SQL key of `dimension`: a team's district, a month's quarter."""
        if dimension == "district":
            return self.district_of.__getitem__
        if dimension == "period" and period == "quarter":
            return lambda month: f"{month[:4]}-K{(int(month[5:7]) - 1) // 3 + 1}"
        return lambda key: key


def _scope(session: Session, municipality_id: int, year: int | BudgetYear, *, district_id: int | None = None,
           category_id: int | None = None, team_id: int | None = None) -> _Scope | None:
    """The scope of a report, or None when the municipality has no such budget year."""
    budget_year = _budget_year(session, municipality_id, year)
    if budget_year is None:
        return None
    teams = session.exec(select(Team.id, Team.district_id).join(District)
                         .where(District.municipality_id == municipality_id)).all()
    district_of = {team: district for team, district in teams
                   if (district_id is None or district == district_id) and (team_id is None or team == team_id)}
    return _Scope(budget_year.id, district_of, category_id)


def _median(values: list):
    """The median of sorted values, with statistics.median's arithmetic."""
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _median_of_counts(counts: Counter):
    """The median of a histogram {value: how often}, as statistics.median of all the values gives it."""
    n, seen, found = sum(counts.values()), 0, []
    wanted = [(n - 1) // 2, n // 2]  # the positions of the middle value(s) among the sorted values
    for value in sorted(counts):
        seen += counts[value]
        while wanted and wanted[0] < seen:
            found.append(value)
            wanted.pop(0)
        if not wanted:
            break
    return found[0] if n % 2 else (found[0] + found[1]) / 2


def _median_hours(microseconds: list) -> float:
    """The median of sorted microseconds in hours, rounded to tenths: only the middle one or two are turned
    into hours, as _hours turns a timedelta (microseconds / 10**6 is timedelta.total_seconds)."""
    middle = len(microseconds) // 2
    chosen = microseconds[middle:middle + 1] if len(microseconds) % 2 else microseconds[middle - 1:middle + 1]
    return round(_median([value / 10**6 / 3600 for value in chosen]), 1)


#: within 24 hours: hours <= 24 exactly when the microseconds are at most these (float division is monotone)
DAY_MICROSECONDS = 24 * 3600 * 10**6
_COUNTED = ("requests", "grants", "granted_cents", "lower", "loans", "solved", "rejected", "expired", "decided")


@dataclass
class _Group:
    """One group's counts and sums, with the histogram of its granted amounts."""

    figures: Figures = field(default_factory=Figures)
    amounts: Counter = field(default_factory=Counter)

    def add(self, other: _Group) -> None:
        for name in _COUNTED:
            setattr(self.figures, name, getattr(self.figures, name) + getattr(other.figures, name))
        self.amounts.update(other.amounts)

    def finished(self, durations: tuple) -> Figures:
        """The figures with the median amount and the duration figures (see _duration_figures)."""
        figures = self.figures
        if self.amounts:
            figures.median_granted_cents = round(_median_of_counts(self.amounts))
        figures.median_decision_hours, figures.within_24h_share, figures.median_card_hours = durations
        return figures


def _counted(session: Session, scope: _Scope, dimension: str, period: str) -> tuple[dict, tuple]:
    """(key -> _Group of every group of `dimension` in scope, the fingerprint of its decided requests): one
    query, grouped by the key, status, loan or gift and granted amount. The fingerprint is, per SQL key and
    decided status, how many were decided and the sum of their ids, and how many grants were cancelled
    (see _duration_figures)."""
    key_sql, key = _SQL_KEYS[dimension], scope.key(dimension, period)
    groups, decided = defaultdict(_Group), Counter()
    granted = func.coalesce(SpendRequest.granted_amount_cents, 0)
    lower = func.sum(case((granted < func.coalesce(SpendRequest.amount_cents, 0), 1), else_=0))
    query = (select(key_sql, SpendRequest.status, SpendRequest.granted_kind, SpendRequest.granted_amount_cents,
                    func.count(), func.count(SpendRequest.decided_at), lower, func.sum(SpendRequest.id))
             .where(scope.where())
             .group_by(key_sql, SpendRequest.status, SpendRequest.granted_kind, SpendRequest.granted_amount_cents))
    for sql_key, status, kind, amount, count, with_decision, lower_count, ids in session.exec(query):
        group = groups[key(sql_key)]
        figures = group.figures
        figures.requests += count
        if status in DECIDED:
            figures.decided += with_decision
            decided[(str(sql_key), status, "count")] += with_decision
            decided[(str(sql_key), status, "ids")] += ids
        elif status == RequestStatus.CANCELLED:  # the one way out of the decided (TRANSITIONS), never back
            decided[(str(sql_key), status, "count")] += count
        if status == RequestStatus.GRANTED:
            figures.grants += count
            figures.granted_cents += (amount or 0) * count
            figures.lower += lower_count
            figures.loans += count if kind == RequestKind.LOAN else 0
            group.amounts[amount or 0] += count
        elif status == RequestStatus.SOLVED:
            figures.solved += count
        elif status == RequestStatus.REJECTED:
            figures.rejected += count
        elif status == RequestStatus.EXPIRED:
            figures.expired += count
    return groups, tuple(sorted(decided.items()))


def _durations(session: Session, scope: _Scope, dimension: str, period: str) -> tuple[dict, dict]:
    """(decision microseconds, card microseconds) per key, TOTAL included, sorted: one value per decided
    request and per granted request with a card, so this is the slow part of a report at scale."""
    key_sql, key = _SQL_KEYS[dimension], scope.key(dimension, period)
    decision = (select(key_sql, _Microseconds(SpendRequest.decided_at, SpendRequest.posted_at))
                .where(scope.where(), SpendRequest.status.in_(DECIDED), SpendRequest.decided_at.is_not(None)))
    card_at = _first_card()
    card = (select(key_sql, _Microseconds(card_at.c.card_at, SpendRequest.decided_at))
            .join(card_at, card_at.c.request_id == SpendRequest.id)
            .where(scope.where(), SpendRequest.status == RequestStatus.GRANTED, SpendRequest.decided_at.is_not(None)))
    found = []
    for query in (decision, card):
        values = defaultdict(list)
        for sql_key, microseconds in session.exec(query):
            values[key(sql_key)].append(microseconds)
        values[TOTAL] = [value for group in values.values() for value in group]
        for group in values.values():
            group.sort()
        found.append(values)
    return found[0], found[1]


def _cards_fingerprint(session: Session, scope: _Scope) -> tuple:
    """How many cards of the scope's teams were handed over, and the sum of their ids."""
    return tuple(session.exec(select(func.count(Card.id), func.sum(Card.id)).where(
        Card.team_id.in_(sorted(scope.district_of)), Card.handed_over_at.is_not(None))).one())


#: per engine, what was asked -> (fingerprint, duration figures per key): see _duration_figures
_KEPT: WeakKeyDictionary = WeakKeyDictionary()
#: what one engine keeps at most (the oldest asked goes first)
_KEPT_SIZE = 64
#: gunicorn's threads share a worker's _KEPT
_KEPT_LOCK = Lock()


def _duration_figures(session: Session, scope: _Scope, dimension: str, period: str, fingerprint: tuple) -> dict:
    """key (and TOTAL) -> (median hours to decision, share decided within 24 hours, median hours to card).

    These need a value per request, which no index holds; the counts and sums beside them do not. They are
    kept per worker process and engine, one entry per what was asked, with the fingerprint of their inputs
    when read; they are read again when it changed. It changes whenever their inputs can: which requests of
    each group are decided (per decided status their number and the sum of their ids, and how many grants
    were cancelled: that is the one way out of the decided and never back, so two grants cannot be replaced
    by two others of the same id sum unseen), read from the covering index with the counts, and which cards
    were handed over. That is enough because a decided request's posted_at and decided_at never change, and
    a card's handover is set once. Keyed by the engine itself (weakly), not id(), which a new one may reuse."""
    bind = session.get_bind()
    asked = (scope.budget_year_id, tuple(sorted(scope.district_of)), scope.category_id, dimension, period)
    fingerprint = (fingerprint, _cards_fingerprint(session, scope))
    with _KEPT_LOCK:
        kept = _KEPT.setdefault(bind, {}).get(asked)
    if kept is not None and kept[0] == fingerprint:
        return kept[1]
    decisions, cards = _durations(session, scope, dimension, period)
    result = {}
    for key in set(decisions) | set(cards):
        hours = decisions.get(key) or []
        result[key] = (_median_hours(hours) if hours else None,
                       bisect_right(hours, DAY_MICROSECONDS) / len(hours) if hours else None,
                       _median_hours(cards[key]) if cards.get(key) else None)
    with _KEPT_LOCK:
        kept = _KEPT.setdefault(bind, {})
        kept.pop(asked, None)
        if len(kept) >= _KEPT_SIZE:
            del kept[next(iter(kept))]
        kept[asked] = (fingerprint, result)
    return result


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
        names[None] = _l("Geen soort uitgave")  # a request without one
        return {key: names.get(key, "—") for key in keys}
    return {key: key for key in keys}


def report(session: Session, municipality_id: int, year: int | BudgetYear, dimension: str = "district",
           period: str = "month", *, language: str = "nl", **filters) -> Report:
    """The figures per group of `dimension`, with their total, suppressed."""
    scope = _scope(session, municipality_id, year, **filters)
    groups, durations = {}, {}
    if scope and scope.district_of:
        groups, fingerprint = _counted(session, scope, dimension, period)
        durations = _duration_figures(session, scope, dimension, period, fingerprint)
    total = _Group()
    for group in groups.values():
        total.add(group)
    nothing = (None, None, None)
    labels = labels_of(session, municipality_id, dimension, set(groups), language)
    order = sorted(groups, key=lambda key: (str(labels.get(key, "")), str(key)))
    result = Report(dimension=dimension, labels=labels,
                    cells={key: groups[key].finished(durations.get(key, nothing)) for key in order},
                    total=total.finished(durations.get(TOTAL, nothing)))
    counts = {(key, TOTAL): figures.requests for key, figures in result.cells.items()}
    counts[(TOTAL, TOTAL)] = result.total.requests
    hidden = suppress(counts)
    for key, figures in result.cells.items():
        figures.suppressed = (key, TOTAL) in hidden
    result.total.suppressed = (TOTAL, TOTAL) in hidden
    return result


def cross_table(session: Session, municipality_id: int, year: int | BudgetYear, rows_by: str = "district",
                columns_by: str = "category", period: str = "month", *, language: str = "nl", **filters):
    """Request counts in a two-way table with totals: (row labels, column labels, counts, hidden keys).
    counts holds every cell, row total (row, TOTAL), column total (TOTAL, column) and (TOTAL, TOTAL).
    One query, grouped by both dimensions' columns."""
    scope = _scope(session, municipality_id, year, **filters)
    counts = defaultdict(int)
    if scope and scope.district_of:
        row_sql, column_sql = _SQL_KEYS[rows_by], _SQL_KEYS[columns_by]
        row_key, column_key = scope.key(rows_by, period), scope.key(columns_by, period)
        query = select(row_sql, column_sql, func.count()).where(scope.where()).group_by(row_sql, column_sql)
        for row_value, column_value, count in session.exec(query):
            r, c = row_key(row_value), column_key(column_value)
            counts[(r, c)] += count
            counts[(r, TOTAL)] += count
            counts[(TOTAL, c)] += count
            counts[(TOTAL, TOTAL)] += count
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


def underspend(session: Session, municipality_id: int, year: int | BudgetYear,
               team_id: int | None = None) -> list[TeamUnderspend]:
    """Per team: its annual budget for the year, what it granted in it (a grant carried to the year counts
    there), and the difference. Grouped queries, each on an index: the grants of the year not carried away
    (ix_spendrequest_year_figures) and those carried to it (ix_spendrequest_carried_to_year)."""
    budget_year = _budget_year(session, municipality_id, year)
    if budget_year is None:
        return []
    query = (select(Team.id, Team.name, TeamBudget.annual_budget_cents).join(District)
             .join(TeamBudget, TeamBudget.team_id == Team.id)
             .where(District.municipality_id == municipality_id, TeamBudget.budget_year_id == budget_year.id)
             .order_by(Team.name))
    if team_id is not None:
        query = query.where(Team.id == team_id)
    granted = Counter()
    for year_of_grant in (and_(SpendRequest.budget_year_id == budget_year.id, SpendRequest.carried_to_year_id.is_(None)),
                          SpendRequest.carried_to_year_id == budget_year.id):
        granted.update(dict(session.exec(
            select(SpendRequest.team_id, func.coalesce(func.sum(SpendRequest.granted_amount_cents), 0))
            .where(year_of_grant, SpendRequest.status == RequestStatus.GRANTED)
            .group_by(SpendRequest.team_id)).all()))
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
