"""axe-core finds no violations on the report page (web/reports.py), with small cells shown as "< 5", and on
a team's participation page, on a phone (412 px) and at a desk (1280 px), in Dutch and English."""
import pytest

from tests.browser.test_accessibility import LANGUAGES, assert_accessible
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
