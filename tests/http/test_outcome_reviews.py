"""Outcome reviews over HTTP: the form on the requester's request page, the answer (plain, htmx-free form and
through the outbox, once), refusals beside their field, 403/404 for others, the notice on the team's home and
the team's page with its regret rate and lessons (no names)."""
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from models.clock import utcnow
from models.outcome_reviews import OutcomeReview, ask_due_reviews, review_of
from models.outbox import ClientOperation
from tests.card_world import granted_request
from tests.http.test_push import STUB_CONFIG, Device, PushServiceStub, sent

GRANTED_AT = datetime(datetime.now(timezone.utc).year, 1, 5, 10, tzinfo=timezone.utc)


@pytest.fixture
def app(make_app):
    """The app, allowed to push to a stub on loopback (tests/http/test_push.py)."""
    return make_app(**STUB_CONFIG, PUSH_TIMEOUT_SECONDS=3)


@pytest.fixture
def world(clock, session, make_team, make_member):
    """A team with a requester, a voter and a colleague; a grant of EUR 75 asked about (30 days on)."""
    clock(GRANTED_AT)
    team = make_team("Team Terug")
    world = {"team": team, "worker": make_member(team, "worker", name="Wim"),
             "voter": make_member(team, "worker", name="Vera"), "colleague": make_member(team, "worker", name="Cas")}
    world["request"] = granted_request(session, team, world["worker"], world["voter"], 7_500)
    world["second"] = granted_request(session, team, world["worker"], world["voter"], 2_500, household="H-2")
    clock(None)
    ask_due_reviews(session, GRANTED_AT + timedelta(days=31))
    session.commit()
    return world


def _page(world, request=None):
    return f"/teams/{world['team'].id}/aanvragen/{(request or world['request']).id}"


def _review(session, world):
    session.expire_all()
    return review_of(session, world["request"].id)


def test_the_requester_sees_the_form_and_answers(client, session, world, login_as):
    login_as(world["worker"])
    home = client.get(f"/teams/{world['team'].id}").text
    assert "Hoe ging het? 2 aanvragen wachten op je terugblik." in home and _page(world) + "#review" in home
    page = client.get(_page(world)).text
    assert 'id="review"' in page and f'action="{_page(world)}/terugblik"' in page and 'data-outbox="review"' in page
    response = client.post(f"{_page(world)}/terugblik", data={"outcome": "partly", "lesson": "Eerst de buurt vragen."})
    assert response.status_code == 303 and response.headers["Location"] == _page(world) + "#review"
    review = _review(session, world)
    assert (review.outcome, review.lesson, review.answered_by_id) == ("partly", "Eerst de buurt vragen.",
                                                                      world["worker"].id)
    page = client.get(_page(world)).text
    assert "data-review-answered" in page and "<form" not in page.split('id="review"')[1].split("</section>")[0]
    assert "1 aanvraag wacht op je terugblik" in client.get(f"/teams/{world['team'].id}").text
    assert client.post(f"{_page(world)}/terugblik", data={"outcome": "regret"}).status_code == 422  # once


def test_others_do_not_see_the_form_and_are_refused(client, session, world, login_as):
    login_as(world["colleague"])
    assert 'id="review"' not in client.get(_page(world)).text
    assert "wacht op je terugblik" not in client.get(f"/teams/{world['team'].id}").text
    assert client.post(f"{_page(world)}/terugblik", data={"outcome": "regret"}).status_code == 403
    login_as(world["worker"])
    assert client.post(f"/teams/{world['team'].id}/aanvragen/999999/terugblik",
                       data={"outcome": "helped"}).status_code == 404
    assert _review(session, world).answered_at is None


def test_a_request_without_a_review_is_404(client, session, world, login_as):
    session.delete(session.exec(select(OutcomeReview).where(OutcomeReview.request_id == world["second"].id)).one())
    session.commit()
    login_as(world["worker"])
    assert client.post(f"{_page(world, world['second'])}/terugblik", data={"outcome": "helped"}).status_code == 404


@pytest.mark.parametrize("data, field", [({"lesson": "Geen keuze"}, "outcome"),
                                         ({"outcome": "helped", "lesson": "Bel 06-12345678"}, "lesson")])
