"""Web Push end to end: a push service stub on loopback receives what the app sends, and the test
decrypts it with the keys a browser would hold (P-256 key pair + auth secret, aes128gcm)."""
import base64
import json
import os
import secrets
import stat
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import g
from sqlmodel import select

from models.clock import utcnow
from models.members import active_membership
from models.events import take_committed
from models.requests import SpendRequest, post_request
from models.subscriptions import DEFAULT_PUSH_HOSTS, PushReminder, PushSubscription
from models.teams import CostCategory, District, Municipality, Team, add_default_cost_categories
from models.decisions import decide
from models.votes import cast_vote
from web.push_keys import public_key

SITUATION = "Moeder van drie kinderen met een uitkering, wacht op bezwaar."
#: what the push tests open for the stub: plain HTTP on any port, the host localhost, a loopback address
STUB_CONFIG = {"PUSH_ALLOW_INSECURE_ENDPOINTS": True, "PUSH_ALLOWED_HOSTS": DEFAULT_PUSH_HOSTS + ("localhost",),
               "PUSH_ALLOW_PRIVATE_ADDRESSES": True}
FORM = {"amount": "75", "situation": SITUATION, "prevents": "Dat de kinderen zonder eten zitten.", "kind": "gift",
        "household_reference": "DOSSIER-123", "action": "post"}


def b64url(data: bytes) -> str:
    """Base64url without padding, as PushSubscription.toJSON() writes keys."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class PushServiceStub:
    """A push service on loopback: records every message and answers with `status` and `headers`."""

    def __init__(self):
        self.received, self.status, self.headers = [], 201, {}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the http.server API)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stub.received.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                self.send_response(stub.status)
                self.send_header("Content-Length", "0")
                for name, value in stub.headers.items():
                    self.send_header(name, value)
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        # a host name, not 127.0.0.1: an IP address is never a push service's endpoint
        self.url = f"http://localhost:{self.server.server_port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Device:
    """What a browser keeps for one push subscription: its key pair, auth secret and endpoint."""

    def __init__(self, stub, name):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        public = self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                             serialization.PublicFormat.UncompressedPoint)
        self.auth = secrets.token_bytes(16)
        self.endpoint = f"{stub.url}/push/{name}"
        self.json = {"endpoint": self.endpoint, "expirationTime": None,
                     "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)}}

    def decrypt(self, message) -> dict:
        """The message's JSON, decrypted as the browser would (RFC 8291, aes128gcm)."""
        assert message["headers"]["content-encoding"] == "aes128gcm"
        plain = http_ece.decrypt(message["body"], private_key=self.private_key, auth_secret=self.auth,
                                 version="aes128gcm")
        return json.loads(plain)


@pytest.fixture
def stub():
    """A push service on loopback for one test."""
    service = PushServiceStub()
    yield service
    service.close()


@pytest.fixture
def app(make_app):
    """The app, allowed to push to the stub over plain HTTP on loopback."""
    return make_app(**STUB_CONFIG, PUSH_TIMEOUT_SECONDS=3)


@pytest.fixture
def team_world(session, make_team, make_member):
    """Team Oost with cost categories, a requester, three other workers, an observer."""
    team = make_team("Team Oost")
    municipality = session.get(Municipality, session.get(District, team.district_id).municipality_id)
    add_default_cost_categories(session, municipality)
    session.commit()
    members = {name: make_member(team, role, name=f"Naam {name}") for name, role in
               [("requester", "worker"), ("a", "worker"), ("b", "worker"), ("c", "worker"), ("observer", "observer")]}
    groceries = session.exec(select(CostCategory).where(CostCategory.code == "groceries")).one()
    return {"team": team, "members": members, "groceries": groceries}


def subscribe(client, login_as, member, device, headers=None):
    """Sign `member` in and subscribe `device` as push.js does."""
    login_as(member)
    return client.post("/meldingen/aanmelden", json=device.json, headers=headers or {})


