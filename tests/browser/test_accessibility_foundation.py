"""An administrator's first steps, with real passkeys: axe finds nothing on the municipalities, districts and
teams pages (with their refusals) and the setup's changes, in Dutch and English, on a phone and at a desk (1280 px)."""
import pytest
from playwright.sync_api import expect

from models.invites import invite_administrator
from models.municipalities import add_district, rename_district
from models.teams import municipality_of_team
from tests.browser.test_accessibility import LANGUAGES, assert_accessible, translate  # noqa: F401 (a fixture)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_foundation_pages_have_no_axe_violations(lang, phone, translate, server_url, session, make_team):
    team = make_team("Team Oost")
    municipality = municipality_of_team(session, team)
    rename_district(session, add_district(session, municipality.id, "Noord"), "Noord-Oost")  # setup changes to list
    _invite, token = invite_administrator(session, None)
    session.commit()
    page, _authenticator = phone()
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])

    page.goto(f"/uitnodiging/{token}")
    page.get_by_label(translate(lang, "Je naam"), exact=True).fill("Bea")  # an administrator names no team
    page.get_by_role("button", name=translate(lang, "Passkey maken")).click()
    expect(page.get_by_role("heading", level=1, name=translate(lang, "Gemeenten"))).to_be_visible()
    assert_accessible(page, lang, "municipalities")

    page.get_by_role("button", name=translate(lang, "Gemeente aanmaken")).click()
    expect(page.locator("#municipality_name-error")).to_have_text(translate(lang, "Vul een naam in."))
    expect(page.locator("#municipality_name")).to_be_focused()
    assert_accessible(page, lang, "municipalities with a name error")

    page.locator("#municipality_name").fill("Gemeente Nieuwdam")
    page.get_by_role("button", name=translate(lang, "Gemeente aanmaken")).click()
    expect(page.get_by_role("heading", level=1, name="Gemeente Nieuwdam")).to_be_visible()
    assert_accessible(page, lang, "a new municipality")
    page.get_by_role("button", name=translate(lang, "Uitnodigingslink voor een coördinator maken")).click()
    expect(page.get_by_text(translate(lang, "Voor een nieuwe coördinator."))).to_be_visible()
    assert_accessible(page, lang, "first coordinator's invite link")

    page.goto("/beheer/gemeenten")
    page.get_by_role("button", name=translate(lang, "Uitnodigingslink voor een beheerder maken")).click()
    expect(page.get_by_text(translate(lang, "Voor een nieuwe beheerder."))).to_be_visible()
    assert_accessible(page, lang, "administrator's invite link")

    page.goto(f"/beheer/gemeenten/{municipality.id}")
    page.get_by_role("button", name=translate(lang, "Werk in deze gemeente")).click()
    expect(page.get_by_role("heading", level=1, name=translate(lang, "Teams en budgetten"))).to_be_visible()
    assert_accessible(page, lang, "overview of the chosen municipality")

    page.get_by_role("link", name=translate(lang, "Stadsdelen en teams")).click()
    expect(page.get_by_role("heading", level=1, name=translate(lang, "Stadsdelen en teams"))).to_be_visible()
    assert_accessible(page, lang, "districts and teams")
    page.get_by_role("link", name=translate(lang, "Wijzigingen in de inrichting")).click()
    expect(page.get_by_role("heading", level=1, name=translate(lang, "Wijzigingen in de inrichting"))).to_be_visible()
    expect(page.get_by_role("cell", name=translate(lang, "stadsdeel hernoemd"))).to_be_visible()
    assert_accessible(page, lang, "changes to the setup")
    page.goto("/beheer/inrichting")
    page.locator("#team_name").fill("Team West")
    page.locator("#team_district_id").select_option(str(team.district_id))
    page.locator("#team_iban").fill("NL92ABNA0417164300")
    page.get_by_role("button", name=translate(lang, "Team aanmaken")).click()
    expect(page.locator("#team_iban-error")).to_be_visible()
    expect(page.locator("#team_iban")).to_be_focused()
    assert_accessible(page, lang, "districts and teams with an IBAN error")

    page.goto(f"/beheer/inrichting/stadsdelen/{team.district_id}")
    page.once("dialog", lambda dialog: dialog.accept())  # "archive …?"
    page.get_by_role("button", name=translate(lang, "Stadsdeel archiveren")).click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page, lang, "a district that cannot be archived")

    page.goto(f"/beheer/inrichting/teams/{team.id}")
    page.locator("#iban").fill("NL91 ABNA 0417 1643 00")
    page.get_by_role("button", name=translate(lang, "Opslaan")).click()
    expect(page.locator("#iban")).to_have_value("NL91 ABNA 0417 1643 00")
    assert_accessible(page, lang, "a team")
    page.once("dialog", lambda dialog: dialog.accept())  # "archive …?"
    page.get_by_role("button", name=translate(lang, "Team archiveren")).click()
    expect(page.get_by_role("heading", level=1, name=translate(lang, "Stadsdelen en teams"))).to_be_visible()
    page.goto(f"/beheer/inrichting/teams/{team.id}")
    assert_accessible(page, lang, "an archived team")
    page.get_by_role("button", name=translate(lang, "Weer in gebruik nemen")).click()
    expect(page.get_by_role("button", name=translate(lang, "Team archiveren"))).to_be_visible()

    page.set_viewport_size({"width": 1280, "height": 800})  # foundation staff work at a desk
    for url, what in [("/beheer/gemeenten", "municipalities at 1280 px"), ("/beheer/inrichting", "setup at 1280 px"),
                      ("/beheer/inrichting/wijzigingen", "setup changes at 1280 px")]:
        page.goto(url)
        assert_accessible(page, lang, what)
