"""The installable, offline-first app on a phone: the worker, kept pages, sign-out, updates.

A page is kept only once the worker controls the phone, so each test waits for that and then loads the
page again before going offline.
"""
import re

import pytest
from playwright.sync_api import Error as PlaywrightError, expect

from models.teams import Team
from tests.browser.test_accessibility import LANGUAGES, assert_accessible

KEPT_PAGES = """async () => {
    const pages = [];
    for (const name of await caches.keys())
        if (name.startsWith('pages-'))
            for (const request of await (await caches.open(name)).keys()) pages.push(new URL(request.url).pathname);
    return pages;
}"""
EVERYTHING_CACHED = """async () => {
    const texts = [];
    for (const name of await caches.keys())
        for (const response of await (await caches.open(name)).matchAll()) texts.push(await response.text());
    return {names: await caches.keys(), texts: texts};
}"""


def controlled(page):
    """Wait until the service worker controls the page."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")  # a function: CSP forbids eval


def kept_online(page, url):
    """Load `url` under the worker and wait until it has kept a copy of it."""
    controlled(page)
    page.goto(url)
    page.wait_for_function(f"url => ({KEPT_PAGES})().then(pages => pages.includes(url))", arg=url)


def offline_on(page, url):
    """Open `url`, let the worker keep it, then go offline and reload it: the phone without signal."""
    page.goto(url)
    kept_online(page, url)
    page.context.set_offline(True)
    page.reload()


KEPT_OR_OFFLINE_PAGE = "() => !!document.querySelector('[data-offline-banner]:not([hidden]), [data-offline-page]')"


def back_online(page):
    """The phone finds its network again. A kept copy or the offline page then reloads itself (app.js): wait
    for that real page, so nothing the test does next (a goto, a click) races the app's own navigation."""
    def network_returns():
        page.context.set_offline(False)
        try:
            page.evaluate("() => dispatchEvent(new Event('online'))")
        except PlaywrightError:  # Chromium fired it itself, and app.js is already reloading
            pass
    if not page.evaluate(KEPT_OR_OFFLINE_PAGE):
        network_returns()
        return
    with page.expect_navigation():
        network_returns()
    assert not page.evaluate(KEPT_OR_OFFLINE_PAGE)


@pytest.fixture
def team_member(session, make_team, make_member):
    """A worker of Team Oost."""
    team = make_team("Team Oost")
    return team, make_member(team, "worker", name="Noor")


@pytest.fixture
def profile_phone(playwright, browser_type_launch_args, pixel_7, server_url, tmp_path):
    """A Pixel 7 with a profile on disk: Chromium offers no installing in the incognito-like contexts of `phone`."""
    device = {key: value for key, value in pixel_7.items() if key != "default_browser_type"}
    context = playwright.chromium.launch_persistent_context(
        tmp_path / "profile", **{**browser_type_launch_args, **device, "base_url": server_url})
    yield context.pages[0] if context.pages else context.new_page()
    context.close()


def test_worker_controls_the_page_and_the_app_is_installable(profile_phone):
    page = profile_phone
    page.goto("/inloggen")
    controlled(page)
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")
    cdp = page.context.new_cdp_session(page)
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [] and manifest["url"].endswith("/manifest.webmanifest")
    page.evaluate("() => window.dispatchEvent(new Event('beforeinstallprompt'))")  # what Chromium fires when it may
    expect(page.get_by_role("button", name="Installeer de app")).to_be_visible()


def test_online_the_server_answers_not_the_kept_copy(signed_in_phone, team_member, session):
    team, member = team_member
    page = signed_in_phone(member)
    page.goto(f"/teams/{team.id}")
    kept_online(page, f"/teams/{team.id}")
    session.get(Team, team.id).name = "Team Oost-Noord"
    session.commit()
    response = page.reload()
    assert response.from_service_worker
    expect(page.get_by_role("heading", level=1)).to_have_text("Team Oost-Noord")
    expect(page.locator("[data-offline-banner]")).to_be_hidden()
    expect(page.get_by_role("button", name="Installeer de app")).to_be_hidden()  # never offered unasked