def post_request_as_requester(client, login_as, world):
    """The requester posts a complete request over HTTP; returns its id."""
    login_as(world["members"]["requester"])
    response = client.post(f"/teams/{world['team'].id}/aanvragen",
                           data={**FORM, "cost_category_id": world["groceries"].id})
    assert response.status_code == 303
    return int(urlsplit(response.headers["Location"]).path.rstrip("/").split("/")[-1])  # after ?verstuurd=1


def sent(app):
    """Wait until the app's sender is done."""
    app.extensions["push"].wait(timeout=15)


def test_new_request_push_arrives_encrypted_without_personal_data(app, client, login_as, team_world, stub, session):
    device = Device(stub, "phone-a")
    assert subscribe(client, login_as, team_world["members"]["a"], device).status_code == 200
    request_id = post_request_as_requester(client, login_as, team_world)
    sent(app)

    assert len(stub.received) == 1
    message = stub.received[0]
    assert message["path"] == "/push/phone-a"
    assert message["headers"]["authorization"].startswith("vapid t=")
    assert message["headers"]["authorization"].endswith(",k=" + public_key(app))  # signed with our VAPID key
    assert int(message["headers"]["ttl"]) > 0
    payload = device.decrypt(message)
    assert payload["title"] == "Nieuwe aanvraag in Team Oost"
    assert "€\xa075,00" in payload["body"] and "boodschappen" in payload["body"]
    assert payload["url"] == f"/teams/{team_world['team'].id}/aanvragen/{request_id}"
    plain = json.dumps(payload, ensure_ascii=False)
    for personal in ("Moeder", "kinderen", "DOSSIER", "Naam "):
        assert personal not in plain


def test_each_team_member_but_the_requester_is_told(app, client, login_as, team_world, stub):
    devices = {name: Device(stub, name) for name in ("requester", "a", "observer")}
    for name, device in devices.items():
        subscribe(client, login_as, team_world["members"][name], device)
    post_request_as_requester(client, login_as, team_world)
    sent(app)
    assert sorted(message["path"] for message in stub.received) == ["/push/a", "/push/observer"]


def test_message_is_written_in_the_language_the_device_chose(app, client, login_as, team_world, stub):
    device = Device(stub, "english")
    client.set_cookie("lang", "en")
    subscribe(client, login_as, team_world["members"]["a"], device)
    client.delete_cookie("lang")
    post_request_as_requester(client, login_as, team_world)
    sent(app)
    payload = device.decrypt(stub.received[0])
    assert "€75.00" in payload["body"]  # the text itself is English once the catalog has it


def test_decision_is_pushed_to_the_requester(app, client, login_as, team_world, stub, session):
    device = Device(stub, "requester")
    subscribe(client, login_as, team_world["members"]["requester"], device)
    request_id = post_request_as_requester(client, login_as, team_world)
    team = session.get(Team, team_world["team"].id)
    spend_request = session.get(SpendRequest, request_id)
    for name in ("a", "b"):
        cast_vote(session, spend_request, active_membership(session, team_world["members"][name].id, team.id), "approve")
    session.commit()

    login_as(team_world["members"]["c"])
    response = client.post(f"/teams/{team.id}/aanvragen/{request_id}/stem", data={"choice": "approve"})
    assert response.status_code == 303
    sent(app)
    payload = device.decrypt(stub.received[-1])
    assert payload["title"] == "Je aanvraag is toegekend"
    assert "€\xa075,00" in payload["body"]
    assert payload["url"] == f"/teams/{team.id}/aanvragen/{request_id}"


