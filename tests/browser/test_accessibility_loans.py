"""axe-core finds no violations on the loan part of the request page (the requester's forms, a refusal, the
figures after a repayment, an overdue loan) and the team page's overdue loans, in Dutch and English."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from models.clock import today
from models.requests import SpendRequest
from tests.browser.test_accessibility import LANGUAGES, assert_accessible
from tests.loan_world import granted_loan, lent_out


@pytest.mark.parametrize("lang", LANGUAGES)
def test_loan_pages_have_no_axe_violations(lang, signed_in_phone, server_url, session, make_team, make_member):
    team = make_team("Team Oost")
    worker = make_member(team, "worker", name="Wim")
    voter = make_member(team, "worker", name="Vera")
    observer = make_member(team, "observer", name="Olga")
    loan = granted_loan(session, team, worker, voter, 20_000)
    lent_out(session, team, loan, make_member(team, "coordinator", name="Cora"))
    page = signed_in_phone(worker)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])

    page.goto(f"/teams/{team.id}/aanvragen/{loan.id}")
    expect(page.locator("#loan details.loan__agreement")).to_have_attribute("open", "")
    assert_accessible(page, lang, "loan part without an agreement")
    page.locator("#repaid_amount").fill("500")
    page.locator("#loan form[action$=terugbetalingen] button").click()
    expect(page.locator("#repaid_amount-error")).to_be_visible()
    assert_accessible(page, lang, "repayment refused beside its field")

    page.locator("#repayment_amount").fill("200")
    page.locator("#repayment_due_on").fill((today() + timedelta(days=30)).isoformat())
    page.locator("#loan form[action$=afspraak] button").click()
    expect(page.locator("[data-loan-agreed]")).to_be_visible()
    page.locator("#repaid_amount").fill("50")
    page.locator("#loan form[action$=terugbetalingen] button").click()
    expect(page.locator('[data-loan-figure="repaid"]')).not_to_have_text("€\u00a00,00" if lang == "nl" else "€0.00")
    assert_accessible(page, lang, "loan part with an agreement and a repayment")

    row = session.get(SpendRequest, loan.id)
    row.repayment_due_on = today() - timedelta(days=3)  # the agreed day has passed
    session.add(row)
    session.commit()
    reader = signed_in_phone(observer)
    reader.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    reader.goto(f"/teams/{team.id}/aanvragen/{loan.id}")
    expect(reader.locator("[data-loan-overdue]")).to_be_visible()
    assert_accessible(reader, lang, "an overdue loan, as an observer sees it")
    reader.goto(f"/teams/{team.id}")
    expect(reader.locator("[data-overdue-loan]")).to_have_count(1)
    assert_accessible(reader, lang, "team home with an overdue loan")
