"""The request page shows one next step first, for the member looking at it (issue 14, models/next_step.py)."""
from sqlmodel import select

from models.cards import Card, register_card
from tests.card_world import card_on, granted_request, loaded


def _page(client, request):
    page = client.get(f"/teams/{request.team_id}/aanvragen/{request.id}")
    assert page.status_code == 200
    return page.text


def _step(html):
    return html.split('data-next-step="', 1)[1].split('"', 1)[0] if 'data-next-step="' in html else None


def _before(html, *markers):
    """Whether the markers stand in this order in the page."""
    positions = [html.index(marker) for marker in markers]
    return positions == sorted(positions)


def _granted(session, make_team, make_member):
    team = make_team("Team Oost")
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    coordinator = make_member(team, "coordinator", name="Cora")
    return team, worker, voter, coordinator, granted_request(session, team, worker, voter, 7_500)


def test_a_granted_request_shows_taking_a_card_first_under_the_title(client, session, make_team, make_member, login_as):
    team, worker, _voter, coordinator, request = _granted(session, make_team, make_member)
    register_card(session, team, "K-1", "1111", actor_id=coordinator.id)
    session.commit()
    login_as(worker)
    html = _page(client, request)
    assert _step(html) == "take_card"
    # the step and the card part that does it come before what the request is about, its votes and discussion
    assert _before(html, "<h1", 'id="next-step"', 'id="request-card"', "Kaart pakken", 'id="situation-title"',
                   'id="status-title"', 'id="thread-title"')
    assert html.count('id="next-step"') == 1


def test_the_step_follows_the_card_to_the_receipt(client, session, make_team, make_member, login_as):
    team, worker, _voter, coordinator, request = _granted(session, make_team, make_member)
    card = card_on(session, team, request, coordinator)
    login_as(worker)
    assert _step(_page(client, request)) == "wait_for_load"
    loaded(session, team, [card], coordinator)
    assert _step(_page(client, request)) == "hand_over"
    from models.cards import mark_handed_over
    mark_handed_over(session, session.get(Card, card.id))
    session.commit()
    html = _page(client, request)
    assert _step(html) == "photograph_receipt"
    assert _before(html, 'id="next-step"', 'id="receipts"', "Foto van het bonnetje maken", 'id="request-card"',
                   'id="status-title"')
    assert "Nog over op de kaart: €\xa075,00" in html


def test_a_colleague_of_a_granted_request_sees_no_step(client, session, make_team, make_member, login_as):
    team, _worker, _voter, _coordinator, request = _granted(session, make_team, make_member)
    colleague = make_member(team, "worker", name="Carla")
    login_as(colleague)
    assert _step(_page(client, request)) is None  # a granted request of someone else: nothing to do


def test_an_open_request_asks_the_voter_and_tells_the_requester_to_wait(client, session, make_team, make_member, login_as):
    from models.members import active_membership
    from models.requests import DraftInput, post_request, save_draft
    from tests.card_world import SECRET, with_categories
    team = make_team("Team Oost")
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    with_categories(session, team)
    draft = save_draft(session, team, active_membership(session, worker.id, team.id), DraftInput(
        amount="40", cost_category_id=None, situation="Alleenstaande vader.", prevents="Schuld.",
        household_reference="H-9"), household_secret=SECRET)
    from models.teams import CostCategory
    draft.cost_category_id = session.exec(select(CostCategory.id)).first()
    post_request(session, draft, team, worker.id)
    session.commit()
    login_as(voter)
    html = _page(client, draft)
    assert _step(html) == "vote" and 'href="#vote-title"' in html and _before(html, 'id="next-step"', 'id="vote-title"')
    login_as(worker)
    assert _step(_page(client, draft)) == "wait_for_votes"



def test_a_handed_over_card_reported_lost_still_asks_for_the_receipt(client, session, make_team, make_member, login_as):
    from models.cards import block_card, mark_handed_over
    team, worker, _voter, coordinator, request = _granted(session, make_team, make_member)
    register_card(session, team, "K-9", "9999", actor_id=coordinator.id)  # stock it may not take: it had a card
    card = card_on(session, team, request, coordinator)
    loaded(session, team, [card], coordinator)
    mark_handed_over(session, session.get(Card, card.id))
    block_card(session, session.get(Card, card.id), "lose", actor_id=coordinator.id)
    session.commit()
    login_as(worker)
    assert _step(_page(client, request)) == "photograph_receipt"  # not "no cards": it gets no other card


def test_a_card_blocked_before_loading_lets_the_request_take_another(client, session, make_team, make_member, login_as):
    from models.cards import block_card
    team, worker, _voter, coordinator, request = _granted(session, make_team, make_member)
    card = card_on(session, team, request, coordinator)
    block_card(session, session.get(Card, card.id), "block", actor_id=coordinator.id)
    register_card(session, team, "K-2", "2222", actor_id=coordinator.id)
    session.commit()
    login_as(worker)
    assert _step(_page(client, request)) == "take_card"


def test_what_is_left_on_the_card_follows_the_card(client, session, make_team, make_member, login_as):
    from models.cards import mark_handed_over, mark_spent
    team, worker, _voter, coordinator, request = _granted(session, make_team, make_member)
    card = card_on(session, team, request, coordinator)
    login_as(worker)
    assert "data-receipt-left" not in _page(client, request)  # nothing loaded yet: nothing is left on it
    loaded(session, team, [card], coordinator)
    mark_handed_over(session, session.get(Card, card.id))
    session.commit()
    assert "Nog over op de kaart: €\xa075,00" in _page(client, request)
    mark_spent(session, session.get(Card, card.id), actor_id=coordinator.id)
    session.commit()
    assert "Nog over op de kaart: €\xa00,00" in _page(client, request)  # used up: closed, as the bank balances say
