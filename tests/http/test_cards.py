"""Cards over HTTP: the coordinator's batch (download freezes it, execute once), the worker's card on the
request page, and the client's one-time handover link (once, 24 hours, rate-limited, nothing personal).
"""
from datetime import timedelta

import pytest
from sqlmodel import select

from models.batches import LoadBatch
from models.cards import Card, CardState
from models.handover import CardHandover
from models.ledger import Entry
from tests.card_world import SEPA_CONFIG, card_on, granted_request, loaded, municipality_id


@pytest.fixture
def app(make_app):
    """The app with the foundation's and the card bank's accounts configured."""
    return make_app(**SEPA_CONFIG)


@pytest.fixture
def world(session, make_team, make_member):
    team = make_team("Team Kaart")
    people = {"worker": make_member(team, "worker", name="Wim Werker"), "voter": make_member(team, "worker", name="Vera"),
              "coordinator": make_member(team, "coordinator", name="Cora")}
    request = granted_request(session, team, people["worker"], people["voter"], 6_000, household="D-2026-0042")
    return {"team": team, "request": request, **people}


def _batch_with_card(session, world, client):
    card = card_on(session, world["team"], world["request"], world["coordinator"])
    response = client.post("/beheer/kaarten/opdrachten", data={"card_id": card.id, f"top_up_{world['team'].id}": "60"})
    assert response.status_code == 303
    return card, session.exec(select(LoadBatch)).one()


def test_coordinator_sees_the_needed_top_up(client, session, world, login_as):
    card_on(session, world["team"], world["request"], world["coordinator"])
    login_as(world["coordinator"])
    page = client.get("/beheer/kaarten")
    assert page.status_code == 200
    assert 'value="60,00"' in page.text and "eindigend op 1234" in page.text


def test_the_overview_reads_the_same_number_of_statements_for_one_team_or_four(
        app, client, session, world, login_as, make_team, make_member):
    """The coordinator's overview reads every team at once, not team by team."""
    from sqlalchemy import event

    from models.teams import Municipality
    card_on(session, world["team"], world["request"], world["coordinator"])
    login_as(world["coordinator"])
    engine, sent = app.extensions["engine"], []
    count = lambda *_args: sent.append(1)  # noqa: E731

    def statements_of_overview():
        sent.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            page = client.get("/beheer/kaarten")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert page.status_code == 200
        return len(sent), page.text

    one_team, _page = statements_of_overview()
    municipality = session.get(Municipality, municipality_id(session, world["team"]))
    for n in range(3):
        team = make_team(f"Team {n}", municipality=municipality)
        worker, voter = make_member(team, "worker", name=f"W{n}"), make_member(team, "worker", name=f"V{n}")
        card_on(session, team, granted_request(session, team, worker, voter, 2_000 + n, household=f"H-{n}"),
                world["coordinator"], last_four=f"900{n}")
    four_teams, page = statements_of_overview()
    assert "eindigend op 9002" in page and 'value="20,02"' in page
    assert four_teams == one_team


def test_download_freezes_the_batch_and_execute_posts_once(client, session, world, login_as):
    login_as(world["coordinator"])
    card, batch = _batch_with_card(session, world, client)
    first = client.post(f"/beheer/kaarten/opdrachten/{batch.id}/download")
    assert first.status_code == 200 and first.mimetype == "application/xml"
    assert f"TB-{world['team'].id}-{world['request'].id}".encode() in first.data
    assert b"Wim" not in first.data and b"D-2026" not in first.data
    again = client.post(f"/beheer/kaarten/opdrachten/{batch.id}/download")
    assert again.data == first.data
    assert client.post(f"/beheer/kaarten/opdrachten/{batch.id}/annuleren").status_code == 422

    assert client.post(f"/beheer/kaarten/opdrachten/{batch.id}/uitgevoerd").status_code == 303
    assert client.post(f"/beheer/kaarten/opdrachten/{batch.id}/uitgevoerd").status_code == 422
    session.expire_all()
    assert session.get(Card, card.id).state == CardState.LOADED
    assert len(session.exec(select(Entry).where(Entry.memo.like("Lading%"))).all()) == 1


def test_execute_before_download_is_refused(client, session, world, login_as):
    login_as(world["coordinator"])
    _card, batch = _batch_with_card(session, world, client)
    assert client.post(f"/beheer/kaarten/opdrachten/{batch.id}/uitgevoerd").status_code == 422


