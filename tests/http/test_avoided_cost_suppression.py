"""Expected avoided costs follow the reports' small-number rule on the totals page (/beheer/rendement/opbrengst)
and in the reports: a team or district of fewer than 5 granted requests shows "< 5" and no amounts, and an
attacker who knows which team sits in which district cannot work a hidden row back out of what is shown."""
import csv
import io
import re
from datetime import datetime, timezone
from fractions import Fraction

import openpyxl
import pytest
from sqlmodel import select

from models.avoided_costs import RequestScenario, ScenarioInput, add_scenario
from models.reports import SUPPRESSED
from models.requests import SpendRequest
from models.teams import BudgetYear, District, Municipality, Team
from tests.card_world import municipality_id

YEAR = datetime.now(timezone.utc).year
#: district → team → granted requests with a scenario: Klein-1 (3) is small; a district of one small team too
LAYOUT = {"Stadsdeel Noord": {"Noord-1": 3, "Noord-2": 6, "Noord-3": 8},
          "Stadsdeel Zuid": {"Zuid-1": 7, "Zuid-2": 9},
          "Stadsdeel Klein": {"Klein-1": 2}}


@pytest.fixture
def town(session, make_team, make_member):
    """The LAYOUT's teams with granted requests, each preventing an eviction (€ 10.000) with its own likelihood."""
    first = make_team("Eerste")
    mid = municipality_id(session, first)
    municipality = session.get(Municipality, mid)
    budget_year = session.exec(select(BudgetYear).where(BudgetYear.municipality_id == mid, BudgetYear.year == YEAR)).one()
    eviction = add_scenario(session, mid, ScenarioInput("Huisuitzetting", "Eviction", "10000", "Rapport 2025"))
    worker = make_member(first, "worker")
    truth = {}  # team or district name → (requests, granted cents, avoided cents)
    number = 0
    for district_name, teams in LAYOUT.items():
        district = District(municipality_id=municipality.id, name=district_name)
        session.add(district)
        session.flush()
        for team_name, count in teams.items():
            team = Team(district_id=district.id, name=team_name)
            session.add(team)
            session.flush()
            for _ in range(count):
                number += 1
                granted, likelihood = 1_000 + 100 * number, 5 + number
                request = SpendRequest(team_id=team.id, requester_id=worker.id, status="granted", amount_cents=granted,
                                       granted_amount_cents=granted, granted_kind="gift",
                                       budget_year_id=budget_year.id,
                                       posted_at=datetime(YEAR, 2, 1, 9, tzinfo=timezone.utc),
                                       decided_at=datetime(YEAR, 2, 1, 12, tzinfo=timezone.utc))
                session.add(request)
                session.flush()
                session.add(RequestScenario(request_id=request.id, scenario_id=eviction.id,
                                            likelihood_percent=likelihood))
                for name in (team_name, district_name, "Totaal"):
                    requests, cents, avoided = truth.get(name, (0, 0, 0))
                    truth[name] = (requests + 1, cents + granted, avoided + 1_000_000 * likelihood // 100)
    session.commit()
    return {"budget_year": budget_year, "truth": truth, "coordinator": make_member(first, "coordinator")}


def equations(layout) -> list[list[str]]:
    """What anyone knows: each district is the sum of its teams; the total is the sum of the districts, and of
    the teams. (names in each sum, the total last)"""
    sums = [list(teams) + [district] for district, teams in layout.items()]
    sums.append(list(layout) + ["Totaal"])
    sums.append([team for teams in layout.values() for team in teams] + ["Totaal"])
    return sums


def determined(unknowns: list[str], layout=LAYOUT) -> set[str]:
    """The hidden rows that the sums pin down, whatever the numbers: x is determined exactly when its unit
    vector lies in the row space of the sums' coefficients over the unknowns (Gaussian elimination)."""
    def rank(rows):
        rows = [list(row) for row in rows]
        found = 0
        for column in range(len(unknowns)):
            pivot = next((i for i in range(found, len(rows)) if rows[i][column] != 0), None)
            if pivot is None:
                continue
            rows[found], rows[pivot] = rows[pivot], rows[found]
            for i in range(len(rows)):
                if i != found and rows[i][column] != 0:
                    factor = rows[i][column] / rows[found][column]
                    rows[i] = [a - factor * b for a, b in zip(rows[i], rows[found])]
            found += 1
        return found
    matrix = []
    for names in equations(layout):
        # cells − total = 0; only the unknowns' coefficients matter for what can be solved
        row = [Fraction(0)] * len(unknowns)
        for name in names:
            if name in unknowns:
                row[unknowns.index(name)] += -1 if name == names[-1] else 1
        matrix.append(row)
    base = rank(matrix)
    return {name for i, name in enumerate(unknowns)
            if rank(matrix + [[Fraction(int(j == i)) for j in range(len(unknowns))]]) == base}


def _page_rows(html):
    """The totals page's table rows: name → the three cells' text."""
    rows = {}
    for name, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', html, re.S):
        rows[name] = [cell.replace("&lt;", "<") for cell in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)]
    return rows