def test_a_grant_cancelled_by_the_coordinator_is_pushed_to_the_requester(app, client, login_as, team_world, stub,
                                                                        session, make_member):
    device = Device(stub, "requester")
    subscribe(client, login_as, team_world["members"]["requester"], device)
    request_id = post_request_as_requester(client, login_as, team_world)
    team = session.get(Team, team_world["team"].id)
    spend_request = session.get(SpendRequest, request_id)
    for name in ("a", "b", "c"):
        cast_vote(session, spend_request, active_membership(session, team_world["members"][name].id, team.id), "approve")
        decide(session, spend_request, team)
    session.commit()
    assert spend_request.status == "granted"

    login_as(make_member(team, "coordinator"))
    response = client.post(f"/beheer/jaarafsluiting/aanvragen/{request_id}/annuleren",
                           data={"reason": "Het huishouden kreeg bijzondere bijstand"})
    assert response.status_code == 303
    sent(app)
    payload = device.decrypt(stub.received[-1])
    assert payload["title"] == "De toekenning van je aanvraag is geannuleerd"
    assert payload["url"] == f"/teams/{team.id}/aanvragen/{request_id}"


def test_rolled_back_change_announces_nothing(app, session, team_world):
    team = team_world["team"]
    draft = SpendRequest(team_id=team.id, requester_id=team_world["members"]["requester"].id, amount_cents=7_500,
                         cost_category_id=team_world["groceries"].id, situation=SITUATION, prevents="Honger.",
                         household_key="k" * 64)
    session.add(draft)
    session.commit()
    post_request(session, draft, team, draft.requester_id)
    session.rollback()
    assert take_committed(session) == []

    session.refresh(draft)
    post_request(session, draft, team, draft.requester_id)
    session.commit()
    notices = take_committed(session)
    assert [(n.kind, n.request_id) for n in notices] == [("posted", draft.id)]
    assert take_committed(session) == []  # handed out once


def test_refused_vote_sends_nothing(app, client, login_as, team_world, stub, session):
    device = Device(stub, "requester")
    subscribe(client, login_as, team_world["members"]["requester"], device)
    request_id = post_request_as_requester(client, login_as, team_world)
    sent(app)
    before = len(stub.received)
    login_as(team_world["members"]["observer"])  # observers never vote: the vote is refused, rolled back
    response = client.post(f"/teams/{team_world['team'].id}/aanvragen/{request_id}/stem", data={"choice": "approve"})
    assert response.status_code == 422
    sent(app)
    assert len(stub.received) == before


def test_gone_subscription_is_removed(app, client, login_as, team_world, stub, session):
    device = Device(stub, "old-phone")
    subscribe(client, login_as, team_world["members"]["a"], device)
    stub.status = 410
    post_request_as_requester(client, login_as, team_world)
    sent(app)
    assert len(stub.received) == 1
    session.expire_all()
    assert session.exec(select(PushSubscription)).all() == []


def test_unreachable_push_service_neither_blocks_nor_breaks_the_request(app, client, login_as, team_world, session):
    closed = PushServiceStub()
    closed.close()  # nothing listens on this port any more
    device = Device(closed, "nowhere")
    subscribe(client, login_as, team_world["members"]["a"], device)
    post_request_as_requester(client, login_as, team_world)
    sent(app)
    session.expire_all()
    assert len(session.exec(select(PushSubscription)).all()) == 1  # kept: only 404/410 mean gone


def test_unsubscribe_forgets_the_device(app, client, login_as, team_world, stub, session):
    device = Device(stub, "phone-a")
    subscribe(client, login_as, team_world["members"]["a"], device)
    response = client.post("/meldingen/afmelden", json={"endpoint": device.endpoint})
    assert response.status_code == 200 and response.json == {"subscribed": False, "removed": True}
    post_request_as_requester(client, login_as, team_world)
    sent(app)
    assert stub.received == []


def test_unsubscribe_cannot_remove_another_members_device(client, login_as, team_world, stub, session):
    device = Device(stub, "phone-a")
    subscribe(client, login_as, team_world["members"]["a"], device)
    login_as(team_world["members"]["b"])
    assert client.post("/meldingen/afmelden", json={"endpoint": device.endpoint}).json["removed"] is False
    session.expire_all()
    assert len(session.exec(select(PushSubscription)).all()) == 1


