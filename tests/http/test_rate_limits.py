"""Rate limits hold for the right people: one count for all workers, the client's own address, and only
failures counted, so a genuine link opens however often it is visited."""
import json
import subprocess
import sys

import pytest

from models.handover import create_handover
from tests.card_world import SEPA_CONFIG, card_on, granted_request, loaded
from web.config import PROJECT_ROOT
from web.rate_limits import SQLiteFileStorage

#: one worker process: its own app (and limiter) on the shared database and instance folder
WORKER = """
import json, sys
from web import create_app
config = json.loads(sys.argv[1])
app = create_app(config)
client = app.test_client()
print(json.dumps([client.get(f"/kaart/geraden-{sys.argv[2]}-{n}").status_code for n in range(15)]))
app.extensions["push"].close()
app.extensions["engine"].dispose()
"""


def test_the_default_storage_counts_once_for_all_worker_processes(app_config, tmp_path):
    """Three processes, as gunicorn's workers, guess 15 times each: 20 failures in all, not 20 each."""
    environment = {"PATH": "/usr/bin:/bin", "INSTANCE_PATH": str(tmp_path / "instance")}
    default_config = {key: value for key, value in app_config.items() if key != "RATELIMIT_STORAGE_URI"}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(default_config), str(number)],
                                cwd=PROJECT_ROOT, env=environment, stdout=subprocess.PIPE, text=True)
               for number in range(3)]
    statuses = [status for worker in workers for status in json.loads(worker.communicate(timeout=120)[0])]
    assert all(worker.returncode == 0 for worker in workers)
    assert statuses.count(410) == 20 and statuses.count(429) == 25


def test_the_storage_counts_in_windows(tmp_path):
    storage = SQLiteFileStorage(f"sqlite:///{tmp_path / 'limits.sqlite3'}")
    assert [storage.incr("a", 60) for _ in range(3)] == [1, 2, 3] and storage.get("a") == 3
    assert storage.get("b") == 0 and storage.get_expiry("a") > 0
    storage.incr("b", 0)  # a window that is over at once
    assert storage.get("b") == 0 and storage.incr("b", 60) == 1
    storage.clear("a")
    assert storage.get("a") == 0 and storage.reset() == 1 and storage.check()


def _guesses(client, count, **request_options):
    return [client.get(f"/kaart/geraden-{n}", **request_options).status_code for n in range(count)]


def test_a_forged_forwarded_for_is_not_believed_without_a_trusted_proxy(make_app):
    client = make_app(RATELIMIT_HANDOVER="2 per minute").test_client()
    statuses = [client.get(f"/kaart/geraden-{n}", headers={"X-Forwarded-For": f"192.0.2.{n}"}).status_code
                for n in range(3)]
    assert statuses == [410, 410, 429]


def test_behind_one_trusted_proxy_each_client_counts_for_itself(make_app):
    client = make_app(RATELIMIT_HANDOVER="2 per minute", TRUSTED_PROXIES=1).test_client()
    # every request comes from the proxy's address; the proxy appends the client's own address
    assert _guesses(client, 3, headers={"X-Forwarded-For": "198.51.100.7"}) == [410, 410, 429]
    assert _guesses(client, 1, headers={"X-Forwarded-For": "198.51.100.8"}) == [410]
    # what a client writes into the header itself stands left of what the proxy appended: ignored
    assert _guesses(client, 1, headers={"X-Forwarded-For": "203.0.113.1, 198.51.100.7"}) == [429]


@pytest.fixture
def handover_token(session, make_team, make_member):
    """A genuine handover link's token for a loaded card."""
    team = make_team("Team Kaart")
    worker, coordinator = make_member(team, "worker"), make_member(team, "coordinator")
    request = granted_request(session, team, worker, make_member(team, "worker"), 6_000)
    card = card_on(session, team, request, coordinator)
    loaded(session, team, [card], coordinator)
    token = create_handover(session, card, request, member_id=worker.id)
    session.commit()
    return token


def test_a_genuine_handover_link_opens_however_often_it_is_visited(make_app, handover_token):
    client = make_app(**SEPA_CONFIG).test_client()
    assert {client.get(f"/kaart/{handover_token}").status_code for _ in range(25)} == {200}


def test_guessing_blocks_the_guesser_not_the_client(make_app, handover_token):
    client = make_app(**SEPA_CONFIG).test_client()
    guesser, client_phone = {"REMOTE_ADDR": "192.0.2.66"}, {"REMOTE_ADDR": "198.51.100.7"}
    assert set(_guesses(client, 20, environ_base=guesser)) == {410}
    assert client.get("/kaart/nog-een-gok", environ_base=guesser).status_code == 429
    page = client.get(f"/kaart/{handover_token}", environ_base=client_phone)
    assert page.status_code == 200 and "1234" in page.text
    # from the guesser's own address even the right token gets 429: the answer never tells a guess was right
    refused = client.get(f"/kaart/{handover_token}", environ_base=guesser, headers={"Accept": "text/html"})
    assert refused.status_code == 429 and "te vaak geprobeerd" in refused.text


def test_a_genuine_invite_opens_however_often_it_is_visited(make_app, session, make_team, make_member):
    from models.invites import invite_to_team

    team = make_team()
    _invite, token = invite_to_team(session, make_member(team, "coordinator"), team, "worker")
    session.commit()
    client = make_app(RATELIMIT_INVITE="2 per minute").test_client()
    assert {client.get(f"/uitnodiging/{token}").status_code for _ in range(5)} == {200}


def test_a_member_who_signs_in_often_is_not_refused(make_app, monkeypatch, make_team, make_member):
    member = make_member(make_team(), "worker")
    monkeypatch.setattr("web.auth.posted_credential", lambda: {})
    monkeypatch.setattr("web.auth.consume_challenge", lambda *args, **kwargs: type("C", (), {"challenge": b""}))
    monkeypatch.setattr("web.auth.verify_sign_in", lambda *args, **kwargs: member)
    client = make_app(RATELIMIT_SIGN_IN="3 per minute").test_client()
    assert {client.post("/inloggen/controle", json={"credential": {}}).status_code for _ in range(5)} == {200}


def test_each_test_counts_in_a_file_of_its_own(app_config, tmp_path):
    """The pytest-xdist workers share INSTANCE_PATH (the controller's); a limiter reset by one worker's
    make_app must not empty the counts another worker's test is making (CI once saw 410 where 429 was due)."""
    import os

    storage_path = app_config["RATELIMIT_STORAGE_URI"].removeprefix("sqlite:///")
    assert storage_path.startswith(str(tmp_path)) and not storage_path.startswith(os.environ["INSTANCE_PATH"])