def test_a_small_team_is_hidden_and_cannot_be_worked_back_out(client, town, login_as):
    login_as(town["coordinator"])
    truth = town["truth"]
    html = client.get(f"/beheer/rendement/opbrengst?jaar={town['budget_year'].id}").text
    rows = _page_rows(html)
    hidden = sorted(name for name, cells in rows.items() if cells[0] == SUPPRESSED)
    # the small ones are hidden, with their amounts
    assert {"Noord-1", "Klein-1", "Stadsdeel Klein"} <= set(hidden)
    for name in hidden:
        assert rows[name][1:] == ["—", "—"], name
    # what is shown is true
    for name, cells in rows.items():
        if cells[0] != SUPPRESSED:
            assert int(cells[0]) == truth[name][0], name
    # the attack: every sum with the hidden rows as unknowns; none of them is pinned down
    assert determined(hidden) == set()
    # without the second hidden rows, Noord-1 would be worked out of its district
    assert "Noord-1" in determined(["Noord-1", "Klein-1", "Stadsdeel Klein"])


def test_the_report_shows_and_downloads_the_same_suppressed_totals(client, town, login_as):
    login_as(town["coordinator"])
    truth = town["truth"]
    page = client.get(f"/beheer/rapportage?jaar={YEAR}").text
    assert "Voorkomen kosten per stadsdeel" in page and "Hoe rekenen we dit?" in page
    assert '<th scope="col" class="table__number">Geen soort uitgave</th>' in page  # the cross table: no category
    on_page = _page_rows(page[page.index('id="avoided-title"'):])
    response = client.get(f"/beheer/rapportage/rapportage.csv?jaar={YEAR}&tabel=rendement")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:2] == ["Soort", "Naam"]
    downloaded = {row[1] or row[0]: row[2:] for row in rows[1:]}
    assert set(downloaded) == set(truth)
    hidden = {name for name, values in downloaded.items() if values[0] == SUPPRESSED}
    assert {"Noord-1", "Klein-1", "Stadsdeel Klein"} <= hidden and determined(sorted(hidden)) == set()
    for name, values in downloaded.items():
        if name in hidden:
            assert values[1:] == ["—", "—"] and on_page[name][1:] == ["—", "—"]
        else:
            requests, granted, avoided = truth[name]
            assert values == [str(requests), f"{granted / 100:.2f}", f"{avoided / 100:.2f}"], name
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"/beheer/rapportage/rapportage.xlsx?jaar={YEAR}").data))
    in_sheet = {row[1] or row[0]: list(row[2:]) for row in sheet["Voorkomen kosten"].iter_rows(min_row=2, values_only=True)}
    assert {name for name, values in in_sheet.items() if values[0] == SUPPRESSED} == hidden
    assert all(isinstance(values[2], (int, float)) for name, values in in_sheet.items() if name not in hidden)
