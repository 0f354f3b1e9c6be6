"""The frame around every page: the bottom navigation's places per role (none to a new request in an archived
team, an asked expert's to their own team), the member's teams read once per page, the settings page, the sign-in
page."""
import re

import pytest
from sqlalchemy import event

from models.experts import ask_expert, list_topic
from models.members import active_membership
from models.municipalities import archive_team
from models.teams import Municipality
from tests.card_world import granted_request, municipality_id


def _bottom_nav(html):
    return re.search(r'<nav class="bottom-nav".*?</nav>', html, re.S).group(0)


@pytest.mark.parametrize("role, offers_new_request", [
    ("worker", True), ("income_consultant", True), ("team_leader", False), ("observer", False)])
def test_the_bottom_navigation_offers_a_new_request_only_to_who_may_make_one(
        client, make_team, make_member, login_as, role, offers_new_request):
    team = make_team("Team Oost")
    login_as(make_member(team, role))
    for url in (f"/teams/{team.id}", "/instellingen"):  # a team page, and a page outside the team
        nav = _bottom_nav(client.get(url).text)
        assert f'href="/teams/{team.id}"' in nav and 'href="/uitbak"' in nav and 'href="/instellingen"' in nav
        assert (f'href="/teams/{team.id}/aanvragen/nieuw"' in nav) == offers_new_request, url


def test_an_archived_team_offers_no_new_request_in_the_bottom_navigation(
        client, session, make_team, make_member, login_as):
    team = make_team("Team Oost")
    worker, coordinator = make_member(team, "worker"), make_member(team, "coordinator")
    archive_team(session, team, actor_id=coordinator.id)
    session.commit()
    login_as(worker)
    for url in (f"/teams/{team.id}", "/instellingen"):
        nav = _bottom_nav(client.get(url).text)
        assert f'href="/teams/{team.id}"' in nav and "/aanvragen/nieuw" not in nav, url


def test_an_asked_experts_bottom_navigation_leads_to_their_own_team_not_the_one_they_read(
        client, session, make_team, make_member, login_as):
    oost = make_team("Team Oost")
    west = make_team("Team West", municipality=session.get(Municipality, municipality_id(session, oost)))
    worker, voter = make_member(oost, "worker", name="Wim"), make_member(oost, "worker", name="Vera")
    expert = make_member(west, "worker", name="Eva Expert")
    list_topic(session, expert, "schuldhulp")
    request = granted_request(session, oost, worker, voter, 4_500)
    ask_expert(session, request, active_membership(session, voter.id, oost.id), expert.id, "schuldhulp")
    session.commit()
    login_as(expert)
    page = client.get(f"/teams/{oost.id}/aanvragen/{request.id}")
    assert page.status_code == 200  # the expert reads the request of a team they are not in
    nav = _bottom_nav(page.text)
    assert f'href="/teams/{west.id}"' in nav and f'href="/teams/{oost.id}' not in nav
    assert f'href="/teams/{west.id}/aanvragen/nieuw"' in nav


def test_the_frame_reads_the_members_teams_once_per_page(app, client, make_team, make_member, login_as):
    """The header's menu and the bottom navigation share one read; a team page reuses its access check's."""
    team = make_team("Team Oost")
    login_as(make_member(team, "worker"))
    engine, reads = app.extensions["engine"], []

    def teams_read(_conn, _cursor, statement, *_args):
        if "FROM team JOIN membership" in " ".join(statement.split()):
            reads.append(statement)

    for url in (f"/teams/{team.id}", "/instellingen"):
        reads.clear()
        event.listen(engine, "before_cursor_execute", teams_read)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", teams_read)
        assert len(reads) == 1, url


def test_notifications_have_their_own_place_in_the_settings_not_under_my_passkeys(
        client, make_team, make_member, login_as):
    team = make_team("Team Oost")
    login_as(make_member(team, "worker"))
    settings = client.get("/instellingen").text
    assert 'id="push-toggle"' in settings and 'href="/mijn-passkeys"' in settings
    passkeys = client.get("/mijn-passkeys").text
    assert 'id="push-toggle"' not in passkeys and 'href="/instellingen#push-toggle"' in passkeys
    menu = re.search(r'<details class="site-menu">.*?</details>', client.get(f"/teams/{team.id}").text, re.S).group(0)
    assert 'href="/instellingen#push-toggle"' in menu and 'href="/mijn-passkeys"' in menu


def test_the_sign_in_page_is_one_button_with_the_autofill_field_behind_a_disclosure(client):
    page = client.get("/inloggen").text
    shown = re.findall(r'<input\b(?![^>]*type="hidden")', page)  # the language switch's form has hidden ones
    assert len(shown) == len(re.findall(r'<details class="passkey-box__autofill">.*?<input\b', page, re.S)) == 1
    assert 'autocomplete="username webauthn"' in page and "Inloggen met je passkey" in page
    assert client.get("/instellingen").status_code == 302  # signed out: to the sign-in page
