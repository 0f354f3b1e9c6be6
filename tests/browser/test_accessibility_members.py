"""axe-core finds no violations on the member list (searched, paged, with a deactivated member), on the team page
(composition warnings, the search for a member to add swapped in by htmx, a refused move beside its member) and
on the team home's composition warning, on a phone and at a desk (1280 px), in Dutch and English."""
import pytest
from playwright.sync_api import expect

from models.members import create_member
from models.teams import District, Municipality
from tests.browser.test_accessibility import LANGUAGES, assert_accessible

DESK = {"width": 1280, "height": 800}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_member_pages_have_no_axe_violations(lang, signed_in_phone, server_url, session, make_team, make_member):
    east = make_team("Team Oost")
    municipality_id = session.get(District, east.district_id).municipality_id
    make_team("Team West", municipality=session.get(Municipality, municipality_id))
    make_member(east, "worker", name="Anouk")
    make_member(east, "team_leader", name="Tessa")
    for number in range(1, 61):
        create_member(session, municipality_id=municipality_id, display_name=f"Lid {number:02d}")
    session.commit()
    page = signed_in_phone(make_member(east, "coordinator", name="Cora"))
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])

    for size in (page.viewport_size, DESK):
        page.set_viewport_size(size)
        page.goto("/beheer/leden")
        expect(page.locator("a[rel=next]")).to_be_visible()
        assert_accessible(page, lang, f"member list, page 1, at {size['width']} px")
        page.locator("a[rel=next]").click()
        expect(page.locator("a[rel=prev]")).to_be_visible()
        assert_accessible(page, lang, f"member list, page 2, at {size['width']} px")
        page.goto(f"/beheer/teams/{east.id}")
        expect(page.locator("#composition-title")).to_be_visible()
        assert_accessible(page, lang, f"team page with composition warnings at {size['width']} px")
    page.set_viewport_size({"width": 412, "height": 915})

    page.goto("/beheer/leden?zoek=zzz")
    assert_accessible(page, lang, "member list, nobody found")
    page.goto("/beheer/leden?zoek=Anouk")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("form[action$=deactiveren] button").click()
    expect(page.locator(".badge")).to_be_visible()
    assert_accessible(page, lang, "member list with a deactivated member")

    page.goto(f"/beheer/teams/{east.id}")
    page.locator("#add-search").fill("Lid 5")
    expect(page.locator("#add-member option")).to_have_count(11)  # "choose a member" and Lid 50 … Lid 59
    assert_accessible(page, lang, "team page with members found to add")
    page.locator("form[action$=leden] button").click()
    expect(page.locator("#add-member-error")).to_be_visible()
    assert_accessible(page, lang, "team page with a refused add")

    tessa_row = page.get_by_role("listitem").filter(has=page.locator("summary")).first
    tessa_row.locator("summary").click()
    tessa_row.locator("form[action$=verhuizen] button").click()
    expect(page.locator("details.move-member[open] .field__error")).to_be_visible()
    assert_accessible(page, lang, "team page with a refused move")

    worker_page = signed_in_phone(make_member(east, "worker", name="Wim"))
    worker_page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    worker_page.goto(f"/teams/{east.id}")
    expect(worker_page.get_by_role("note")).to_be_visible()
    assert_accessible(worker_page, lang, "team home telling its members about the composition")
