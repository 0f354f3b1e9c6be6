"""axe-core finds no violations on the report page (web/reports.py), with small cells shown as "< 5", its cross
table and avoided costs, on a team's own report and participation pages for its team leader, and on the
avoided-cost totals with hidden rows, on a phone (412 px) and at a desk (1280 px), in Dutch and English."""
import pytest

from tests.browser.test_accessibility import LANGUAGES, assert_accessible
from tests.http.test_avoided_cost_suppression import town  # noqa: F401 - avoided costs, some hidden
from tests.unit.test_reports import YEAR, world  # noqa: F401 - a year of requests, as a fixture

PHONE = {"width": 412, "height": 915}
DESK = {"width": 1280, "height": 800}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_report_pages_have_no_axe_violations(lang, signed_in_phone, server_url, world, make_member):  # noqa: F811
    team = world["teams"][0]
    coordinator = make_member(team, "coordinator", name="Cora")
    page = signed_in_phone(coordinator)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    for url in (f"/beheer/rapportage?jaar={YEAR}&indeling=team",
                f"/beheer/rapportage?jaar={YEAR}&indeling=period&periode=month&team={world['teams'][1].id}",
                f"/teams/{team.id}/deelname"):
        page.goto(url)
        for size in (PHONE, DESK):
            page.set_viewport_size(size)
            assert_accessible(page, lang, f"{url} at {size['width']} px")
    # the chart is an image that loads (img-src 'self'), with its text alternative
    page.goto(f"/beheer/rapportage?jaar={YEAR}")
    assert page.evaluate("document.querySelector('img.chart').naturalWidth") > 0


def _check(page, lang, url):
    page.goto(url)
    for size in (PHONE, DESK):
        page.set_viewport_size(size)
        assert_accessible(page, lang, f"{url} at {size['width']} px")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_teams_own_report_has_no_axe_violations(lang, signed_in_phone, server_url, world, make_member):  # noqa: F811
    team = world["teams"][0]
    page = signed_in_phone(make_member(team, "team_leader", name="Lea"))
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    for url in (f"/teams/{team.id}", f"/teams/{team.id}/rapportage?jaar={YEAR}",
                f"/teams/{team.id}/rapportage?jaar={YEAR}&indeling=period&periode=quarter",
                f"/teams/{team.id}/deelname"):
        _check(page, lang, url)
    page.goto(f"/teams/{team.id}/rapportage?jaar={YEAR}")
    assert page.evaluate("document.querySelector('img.chart').naturalWidth") > 0
    assert page.locator("#cross-caption").is_visible()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_hidden_avoided_costs_have_no_axe_violations(lang, signed_in_phone, server_url, town):  # noqa: F811
    page = signed_in_phone(town["coordinator"])
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    for url in (f"/beheer/rapportage?jaar={YEAR}", f"/beheer/rendement/opbrengst?jaar={town['budget_year'].id}"):
        _check(page, lang, url)
        assert page.get_by_text("< 5").first.is_visible()
