"""The next step follows what others do while the worker's request page is open (issue 14): the client
confirms on their own phone and the worker's step moves on to the receipt without a reload; the step is not
swapped while the worker has focus in it, and is once focus leaves."""
from datetime import timedelta

from playwright.sync_api import expect

from models.cards import Card
from models.clock import today
from models.handover import create_handover
from models.loans import agree_repayment, record_repayment
from models.receipts import state_no_receipt
from models.requests import SpendRequest
from tests.browser.test_accessibility import assert_accessible
from tests.card_world import card_on, granted_request, loaded
from tests.loan_world import granted_loan, lent_out

LIVE = 2_000  # ms: the live region polls every second


def _first_screen(page, selector):
    """Where `selector` starts, in px from the top of the page."""
    return page.locator(selector).first.bounding_box()["y"] + page.evaluate("scrollY")


def test_the_step_moves_on_without_a_reload_when_the_client_confirms(signed_in_phone, browser, pixel_7, server_url,
                                                                      session, make_team, make_member):
    team = make_team("Team Oost")
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    coordinator = make_member(team, "coordinator", name="Cora")
    request = granted_request(session, team, worker, voter, 6_000)
    card = card_on(session, team, request, coordinator)
    loaded(session, team, [card], coordinator)

    page = signed_in_phone(worker)
    page.goto(f"/teams/{team.id}/aanvragen/{request.id}")
    step = page.locator("#next-step")
    expect(step).to_have_attribute("data-next-step", "hand_over")
    page.evaluate("window.stillTheSamePage = true")  # gone if the page were loaded again
    back = page.get_by_role("link", name="Terug naar Team Oost")
    back.focus()

    token = create_handover(session, session.get(Card, card.id), session.get(SpendRequest, request.id),
                            member_id=worker.id)
    session.commit()
    client_context = browser.new_context(**pixel_7, locale="nl-NL")  # the client's own phone: no account
    try:
        client = client_context.new_page()
        client.goto(f"{server_url}/kaart/{token}")
        client.get_by_role("button", name="Ik heb de kaart gekregen").click()
        expect(client.get_by_role("heading", level=1)).to_have_text("Dank je wel")
    finally:
        client_context.close()

    expect(step).to_have_attribute("data-next-step", "photograph_receipt", timeout=LIVE)
    expect(step).to_contain_text("De cliënt heeft de kaart. Maak een foto van het bonnetje.")
    assert page.evaluate("window.stillTheSamePage") is True
    expect(page.locator("#next-step-slot")).to_have_attribute("aria-live", "polite")  # read out, politely
    expect(back).to_be_focused()  # the step changed without taking the worker's focus
    # still first under the title, before the card and the votes
    assert _first_screen(page, "h1") < _first_screen(page, "#next-step") < _first_screen(page, "#request-card") \
        < _first_screen(page, "#status-title")
    expect(page.locator("#next-step")).to_have_count(1)
    assert_accessible(page, "nl", "request page after the client confirmed, live")


def test_the_step_waits_while_the_worker_is_in_it(signed_in_phone, session, make_team, make_member):
    team = make_team("Team Oost")
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    coordinator = make_member(team, "coordinator", name="Cora")
    loan = granted_loan(session, team, worker, voter, 20_000)
    lent_out(session, team, loan, coordinator)
    state_no_receipt(session, loan, worker.id, "Gekocht op de markt, zonder bon.")
    agree_repayment(session, loan, 20_000, today() + timedelta(days=60), worker.id)
    session.commit()  # as its own view does: a repayment reads the request again under the money lock
    record_repayment(session, loan, 5_000, today(), coordinator.id)
    session.commit()

    page = signed_in_phone(worker)
    page.goto(f"/teams/{team.id}/aanvragen/{loan.id}")
    step = page.locator("#next-step")
    expect(step).to_have_attribute("data-next-step", "loan_repayments")
    link = step.get_by_role("link", name="Naar de terugbetaling")
    link.focus()
    live = page.locator("#request-live")
    version = live.get_attribute("data-live-etag")

    record_repayment(session, session.get(SpendRequest, loan.id), 15_000, today(), coordinator.id)  # the rest
    session.commit()
    expect(live).not_to_have_attribute("data-live-etag", version, timeout=LIVE)  # the poll brought the change
    page.wait_for_timeout(LIVE)  # and more polls went by: the step in use stays as it was, focus on its link
    expect(step).to_have_attribute("data-next-step", "loan_repayments")
    expect(link).to_be_focused()

    page.get_by_role("link", name="Terug naar Team Oost").focus()  # the worker leaves the step
    expect(page.locator("#next-step")).to_have_attribute("data-next-step", "done", timeout=LIVE)
