"""axe-core finds no violations on the budget years pages (the banner, opening next year with a refusal beside
its field, a year's budgets), on a phone and at a desk (1280 px), in Dutch and English; the total follows
what is typed."""
import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from models.teams import BudgetYear, District, Municipality
from tests.browser.test_accessibility import LANGUAGES, assert_accessible

DESK = {"width": 1280, "height": 800}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_budget_years_pages_have_no_axe_violations(lang, signed_in_phone, server_url, session, clock, make_team,
                                                   make_member):
    east = make_team("Team Oost", annual_budget_cents=250_000)
    municipality_id = session.get(District, east.district_id).municipality_id
    make_team("Team West met een lange naam", municipality=session.get(Municipality, municipality_id),
              annual_budget_cents=100_000)
    year = session.exec(select(BudgetYear).where(BudgetYear.municipality_id == municipality_id)).one()
    clock(datetime(year.year, 12, 2, 9, tzinfo=timezone.utc))  # the banner shows: next year is not open
    page = signed_in_phone(make_member(east, "coordinator", name="Cora"))
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])

    page.goto("/beheer")
    expect(page.locator(".budget-year-banner")).to_be_visible()
    assert_accessible(page, lang, "the overview with the budget year banner")
    for size in (page.viewport_size, DESK):
        page.set_viewport_size(size)
        page.goto("/beheer/budgetjaren")
        assert_accessible(page, lang, f"budget years at {size['width']} px")
    page.set_viewport_size({"width": 412, "height": 915})

    field = page.locator(f"#budget_{east.id}")
    field.fill("3000")
    expect(page.locator("#budget-total")).to_contain_text(re.compile(r"4[.,]000[.,]00"))  # 3000 + 1000, as typed
    field.fill("veel")
    page.locator("#openen button").click()
    expect(page.locator(f"#budget_{east.id}-error")).to_be_visible()
    expect(page.locator(f"#budget_{east.id}")).to_be_focused()
    assert_accessible(page, lang, "opening a year refused beside a budget")

    page.locator(f"#budget_{east.id}").fill("3000")
    page.locator("#openen button").click()
    expect(page.locator(".budget-year-banner")).to_have_count(0)
    for size in (page.viewport_size, DESK):
        page.set_viewport_size(size)
        assert_accessible(page, lang, f"a year's budgets at {size['width']} px")

    year = session.get(BudgetYear, year.id)
    year.closed_at = datetime(year.year + 1, 1, 5, tzinfo=timezone.utc)
    session.add(year)
    session.commit()
    page.goto(f"/beheer/budgetjaren/{year.id}")
    assert_accessible(page, lang, "a closed year's budgets")