def test_download_without_bank_settings_says_so(make_app, session, world):
    bare = make_app()
    client = bare.test_client()
    from models.sign_in import start_login_session
    login = start_login_session(session, world["coordinator"].id)
    session.commit()
    with client.session_transaction() as cookie:
        cookie.update({"_user_id": str(world["coordinator"].id), "_fresh": True, "login_key": login.key})
    _card, batch = _batch_with_card(session, world, client)
    response = client.post(f"/beheer/kaarten/opdrachten/{batch.id}/download")
    assert response.status_code == 422 and "SEPA_DEBTOR_IBAN" in response.text


def test_register_card_refuses_a_full_card_number(client, session, world, login_as):
    login_as(world["coordinator"])
    team_id = world["team"].id
    response = client.post(f"/beheer/kaarten/teams/{team_id}", data={"reference": "K-1", "last_four": "4111111111111111"})
    assert response.status_code == 422
    assert session.exec(select(Card)).first() is None
    # the message sits beside the field that is wrong, the field points to it, and what was typed stays
    html = response.text
    assert f'id="last_four_{team_id}-error">Vul alleen de laatste vier cijfers' in html
    assert f'aria-describedby="last_four_{team_id}-error"' in html and 'value="K-1"' in html


@pytest.mark.parametrize("typed", ["0,00", "0.00", "€ 0", ""])
def test_a_top_up_of_zero_is_no_top_up_however_it_is_typed(client, session, world, login_as, typed):
    card = card_on(session, world["team"], world["request"], world["coordinator"])
    login_as(world["coordinator"])
    response = client.post("/beheer/kaarten/opdrachten", data={"card_id": card.id, f"top_up_{world['team'].id}": typed})
    assert response.status_code == 422  # the load needs a top-up first: refused by the batch rules, not by the amount
    assert "groter zijn dan nul" not in response.text and session.exec(select(LoadBatch)).first() is None


def _handover_token(client, session, world, login_as):
    card = card_on(session, world["team"], world["request"], world["coordinator"])
    loaded(session, world["team"], [card], world["coordinator"])
    login_as(world["worker"])
    page = client.post(f"/teams/{world['team'].id}/aanvragen/{world['request'].id}/kaart/overhandigen")
    assert page.status_code == 200 and "<svg" in page.text
    link = page.text.split('id="handover-link" type="text" value="')[1].split('"')[0]
    with client.session_transaction() as cookie:
        cookie.clear()  # the client has no account
    return link.split("/kaart/")[1], card


def test_handover_link_works_once_and_shows_nothing_personal(client, session, world, login_as):
    token, card = _handover_token(client, session, world, login_as)
    page = client.get(f"/kaart/{token}")
    assert page.status_code == 200
    assert "1234" in page.text and "€\xa060,00" in page.text and "Boodschappen" in page.text
    assert "Wim" in page.text  # whom to ask: the worker's first name only (tests/http/test_handover_page.py)
    for personal in ("Werker", "Team Kaart", "D-2026-0042", "Vader met twee kinderen", "Cora"):
        assert personal not in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert session.exec(select(CardHandover.token_hash)).one() != token

    thanks = client.post(f"/kaart/{token}")
    assert thanks.status_code == 200 and "Dank je wel" in thanks.text and "€\xa060,00" in thanks.text
    session.expire_all()
    assert session.get(Card, card.id).state == CardState.HANDED_OVER
    reopened = client.get(f"/kaart/{token}")  # still says what it was, and plainly that it was confirmed
    assert reopened.status_code == 200 and "al bevestigd" in reopened.text and "Ik heb de kaart gekregen" not in reopened.text
    again = client.post(f"/kaart/{token}")
    assert again.status_code == 200 and "al bevestigd" in again.text
    session.expire_all()
    assert session.get(Card, card.id).state == CardState.HANDED_OVER


def test_handover_link_expires_after_a_day(client, session, world, login_as):
    token, _card = _handover_token(client, session, world, login_as)
    handover = session.exec(select(CardHandover)).one()
    handover.expires_at -= timedelta(hours=24, seconds=1)
    session.add(handover)
    session.commit()
    response = client.get(f"/kaart/{token}")
    assert response.status_code == 410 and "verlopen" in response.text


