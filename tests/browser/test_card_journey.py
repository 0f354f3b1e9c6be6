"""The card journey on phones: a granted request gets a card, the coordinator's batch loads it, the client
confirms on their own phone without an account, the worker sees it live and photographs the receipt,
which is stored without its EXIF (GPS) data.
"""
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlmodel import select

from models.cards import register_card
from models.receipts import Receipt
from tests.browser.test_receipts import noisy_photo_with_gps
from tests.browser.test_accessibility import assert_accessible
from tests.card_world import SEPA_CONFIG, granted_request

LIVE = 2_000  # ms


@pytest.fixture
def app_config(app_config, tmp_path):
    """The live server knows the foundation's and the card bank's accounts, and keeps receipts in this test's folder."""
    return {**app_config, **SEPA_CONFIG, "RECEIPTS_PATH": str(tmp_path / "receipts")}


@pytest.fixture
def journey(session, make_team, make_member):
    team = make_team("Team Oost", annual_budget_cents=50_000)
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    coordinator = make_member(team, "coordinator", name="Cora")
    request = granted_request(session, team, worker, voter, 6_000)
    register_card(session, team, "KB-0001", "1234", actor_id=coordinator.id)
    session.commit()
    return {"team": team, "worker": worker, "coordinator": coordinator, "request": request}


def worker_takes_a_card(page, journey):
    """The worker opens the granted request and takes a card from the stock."""
    page.goto(f"/teams/{journey['team'].id}/aanvragen/{journey['request'].id}")
    page.get_by_label("Kaart uit de voorraad").select_option(label="eindigend op 1234")
    page.get_by_role("button", name="Kaart pakken").click()
    expect(page.locator("[data-card-state]")).to_have_attribute("data-card-state", "reserved")


def coordinator_loads_it(page, journey):
    """The coordinator makes a batch with the needed top-up, downloads the SEPA file, marks it executed."""
    page.goto("/beheer/kaarten")
    expect(page.get_by_label("Bij te storten op de teamrekening, in euro")).to_have_value("60,00")
    assert_accessible(page, "nl", "cards and batches")
    page.get_by_role("button", name="Opdracht maken").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Opdracht")
    with page.expect_download() as download:
        page.get_by_role("button", name="SEPA-bestand downloaden").click()
    assert f"TB-{journey['team'].id}-{journey['request'].id}" in Path(download.value.path()).read_text(encoding="utf-8")
    page.reload()
    page.once("dialog", lambda dialog: dialog.accept())  # "did the bank really execute it?"
    page.get_by_role("button", name="De bank heeft de opdracht uitgevoerd").click()
    expect(page.locator("[data-batch-state]")).to_contain_text("Uitgevoerd")
    assert_accessible(page, "nl", "executed batch")


def worker_opens_the_handover(page):
    """The card shows up loaded (live); the worker opens the handover link and QR code; returns the link."""
    expect(page.locator("[data-card-state]")).to_have_attribute("data-card-state", "loaded", timeout=LIVE)
    page.get_by_role("button", name="Kaart overhandigen").click()
    expect(page.locator(".qr-code")).to_be_visible()
    return page.locator("#handover-link").input_value()


def client_confirms(client_page, link):
    """The client opens the link on their own phone and confirms with one tap."""
    client_page.goto(link)
    expect(client_page.get_by_role("heading", level=2)).to_contain_text("1234")
    expect(client_page.locator("main")).to_contain_text("€\xa060,00")
    expect(client_page.locator("main")).to_contain_text("Geld opnemen kan niet")
    expect(client_page.locator("body")).not_to_contain_text("Team Oost")
    expect(client_page.locator("[data-client-contact]")).to_contain_text("Wim")  # whom to ask: first name only
    assert_accessible(client_page, "nl", "client handover page")
    client_page.get_by_role("button", name="Ik heb de kaart gekregen").click()
    expect(client_page.get_by_role("heading", level=1)).to_have_text("Dank je wel")
    client_page.goto(link)
    expect(client_page.locator("main")).to_contain_text("Je hebt al bevestigd dat je de kaart hebt gekregen")


def worker_photographs_the_receipt(page, session, receipts_path):
    """Later, after the purchase, the worker opens the request again and photographs the receipt: the camera's
    photo (with GPS in its EXIF) goes up from the phone; the stored copy has no EXIF at all."""
    page.reload()
    page.set_input_files("#photo", files=[{"name": "IMG_2031.jpg", "mimeType": "image/jpeg",
                                           "buffer": noisy_photo_with_gps((1200, 900))}])
    expect(page.locator("img[data-receipt-thumb]")).to_be_visible(timeout=30_000)
    session.expire_all()
    receipt = session.exec(select(Receipt)).one()
    with Image.open(f"{receipts_path}/{receipt.file_name}.jpg") as stored:
        assert not stored.getexif() and "exif" not in stored.info


def test_card_journey_from_grant_to_receipt(live_server, session, signed_in_phone, browser, pixel_7, journey):
    worker = signed_in_phone(journey["worker"])
    worker_takes_a_card(worker, journey)
    coordinator_loads_it(signed_in_phone(journey["coordinator"]), journey)
    link = worker_opens_the_handover(worker)
    assert_accessible(worker, "nl", "handover page with QR code")

    client_context = browser.new_context(**pixel_7, locale="nl-NL")  # the client's own Dutch phone: no account
    try:
        client_confirms(client_context.new_page(), link)
    finally:
        client_context.close()
    expect(worker.locator("[data-card-confirmed]")).to_contain_text("De cliënt heeft de kaart ontvangen", timeout=LIVE)
    worker_photographs_the_receipt(worker, session, live_server[0].config["RECEIPTS_PATH"])
