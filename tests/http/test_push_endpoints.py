"""Push subscriptions cannot make the server connect into its own network (issue 9 §4): only endpoints
of the browsers' push services are stored, and a message goes only to a public address of one, checked
in the connection that sends it."""
import logging
import socket

import pytest
from sqlmodel import select

from models.subscriptions import PushSubscription
from tests.http.test_push import (  # noqa: F401 (stub, team_world: fixtures)
    STUB_CONFIG, Device, post_request_as_requester, sent, stub, team_world)
from tests.unit.test_push_endpoints import HOSTILE_ENDPOINTS

REAL_GETADDRINFO = socket.getaddrinfo
PRODUCTION = {}
#: only the real push services, only public addresses; plain HTTP on any port stays open so that a test
#: can show where a message would have gone (the stub)
STUB_PORT_OPEN = {"PUSH_ALLOW_INSECURE_ENDPOINTS": True}


@pytest.fixture
def push_config():
    """The push settings of the app (a test parametrizes it to change them)."""
    return STUB_PORT_OPEN


@pytest.fixture
def app(make_app, push_config):
    """The app with `push_config`."""
    return make_app(**push_config, PUSH_TIMEOUT_SECONDS=3)


def resolve(monkeypatch, name, *answers):
    """Let DNS answer `name` with the next of `answers` (each a list of addresses); other names as usual.
    Returns the list of lookups of `name`."""
    calls = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != name:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in answers[min(len(calls), len(answers)) - 1]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls


def stored(session):
    """The push subscriptions in the database now."""
    session.expire_all()
    return session.exec(select(PushSubscription)).all()


@pytest.mark.parametrize("push_config", [PRODUCTION])
def test_subscribing_with_a_hostile_endpoint_is_refused_and_nothing_stored(
        client, login_as, team_world, stub, session, push_config):
    login_as(team_world["members"]["a"])
    device = Device(stub, "phone")
    for endpoint in HOSTILE_ENDPOINTS:
        response = client.post("/meldingen/aanmelden", json={**device.json, "endpoint": endpoint})
        assert response.status_code in (400, 422), endpoint  # 400: a control character (web/bounds.py)
        assert response.json["error"], endpoint
    assert stored(session) == []


@pytest.mark.parametrize("endpoint", ["https://127.0.0.1:5199/x", "https://2130706433/x",
                                      "https://evilfcm.googleapis.com.attacker/x",
                                      "https://fcm.googleapis.com@10.0.0.1/"])
def test_refusal_of_an_endpoint_says_why_in_json(client, login_as, team_world, stub, session, endpoint):
    login_as(team_world["members"]["a"])
    response = client.post("/meldingen/aanmelden", json={**Device(stub, "phone").json, "endpoint": endpoint})
    assert response.status_code == 422 and response.is_json
    assert "pushdienst van een browser" in response.json["error"]
    assert stored(session) == []


def test_endpoint_of_a_real_push_service_is_stored(client, login_as, team_world, stub, session):
    login_as(team_world["members"]["a"])
    endpoint = "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABk"
    response = client.post("/meldingen/aanmelden", json={**Device(stub, "phone").json, "endpoint": endpoint})
    assert response.status_code == 200
    assert [s.endpoint for s in stored(session)] == [endpoint]


def test_allowed_host_that_resolves_to_loopback_is_not_contacted_and_kept(
        app, client, login_as, team_world, stub, session, monkeypatch, caplog):
    device = Device(stub, "rebound")
    device.json["endpoint"] = f"http://fcm.googleapis.com:{stub.server.server_port}/push/rebound"
    lookups = resolve(monkeypatch, "fcm.googleapis.com", ["127.0.0.1"])
    login_as(team_world["members"]["a"])
    assert client.post("/meldingen/aanmelden", json=device.json).status_code == 200  # no DNS at subscribing
    assert lookups == []
    with caplog.at_level(logging.WARNING, logger="teambudget.push"):
        post_request_as_requester(client, login_as, team_world)
        sent(app)
    assert stub.received == []
    assert lookups == ["fcm.googleapis.com"]
    assert "not sent (address refused)" in caplog.text
    # kept: the host is a real push service's, a wrong DNS answer is no sign the device is gone
    assert len(stored(session)) == 1


def test_subscription_stored_before_the_allow_list_is_never_contacted(app, client, login_as, team_world, stub,
                                                                      session, caplog):
    member = team_world["members"]["a"]
    device = Device(stub, "legacy")  # http://localhost:…, and localhost is not a push service
    session.add(PushSubscription(member_id=member.id, endpoint=device.endpoint, p256dh=device.json["keys"]["p256dh"],
                                 auth=device.json["keys"]["auth"]))
    session.commit()
    with caplog.at_level(logging.WARNING, logger="teambudget.push"):
        post_request_as_requester(client, login_as, team_world)
        sent(app)
    assert stub.received == []
    assert "not sent (not a push service)" in caplog.text


@pytest.mark.parametrize("push_config", [STUB_CONFIG])
def test_message_goes_to_the_address_that_was_checked(app, client, login_as, team_world, stub, monkeypatch,
                                                      push_config):
    """One lookup, and the socket connects to its answer: a second, different answer (DNS rebinding)
    is never asked for. 127.0.0.2 would refuse the connection: the stub listens on 127.0.0.1 only."""
    device = Device(stub, "pinned")  # http://localhost:<port>/push/pinned
    lookups = resolve(monkeypatch, "localhost", ["127.0.0.1"], ["127.0.0.2"])
    login_as(team_world["members"]["a"])
    assert client.post("/meldingen/aanmelden", json=device.json).status_code == 200
    post_request_as_requester(client, login_as, team_world)
    sent(app)
    assert [message["path"] for message in stub.received] == ["/push/pinned"]
    assert lookups == ["localhost"]


@pytest.mark.parametrize("push_config", [STUB_CONFIG])
def test_a_redirect_from_the_push_service_is_not_followed(app, client, login_as, team_world, stub, session,
                                                          push_config, caplog):
    device = Device(stub, "moved")
    stub.status, stub.headers = 307, {"Location": f"{stub.url}/push/elsewhere"}
    login_as(team_world["members"]["a"])
    client.post("/meldingen/aanmelden", json=device.json)
    with caplog.at_level(logging.WARNING, logger="teambudget.push"):
        post_request_as_requester(client, login_as, team_world)
        sent(app)
    assert [message["path"] for message in stub.received] == ["/push/moved"]
    assert "not reached (TooManyRedirects)" in caplog.text
