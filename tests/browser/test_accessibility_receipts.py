"""axe-core finds no violations on the receipt parts of the request page, the missing-receipts page and the
reminder on the team's home page, in Dutch and English."""
import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.test_accessibility import LANGUAGES, assert_accessible
from tests.http.test_receipts import grant


@pytest.fixture
def app_config(app_config, tmp_path):
    """Receipts in this test's own folder."""
    return {**app_config, "RECEIPTS_PATH": str(tmp_path / "receipts")}


def small_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(out, "JPEG")
    return out.getvalue()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_receipt_pages_have_no_axe_violations(lang, signed_in_phone, server_url, session, make_team, make_member):
    team = make_team("Team Oost")
    worker = make_member(team, "worker", name="Wim")
    colleague = make_member(team, "worker", name="Carla")
    fresh = grant(session, team, worker)
    grant(session, team, worker, days_ago=9, amount_cents=4_200)
    page = signed_in_phone(worker)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])

    page.goto(f"/teams/{team.id}")
    expect(page.locator("[data-receipt-reminder] .notice")).to_be_visible()
    assert_accessible(page, lang, "team home with a missing-receipt reminder")
    page.locator("[data-receipt-reminder] a").click()
    expect(page.locator("[data-missing-request]")).to_have_count(1)
    assert_accessible(page, lang, "missing receipts")

    page.goto(f"/teams/{team.id}/aanvragen/{fresh.id}")
    page.locator("details.receipt-waiver summary").click()
    assert_accessible(page, lang, "request page without receipts, no-receipt form open")
    page.set_input_files("#photo", files=[{"name": "x.jpg", "mimeType": "image/jpeg", "buffer": b"geen foto " * 30}])
    expect(page.locator("#photo-error")).to_be_visible()
    assert_accessible(page, lang, "receipt refused")
    page.set_input_files("#photo", files=[{"name": "bon.jpg", "mimeType": "image/jpeg", "buffer": small_jpeg()}])
    expect(page.locator("img[data-receipt-thumb]")).to_be_visible()
    page.locator("[data-receipt-thumb]").first.evaluate("img => img.decode()")
    assert_accessible(page, lang, "request page with a receipt")

    other = signed_in_phone(colleague)
    other.context.add_cookies([{"name": "lang", "value": lang, "url": server_url}])
    other.goto(f"/teams/{team.id}/aanvragen/{fresh.id}")
    expect(other.locator("img[data-receipt-thumb]")).to_be_visible()
    assert_accessible(other, lang, "a colleague's view of the receipts")
