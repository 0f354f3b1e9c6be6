"""axe-core finds no violations on the pages of ask an expert (web/experts.py) and the coordinator's tips
(web/tip_admin.py): the experts page with questions, topics and a refused topic's message, the request page
with its "Vraag een expert" panel after asking, the request page as the asked expert reads it, the expert's
team home listing the question, and the municipality's tips for a coordinator; on a phone (412 px) and at a
desk (1280 px), in Dutch and English."""
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from models.experts import list_topic
from models.teams import CostCategory, Municipality
from models.tips import write_tip
from tests.browser.test_accessibility import LANGUAGES, assert_accessible_on_phone_and_desk
from tests.card_world import granted_request, municipality_id


def _as(signed_in_phone, server_url, member, lang):
    page = signed_in_phone(member)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    return page


@pytest.mark.parametrize("lang", LANGUAGES)
def test_expert_pages_have_no_axe_violations(lang, signed_in_phone, server_url, session, make_team, make_member):
    team = make_team("Team Oost met een lange naam")
    west = make_team("Team West", municipality=session.get(Municipality, municipality_id(session, team)))
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    expert = make_member(west, "worker", name="Eva van der Berg-Schuldhulpverlening")
    other = make_member(west, "worker", name="Olga")
    coordinator = make_member(team, "coordinator", name="Cora")
    request = granted_request(session, team, worker, voter, 4_500)
    request.status, request.granted_amount_cents, request.decided_at = "open", None, None  # open: still voting
    session.add(request)
    for member, topic in ((expert, "schuldhulp"), (expert, "inkomen en uitkeringen"), (other, "schuldhulp"),
                          (other, "jeugd")):
        list_topic(session, member, topic)
    category = session.exec(select(CostCategory).where(CostCategory.municipality_id == municipality_id(session, team))).first()
    write_tip(session, municipality_id=municipality_id(session, team), team_id=west.id, author_id=other.id,
              body="Bij een naheffing van de energie eerst de energiebank vragen.", category_ids=[category.id])
    session.commit()

    page = _as(signed_in_phone, server_url, voter, lang)
    page.goto(f"/teams/{team.id}/aanvragen/{request.id}")
    page.locator("#experts form").first.locator("button").click()
    expect(page.locator("#experts [data-expert-asked]")).to_have_count(2)  # Eva, under both her topics
    # Asking swaps the panel only; the page's live part learns of the question at its next poll (≤ 1 s) and is
    # swapped whole then. axe must not read the page while that swap replaces what it is reading.
    expect(page.locator("#request-live .timeline")).to_contain_text({"nl": "expert gevraagd", "en": "expert asked"}[lang])
    assert_accessible_on_phone_and_desk(page, lang, "the request page with its experts to ask")

    page = _as(signed_in_phone, server_url, expert, lang)
    page.goto(f"/teams/{team.id}/aanvragen/{request.id}")
    assert_accessible_on_phone_and_desk(page, lang, "the request page as the asked expert reads it")
    page.goto(f"/teams/{west.id}")
    expect(page.locator("#expert-questions-title")).to_be_visible()
    assert_accessible_on_phone_and_desk(page, lang, "the expert's team home with the question")
    page.goto("/experts")
    page.locator("#topic").fill("x")
    page.locator("form[action='/experts/onderwerpen'] button").click()
    expect(page.locator("#topic-error")).to_be_visible()
    assert_accessible_on_phone_and_desk(page, lang, "the experts page with a refused topic")

    page = _as(signed_in_phone, server_url, coordinator, lang)
    page.goto("/beheer/tips")
    expect(page.locator("[data-tip]")).to_have_count(1)
    assert_accessible_on_phone_and_desk(page, lang, "the municipality's tips for a coordinator")
