"""A worker photographs a receipt on the phone: shrunk in the browser, sent with progress, stored without EXIF."""
import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlmodel import select

from models.outbox import ClientOperation
from models.receipts import Receipt
from tests.browser.test_accessibility import assert_accessible
from tests.browser.test_pwa import back_online
from tests.browser.test_offline_sync import (
    OUTBOX_ITEMS, _outbox_becomes, offline_on_a_granted_request)
from tests.http.test_receipts import GPS_IFD, grant


@pytest.fixture
def app_config(app_config, tmp_path):
    """Receipts in this test's own folder."""
    return {**app_config, "RECEIPTS_PATH": str(tmp_path / "receipts")}


#: records the size of every photo the page sends (Playwright does not expose a Blob request body)
RECORD_SENT_PHOTOS = """
window.sentPhotos = [];
const originalSend = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.send = function (body) {
  const photo = body instanceof FormData && body.get("photo");
  if (photo) createImageBitmap(photo).then((b) => window.sentPhotos.push({width: b.width, height: b.height, type: photo.type}));
  return originalSend.call(this, body);
};
"""


def noisy_photo_with_gps(size=(3000, 2250)) -> bytes:
    """A large camera-like JPEG (noise does not compress, so the upload takes a moment) carrying GPS."""
    image = Image.merge("RGB", [Image.effect_noise(size, 60 + 20 * band) for band in range(3)])
    exif = Image.Exif()
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 22.0, 12.5), 3: "E", 4: (4.0, 53.0, 30.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def test_a_receipt_photographed_on_a_phone_is_shrunk_and_stored_without_exif(
        live_server, signed_in_phone, session, make_team, make_member):
    app, _origin = live_server
    team = make_team("Team Oost")
    worker = make_member(team, "worker", name="Wim")
    request = grant(session, team, worker)
    page = signed_in_phone(worker)
    page.add_init_script(RECORD_SENT_PHOTOS)
    page.goto(f"/teams/{team.id}/aanvragen/{request.id}")
    expect(page.locator("#receipts")).to_contain_text("Nog geen bonnetjes")

    cdp = page.context.new_cdp_session(page)  # a slow mobile upload, so the progress bar can be seen
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 50, "downloadThroughput": -1,
                                                  "uploadThroughput": 400 * 1024})
    # one big camera button, no bare file input and no send button: choosing the photo sends it at once
    expect(page.locator("#receipts input[type=file]:visible")).to_have_count(0)
    expect(page.locator("#receipts").get_by_role("button", name="Foto versturen")).to_have_count(0)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Foto van het bonnetje maken").click()
    chooser.value.set_files(files=[{"name": "IMG_2031.jpg", "mimeType": "image/jpeg", "buffer": noisy_photo_with_gps()}])
    expect(page.locator("[data-receipt-progress]")).to_be_visible()
    thumbnail = page.locator("img[data-receipt-thumb]")
    expect(thumbnail).to_be_visible(timeout=30_000)
    assert page.evaluate("img => img.naturalWidth", thumbnail.element_handle()) > 0
    expect(page.locator("#receipts [role=status]").first).to_contain_text("Bonnetje opgeslagen")

    # The browser shrank it: what went over the network is a JPEG of 1600 px on its longest side.
    [uploaded] = page.evaluate("window.sentPhotos")
    assert uploaded["type"] == "image/jpeg" and max(uploaded["width"], uploaded["height"]) == 1600
    session.expire_all()
    receipt = session.exec(select(Receipt)).one()
    assert max(receipt.width, receipt.height) <= 1600
    with Image.open(f"{app.config['RECEIPTS_PATH']}/{receipt.file_name}.jpg") as stored:
        assert not stored.getexif() and "exif" not in stored.info and max(stored.size) <= 1600

    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": -1})
    page.locator(f"#amount-{receipt.id}").fill("62,40")
    page.get_by_role("button", name="Bedrag opslaan").click()
    expect(page.locator("[data-receipt-totals]")).to_have_text(re.compile(r"besteed volgens de bonnetjes: €\s62,40"))
    # what is left on the card: granted − receipts
    left = session.get(type(request), request.id).granted_amount_cents - 6_240
    expect(page.locator("[data-receipt-left]")).to_have_text(
        re.compile(r"Nog over op de kaart: €\s" + f"{left // 100},{left % 100:02d}"))


def test_a_non_image_chosen_on_the_phone_is_refused_with_a_message(live_server, signed_in_phone, session, make_team,
                                                                    make_member):
    app, _origin = live_server
    team = make_team("Team Oost")
    worker = make_member(team, "worker", name="Wim")
    request = grant(session, team, worker)
    page = signed_in_phone(worker)
    page.goto(f"/teams/{team.id}/aanvragen/{request.id}")
    page.set_input_files("#photo", files=[{"name": "bonnetje.jpg", "mimeType": "image/jpeg",
                                           "buffer": b"geen foto, maar tekst " * 50}])
    expect(page.locator("#photo-error")).to_contain_text("Dit is geen foto")
    expect(page.locator("[data-receipt-camera]")).to_be_focused()  # so a screen reader reads the message out
    session.expire_all()
    assert session.exec(select(Receipt)).first() is None


OUTBOX_IDS = OUTBOX_ITEMS.replace("item => item.state", "item => item.id")


def test_a_photo_taken_offline_waits_in_the_outbox_and_is_stored_once_whenback_online(
        live_server, signed_in_phone, session, make_team, make_member):
    app, _origin = live_server
    team, page = offline_on_a_granted_request(signed_in_phone, session, make_team, make_member)
    page.set_input_files("#photo", files=[{"name": "IMG_2032.jpg", "mimeType": "image/jpeg",
                                           "buffer": noisy_photo_with_gps((2400, 1800))}])
    expect(page.locator("[data-receipt-status]")).to_have_text(re.compile("De foto wacht op je telefoon"))
    _outbox_becomes(page, ["waiting"])
    [item_id] = page.evaluate(OUTBOX_IDS)

    page.goto("/uitbak")  # still offline
    item = page.get_by_role("listitem").filter(has_text="Foto van een bonnetje")
    expect(item).to_contain_text("Wacht op verbinding")
    expect(item.get_by_role("img", name="De foto die wacht")).to_be_visible()
    assert_accessible(page, "nl", "outbox with a photo")
    session.expire_all()
    assert session.exec(select(Receipt)).first() is None

    back_online(page)
    _outbox_becomes(page, [])
    expect(page.get_by_text("Er wacht niets meer")).to_be_visible()
    session.expire_all()
    [receipt] = session.exec(select(Receipt)).all()  # exactly one
    assert max(receipt.width, receipt.height) == 1600  # shrunk on the phone
    # applied once, through the same operation table as every vote and draft
    [operation] = session.exec(select(ClientOperation)).all()
    assert (operation.client_uuid, operation.kind) == (item_id, "receipt")
    with Image.open(f"{app.config['RECEIPTS_PATH']}/{receipt.file_name}.jpg") as stored:
        assert not stored.getexif() and "exif" not in stored.info
