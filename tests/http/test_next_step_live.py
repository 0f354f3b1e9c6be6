"""The next step follows changes others make while the request page is open (issue 14): the live poll's
answer carries the step's slot out of band when the step differs from the one the page shows (`stap`),
and only then; a status change brings the whole outcome instead, with the step inside it."""
import re

from models.cards import Card, act_on_card
from models.grants import cancel_grant
from models.members import Member
from tests.card_world import card_on, granted_request, loaded

SLOT_OOB = '<div id="next-step-slot" aria-live="polite" hx-swap-oob="innerHTML">'


def _live_url(html):
    """The live region's poll URL as the page (or the last answer) shows it."""
    return re.search(r'id="request-live" hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")


def _poll(client, url):
    answer = client.get(url, headers={"HX-Request": "true", "HX-Request-Type": "partial"})
    assert answer.status_code == 200
    return answer.text


def _step(html):
    return html.split('data-next-step="', 1)[1].split('"', 1)[0] if 'data-next-step="' in html else None


def _granted(session, make_team, make_member):
    team = make_team("Team Oost")
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    coordinator = make_member(team, "coordinator", name="Cora")
    return team, worker, coordinator, granted_request(session, team, worker, voter, 7_500)


def test_the_live_poll_brings_the_next_step_once_the_client_confirmed(app, client, session, make_team, make_member,
                                                                      login_as):
    team, worker, coordinator, request = _granted(session, make_team, make_member)
    card = card_on(session, team, request, coordinator)
    loaded(session, team, [card], coordinator)
    login_as(worker)
    page = client.get(f"/teams/{team.id}/aanvragen/{request.id}").text
    assert _step(page) == "hand_over"
    url = _live_url(page)
    assert _step(_poll(client, url)) is None  # nothing changed: the step stays as it is

    handover = client.post(f"/teams/{team.id}/aanvragen/{request.id}/kaart/overhandigen").text
    token = handover.split('id="handover-link" type="text" value="')[1].split('"')[0].split("/kaart/")[1]
    assert app.test_client().post(f"/kaart/{token}").status_code == 200  # the client, on their own phone

    answer = _poll(client, url)
    assert _step(answer) == "photograph_receipt"
    assert "De cliënt heeft de kaart. Maak een foto van het bonnetje." in answer
    assert SLOT_OOB in answer and 'id="next-step-slot" aria-live="polite">' in page and "stap=hand_over" in url
    assert 'id="request-outcome"' not in answer  # the status is the same: the card and receipts parts stay
    # the new live region names the step now shown, so the next answer does not send it again
    assert SLOT_OOB not in _poll(client, _live_url(answer))


def test_the_live_poll_follows_the_card_through_the_coordinator(client, session, make_team, make_member, login_as):
    team, worker, coordinator, request = _granted(session, make_team, make_member)
    card = card_on(session, team, request, coordinator)
    login_as(worker)
    url = _live_url(client.get(f"/teams/{team.id}/aanvragen/{request.id}").text)
    assert "stap=wait_for_load" in url

    loaded(session, team, [card], coordinator)  # the coordinator's batch was executed
    answer = _poll(client, url)
    assert SLOT_OOB in answer and _step(answer) == "hand_over"

    act_on_card(session, session.get(Card, card.id), "block", actor_id=coordinator.id)  # before the client had it
    session.commit()
    answer = _poll(client, _live_url(answer))
    assert SLOT_OOB in answer and _step(answer) == "card_stopped"
    assert "Alles is klaar" not in answer

    act_on_card(session, session.get(Card, card.id), "return", actor_id=coordinator.id, remaining_cents=7_500)
    session.commit()
    answer = _poll(client, _live_url(answer))
    assert SLOT_OOB in answer and _step(answer) == "card_returned_unused"


def test_a_cancelled_grant_takes_the_step_away_with_the_outcome(client, session, make_team, make_member, login_as):
    team, worker, coordinator, request = _granted(session, make_team, make_member)
    login_as(worker)
    url = _live_url(client.get(f"/teams/{team.id}/aanvragen/{request.id}").text)
    cancel_grant(session, request, session.get(Member, coordinator.id), "Het huishouden verhuisde.")
    session.commit()
    answer = _poll(client, url)
    assert '<div id="request-outcome" hx-swap-oob="true">' in answer
    assert answer.count('id="next-step-slot"') == 1 and SLOT_OOB not in answer  # inside the outcome, not twice
    assert _step(answer) is None


def test_a_member_without_a_step_gets_no_slot_in_the_answer(client, session, make_team, make_member, login_as):
    team, _worker, _coordinator, request = _granted(session, make_team, make_member)
    colleague = make_member(team, "worker", name="Carla")
    login_as(colleague)
    page = client.get(f"/teams/{team.id}/aanvragen/{request.id}").text
    assert _step(page) is None and 'id="next-step-slot"' in page  # the slot waits, empty
    assert "next-step-slot" not in _poll(client, _live_url(page))