@pytest.mark.parametrize("lang", LANGUAGES)
def test_offline_reload_shows_the_kept_page_with_a_banner(lang, signed_in_phone, server_url, team_member):
    team, member = team_member
    page = signed_in_phone(member)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    page.goto(f"/teams/{team.id}")
    kept_online(page, f"/teams/{team.id}")

    page.context.set_offline(True)
    response = page.reload()
    assert response.from_service_worker
    expect(page.get_by_role("heading", level=1)).to_have_text("Team Oost")
    banner = page.get_by_role("status").filter(has_text="Offline")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text({"nl": "Offline — stand van", "en": "Offline — as of"}[lang])
    expect(banner.locator("time")).to_have_text(page.evaluate(
        "new Date().toLocaleTimeString('nl-NL', {hour: '2-digit', minute: '2-digit'})"))
    expect(banner.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z$"))
    balance_mark = page.locator("#team-balance [data-offline-mark]")  # the balance itself says it is a kept one
    expect(balance_mark).to_be_visible()
    expect(balance_mark).to_contain_text({"nl": "Bewaarde stand van", "en": "Saved balance as of"}[lang])
    expect(balance_mark.locator("time")).to_have_text(banner.locator("time").inner_text())
    assert_accessible(page, lang, "team home kept offline, with the banner")

    page.goto("/toegankelijkheid")  # never opened on this phone
    expect(page.get_by_role("heading", level=1)).to_have_text({"nl": "Geen verbinding", "en": "No connection"}[lang])
    expect(page.get_by_text("Noor")).to_have_count(0)
    assert_accessible(page, lang, "offline page")

    back_online(page)  # the real page replaces the offline page by itself
    expect(page.locator("[data-offline-page]")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Uitloggen|Log out"))).to_be_visible()


def test_sign_out_leaves_nothing_of_the_team_on_the_phone(signed_in_phone, team_member):
    team, member = team_member
    page = signed_in_phone(member)
    page.goto(f"/teams/{team.id}")
    kept_online(page, f"/teams/{team.id}")

    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_role("heading", level=1, name="Inloggen")).to_be_visible()
    controlled(page)
    cached = page.evaluate(EVERYTHING_CACHED)
    assert not [name for name in cached["names"] if name.startswith("pages-")]
    assert not [text for text in cached["texts"] if "Team Oost" in text or "Noor" in text]

    page.context.set_offline(True)
    page.goto(f"/teams/{team.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Geen verbinding")
    expect(page.get_by_text("Team Oost")).to_have_count(0)
    expect(page.get_by_text("Noor")).to_have_count(0)


def test_a_new_version_waits_until_the_member_taps(phone, live_server):
    app, _origin = live_server
    page, _authenticator = phone()
    page.goto("/inloggen")
    controlled(page)
    page.reload()
    old_css = page.locator('link[rel="stylesheet"]').get_attribute("href")

    app.extensions["static_versions"]["css/app.css"] = "0badf00d"  # as if app.css changed on the server
    page.evaluate("navigator.serviceWorker.getRegistration().then(registration => registration.update())")
    button = page.get_by_role("button", name="Nieuwe versie beschikbaar — tik om te laden")
    expect(button).to_be_visible()
    # Until the tap, the old worker keeps serving this page.
    assert page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.waiting !== null)")
    assert page.locator('link[rel="stylesheet"]').get_attribute("href") == old_css

    with page.expect_navigation():
        button.click()
    controlled(page)
    expect(page.locator('link[rel="stylesheet"]')).to_have_attribute("href", "/static/css/app.css?v=0badf00d")
    assert page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.waiting === null)")
    assert page.evaluate("caches.match('/static/css/app.css?v=0badf00d').then(r => r !== undefined)")
    expect(button).to_be_hidden()


def test_the_installed_app_starts_offline_on_the_members_team(signed_in_phone, team_member):
    team, member = team_member
    page = signed_in_phone(member)
    page.goto(f"/teams/{team.id}")
    kept_online(page, f"/teams/{team.id}")
    page.goto("/")  # the manifest's start_url sends the member on to the team
    page.wait_for_function(f"() => ({KEPT_PAGES})().then(pages => pages.includes('/'))")

    page.context.set_offline(True)
    page.goto("/")
    expect(page).to_have_url(re.compile(f"/teams/{team.id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Team Oost")
    expect(page.get_by_role("status").filter(has_text="Offline — stand van")).to_be_visible()
