"""Receipts over HTTP: clean storage, every refused upload storing nothing, access, amounts, missing list."""
import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlmodel import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from models.audit import AuditEvent
from models.cards import Card, CardState
from models.clock import utcnow
from models.receipts import Receipt, ReceiptWaiver
from models.requests import RequestStatus, SpendRequest

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(size=(640, 480), orientation=None) -> bytes:
    """A JPEG carrying a camera model, GPS coordinates and (optionally) an EXIF orientation."""
    image = Image.new("RGB", size, "white")
    image.paste((200, 30, 30), (0, 0, size[0] // 2, size[1] // 3))  # something to see
    exif = Image.Exif()
    exif[0x0110] = "Telefoon X"
    if orientation:
        exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 22.0, 12.5), 3: "E", 4: (4.0, 53.0, 30.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the test image really carries GPS
    return data


def png_bomb(side=20_000) -> bytes:
    """A small PNG declaring side×side pixels (a compressed zero-filled body): a decompression bomb."""
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    row = b"\x00" + b"\x00" * (side // 8)  # 1-bit greyscale rows, filter byte 0
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def heic_photo() -> bytes:
    """A small HEIC, as an iPhone sends."""
    from pillow_heif import register_heif_opener
    register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (320, 240), "blue").save(out, "HEIF")
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
def app_config(app_config, tmp_path):
    """Receipts in this test's own folder, with a 2 MB limit so "too large" is cheap to test."""
    return {**app_config, "RECEIPTS_PATH": str(tmp_path / "receipts"), "RECEIPT_MAX_BYTES": 2 * 1024 * 1024}


@pytest.fixture
def granted(session, make_team, make_member):
    """A team with a worker whose request of € 75,00 was granted now, a colleague, and another team's worker."""
    team = make_team("Team Oost")
    worker, colleague = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Carla")
    other = make_member(make_team("Team West"), "worker", name="Olaf")
    request = grant(session, team, worker)
    return {"team": team, "worker": worker, "colleague": colleague, "other": other, "request": request}


def grant(session, team, worker, days_ago=0, amount_cents=7_500, handed_over=True):
    """A granted request whose card the client received `days_ago` days ago (time moved by backdating)."""
    handed = utcnow() - timedelta(days=days_ago)
    request = SpendRequest(team_id=team.id, requester_id=worker.id, status=RequestStatus.GRANTED,
                           amount_cents=amount_cents, granted_amount_cents=amount_cents, granted_kind="gift",
                           situation="s", prevents="p", posted_at=handed - timedelta(days=2),
                           decided_at=handed - timedelta(days=1))
    session.add(request)
    session.flush()
    session.add(Card(team_id=team.id, reference=f"REF-{request.id}", last_four="1234", request_id=request.id,
                     state=CardState.HANDED_OVER if handed_over else CardState.LOADED, loaded_amount_cents=amount_cents,
                     loaded_at=handed - timedelta(hours=3), handed_over_at=handed if handed_over else None))
    session.commit()
    return request


def upload_url(world):
    return f"/teams/{world['team'].id}/aanvragen/{world['request'].id}/bonnetjes"


def upload(client, world, data, filename="bonnetje.jpg", partial=False, operation=None, **fields):
    """POST a photo as a plain form, or (`partial`) as receipts.js sends it; `operation`: its UUID in the header."""
    headers = {"HX-Request": "true", "HX-Request-Type": "partial"} if partial else {}
    if operation:
        headers["Teambudget-Operation"] = operation
    # encoded in memory: the test client spools a large body to a temporary file that nothing closes
    # when the app refuses the body unread
    boundary, body = encode_multipart(MultiDict([("photo", FileStorage(io.BytesIO(data), filename)), *fields.items()]))
    return client.post(upload_url(world), data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")


def stored_files(app):
    from pathlib import Path
    folder = Path(app.config["RECEIPTS_PATH"])
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def plain(response):
    """The response's text with non-breaking spaces (in amounts) as plain spaces."""
    return response.text.replace("\xa0", " ")


def receipts(session):
    session.expire_all()
    return session.exec(select(Receipt)).all()


def test_upload_stores_a_jpeg_without_exif_or_gps_and_a_thumbnail(app, client, session, login_as, granted):
    login_as(granted["worker"])
    response = upload(client, granted, jpeg_with_gps())
    assert response.status_code == 303 and response.headers["Location"].endswith("#receipts")
    [receipt] = receipts(session)
    assert stored_files(app) == sorted([f"{receipt.file_name}.jpg", f"{receipt.file_name}.thumb.jpg"])
    for suffix in ("foto", "klein"):
        served = client.get(f"{upload_url(granted)}/{receipt.id}/{suffix}")
        image = Image.open(io.BytesIO(served.data))
        assert image.format == "JPEG" and not image.getexif() and "exif" not in image.info
        assert not image.getexif().get_ifd(GPS_IFD) and b"Telefoon" not in served.data
    assert max(Image.open(io.BytesIO(client.get(f"{upload_url(granted)}/{receipt.id}/klein").data)).size) <= 320
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "receipt_added")).one().request_id == receipt.request_id


def test_orientation_is_applied_before_the_metadata_is_dropped(app, client, session, login_as, granted):
    login_as(granted["worker"])
    upload(client, granted, jpeg_with_gps(size=(200, 100), orientation=6))  # "rotate 90°": stored upright
    [receipt] = receipts(session)
    assert (receipt.width, receipt.height) == (100, 200)


def test_a_large_photo_without_javascript_is_shrunk_by_the_server(app, client, session, login_as, granted):
    login_as(granted["worker"])
    upload(client, granted, jpeg_with_gps(size=(3000, 2000)))
    [receipt] = receipts(session)
    assert (receipt.width, receipt.height) == (1600, 1067)


def test_heic_from_an_iphone_is_stored_as_jpeg(app, client, session, login_as, granted):
    login_as(granted["worker"])
    assert upload(client, granted, heic_photo(), filename="IMG_0001.HEIC").status_code == 303
    [receipt] = receipts(session)
    data = client.get(f"{upload_url(granted)}/{receipt.id}/foto").data
    assert data[:3] == b"\xff\xd8\xff" and Image.open(io.BytesIO(data)).size == (320, 240)


REFUSALS = [
    ("too large", lambda: b"\xff\xd8\xff" + b"\x00" * (3 * 1024 * 1024), "bonnetje.jpg", 413, "te groot"),
    ("text renamed .jpg", lambda: b"Dit is geen foto maar tekst.\n" * 20, "bonnetje.jpg", 422, "geen foto"),
    ("svg", lambda: SVG, "bonnetje.svg", 422, "geen foto"),
    ("png decompression bomb", png_bomb, "bom.png", 422, "te veel pixels"),
    ("truncated jpeg", lambda: jpeg_with_gps()[:3000], "half.jpg", 422, "beschadigd of niet compleet"),
]


@pytest.mark.parametrize("partial", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("what, make, filename, status, message", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_uploads_say_why_and_store_nothing(app, client, session, login_as, granted, what, make, filename,
                                                   status, message, partial):
    login_as(granted["worker"])
    response = upload(client, granted, make(), filename=filename, partial=partial)
    assert response.status_code == status
    assert message in response.text
    assert ('id="receipts"' in response.text) and ('id="photo-error"' in response.text)
    if partial:
        assert "<html" not in response.text  # only the receipts section, to swap in
    assert receipts(session) == [] and stored_files(app) == []
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "receipt_added")).first() is None


def png_declaring(width, height) -> bytes:
    """A tiny PNG whose header declares width × height 1-bit pixels (its data ends after a few rows)."""
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = zlib.compress((b"\x00" + b"\x00" * ((width + 7) // 8)) * 4)
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def small_image(fmt, size=(64, 64)) -> bytes:
    out = io.BytesIO()
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener
        register_heif_opener()
    Image.new("RGB", size, "white").save(out, fmt)
    return out.getvalue()


def declaring(fmt, width, height) -> bytes:
    """A small JPEG, WebP or HEIC whose header is rewritten to declare width × height pixels."""
    import struct
    data = small_image(fmt)
    if fmt == "JPEG":  # the baseline frame header: FFC0, length, precision, height, width
        at = data.index(b"\xff\xc0") + 5
        return data[:at] + struct.pack(">HH", height, width) + data[at + 4:]
    if fmt == "WEBP":  # the lossy frame header: tag, start code, then width and height (14 bits each)
        at = data.index(b"VP8 ") + 14
        return data[:at] + struct.pack("<HH", width, height) + data[at + 4:]
    at = data.index(b"ispe") + 8  # HEIC: the image's spatial extent property
    return data[:at] + struct.pack(">II", width, height) + data[at + 8:]


@pytest.fixture
def decoded(monkeypatch):
    """The sizes Pillow (and pillow-heif) decoded during the test; a decode of more than 40 Mpx is stopped."""
    from PIL import ImageFile, WebPImagePlugin
    from pillow_heif import as_plugin
    sizes = []

    def spy(real):
        def load(self):
            sizes.append(self.size)
            if self.size[0] * self.size[1] > 40_000_000:  # the test machine would need GBs
                raise AssertionError(f"decoding {self.size} pixels")
            return real(self)
        return load
    for cls in (ImageFile.ImageFile, WebPImagePlugin.WebPImageFile, as_plugin._LibHeifImageFile):
        monkeypatch.setattr(cls, "load", spy(cls.__dict__["load"]))
    return sizes


def test_more_than_ten_photos_in_one_upload_are_refused_before_any_is_decoded(app, client, session, login_as,
                                                                                granted, decoded):
    login_as(granted["worker"])
    photo = jpeg_with_gps(size=(64, 48))
    response = client.post(upload_url(granted), content_type="multipart/form-data", headers={"HX-Request": "true"},
                           data={"photo": [(io.BytesIO(photo), f"{n}.jpg") for n in range(11)]})
    assert response.status_code == 422 and "Stuur maximaal 10 foto's tegelijk" in response.text
    assert decoded == [] and receipts(session) == [] and stored_files(app) == []


def test_ten_photos_in_one_upload_are_stored(app, client, session, login_as, granted):
    login_as(granted["worker"])
    photo = jpeg_with_gps(size=(64, 48))
    response = client.post(upload_url(granted), content_type="multipart/form-data",
                           data={"photo": [(io.BytesIO(photo), f"{n}.jpg") for n in range(10)]})
    assert response.status_code == 303 and len(receipts(session)) == 10 and len(stored_files(app)) == 20


PIXEL_BOMBS = [
    ("png 1 × 49,000,000", lambda: png_declaring(1, 49_000_000), "bom.png", "te veel pixels"),
    ("png 13,000 × 10", lambda: png_declaring(13_000, 10), "breed.png", "te veel pixels"),
    ("jpeg 49 Mpx", lambda: declaring("JPEG", 7_000, 7_000), "groot.jpg", "te veel pixels"),
    ("jpeg 10,000 × 5,000", lambda: declaring("JPEG", 10_000, 5_000), "groot.jpg", "te veel pixels"),
    ("webp 36 Mpx", lambda: declaring("WEBP", 6_000, 6_000), "groot.webp", "te veel pixels"),
    ("webp 9 Mpx, too much to decode", lambda: declaring("WEBP", 3_000, 3_000), "groot.webp",
     "te groot om om te zetten"),
    ("heic 80 Mpx", lambda: declaring("HEIF", 10_000, 8_000), "groot.heic", "te veel pixels"),
    ("heic 24 Mpx, too much to decode", lambda: declaring("HEIF", 5_712, 4_284), "IMG_0001.HEIC",
     "te groot om om te zetten"),
    ("png 20 Mpx, too much to decode", lambda: png_declaring(5_000, 4_000), "groot.png", "te groot om om te zetten"),
    ("gif", lambda: b"GIF89a" + (60_000).to_bytes(2, "little") * 2 + b"\x00" * 64, "groot.gif", "geen foto"),
]


@pytest.mark.parametrize("what, make, filename, message", PIXEL_BOMBS, ids=[b[0] for b in PIXEL_BOMBS])
def test_an_image_too_large_to_decode_is_refused_from_its_header(app, client, session, login_as, granted, decoded,
                                                                 what, make, filename, message):
    login_as(granted["worker"])
    data = make()
    assert len(data) < 2_000  # tiny files: only the header says how large they are
    response = upload(client, granted, data, filename=filename, partial=True)
    assert response.status_code == 422 and message in response.text and 'id="photo-error"' in response.text
    assert decoded == []  # refused before a single pixel was decoded
    assert receipts(session) == [] and stored_files(app) == []


def test_a_large_jpeg_is_decoded_at_a_reduced_scale(app, client, session, login_as, granted, decoded):
    """A camera's 6000 × 4000 JPEG (24 Mpx, no JavaScript) is decoded at half size and stored at 1600."""
    login_as(granted["worker"])
    assert upload(client, granted, jpeg_with_gps(size=(6000, 4000))).status_code == 303
    [receipt] = receipts(session)
    assert (receipt.width, receipt.height) == (1600, 1067)
    assert max(decoded, key=lambda size: size[0] * size[1]) == (3000, 2000)  # a quarter of the pixels, never 24 Mpx


@pytest.mark.parametrize("kind, width, height", [
    ("JPEG", 5_712, 4_284), ("JPEG", 4_000, 3_000), ("HEIF", 4_032, 3_024), ("PNG", 4_000, 3_000),
    ("WEBP", 2_560, 1_920), ("PNG", 1_290, 2_796)], ids=["iphone 24 Mpx jpeg", "android 12 Mpx jpeg",
                                                         "iphone 12 Mpx heic", "12 Mpx png", "5 Mpx webp", "screenshot"])
def test_a_phone_s_default_photo_is_within_the_bounds(kind, width, height):
    from models.receipt_images import check_dimensions
    check_dimensions(kind, width, height)  # raises RuleViolation when refused


def test_photos_are_decoded_outside_any_database_transaction(app, client, session, login_as, granted, monkeypatch):
    """Every POST begins with SQLite's write lock: decoding inside it would hold up every vote for seconds."""
    import web.receipts
    from web.database import db
    real_clean, during = web.receipts.clean_receipt_image, []

    def clean(data):
        during.append(db().in_transaction())
        return real_clean(data)
    monkeypatch.setattr(web.receipts, "clean_receipt_image", clean)
    login_as(granted["worker"])
    response = client.post(upload_url(granted), content_type="multipart/form-data",
                           data={"photo": [(io.BytesIO(jpeg_with_gps()), f"{n}.jpg") for n in range(2)]})
    assert response.status_code == 303 and during == [False, False] and len(receipts(session)) == 2


def test_a_failing_transaction_leaves_no_files(app, client, session, login_as, granted, monkeypatch):
    """Two photos; the second row cannot be written (its name is taken): neither row nor file remains."""
    session.add(Receipt(request_id=granted["request"].id, team_id=granted["team"].id, added_by_id=granted["worker"].id,
                        file_name="b" * 32, width=1, height=1))
    session.commit()
    names = iter(["a" * 32, "b" * 32])
    monkeypatch.setattr("web.receipts.new_file_name", lambda: next(names))
    login_as(granted["worker"])
    response = client.post(upload_url(granted), content_type="multipart/form-data", data={
        "photo": [(io.BytesIO(jpeg_with_gps()), "1.jpg"), (io.BytesIO(jpeg_with_gps()), "2.jpg")]})
    assert response.status_code == 500
    assert [r.file_name for r in receipts(session)] == ["b" * 32] and stored_files(app) == []


def test_a_direct_send_gets_its_part_and_the_outbox_resending_it_gets_the_recorded_answer(
        app, client, session, login_as, granted):
    """receipts.js sends a photo at once with its UUID; when the answer is lost the outbox sends it again."""
    login_as(granted["worker"])
    client_uuid = "5f0c7a1e-0000-4000-8000-000000000001"
    direct = upload(client, granted, jpeg_with_gps(), partial=True, operation=client_uuid)
    assert direct.status_code == 200 and "data-receipts" in direct.text and "Bonnetje opgeslagen" in direct.text
    again = operation_upload(client, granted, jpeg_with_gps(), client_uuid)
    assert again.status_code == 200 and again.headers["Teambudget-Operation-Replayed"] == "true"
    assert again.get_json()["redirect"].endswith(f"/aanvragen/{granted['request'].id}#receipts")
    assert len(receipts(session)) == 1 and len(stored_files(app)) == 2
    [operation] = operations(session)
    assert operation.client_uuid == client_uuid and operation.kind == "receipt"


def test_a_direct_send_that_is_refused_shows_the_message_in_its_part_and_records_nothing(
        app, client, session, login_as, granted):
    login_as(granted["worker"])
    refused = upload(client, granted, b"geen foto", partial=True, operation="5f0c7a1e-0000-4000-8000-000000000002")
    assert refused.status_code == 422 and "data-receipts" in refused.text and "Dit is geen foto" in refused.text
    assert receipts(session) == [] and operations(session) == [] and stored_files(app) == []


def test_only_the_requester_adds_receipts_once_the_card_was_handed_over(app, client, session, login_as, granted):
    login_as(granted["colleague"])
    response = upload(client, granted, jpeg_with_gps())
    assert response.status_code == 422 and "Alleen de aanvrager" in response.text
    login_as(granted["worker"])
    not_yet = {**granted, "request": grant(session, granted["team"], granted["worker"], handed_over=False)}
    response = upload(client, not_yet, jpeg_with_gps())
    assert response.status_code == 422 and "zodra de cliënt de kaart heeft gekregen" in response.text
    granted["request"].status = RequestStatus.OPEN
    session.add(granted["request"])
    session.commit()
    assert upload(client, granted, jpeg_with_gps()).status_code == 422
    assert receipts(session) == [] and stored_files(app) == []


def test_photos_are_served_to_the_team_only_with_safe_headers(app, client, session, login_as, granted):
    login_as(granted["worker"])
    upload(client, granted, jpeg_with_gps())
    [receipt] = receipts(session)
    url = f"{upload_url(granted)}/{receipt.id}/foto"
    login_as(granted["colleague"])
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == 'inline; filename="bonnetje.jpg"'
    assert "no-store" in response.headers["Cache-Control"]
    login_as(granted["other"])
    assert client.get(url).status_code == 404
    assert client.get(url.replace("/foto", "/klein")).status_code == 404
    assert client.get(f"/teams/{granted['team'].id}/ontbrekende-bonnetjes").status_code == 404


def test_the_request_shows_granted_against_spent(app, client, session, login_as, granted):
    login_as(granted["worker"])
    upload(client, granted, jpeg_with_gps())
    [receipt] = receipts(session)
    bad = client.post(f"{upload_url(granted)}/{receipt.id}/bedrag", data={"amount": "12,505"},
                      headers={"HX-Request": "true", "HX-Request-Type": "partial"})
    assert bad.status_code == 422 and "twee cijfers" in bad.text
    good = client.post(f"{upload_url(granted)}/{receipt.id}/bedrag", data={"amount": "€ 62,40"})
    assert good.status_code == 303
    assert receipts(session)[0].amount_cents == 6_240
    page = plain(client.get(f"/teams/{granted['team'].id}/aanvragen/{granted['request'].id}"))
    assert "Toegekend: € 75,00 · besteed volgens de bonnetjes: € 62,40" in page
    assert f'id="amount-{receipt.id}" name="amount"' in page and 'value="62,40"' in page  # to correct it
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "receipt_amount")).one().detail["amount_cents"] == 6_240


def test_missing_receipts_after_seven_days_until_a_receipt_or_a_reason(client, session, login_as, granted):
    team, worker = granted["team"], granted["worker"]
    late = grant(session, team, worker, days_ago=8, amount_cents=4_200)
    later = grant(session, team, worker, days_ago=10, amount_cents=3_100)
    grant(session, team, worker, days_ago=6, amount_cents=9_900)  # not a week yet
    grant(session, team, worker, days_ago=30, amount_cents=8_800, handed_over=False)  # the client has no card yet
    missing_url = f"/teams/{team.id}/ontbrekende-bonnetjes"
    login_as(granted["colleague"])
    listed = plain(client.get(missing_url))
    assert "€ 42,00" in listed and "€ 31,00" in listed
    assert "€ 99,00" not in listed and "€ 75,00" not in listed and "€ 88,00" not in listed
    assert "mist al een week" not in client.get(f"/teams/{team.id}").text  # a colleague is not reminded
    login_as(worker)
    assert "2 toekenningen van jou missen al een week een bonnetje." in client.get(f"/teams/{team.id}").text

    world = {**granted, "request": late}
    upload(client, world, jpeg_with_gps())
    reason_url = f"/teams/{team.id}/aanvragen/{later.id}/geen-bonnetje"
    assert client.post(reason_url, data={"no_receipt_reason": ""}).status_code == 422
    refused = client.post(reason_url, data={"no_receipt_reason": "Bel 06-12345678"})
    assert refused.status_code == 422 and "06-12345678" in refused.text
    assert client.post(reason_url, data={"no_receipt_reason": "Betaald op de markt, zonder kassabon."}).status_code == 303
    assert session.exec(select(ReceiptWaiver)).one().request_id == later.id
    assert "Er ontbreken geen bonnetjes." in client.get(missing_url).text
    home = client.get(f"/teams/{team.id}").text
    assert "een week een bonnetje" not in home and "Ontbrekende bonnetjes" in home


# --- one exactly-once contract: a receipt is an outbox operation like a vote (Teambudget-Operation) ---

def operation_upload(client, world, data, client_uuid, filename="bonnetje.jpg"):
    """POST a photo as the outbox sends every item: multipart, JSON wanted, its UUID in the header."""
    boundary, body = encode_multipart(MultiDict([("photo", FileStorage(io.BytesIO(data), filename))]))
    return client.post(upload_url(world), data=body, content_type=f"multipart/form-data; boundary={boundary}",
                       headers={"Accept": "application/json", "Teambudget-Operation": client_uuid})


def operations(session):
    from models.outbox import ClientOperation
    session.expire_all()
    return session.exec(select(ClientOperation)).all()


def test_a_receipt_sent_offline_then_replayed_twice_is_stored_once_as_one_operation(app, client, session, login_as,
                                                                                     granted):
    login_as(granted["worker"])
    photo, client_uuid = jpeg_with_gps(), "5f0c7a1e-0000-4000-8000-0000000000dd"
    answers = [operation_upload(client, granted, photo, client_uuid) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].get_json() == answers[1].get_json() == answers[2].get_json()
    assert answers[0].get_json()["redirect"].endswith(f"/aanvragen/{granted['request'].id}#receipts")
    assert [a.headers.get("Teambudget-Operation-Replayed") for a in answers] == [None, "true", "true"]
    assert len(receipts(session)) == 1 and len(stored_files(app)) == 2  # the photo and its thumbnail
    [operation] = operations(session)
    assert operation.kind == "receipt"


def test_the_same_operation_with_another_photo_is_a_conflict_and_stores_nothing(app, client, session, login_as,
                                                                               granted):
    login_as(granted["worker"])
    client_uuid = "5f0c7a1e-0000-4000-8000-0000000000ee"
    assert operation_upload(client, granted, jpeg_with_gps(), client_uuid).status_code == 200
    other = operation_upload(client, granted, jpeg_with_gps(size=(320, 240)), client_uuid)
    assert other.status_code == 409 and other.get_json()["conflict"] == "reused"
    assert len(receipts(session)) == 1 and len(stored_files(app)) == 2


def test_a_refused_receipt_operation_records_nothing_and_may_be_sent_again(app, client, session, login_as, granted):
    login_as(granted["worker"])
    client_uuid = "5f0c7a1e-0000-4000-8000-0000000000ff"
    refused = operation_upload(client, granted, b"not a photo", client_uuid)
    assert refused.status_code == 422 and refused.get_json()["field"] == "photo"
    assert receipts(session) == [] and operations(session) == [] and stored_files(app) == []
    assert operation_upload(client, granted, jpeg_with_gps(), client_uuid).status_code == 200
    assert len(receipts(session)) == 1 and len(operations(session)) == 1


@pytest.mark.parametrize("what, make, filename, status, message",
                         [r for r in REFUSALS if r[0] in ("too large", "text renamed .jpg")], ids=["too large", "not an image"])
def test_an_outbox_send_that_is_refused_gets_the_message_as_json(app, client, session, login_as, granted,
                                                                  what, make, filename, status, message):
    login_as(granted["worker"])
    answer = operation_upload(client, granted, make(), "5f0c7a1e-0000-4000-8000-0000000000bb", filename)
    assert answer.status_code == status
    assert message in answer.get_json()["error"] and answer.get_json()["field"] == "photo"
    assert receipts(session) == [] and stored_files(app) == []


def test_two_sends_of_one_photo_racing_store_it_once(app, client, session, login_as, granted, monkeypatch):
    """The second send passed the check for an earlier answer before the first one committed: its commit
    fails on the operation's UUID, its files are removed, and it answers what the first one recorded."""
    import web.outbox
    login_as(granted["worker"])
    client_uuid = "5f0c7a1e-0000-4000-8000-0000000000cc"
    assert operation_upload(client, granted, jpeg_with_gps(), client_uuid).status_code == 200
    checks, real_check = [], web.outbox.earlier_operation

    def check_before_the_other_committed(*args):
        checks.append(args)
        return real_check(*args) if len(checks) > 1 else None
    monkeypatch.setattr(web.outbox, "earlier_operation", check_before_the_other_committed)
    answer = operation_upload(client, granted, jpeg_with_gps(), client_uuid)
    assert answer.status_code == 200 and answer.headers["Teambudget-Operation-Replayed"] == "true"
    assert len(checks) == 2 and len(receipts(session)) == 1 and len(stored_files(app)) == 2