def test_device_subscribed_again_belongs_to_whoever_is_signed_in(client, login_as, team_world, stub, session):
    device = Device(stub, "shared-phone")
    subscribe(client, login_as, team_world["members"]["a"], device)
    subscribe(client, login_as, team_world["members"]["b"], device)
    session.expire_all()
    [stored] = session.exec(select(PushSubscription)).all()
    assert stored.member_id == team_world["members"]["b"].id


def test_subscribe_validation_over_http(app, client, login_as, team_world):
    login_as(team_world["members"]["a"])
    for body in ({}, {"endpoint": "ftp://fcm.googleapis.com/x", "keys": {"p256dh": "a", "auth": "b"}},
                 {"endpoint": "https://fcm.googleapis.com/fcm/send/x"},
                 {"endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": {"p256dh": "<b>", "auth": "b"}}):
        response = client.post("/meldingen/aanmelden", json=body)
        assert response.status_code == 422, body
        assert "geldige aanmelding" in response.json["error"]


def test_push_pages_need_a_signed_in_member(client):
    assert client.get("/meldingen/sleutel").status_code == 302
    assert client.post("/meldingen/aanmelden", json={}).status_code == 302


def test_public_key_is_an_uncompressed_p256_point(client, login_as, team_world):
    login_as(team_world["members"]["a"])
    key = client.get("/meldingen/sleutel").json["publicKey"]
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65 and raw[0] == 4


def test_reminder_command_reminds_each_waiting_voter_once(app, client, login_as, team_world, stub, session):
    devices = {name: Device(stub, name) for name in ("a", "b", "observer", "requester")}
    for name, device in devices.items():
        subscribe(client, login_as, team_world["members"][name], device)
    request_id = post_request_as_requester(client, login_as, team_world)
    sent(app)
    stub.received.clear()
    team = session.get(Team, team_world["team"].id)
    spend_request = session.get(SpendRequest, request_id)
    cast_vote(session, spend_request, active_membership(session, team_world["members"]["b"].id, team.id), "reject")
    session.commit()

    runner = app.test_cli_runner()
    assert "0 reminder(s)" in runner.invoke(args=["send-reminders"]).output  # not yet: posted just now
    spend_request.posted_at = utcnow() - timedelta(hours=team.reminder_after_hours, minutes=1)
    session.add(spend_request)
    session.commit()
    result = runner.invoke(args=["send-reminders"])
    assert "2 reminder(s)" in result.output  # a and c (c has no device); not b (voted), the observer, the requester
    assert [message["path"] for message in stub.received] == ["/push/a"]
    payload = devices["a"].decrypt(stub.received[0])
    assert payload["title"] == "Een aanvraag wacht op je stem"
    assert payload["url"] == f"/teams/{team.id}/aanvragen/{request_id}"

    assert "0 reminder(s)" in runner.invoke(args=["send-reminders"]).output
    assert len(stub.received) == 1
    session.expire_all()
    assert len(session.exec(select(PushReminder)).all()) == 2


def test_vapid_key_is_generated_once_with_mode_0600(make_app, tmp_path, monkeypatch):
    from web.push_keys import KEY_FILE

    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("VAPID_PRIVATE_KEY", raising=False)
    first = public_key(make_app())
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert public_key(make_app()) == first


def test_vapid_key_from_the_environment_wins(make_app, tmp_path, monkeypatch):
    from py_vapid import Vapid

    from web.push_keys import KEY_FILE

    key = Vapid()
    key.generate_keys()
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("VAPID_PRIVATE_KEY", key.private_pem().decode())
    app = make_app()
    expected = key.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert public_key(app) == b64url(expected)
    assert not (tmp_path / KEY_FILE).exists()


def test_sender_reads_the_session_web_database_keeps_on_g(app):
    """send_committed finds the request's session on g: if web.database renames it, this fails."""
    with app.test_request_context():
        from web.database import db
        assert db() is g.db_session
