"""A coordinator's December and January, in the browser: the banner says next year is not open, she opens it;
after New Year she cancels a grant whose card was never loaded, closes the old year, and downloads the year
statement and the accountant's XLSX journal. axe checks every page on the way, on a phone."""
import csv
import io
from datetime import datetime, timezone
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from models.cards import mark_spent
from models.requests import RequestStatus, SpendRequest
from models.teams import BudgetYear, TeamBudget
from tests.browser.test_accessibility import LANGUAGES, assert_accessible
from tests.card_world import card_on, granted_request, loaded, municipality_id


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_coordinator_opens_next_year_cancels_a_grant_and_closes_the_year(
        lang, signed_in_phone, server_url, session, clock, make_team, make_member):
    team = make_team("Team Oost", annual_budget_cents=250_000)
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    coordinator = make_member(team, "coordinator", name="Cora")
    this_year = session.exec(select(BudgetYear).where(
        BudgetYear.municipality_id == municipality_id(session, team))).one()
    spent = granted_request(session, team, worker, voter, 4_000, household="H-1")
    card = card_on(session, team, spent, coordinator)
    loaded(session, team, [card], coordinator)
    card.handed_over_at, card.state = datetime.now(timezone.utc), "handed_over"
    session.add(card)
    mark_spent(session, card, actor_id=coordinator.id)
    session.commit()
    never_loaded = granted_request(session, team, worker, voter, 6_000, household="H-2")

    # December: the banner asks for next year, and the coordinator opens it with this year's budget raised
    clock(datetime(this_year.year, 12, 15, 9, tzinfo=timezone.utc))
    page = signed_in_phone(coordinator)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    page.goto("/beheer")
    banner = page.locator(".budget-year-banner")
    expect(banner).to_contain_text(str(this_year.year + 1))
    assert_accessible(page, lang, "the overview in December")
    banner.get_by_role("link").click()
    expect(page).to_have_url(f"{server_url}/beheer/budgetjaren#openen")
    field = page.locator(f"#budget_{team.id}")
    expect(field).to_have_value({"nl": "2500,00", "en": "2500.00"}[lang])  # in the form shown (en-GB in English)
    assert_accessible(page, lang, "opening next year")
    field.fill("3000")
    page.locator("form[action='/beheer/budgetjaren'] button").click()
    expect(page.locator("h1")).to_contain_text(str(this_year.year + 1))  # the new year's own page
    assert_accessible(page, lang, "the year just opened")
    next_year = session.exec(select(BudgetYear).where(BudgetYear.year == this_year.year + 1)).one()
    assert session.exec(select(TeamBudget.annual_budget_cents).where(
        TeamBudget.budget_year_id == next_year.id)).one() == 300_000
    page.goto("/beheer")
    expect(page.locator(".budget-year-banner")).to_have_count(0)

    # January: the old year's checklist holds the grant that was never loaded; she cancels it and closes the year
    clock(datetime(this_year.year + 1, 1, 4, 9, tzinfo=timezone.utc))
    page = signed_in_phone(coordinator)  # three weeks later she signs in again
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    page.goto("/beheer/jaarafsluiting")
    assert_accessible(page, lang, "the years to close")
    page.locator(f"a[href='/beheer/jaarafsluiting/{this_year.id}']").click()
    item = page.locator(f"li[data-request='{never_loaded.id}']")
    expect(item).to_be_visible()
    expect(page.locator(f"form[action='/beheer/jaarafsluiting/{this_year.id}/afsluiten']")).to_have_count(0)
    assert_accessible(page, lang, "the checklist with a grant not loaded")
    item.locator("textarea").fill("Het huishouden kreeg bijzondere bijstand")
    item.locator(f"form[action='/beheer/jaarafsluiting/aanvragen/{never_loaded.id}/annuleren'] button").click()
    expect(page.locator(f"li[data-request='{never_loaded.id}']")).to_have_count(0)
    page.once("dialog", lambda dialog: dialog.accept())  # "close the year? this cannot be undone"
    page.locator(f"form[action='/beheer/jaarafsluiting/{this_year.id}/afsluiten'] button").click()
    statement_link = page.locator(f"a[href='/beheer/jaarafsluiting/{this_year.id}/overzicht.csv']")
    expect(statement_link).to_be_visible()
    assert_accessible(page, lang, "the closed year with its statement")
    session.expire_all()
    assert session.get(BudgetYear, this_year.id).closed_at is not None
    assert session.get(SpendRequest, never_loaded.id).status == RequestStatus.CANCELLED

    # the year statement: the team's budget, what was spent and what went back to the municipality
    with page.expect_download() as download:
        statement_link.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert any("Team Oost" in row for row in rows)
    flat = " ".join(" ".join(row) for row in rows)
    assert "2500,00" in flat.replace(".", "") and "40,00" in flat and "2460,00" in flat.replace(".", "")

    # the accountant's journal of the closed year, as XLSX: numbers are numbers, debits equal credits
    page.goto("/beheer/budgetjaren")
    with page.expect_download() as download:
        page.locator(f"a[href='/beheer/budgetjaren/{this_year.id}/journaal.xlsx']").click()
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    header, *postings = list(sheet.iter_rows(values_only=True))
    debit, credit = header.index(next(h for h in header if h and h.lower().startswith("debet"))), \
        header.index(next(h for h in header if h and h.lower().startswith("credit")))
    assert all(isinstance(row[debit] or 0, (int, float)) and isinstance(row[credit] or 0, (int, float))
               for row in postings)
    assert round(sum(row[debit] or 0 for row in postings), 2) == round(sum(row[credit] or 0 for row in postings), 2)
    assert any("niet besteed" in str(row) for row in postings)  # the close's entry is in the journal
