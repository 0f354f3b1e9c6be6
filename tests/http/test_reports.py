"""The report pages: who may see them, filters, the chart, and CSV and XLSX read back with "< 5" in place."""
import csv
import io

from datetime import datetime, timezone

import openpyxl
import pytest
from sqlmodel import select

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
    granted = sum(r.granted_amount_cents for r in world["requests"] if r.status == "granted")
    assert rows[-1][3] == f"{granted // 100}.{granted % 100:02d}"  # euros with two decimals, never a float's
    west = world["teams"][2]
    filtered = client.get(f"/beheer/rapportage/rapportage.csv?jaar={YEAR}&team={west.id}").get_data(as_text=True)
    expected = sum(1 for r in world["requests"] if r.team_id == west.id)
    assert filtered.strip().splitlines()[-1].split(";")[1] == str(expected)


def test_the_category_filter_names_categories_in_english(client, world, coordinator, login_as):  # noqa: F811
    login_as(coordinator)
    client.set_cookie("lang", "en")  # English is formatted as en_GB: the names follow the language, not the locale
    html = client.get(f"/beheer/rapportage?jaar={YEAR}").get_data(as_text=True)
    select = html.split('id="kostensoort"', 1)[1].split("</select>", 1)[0]
    assert "Groceries and living money" in select and "Boodschappen" not in select


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


# --- the cross table (district × cost category) on the page and in the downloads ---

def _csv_rows(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))


@pytest.fixture
def small_district(session, world, make_team):  # noqa: F811
    """A third district with a team of three requests, each in another cost category: small cells."""
    from models.requests import SpendRequest
    from models.teams import BudgetYear, District
    district = District(municipality_id=world["municipality"].id, name="Stadsdeel Klein")
    session.add(district)
    session.flush()
    team = make_team("Team Klein", municipality=world["municipality"])
    team.district_id = district.id
    session.add(team)
    budget_year = session.exec(select(BudgetYear).where(BudgetYear.municipality_id == world["municipality"].id,
                                                        BudgetYear.year == YEAR)).one()
    for category in world["categories"][:3]:
        session.add(SpendRequest(team_id=team.id, requester_id=world["voter"].id, status="rejected",
                                 amount_cents=1_000, cost_category_id=category, budget_year_id=budget_year.id,
                                 posted_at=datetime(YEAR, 3, 3, 9, tzinfo=timezone.utc),
                                 decided_at=datetime(YEAR, 3, 3, 12, tzinfo=timezone.utc)))
    session.commit()
    return team


def test_the_cross_table_is_on_the_page_and_in_both_downloads(client, world, small_district, coordinator,  # noqa: F811
                                                              login_as):
    login_as(coordinator)
    html = client.get(f"/beheer/rapportage?jaar={YEAR}").get_data(as_text=True)
    assert "Aanvragen per stadsdeel en soort uitgave" in html and 'id="cross-caption"' in html
    assert '<th scope="row">Stadsdeel Klein</th>' in html
    rows = _csv_rows(client.get(f"/beheer/rapportage/rapportage.csv?jaar={YEAR}&tabel=kruistabel"))
    header, body = rows[0], rows[1:]
    assert header[0] == "Stadsdeel / Soort uitgave" and header[-1] == "Totaal" and body[-1][0] == "Totaal"
    # every shown count is the direct count; the small district's cells (1 each) are "< 5"
    from models.teams import CostCategory, District
    from web.database import db
    with client.application.app_context():
        category_names = {c.name_nl: c.id for c in db().exec(select(CostCategory))}
        district_names = {d.name: d.id for d in db().exec(select(District))}
    district_of = {team.id: team.district_id for team in world["teams"]}
    counts = {}
    for r in world["requests"]:
        key = (district_of[r.team_id], r.cost_category_id)
        counts[key] = counts.get(key, 0) + 1
    for category in world["categories"][:3]:
        counts[(small_district.district_id, category)] = 1
    hidden = 0
    for line in body[:-1]:
        district = district_names[line[0]]
        for name, value in zip(header[1:-1], line[1:-1]):
            expected = counts.get((district, category_names[name]), 0)
            if value == SUPPRESSED:
                hidden += 1
            else:
                assert int(value) == expected and not 0 < expected < 5
        if line[-1] != SUPPRESSED:
            assert int(line[-1]) == sum(count for (d, _c), count in counts.items() if d == district)
    klein = next(line for line in body if line[0] == "Stadsdeel Klein")
    assert klein[1:].count(SUPPRESSED) >= 3 and body[-1][-1] == str(163)
    # complementary: no row or column of the table has exactly one "< 5" (else the totals would tell it)
    for line in body:
        assert line[1:].count(SUPPRESSED) != 1, line
    for column in range(1, len(header)):
        assert [line[column] for line in body].count(SUPPRESSED) != 1, header[column]
    assert hidden >= 4
    # the XLSX has the same table on its own sheet (numbers as numbers), next to the figures and avoided costs
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(f"/beheer/rapportage/rapportage.xlsx?jaar={YEAR}").data))
    assert workbook.sheetnames == ["Rapportage", "Kruistabel", "Voorkomen kosten"]
    sheet = [list(row) for row in workbook["Kruistabel"].iter_rows(values_only=True)]
    assert sheet[0] == header
    assert [[cell if isinstance(cell, str) else str(cell) for cell in row] for row in sheet[1:]] == body
    assert any(isinstance(cell, int) for row in sheet[1:] for cell in row)