def test_handover_link_is_rate_limited(client):
    statuses = [client.get(f"/kaart/geraden-{number}").status_code for number in range(22)]
    assert set(statuses[:20]) == {410} and statuses[-1] == 429


def test_request_page_shows_the_card_and_polls_it(client, session, world, login_as):
    card_on(session, world["team"], world["request"], world["coordinator"])
    login_as(world["worker"])
    url = f"/teams/{world['team'].id}/aanvragen/{world['request'].id}"
    page = client.get(url)
    assert page.status_code == 200 and 'id="request-card"' in page.text and "eindigend op 1234" in page.text
    live = client.get(url + "/kaart")
    assert live.status_code == 200
    assert client.get(url + "/kaart", headers={"If-None-Match": live.headers["ETag"]}).status_code == 304


def test_only_the_requester_takes_a_card(client, session, world, login_as):
    from models.cards import register_card
    card = register_card(session, world["team"], "K-5", "5555", actor_id=world["coordinator"].id)
    session.commit()
    login_as(world["voter"])
    url = f"/teams/{world['team'].id}/aanvragen/{world['request'].id}/kaart"
    refused = client.post(url, data={"card_id": card.id})
    assert refused.status_code == 422 and "Alleen de aanvrager pakt een kaart." in refused.text
    login_as(world["worker"])
    assert client.post(url, data={"card_id": card.id}).status_code == 303
    session.expire_all()
    assert session.get(Card, card.id).state == CardState.RESERVED


def test_the_card_choice_shows_only_when_the_requester_may_take_a_card(client, session, world, login_as):
    """The stock is offered exactly when models.cards.reserve_card would allow it: not to others, and not
    once a card was loaded for the request (spent, here), however many cards wait on the shelf."""
    from models.cards import mark_handed_over, mark_spent, register_card
    register_card(session, world["team"], "K-7", "7777", actor_id=world["coordinator"].id)
    session.commit()
    url = f"/teams/{world['team'].id}/aanvragen/{world['request'].id}"
    login_as(world["voter"])
    assert 'id="card_id"' not in client.get(url).text
    login_as(world["worker"])
    assert 'id="card_id"' in client.get(url).text
    card = card_on(session, world["team"], world["request"], world["coordinator"])
    loaded(session, world["team"], [card], world["coordinator"])
    mark_handed_over(session, session.get(Card, card.id))
    mark_spent(session, session.get(Card, card.id), actor_id=world["coordinator"].id)
    session.commit()
    page = client.get(url).text
    assert 'data-card-state="spent"' in page and 'id="card_id"' not in page


def test_a_refused_card_choice_shows_the_request_page_or_only_its_card_part(client, session, world, login_as):
    """A plain form gets the whole request page back with the message; an htmx swap only the card part."""
    from models.cards import register_card
    register_card(session, world["team"], "K-6", "6666", actor_id=world["coordinator"].id)
    session.commit()
    login_as(world["worker"])
    url = f"/teams/{world['team'].id}/aanvragen/{world['request'].id}/kaart"
    page = client.post(url, data={"card_id": "0"})
    assert page.status_code == 422 and "<main" in page.text and "<h1" in page.text
    assert 'id="card_id-error" role="alert">Kies een kaart.' in page.text and 'aria-invalid="true"' in page.text
    part = client.post(url, data={"card_id": "0"}, headers={"HX-Request": "true", "HX-Request-Type": "partial"})
    assert part.status_code == 422 and part.text.lstrip().startswith("<section id=\"request-card\"")
    assert "Kies een kaart." in part.text


def test_coordinator_takes_back_a_card_and_refuses_an_unknown_action(client, session, world, login_as):
    card = card_on(session, world["team"], world["request"], world["coordinator"])
    loaded(session, world["team"], [card], world["coordinator"])
    login_as(world["coordinator"])
    unknown = client.post(f"/beheer/kaarten/{card.id}", data={"action": "melt"})
    assert unknown.status_code == 422 and "Dat kan niet met deze kaart." in unknown.text
    bad = client.post(f"/beheer/kaarten/{card.id}", data={"action": "return", "remaining": "twaalf"})
    assert bad.status_code == 422
    session.expire_all()
    assert session.get(Card, card.id).state == CardState.LOADED
    assert client.post(f"/beheer/kaarten/{card.id}", data={"action": "return", "remaining": "€ 0"}).status_code == 303
    session.expire_all()
    assert session.get(Card, card.id).state == CardState.RETURNED
