"""axe-core finds no violations on any page, in Dutch and in English; the skip link works by keyboard.

Each test walks many pages on one phone instead of starting a phone per page: a passkey ceremony and a
fresh live server cost more than the pages themselves.
"""
from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from sqlmodel import select

from models.clock import utcnow
from models.invites import invite_recovery, invite_to_team
from models.members import Member, add_membership
from models.teams import municipality_of_team
from tests.browser.conftest import axe_violations, format_violations

LANGUAGES = ["nl", "en"]
#: `<html lang>` of each language: English is British English (web/i18n.py)
HTML_LANG = {"nl": "nl", "en": "en-GB"}


@pytest.fixture
def translate(live_server):
    """The live app's text for a Dutch msgid in `lang`, so the test clicks what a member would read."""
    app, _origin = live_server

    def in_language(lang, msgid, **variables):
        with app.test_request_context(), force_locale(lang):
            return gettext(msgid, **variables)
    return in_language


@pytest.fixture
def open_phone(phone, server_url):
    """A phone whose `lang` cookie already asks for `lang`."""
    def open_in(lang):
        page, authenticator = phone()
        page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
        return page, authenticator
    return open_in


def choose_language(page, lang):
    """Pick `lang` with the footer's language button, as a member would (Dutch is the default)."""
    if lang != "nl":
        page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])


def assert_accessible(page, lang, what):
    """The page is in `lang` and axe finds nothing on it."""
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    violations = axe_violations(page)
    assert violations == [], f"{what} ({lang}):\n{format_violations(violations)}"
    # Reflow (WCAG 1.4.10), which axe does not measure: nothing makes the page wider than the phone.
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= page.viewport_size["width"], f"{what} ({lang}) is {page_width}px wide"


#: the two widths a page is checked at: a phone and a desk
PHONE, DESK = {"width": 412, "height": 915}, {"width": 1280, "height": 800}


def assert_accessible_on_phone_and_desk(page, lang, what):
    """`assert_accessible` at the phone's width and at the desk's."""
    for size in (PHONE, DESK):
        page.set_viewport_size(size)
        assert_accessible(page, lang, f"{what} at {size['width']} px")


