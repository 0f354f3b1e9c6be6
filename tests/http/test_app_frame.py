"""The frame around every page: the bottom navigation's places per role, the settings page, the sign-in page."""
import re

import pytest


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
