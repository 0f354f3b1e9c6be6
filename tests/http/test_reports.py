"""The report pages: who may see them, filters, the chart, and CSV and XLSX read back with "< 5" in place."""
import csv
import io

import openpyxl
import pytest

from models.reports import SUPPRESSED
from tests.unit.test_reports import YEAR, world  # noqa: F401 - the year of requests, as a fixture


@pytest.fixture
def coordinator(world, make_member):  # noqa: F811
    return make_member(world["teams"][0], "coordinator")


def test_the_coordinator_sees_the_figures_chart_and_downloads(client, world, coordinator, login_as):  # noqa: F811
    login_as(coordinator)
    page = client.get(f"/beheer/rapportage?jaar={YEAR}&indeling=team")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Team Oost" in html and "Team West" in html and 'src="/beheer/rapportage/grafiek.svg' in html
    chart = client.get(f"/beheer/rapportage/grafiek.svg?jaar={YEAR}&indeling=team")
    assert chart.mimetype == "image/svg+xml" and b"<title" in chart.data and b"Team West" in chart.data


def test_a_small_cell_shows_less_than_five_everywhere(client, world, coordinator, login_as):  # noqa: F811
    login_as(coordinator)
    small_team = world["teams"][1].id  # Team Oost 2: few requests a month
    query = f"?jaar={YEAR}&indeling=period&periode=month&team={small_team}"
    html = client.get("/beheer/rapportage" + query).get_data(as_text=True)
    assert "&lt; 5" in html
    assert b"&lt; 5" in client.get("/beheer/rapportage/grafiek.svg" + query).data
    rows = list(csv.reader(io.StringIO(client.get("/beheer/rapportage/rapportage.csv" + query)
                                       .get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:2] == ["Periode", "Aanvragen"]
    small = [row for row in rows[1:] if row[1] == SUPPRESSED]
    assert small and all(value == "—" for row in small for value in row[2:])
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/beheer/rapportage/rapportage.xlsx" + query).data))
    sheet = workbook.active
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[1] for row in values] == [row[1] if row[1] == SUPPRESSED else int(row[1]) for row in rows[1:]]
    assert any(isinstance(row[1], int) for row in values) and any(row[1] == SUPPRESSED for row in values)


def test_the_total_and_a_filter(client, world, coordinator, login_as):  # noqa: F811
    login_as(coordinator)
    rows = list(csv.reader(io.StringIO(client.get(f"/beheer/rapportage/rapportage.csv?jaar={YEAR}")
                                       .get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[-1][0] == "Totaal" and rows[-1][1] == "160"
    west = world["teams"][2]
    filtered = client.get(f"/beheer/rapportage/rapportage.csv?jaar={YEAR}&team={west.id}").get_data(as_text=True)
    expected = sum(1 for r in world["requests"] if r.team_id == west.id)
    assert filtered.strip().splitlines()[-1].split(";")[1] == str(expected)


def test_team_members_may_not_see_the_report(client, world, make_member, login_as):  # noqa: F811
    login_as(make_member(world["teams"][0], "team_leader"))
    assert client.get("/beheer/rapportage").status_code == 403
    assert client.get("/beheer/rapportage/rapportage.csv").status_code == 403


def test_participation_for_the_team_leader_only(client, world, make_member, make_team, login_as):  # noqa: F811
    team = world["teams"][0]
    login_as(make_member(team, "team_leader", name="Lea"))
    page = client.get(f"/teams/{team.id}/deelname")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Vera" in html and "approve" not in html
    login_as(make_member(team, "worker", name="Wout"))
    assert client.get(f"/teams/{team.id}/deelname").status_code == 403
    login_as(make_member(team, "coordinator"))
    assert client.get(f"/teams/{team.id}/deelname").status_code == 200
    other = make_team("Team Elders")
    login_as(make_member(other, "coordinator"))
    assert client.get(f"/teams/{team.id}/deelname").status_code == 404
    login_as(make_member(other, "team_leader"))
    assert client.get(f"/teams/{team.id}/deelname").status_code == 404