def _link(token):
    return f"/uitnodiging/{token}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_public_and_member_pages_have_no_axe_violations(lang, phone, translate, session, make_team, make_member):
    team = make_team("Team Oost")
    other_team = make_team("Team West", municipality=municipality_of_team(session, team))
    coordinator = make_member(team, "coordinator")
    existing = make_member(other_team, "worker", name="Rik")
    _invite, join_token = invite_to_team(session, coordinator, team, "worker")
    _invite, recovery_token = invite_recovery(session, coordinator, existing)
    expired, expired_token = invite_to_team(session, coordinator, team, "worker")
    expired.expires_at = utcnow() - timedelta(minutes=1)
    session.add(expired)
    session.commit()
    page, _authenticator = phone()

    page.goto("/inloggen")
    choose_language(page, lang)
    expect(page.get_by_role("heading", level=1, name=translate(lang, "Inloggen"))).to_be_visible()
    assert_accessible(page, lang, "sign-in page")

    page.goto("/toegankelijkheid")
    assert_accessible(page, lang, "accessibility statement")

    assert page.goto("/bestaat-niet").status == 404
    assert_accessible(page, lang, "404 page")

    page.goto(_link(recovery_token))
    expect(page.get_by_role("heading", name=translate(lang, "Welkom terug, %(name)s", name="Rik"))).to_be_visible()
    assert_accessible(page, lang, "recovery invite")

    assert page.goto(_link(expired_token)).status == 410
    assert_accessible(page, lang, "expired invite")

    page.goto(_link(join_token))
    assert_accessible(page, lang, "join invite")
    page.get_by_role("button", name=translate(lang, "Passkey maken")).click()
    expect(page.get_by_text(translate(lang, "Vul een naam in."))).to_be_visible()
    assert_accessible(page, lang, "join invite without a name")
    page.get_by_label(translate(lang, "Je naam voor het team")).fill("Fatima")
    page.get_by_role("button", name=translate(lang, "Passkey maken")).click()
    expect(page.get_by_role("heading", level=1, name="Team Oost")).to_be_visible()
    assert_accessible(page, lang, "team home, one team")

    member = session.exec(select(Member).where(Member.display_name == "Fatima")).one()
    add_membership(session, member, other_team, "income_consultant")
    session.commit()
    page.goto("/teams")
    expect(page.get_by_role("heading", level=1, name=translate(lang, "Kies een team"))).to_be_visible()
    assert_accessible(page, lang, "choose a team")
    page.get_by_role("link", name="Team West").click()
    expect(page.get_by_role("heading", level=1, name="Team West")).to_be_visible()
    page.get_by_text(translate(lang, "Menu"), exact=True).click()  # the header's small menu, with the team switch
    expect(page.get_by_role("navigation").get_by_role("link", name="Team Oost")).to_be_visible()
    assert_accessible(page, lang, "team home with the team switcher open")

    page.get_by_role("link", name=translate(lang, "Mijn passkeys")).click()
    expect(page.get_by_role("heading", level=1, name=translate(lang, "Mijn passkeys"))).to_be_visible()
    assert_accessible(page, lang, "my passkeys")
    name_field = page.get_by_label(translate(lang, "Naam"), exact=True)
    name_field.fill("")
    page.get_by_role("button", name=translate(lang, "Naam opslaan")).click()
    expect(page.get_by_role("alert").filter(has_text=translate(lang, "Geef de passkey een naam."))).to_be_visible()
    expect(name_field).to_be_focused()  # a keyboard user lands on the field that needs fixing
    assert_accessible(page, lang, "my passkeys with a rename error")
    page.get_by_role("button", name=translate(lang, "Passkey toevoegen")).click()
    expect(page.get_by_role("alert").filter(
        has_text=translate(lang, "Op dit apparaat staat al een passkey voor jou."))).to_be_visible()
    assert_accessible(page, lang, "my passkeys with a passkey error")

    assert page.goto("/beheer").status == 403
    assert_accessible(page, lang, "403 page")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_coordinator_pages_have_no_axe_violations(lang, open_phone, translate, live_server, session, make_team,
                                                  make_member):
    app, _origin = live_server
    app.config.update(SMTP_HOST="smtp.invalid", SMTP_SENDER="teambudget@example.org")  # shows the e-mail form
    team = make_team("Team Oost")
    other_team = make_team("Team West", municipality=municipality_of_team(session, team))
    coordinator = make_member(team, "coordinator", name="Cora")
    make_member(team, "worker", name="Anouk")
    make_member(other_team, "team_leader", name="Bram")
    invite_to_team(session, coordinator, team, "worker")
    _invite, token = invite_recovery(session, coordinator, coordinator)
    session.commit()
    page, _authenticator = open_phone(lang)

    page.goto(_link(token))
    page.get_by_role("button", name=translate(lang, "Passkey maken")).click()
    expect(page.get_by_role("heading", level=1, name=translate(lang, "Teams en budgetten"))).to_be_visible()
    assert_accessible(page, lang, "coordinator overview")

    page.get_by_role("link", name="Team Oost").click()
    title = translate(lang, "Leden van %(team)s", team="Team Oost")
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    assert_accessible(page, lang, "team admin")

    page.get_by_role("button", name=translate(lang, "Uitnodigingslink maken")).click()
    expect(page.get_by_text(translate(lang, "Kies een rol in het team."))).to_be_visible()
    expect(page.locator("#invite-role")).to_be_focused()
    assert_accessible(page, lang, "team admin with an invite error")
    page.get_by_role("button", name=translate(lang, "Toevoegen aan het team")).click()
    expect(page.get_by_text(translate(lang, "Kies een lid."))).to_be_visible()
    expect(page.locator("#add-member")).to_be_focused()
    assert_accessible(page, lang, "team admin with an add-member error")

    page.get_by_label(translate(lang, "Rol in het team")).first.select_option("worker")
    page.get_by_role("button", name=translate(lang, "Uitnodigingslink maken")).click()
    expect(page.get_by_role("heading", level=1, name=translate(lang, "Uitnodigingslink"))).to_be_visible()
    assert_accessible(page, lang, "invite link")
    address_field = page.get_by_label(translate(lang, "E-mailadres van het nieuwe lid"))
    address_field.fill("geen adres")
    page.get_by_role("button", name=translate(lang, "Versturen")).click()
    expect(page.get_by_text(translate(lang, "Vul een geldig e-mailadres in."))).to_be_visible()
    expect(address_field).to_be_focused()
    assert_accessible(page, lang, "invite link with an e-mail error")

    page.goto("/beheer/leden")
    expect(page.get_by_role("heading", level=1, name=translate(lang, "Alle leden"))).to_be_visible()
    assert_accessible(page, lang, "all members")
    page.get_by_role("listitem").filter(has_text="Anouk") \
        .get_by_role("button", name=translate(lang, "Herstellink maken")).click()
    expect(page.get_by_text(translate(lang, "Herstellink voor %(name)s.", name="Anouk"))).to_be_visible()
    assert_accessible(page, lang, "recovery link")

    assert page.goto("/beheer/teams/999999").status == 404
    assert_accessible(page, lang, "404 page, signed in")


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_the_content(open_phone):
    page, _authenticator = open_phone("nl")
    page.goto("/inloggen")
    skip_link = page.get_by_role("link", name="Naar de inhoud")
    expect(skip_link).not_to_be_in_viewport()

    page.keyboard.press("Tab")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()

    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    expect(skip_link).not_to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Inloggen met je passkey")).to_be_focused()
