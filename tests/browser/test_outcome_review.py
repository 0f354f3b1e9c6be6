"""A worker answers an outcome review on a phone (issue 13 §2): the notice on the team's home, the form on the
request page, a lesson with a phone number refused beside its field, the answer sent through the outbox, and
the team's page with its regret rate and the lesson; axe finds nothing on any of them, in Dutch and English."""
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from models.outcome_reviews import ask_due_reviews, review_of
from tests.browser.test_accessibility import LANGUAGES, assert_accessible
from tests.card_world import granted_request

GRANTED_AT = datetime(datetime.now(timezone.utc).year, 1, 5, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_worker_answers_the_outcome_review(lang, clock, signed_in_phone, server_url, session, make_team,
                                             make_member):
    clock(GRANTED_AT)
    team = make_team("Team Oost")
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    granted = granted_request(session, team, worker, voter, 7_500)
    clock(None)
    ask_due_reviews(session, GRANTED_AT + timedelta(days=31))
    session.commit()
    page = signed_in_phone(worker)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    assert page.viewport_size["width"] == 412

    page.goto(f"/teams/{team.id}")
    notice = page.locator("[data-review-reminder] a[href$='#review']")
    expect(notice).to_have_count(1)
    assert_accessible(page, lang, "team home with a review waiting")
    notice.click()
    expect(page.locator("#review form")).to_be_visible()
    assert_accessible(page, lang, "the review form")

    page.locator("#review input[value=regret]").check()
    page.locator("#lesson").fill("Bel haar eerst op 06-12345678.")
    page.locator("#review form button").click()
    expect(page.locator("#lesson-error")).to_be_visible()
    assert_accessible(page, lang, "a lesson refused beside its field")
    assert review_of(session, granted.id).answered_at is None
    page.goto("/uitbak")  # the refused answer waits there, named as a review
    expect(page.locator("[data-item-title]")).to_contain_text("Terugblik" if lang == "nl" else "Review")
    page.go_back()
    expect(page.locator("#review form")).to_be_visible()

    page.locator("#lesson").fill("Eerst het wijkteam bellen, dan pas geld.")
    page.locator("#review form button").click()
    expect(page.locator("[data-review-answered]")).to_be_visible()
    assert_accessible(page, lang, "the review answered")
    session.expire_all()
    assert review_of(session, granted.id).outcome == "regret"

    page.goto(f"/teams/{team.id}/terugblik")
    expect(page.locator("[data-regret-rate]").first).to_have_text("100%")
    expect(page.locator("[data-lessons]")).to_contain_text("Eerst het wijkteam bellen")
    assert_accessible(page, lang, "the team's regret rate and lessons")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert_accessible(page, lang, "the team's regret rate and lessons, wide")