def test_a_refusal_stands_beside_its_field(client, session, world, login_as, data, field):
    login_as(world["worker"])
    response = client.post(f"{_page(world)}/terugblik", data=data)
    assert response.status_code == 422 and f'id="{field}-error"' in response.text
    assert _review(session, world).answered_at is None


def test_an_answer_from_the_outbox_is_applied_once(client, session, world, login_as):
    login_as(world["worker"])
    operation = {"Teambudget-Operation": str(uuid.uuid4()), "Accept": "application/json"}
    data = {"outcome": "regret", "lesson": "Te snel besloten."}
    first = client.post(f"{_page(world)}/terugblik", data=data, headers=operation)
    again = client.post(f"{_page(world)}/terugblik", data=data, headers=operation)
    assert first.status_code == again.status_code == 200 and first.json == again.json
    assert first.json["redirect"] == _page(world)
    assert again.headers.get("Teambudget-Operation-Replayed") == "true"
    assert _review(session, world).outcome == "regret"
    assert len(session.exec(select(ClientOperation).where(ClientOperation.kind == "review")).all()) == 1
    refused = client.post(f"{_page(world)}/terugblik", data={"outcome": "nope"},
                          headers={"Teambudget-Operation": str(uuid.uuid4()), "Accept": "application/json"})
    assert refused.status_code == 422 and refused.json["field"] is None  # answered already: the whole review


def test_the_team_page_shows_the_rate_and_lessons_without_names(client, session, world, login_as):
    login_as(world["worker"])
    client.post(f"{_page(world)}/terugblik", data={"outcome": "regret", "lesson": "Eerst het wijkteam bellen."})
    login_as(world["colleague"])
    page = client.get(f"/teams/{world['team'].id}/terugblik")
    assert page.status_code == 200
    assert "Eerst het wijkteam bellen." in page.text and "Wim" not in page.text
    assert "100%" in page.text and "Meer dan de 20% die de werkwijze toestaat" in page.text
    assert "Terugblik van het team" in client.get(f"/teams/{world['team'].id}").text


def test_the_team_page_is_for_its_members_only(client, session, world, login_as, make_team, make_member):
    outsider = make_member(make_team("Team Ander"), "worker")
    login_as(outsider)
    assert client.get(f"/teams/{world['team'].id}/terugblik").status_code == 404


def test_the_reminder_command_asks_due_reviews(app, session, world, clock):
    clock(GRANTED_AT + timedelta(days=31))
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert "0 outcome review(s) asked." in result.output  # asked already by the world
    session.delete(session.exec(select(OutcomeReview).where(OutcomeReview.request_id == world["second"].id)).one())
    session.commit()
    assert "1 outcome review(s) asked." in app.test_cli_runner().invoke(args=["send-reminders"]).output
    assert utcnow() > GRANTED_AT


def test_the_requester_is_pushed_once_naming_team_amount_and_category(app, client, session, world, login_as, clock):
    clock(GRANTED_AT + timedelta(days=31))
    stub = PushServiceStub()
    try:
        devices = {name: Device(stub, name) for name in ("worker", "voter")}
        for name, device in devices.items():
            login_as(world[name])
            assert client.post("/meldingen/aanmelden", json=device.json).status_code == 200
        sent(app)
        session.delete(review_of(session, world["second"].id))
        session.commit()
        assert "1 outcome review(s) asked." in app.test_cli_runner().invoke(args=["send-reminders"]).output
        assert [message["path"] for message in stub.received] == ["/push/worker"]  # the requester only
        payload = devices["worker"].decrypt(stub.received[0])
        assert payload["title"] == "Hoe ging het met €\xa025,00 voor boodschappen en leefgeld?"
        assert payload["body"].startswith("Team Terug:") and "Wim" not in json.dumps(payload)
        assert payload["url"] == _page(world, world["second"])
        assert "0 outcome review(s) asked." in app.test_cli_runner().invoke(args=["send-reminders"]).output
        assert len(stub.received) == 1
    finally:
        stub.close()
