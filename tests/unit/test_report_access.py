"""Who may see a team's own figures (models.reports.may_see_team_figures), the cross table as shown
(cross_table_shown), and the avoided-cost totals' suppression (models.avoided_costs.suppress_avoided) on
random municipalities: every small row hidden, and no hidden row pinned down by the sums that are shown."""
import random
from types import SimpleNamespace

import pytest

from models.avoided_costs import AvoidedRow, suppress_avoided
from models.reports import SUPPRESSED, TOTAL, cross_table_shown, may_see_team_figures, suppress
from tests.http.test_avoided_cost_suppression import determined

TEAM = SimpleNamespace(id=7)


def _member(coordinator=False, administrator=False, municipality_id=1):
    return SimpleNamespace(id=3, is_coordinator=coordinator, is_administrator=administrator,
                           municipality_id=None if administrator else municipality_id)


def _membership(role, team_id=7, ended=False):
    return SimpleNamespace(member_id=3, team_id=team_id, role=role, is_active=not ended)


@pytest.mark.parametrize("member, membership, chosen, allowed", [
    (_member(), _membership("team_leader"), None, True),
    (_member(), _membership("team_leader", ended=True), None, False),
    (_member(), _membership("team_leader", team_id=8), None, False),  # leader of another team
    (_member(), _membership("worker"), None, False),
    (_member(), _membership("observer"), None, False),
    (_member(), _membership("income_consultant"), None, False),
    (_member(), None, None, False),
    (_member(coordinator=True), None, None, True),
    (_member(coordinator=True, municipality_id=2), None, None, False),  # another municipality's coordinator
    (_member(administrator=True), None, 1, True),
    (_member(administrator=True), None, 2, False),
    (_member(administrator=True), None, None, False),
])
def test_may_see_team_figures(member, membership, chosen, allowed):
    assert may_see_team_figures(member, membership, TEAM, 1, chosen) is allowed


def test_the_cross_table_as_shown_hides_what_suppress_hides():
    counts = {("a", "x"): 3, ("a", "y"): 20, ("b", "x"): 12, ("b", "y"): 15}
    for (r, c), value in list(counts.items()):
        for key in ((r, TOTAL), (TOTAL, c), (TOTAL, TOTAL)):
            counts[key] = counts.get(key, 0) + value
    hidden = suppress(counts)
    columns, lines = cross_table_shown({"a": "Zuid", "b": "Noord"}, {"x": "Huur", "y": "Energie"}, counts, hidden)
    assert columns == ["Energie", "Huur", TOTAL]
    assert [label for label, _values in lines] == ["Noord", "Zuid", TOTAL]
    assert lines[1][1][1] == SUPPRESSED  # Zuid × Huur: 3
    for label, values in lines:
        assert values.count(SUPPRESSED) != 1, label  # never a lone hidden cell in a row
    for column in range(3):
        assert [values[column] for _label, values in lines].count(SUPPRESSED) != 1


@pytest.mark.parametrize("seed", range(40))
def test_no_random_municipality_gives_a_hidden_avoided_cost_away(seed):
    pick = random.Random(seed)
    layout, teams, district_of, districts = {}, {}, {}, {}
    total = AvoidedRow(name="Totaal")
    for d in range(pick.randint(1, 4)):
        name = f"D{d}"
        districts[d] = AvoidedRow(name=name)
        layout[name] = {}
        for t in range(pick.randint(1, 4)):
            team_id = d * 10 + t
            count = pick.choice([1, 2, 3, 4, 5, 6, 8, 12, 30])
            teams[team_id] = AvoidedRow(name=f"T{team_id}", requests=count)
            district_of[team_id] = d
            districts[d].requests += count
            total.requests += count
            layout[name][f"T{team_id}"] = count
    suppress_avoided(teams, districts, district_of, total)
    rows = list(teams.values()) + list(districts.values()) + [total]
    assert all(row.suppressed for row in rows if row.requests < 5)
    hidden = [row.name for row in rows if row.suppressed]
    assert determined(hidden, layout) == set()
