"""Live regions on a phone: they survive failed polls, and a request granted while its page is open shows
everything its new status brings (the card, the receipts, no more withdrawing) without a reload."""
import re
import time

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from models.decisions import decide
from models.members import active_membership
from models.requests import DraftInput, SpendRequest, post_request, save_draft
from models.teams import CostCategory, Team
from models.votes import cast_vote
from tests.browser.conftest import axe_violations, format_violations
from tests.card_world import SECRET, municipality_id, with_categories

LIVE = 2_000  # ms: a change shows within two seconds on a healthy connection
LIVE_POLL = re.compile(r"/aanvragen/\d+/live(\?.*)?$")


@pytest.fixture
def open_request(session, make_team, make_member):
    """A team with quorum 2, its members, and a request of Wim that waits for votes."""
    team = make_team("Team Oost", annual_budget_cents=50_000)
    with_categories(session, team)
    team = session.get(Team, team.id)
    team.quorum = 2
    session.add(team)
    members = {name: make_member(team, "worker", name=name) for name in ("Wim", "Anna", "Chantal")}
    category_id = session.exec(select(CostCategory.id).where(
        CostCategory.municipality_id == municipality_id(session, team), CostCategory.code == "groceries")).one()
    wim = members["Wim"]
    draft = save_draft(session, team, active_membership(session, wim.id, team.id), DraftInput(
        amount="75", cost_category_id=category_id, situation="Vader met twee kinderen, de koelkast is kapot.",
        prevents="Dat het eten bederft.", household_reference="H-7"), household_secret=SECRET)
    post_request(session, draft, team, wim.id)
    session.commit()
    return team, members, draft


def _vote(session, team, spend_request, member, choice="approve"):
    """A vote from another phone, as the vote view does it: cast, decide, commit once."""
    spend_request = session.get(SpendRequest, spend_request.id)
    cast_vote(session, spend_request, active_membership(session, member.id, team.id), choice)
    decide(session, spend_request, session.get(Team, team.id), actor_id=member.id)
    session.commit()


@pytest.mark.parametrize("failure", ["server error", "network error"])
def test_live_region_retries_with_backoff_after_failed_polls_and_shows_the_change(
        signed_in_phone, open_request, session, failure):
    team, members, spend_request = open_request
    page = signed_in_phone(members["Wim"])
    polls = []  # when each poll reached the network; the 1st, 2nd and 4th fail

    def failing(route):
        polls.append(time.monotonic())
        if len(polls) not in (1, 2, 4):
            route.continue_()
        elif failure == "server error":
            route.fulfill(status=500, content_type="text/html", body="<h1>Er ging iets mis</h1>")
        else:
            route.abort("failed")

    page.route(LIVE_POLL, failing)
    page.goto(f"/teams/{team.id}/aanvragen/{spend_request.id}")
    expect(page.get_by_role("heading", name="0 stemmen")).to_be_visible()
    _vote(session, team, spend_request, members["Anna"])

    # Two failed polls, then the region asks again (after 1 s, then 2 s) and shows Anna's vote.
    expect(page.get_by_role("heading", name="1 stem")).to_be_visible(timeout=4_000 + LIVE)
    assert len(polls) >= 3
    assert polls[1] - polls[0] >= 0.75 and polls[2] - polls[1] >= 1.75, polls
    expect(page.get_by_text("Er ging iets mis")).to_have_count(0)

    # After a success the region is back at its pace: the next failure waits 1 s again, not 8.
    _vote(session, team, spend_request, members["Chantal"], choice="reject")
    expect(page.get_by_role("heading", name="2 stemmen")).to_be_visible(timeout=3_000 + LIVE)
    assert polls[4] - polls[3] < 3.5, polls


def test_a_request_granted_live_shows_its_card_and_receipts_and_no_withdraw(signed_in_phone, open_request, session):
    team, members, spend_request = open_request
    page = signed_in_phone(members["Wim"])
    page.goto(f"/teams/{team.id}/aanvragen/{spend_request.id}")
    expect(page.get_by_role("button", name="Aanvraag intrekken")).to_be_visible()
    expect(page.get_by_role("heading", name="Kaart")).to_have_count(0)
    page.get_by_label("Bericht aan het team").fill("Ik heb de offerte")  # typed while the team decides
    page.evaluate("window.sameDocument = true")  # gone if the page reloads

    _vote(session, team, spend_request, members["Anna"])
    _vote(session, team, spend_request, members["Chantal"])

    expect(page.locator("[data-request-status]")).to_contain_text("Toegekend", timeout=LIVE)
    expect(page.get_by_role("heading", name="Kaart")).to_be_visible(timeout=LIVE)
    expect(page.get_by_role("heading", name="Bonnetjes")).to_be_visible()
    expect(page.get_by_role("button", name="Aanvraag intrekken")).to_have_count(0)
    expect(page.get_by_label("Bericht aan het team")).to_have_value("Ik heb de offerte")
    assert page.evaluate("window.sameDocument") is True
    violations = axe_violations(page)
    assert not violations, format_violations(violations)
