"""axe-core finds no violations on the policy signals page (with a rising need, a provision again and again, notes
shown and notes hidden as "< 5"), on the list of requests behind a signal, and on a decided request's page with
its "would have been solved if …" note and form, on a phone (412 px) and at a desk (1280 px), in Dutch and English."""
import pytest

from models.policy_signals import add_solved_if_note
from tests.browser.test_accessibility import LANGUAGES, assert_accessible_on_phone_and_desk
from tests.unit.test_policy_signals import LATER, YEAR, _requests, world  # noqa: F401 - districts and teams


@pytest.mark.parametrize("lang", LANGUAGES)
def test_policy_signal_pages_have_no_axe_violations(lang, signed_in_phone, server_url, session, world,  # noqa: F811
                                                    make_member):
    _requests(session, world, "oost", 6)
    _requests(session, world, "west", 5)
    _requests(session, world, "oost", 5, status="solved_alternative", alternative="Voedselbank", category="housing")
    _requests(session, world, "west", 3, status="solved_alternative", alternative="Voedselbank", category="housing")
    clothing = _requests(session, world, "oost", 5, status="granted", category="clothing")
    energy = _requests(session, world, "west", 2, status="rejected", category="energy")
    for spend_request in clothing:
        add_solved_if_note(session, spend_request, world["workers"]["oost"], "Als de kledingbank ook op zaterdag open was.")
    add_solved_if_note(session, energy[0], world["workers"]["west"], "Als de energietoeslag nog bestond.")
    session.commit()
    coordinator = make_member(world["teams"]["oost"], "coordinator", name="Cora")
    page = signed_in_phone(coordinator)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    groceries = world["cat"]["groceries"].id
    for url in (f"/beheer/signalen?jaar={YEAR}&kwartaal={LATER}",
                f"/beheer/signalen/aanvragen?soort=stijging&jaar={YEAR}&kwartaal={LATER}&kostensoort={groceries}",
                f"/beheer/signalen/aanvragen?soort=voorziening&jaar={YEAR}&voorziening=Voedselbank"):
        page.goto(url)
        assert page.locator("h1").count() == 1
        assert_accessible_on_phone_and_desk(page, lang, url)
    assert page.locator("[data-request-line]").count() == 8
    worker = signed_in_phone(world["workers"]["west"])
    worker.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    worker.goto(f"/teams/{world['teams']['west'].id}/aanvragen/{energy[0].id}")
    assert worker.locator("#solved-if textarea").count() == 1
    assert_accessible_on_phone_and_desk(worker, lang, "request page with a note")
