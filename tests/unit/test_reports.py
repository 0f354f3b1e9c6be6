"""Report figures against a direct computation over a year of requests, and small-number suppression,
including an attempt to work a hidden cell back out of the totals."""
import itertools
import random
from datetime import date, datetime, timedelta, timezone
from statistics import median

import pytest
from sqlmodel import select

from models.cards import Card
from models.reports import TOTAL, cross_table, report, report_year, suppress, underspend, votes_per_member
from models.requests import SpendRequest
from models.teams import BudgetYear, CostCategory, Municipality, Team
from models.votes import Vote
from tests.card_world import municipality_id, with_categories

YEAR = date.today().year
STATUSES = ["granted", "granted", "granted", "rejected", "solved_alternative", "expired", "open"]


@pytest.fixture
def world(session, make_team, make_member):
    """2 districts × 3 teams (Oost has two), several categories and months, random but seeded."""
    oost = make_team("Team Oost")
    municipality = session.get(Municipality, municipality_id(session, oost))
    oost2 = Team(district_id=oost.district_id, name="Team Oost 2")
    session.add(oost2)
    session.commit()
    west = make_team("Team West", municipality=municipality)
    with_categories(session, oost)
    budget_year = session.exec(select(BudgetYear).where(BudgetYear.municipality_id == municipality.id,
                                                        BudgetYear.year == YEAR)).one()
    categories = session.exec(select(CostCategory.id).where(CostCategory.municipality_id == municipality.id)).all()[:4]
    worker = make_member(oost, "worker")
    voter = make_member(oost, "worker", name="Vera")
    pick = random.Random(13)
    requests = []
    for number in range(160):
        team = pick.choice([oost, oost, oost2, west])
        status = pick.choice(STATUSES)
        posted = datetime(YEAR, pick.randint(1, 12), pick.randint(1, 28), 9, tzinfo=timezone.utc)
        asked = pick.randint(10, 400) * 100
        decided = posted + timedelta(hours=pick.randint(1, 60)) if status != "open" else None
        granted = pick.choice([asked, asked, asked // 2]) if status == "granted" else None
        request = SpendRequest(team_id=team.id, requester_id=worker.id, status=status, amount_cents=asked,
                               cost_category_id=pick.choice(categories), budget_year_id=budget_year.id,
                               posted_at=posted, decided_at=decided if status != "expired" else posted,
                               granted_amount_cents=granted,
                               granted_kind=(pick.choice(["gift", "loan"]) if granted else None))
        session.add(request)
        requests.append(request)
    # a draft never counts
    session.add(SpendRequest(team_id=oost.id, requester_id=worker.id, status="draft", amount_cents=100,
                             budget_year_id=budget_year.id))
    session.flush()
    for request in requests[:40]:
        session.add(Vote(request_id=request.id, member_id=voter.id, choice="approve"))
        if request.status == "granted":
            session.add(Card(team_id=request.team_id, request_id=request.id, reference=f"K-{request.id}",
                             last_four="1234", handed_over_at=request.decided_at + timedelta(hours=5)))
    session.commit()
    return {"municipality": municipality, "teams": [oost, oost2, west], "requests": requests, "voter": voter,
            "categories": categories}


def direct(requests):
    granted = [r for r in requests if r.status == "granted"]
    decided = [r for r in requests if r.status in ("granted", "rejected", "solved_alternative")]
    hours = [(r.decided_at - r.posted_at).total_seconds() / 3600 for r in decided]
    return {"requests": len(requests), "grants": len(granted),
            "granted_cents": sum(r.granted_amount_cents for r in granted),
            "median_granted_cents": round(median([r.granted_amount_cents for r in granted])) if granted else None,
            "lower": sum(r.granted_amount_cents < r.amount_cents for r in granted),
            "loans": sum(r.granted_kind == "loan" for r in granted),
            "solved": sum(r.status == "solved_alternative" for r in requests),
            "rejected": sum(r.status == "rejected" for r in requests),
            "expired": sum(r.status == "expired" for r in requests), "decided": len(decided),
            "median_decision_hours": round(median(hours), 1) if hours else None,
            "within_24h_share": sum(h <= 24 for h in hours) / len(hours) if hours else None}


def compare(figures, expected):
    for name, value in expected.items():
        assert getattr(figures, name) == value, name


@pytest.mark.parametrize("dimension", ["district", "category", "team"])
def test_each_figure_matches_a_direct_computation(session, world, dimension):
    result = report(session, world["municipality"].id, YEAR, dimension)
    compare(result.total, direct(world["requests"]))
    teams = {team.id: team for team in world["teams"]}
    for key, figures in result.cells.items():
        group = [r for r in world["requests"] if {
            "district": teams[r.team_id].district_id, "category": r.cost_category_id, "team": r.team_id}[dimension]
            == key]
        compare(figures, direct(group))
    assert sum(figures.requests for figures in result.cells.values()) == 160


def test_months_quarters_and_filters(session, world):
    requests = world["requests"]
    months = report(session, world["municipality"].id, YEAR, "period", "month")
    for key, figures in months.cells.items():
        compare(figures, direct([r for r in requests if f"{r.posted_at.year}-{r.posted_at.month:02d}" == key]))
    quarters = report(session, world["municipality"].id, YEAR, "period", "quarter")
    assert sorted(quarters.cells) == [f"{YEAR}-K{q}" for q in range(1, 5)]
    west = world["teams"][2]
    filtered = report(session, world["municipality"].id, YEAR, "category", team_id=west.id,
                      category_id=world["categories"][0])
    compare(filtered.total, direct([r for r in requests if r.team_id == west.id
                                    and r.cost_category_id == world["categories"][0]]))
    by_district = report(session, world["municipality"].id, YEAR, "team", district_id=west.district_id)
    assert set(by_district.cells) == {west.id}
    assert report(session, world["municipality"].id, YEAR - 5).total.requests == 0


def test_time_to_card_underspend_and_votes(session, world):
    result = report(session, world["municipality"].id, YEAR)
    assert result.total.median_card_hours == 5.0
    granted = {}
    for r in world["requests"]:
        if r.status == "granted":
            granted[r.team_id] = granted.get(r.team_id, 0) + r.granted_amount_cents
    lines = {line.team_id: line for line in underspend(session, world["municipality"].id, YEAR)}
    oost, _oost2, west = world["teams"]
    assert lines[oost.id].unspent_cents == 250_000 - granted[oost.id]
    assert lines[west.id].granted_cents == granted[west.id]
    assert votes_per_member(session, oost.id, YEAR, world["municipality"].id)[world["voter"].id] == sum(
        1 for r in world["requests"][:40] if r.team_id == oost.id)


def recover(counts, hidden):
    """Try to work hidden cells back out: any sum (row or column with its shown total) with one unknown."""
    known = {key: value for key, value in counts.items() if key not in hidden}
    found = {}
    progress = True
    while progress:
        progress = False
        lines = {}
        for (r, c) in counts:
            lines.setdefault(("row", r), []).append((r, c))
            lines.setdefault(("column", c), []).append((r, c))
        for (kind, key), members in lines.items():
            total = (key, TOTAL) if kind == "row" else (TOTAL, key)
            if total not in counts or len(members) < 2:
                continue
            unknown = [m for m in members if m not in known]
            if len(unknown) == 1:
                cells = [m for m in members if m != total]
                missing = unknown[0]
                if missing == total:
                    value = sum(known[m] for m in cells)
                else:
                    value = known[total] - sum(known[m] for m in cells if m != missing)
                known[missing] = found[missing] = value
                progress = True
    return found


def with_totals(cells):
    counts = dict(cells)
    for (r, c), value in cells.items():
        counts[(r, TOTAL)] = counts.get((r, TOTAL), 0) + value
        counts[(TOTAL, c)] = counts.get((TOTAL, c), 0) + value
        counts[(TOTAL, TOTAL)] = counts.get((TOTAL, TOTAL), 0) + value
    return counts


def test_a_small_cell_is_hidden_and_cannot_be_recovered_from_the_totals():
    counts = with_totals({("A", "x"): 3, ("A", "y"): 20, ("A", "z"): 9,
                          ("B", "x"): 12, ("B", "y"): 15, ("B", "z"): 7})
    hidden = suppress(counts)
    assert ("A", "x") in hidden
    assert len(hidden) >= 4  # its row and its column each need a second hidden member
    assert recover(counts, hidden) == {}
    # without the complementary rule the cell would be worked back out
    assert recover(counts, {("A", "x")}) == {("A", "x"): 3}


@pytest.mark.parametrize("seed", range(30))
def test_no_random_table_gives_a_hidden_cell_away(seed):
    pick = random.Random(seed)
    cells = {(r, c): pick.choice([0, 1, 2, 4, 5, 6, 9, 15, 30]) for r, c in itertools.product("ABCD", "xyz")}
    counts = with_totals({key: value for key, value in cells.items() if value})
    hidden = suppress(counts)
    assert {key for key, value in counts.items() if 0 < value < 5} <= hidden
    assert recover(counts, hidden) == {}


def test_a_one_way_table_with_its_total():
    counts = {("a", TOTAL): 3, ("b", TOTAL): 40, ("c", TOTAL): 8, (TOTAL, TOTAL): 51}
    hidden = suppress(counts)
    assert hidden == {("a", TOTAL), ("c", TOTAL)}
    assert recover(counts, hidden) == {}


def test_the_report_and_cross_table_suppress(session, world):
    result = report(session, world["municipality"].id, YEAR, "period", "month", team_id=world["teams"][1].id)
    small = [figures for figures in result.cells.values() if figures.requests < 5]
    assert small and all(figures.suppressed for figures in small)
    rows, columns, counts, hidden = cross_table(session, world["municipality"].id, YEAR, "team", "category")
    assert {key for key, value in counts.items() if 0 < value < 5} <= hidden
    assert recover(counts, hidden) == {}


# --- the grouped queries against the plain computation over a random year ----------------------------------

from dataclasses import asdict  # noqa: E402
from datetime import date as date_  # noqa: E402
from itertools import count  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from models.reports import figures_of, key_of, report_rows  # noqa: E402

FRESH_YEARS = count(3000)  # each example its own budget year, so no two examples share requests
ANY_STATUS = ["draft", "open", "granted", "granted", "rejected", "solved_alternative", "expired", "withdrawn",
              "cancelled"]
a_request = st.fixed_dictionaries({
    "team": st.integers(0, 2), "category": st.integers(0, 3), "status": st.sampled_from(ANY_STATUS),
    # seconds into the year and to the decision, with microseconds: the SQL durations must be exact
    "posted": st.integers(0, 364 * 86400 - 1), "micro": st.integers(0, 999_999),
    "decision": st.one_of(st.integers(0, 4 * 86400), st.sampled_from([86400, 86399, 86401])),
    "decision_micro": st.sampled_from([0, 1, 500_000, 999_999]),
    "asked": st.integers(1, 40).map(lambda n: n * 500), "granted": st.sampled_from(["same", "half", "none"]),
    "loan": st.booleans(), "card": st.one_of(st.none(), st.integers(0, 200_000)),
})


def plain(rows, dimension, period):
    """The figures per group and in total, straight from the rows."""
    groups = {}
    for row in rows:
        groups.setdefault(key_of(row, dimension, period), []).append(row)
    return {key: figures_of(group) for key, group in groups.items()}, figures_of(rows)


def without_suppression(figures):
    values = asdict(figures)
    values.pop("suppressed")
    return values


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(requests=st.lists(a_request, max_size=30))
def test_the_grouped_queries_give_the_plain_computation(session, world, requests):
    municipality = world["municipality"]
    year = next(FRESH_YEARS)
    budget_year = BudgetYear(municipality_id=municipality.id, year=year, starts_on=date_(year, 1, 1),
                             ends_on=date_(year, 12, 31))
    session.add(budget_year)
    session.flush()
    teams, worker = world["teams"], world["voter"]
    for drawn in requests:
        team = teams[drawn["team"]]
        posted = datetime(year, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=drawn["posted"],
                                                                      microseconds=drawn["micro"])
        decided = posted + timedelta(seconds=drawn["decision"], microseconds=drawn["decision_micro"])
        status = drawn["status"]
        granted = {"same": drawn["asked"], "half": drawn["asked"] // 2 or 1, "none": None}[drawn["granted"]]
        request = SpendRequest(
            team_id=team.id, requester_id=worker.id, status=status, amount_cents=drawn["asked"],
            cost_category_id=world["categories"][drawn["category"]], budget_year_id=budget_year.id,
            posted_at=None if status == "draft" else posted,
            decided_at=None if status in ("draft", "open") else decided,
            granted_amount_cents=granted if status in ("granted", "cancelled") else None,
            granted_kind=("loan" if drawn["loan"] else "gift") if status == "granted" and granted else None)
        session.add(request)
        session.flush()
        if drawn["card"] is not None and status == "granted":
            session.add(Card(team_id=team.id, request_id=request.id, reference=f"K-{request.id}", last_four="1234",
                             handed_over_at=decided + timedelta(seconds=drawn["card"], microseconds=7)))
    session.commit()
    for dimension, period in [("district", "month"), ("team", "month"), ("category", "month"),
                              ("period", "month"), ("period", "quarter")]:
        rows = report_rows(session, municipality.id, year)
        cells, total = plain(rows, dimension, period)
        for _twice in range(2):  # the second time from the durations kept per process
            result = report(session, municipality.id, year, dimension, period)
            assert {key: without_suppression(f) for key, f in result.cells.items()} == {
                key: without_suppression(f) for key, f in cells.items()}
            assert without_suppression(result.total) == without_suppression(total)
    west = teams[2]
    for filters in [{"team_id": west.id}, {"district_id": west.district_id}, {"category_id": world["categories"][1]}]:
        result = report(session, municipality.id, year, "category", **filters)
        assert without_suppression(result.total) == without_suppression(
            figures_of(report_rows(session, municipality.id, year, **filters)))
    _rows, _columns, counts, _hidden = cross_table(session, municipality.id, year, "district", "category")
    expected = {}
    for row in report_rows(session, municipality.id, year):
        for key in [(row.district_id, row.category_id), (row.district_id, TOTAL), (TOTAL, row.category_id),
                    (TOTAL, TOTAL)]:
            expected[key] = expected.get(key, 0) + 1
    assert counts == expected


def test_a_later_decision_is_seen_though_the_durations_are_kept(session, world):
    """The durations kept per process follow a new decision: the fingerprint of the decided changes."""
    municipality_id_ = world["municipality"].id
    before = report(session, municipality_id_, YEAR).total
    request = next(r for r in world["requests"] if r.status == "open")
    request.status, request.decided_at = "rejected", request.posted_at + timedelta(hours=1000)
    session.add(request)
    session.commit()
    after = report(session, municipality_id_, YEAR).total
    assert after.decided == before.decided + 1
    assert without_suppression(after) == without_suppression(figures_of(report_rows(session, municipality_id_, YEAR)))


def test_cancelled_grants_replaced_by_as_many_with_the_same_id_sum_are_seen(session, world):
    """Two grants cancelled and two others granted keep the number and the id sum of the granted: the count of
    the cancelled still tells the durations kept per process that they changed."""
    municipality, team, worker = world["municipality"], world["teams"][0], world["voter"]
    year = next(FRESH_YEARS)
    budget_year = BudgetYear(municipality_id=municipality.id, year=year, starts_on=date_(year, 1, 1),
                             ends_on=date_(year, 12, 31))
    session.add(budget_year)
    session.flush()
    posted = datetime(year, 3, 1, 9, tzinfo=timezone.utc)
    requests = []
    for status in ["granted", "open", "open", "granted"]:  # ids n, n+1, n+2, n+3: n + (n+3) = (n+1) + (n+2)
        request = SpendRequest(team_id=team.id, requester_id=worker.id, status=status, amount_cents=1000,
                               budget_year_id=budget_year.id, posted_at=posted,
                               decided_at=posted + timedelta(hours=1) if status == "granted" else None,
                               granted_amount_cents=1000 if status == "granted" else None,
                               granted_kind="gift" if status == "granted" else None)
        session.add(request)
        session.flush()
        requests.append(request)
    session.commit()
    assert report(session, municipality.id, year).total.median_decision_hours == 1.0
    for request in requests:
        if request.status == "granted":
            request.status = "cancelled"
        else:
            request.status, request.granted_amount_cents, request.granted_kind = "granted", 1000, "gift"
            request.decided_at = posted + timedelta(hours=100)
        session.add(request)
    session.commit()
    assert report(session, municipality.id, year).total.median_decision_hours == 100.0


@pytest.mark.parametrize("years, wanted, shown", [
    ([2027, 2026, 2025], 2025, 2025),  # asked and there
    ([2027, 2026, 2025], 2019, 2026),  # not there: this year's
    ([2027, 2026, 2025], None, 2026),
    ([2025, 2024], None, 2025),  # no budget year for this year: the newest
    ([], 2025, 2026),  # none at all: this year
])
def test_report_year_falls_back_to_this_year_then_the_newest(years, wanted, shown):
    assert report_year(years, wanted, 2026) == shown