# --- a team's own report, for its team leader ---

def test_the_team_leader_sees_the_report_of_their_own_team_only(client, world, make_member, login_as):  # noqa: F811
    oost, oost2, west = world["teams"]
    login_as(make_member(oost, "team_leader", name="Lea"))
    page = client.get(f"/teams/{oost.id}/rapportage?jaar={YEAR}&indeling=period")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Rapportage van Team Oost" in html and f'src="/teams/{oost.id}/rapportage/grafiek.svg' in html
    assert "Team West" not in html and "Team Oost 2" not in html and 'name="team"' not in html
    assert "Aanvragen per periode en soort uitgave" in html and "Voorkomen kosten (verwacht)" in html
    own = sum(1 for r in world["requests"] if r.team_id == oost.id)
    # another team in the URL is ignored: always this team's figures
    for query in (f"?jaar={YEAR}", f"?jaar={YEAR}&team={west.id}", f"?jaar={YEAR}&stadsdeel={west.district_id}"):
        rows = _csv_rows(client.get(f"/teams/{oost.id}/rapportage/rapportage.csv" + query))
        assert rows[-1][:2] == ["Totaal", str(own)], query
    cross = _csv_rows(client.get(f"/teams/{oost.id}/rapportage/rapportage.csv?jaar={YEAR}&tabel=kruistabel"))
    assert cross[0][0] == "Periode / Soort uitgave" and cross[-1][-1] == str(own)
    chart = client.get(f"/teams/{oost.id}/rapportage/grafiek.svg?jaar={YEAR}&team={west.id}")
    assert chart.mimetype == "image/svg+xml" and b"Team West" not in chart.data
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(f"/teams/{oost.id}/rapportage/rapportage.xlsx").data))
    assert workbook.sheetnames == ["Rapportage", "Kruistabel", "Voorkomen kosten"]
    # small cells stay suppressed for the team leader too: a month of one category is small
    assert SUPPRESSED in [cell for row in cross[1:] for cell in row[1:]]
    # not another team's report, nor the municipality's
    for url in (f"/teams/{west.id}/rapportage", f"/teams/{west.id}/rapportage/rapportage.csv",
                f"/teams/{oost2.id}/rapportage/grafiek.svg", f"/teams/{oost2.id}/rapportage/rapportage.xlsx"):
        assert client.get(url).status_code == 404, url
    for url in ("/beheer/rapportage", "/beheer/rapportage/rapportage.xlsx", "/beheer/rapportage/grafiek.svg"):
        assert client.get(url).status_code == 403, url


def test_the_team_page_links_the_team_leader_to_the_report(client, world, make_member, login_as):  # noqa: F811
    oost = world["teams"][0]
    login_as(make_member(oost, "team_leader", name="Lea"))
    html = client.get(f"/teams/{oost.id}").get_data(as_text=True)
    assert f'href="/teams/{oost.id}/rapportage"' in html and f'href="/teams/{oost.id}/deelname"' in html
    login_as(make_member(oost, "worker", name="Wout"))
    html = client.get(f"/teams/{oost.id}").get_data(as_text=True)
    assert f'/teams/{oost.id}/rapportage' not in html
    assert client.get(f"/teams/{oost.id}/rapportage").status_code == 403


def test_a_coordinator_reads_a_teams_report_of_their_municipality(client, world, coordinator, login_as):  # noqa: F811
    west = world["teams"][2]
    login_as(coordinator)
    rows = _csv_rows(client.get(f"/teams/{west.id}/rapportage/rapportage.csv?jaar={YEAR}"))
    assert rows[-1][1] == str(sum(1 for r in world["requests"] if r.team_id == west.id))


def test_a_name_like_a_formula_is_text_in_both_downloads(client, session, world, coordinator, login_as):  # noqa: F811
    """CSV: a leading apostrophe (models.exports.safe_text); XLSX: a text cell as it is, no apostrophe."""
    west = world["teams"][2]
    west.name = "=1+1"
    session.add(west)
    session.commit()
    login_as(coordinator)
    query = f"?jaar={YEAR}&indeling=team"
    assert "'=1+1" in [row[0] for row in _csv_rows(client.get("/beheer/rapportage/rapportage.csv" + query))]
    cells = [row[0] for row in openpyxl.load_workbook(io.BytesIO(
        client.get("/beheer/rapportage/rapportage.xlsx" + query).data)).worksheets[0].iter_rows(min_row=2)]
    assert [(cell.value, cell.data_type) for cell in cells if "1+1" in str(cell.value)] == [("=1+1", "s")]


def test_the_report_page_reads_the_budget_year_once(app, client, world, coordinator, login_as):  # noqa: F811
    """Its tables (figures, cross table, underspend, avoided costs) share the year the filters read."""
    from sqlalchemy import event
    seen = []

    def remember(_connection, _cursor, statement, *_args):
        if "FROM budgetyear" in statement:
            seen.append(statement)
    login_as(coordinator)
    engine = app.extensions["engine"]
    event.listen(engine, "before_cursor_execute", remember)
    try:
        page = client.get(f"/beheer/rapportage?jaar={YEAR}")
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert page.status_code == 200 and "Team Oost" in page.text
    assert len(seen) == 1, seen
