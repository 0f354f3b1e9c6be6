"""Helpers for the card tests (unit, HTTP, browser): a granted request, a card on it, a batch executed.

Each helper acts as a view would (the verb, then one commit) and returns what it made.
"""
from sqlmodel import select

from models.batches import create_batch, execute_batch, freeze
from models.cards import register_card, reserve_card
from models.decisions import decide
from models.members import active_membership
from models.money import cents_to_input
from models.requests import DraftInput, SpendRequest, post_request, save_draft
from models.teams import CostCategory, District, Municipality, Team, add_default_cost_categories
from models.votes import cast_vote

SECRET = "test-household-secret"
SEPA_CONFIG = {
    "SEPA_DEBTOR_NAME": "Stichting Teambudget", "SEPA_DEBTOR_IBAN": "NL91ABNA0417164300",
    "SEPA_DEBTOR_BIC": "ABNANL2A", "SEPA_CREDITOR_NAME": "Kaartbank", "SEPA_CREDITOR_IBAN": "NL44RABO0123456789",
    "SEPA_CREDITOR_BIC": "RABONL2U"}


def municipality_id(session, team):
    """The team's municipality id."""
    return session.get(District, team.district_id).municipality_id


def with_categories(session, team):
    """Give the team's municipality the default cost categories (once)."""
    municipality = session.get(Municipality, municipality_id(session, team))
    if not session.exec(select(CostCategory).where(CostCategory.municipality_id == municipality.id)).first():
        add_default_cost_categories(session, municipality)
        session.commit()


def granted_request(session, team, requester, voter, amount_cents, household="H-1"):
    """A request of `requester`, granted `amount_cents` by `voter` (the team's quorum is set to 1)."""
    with_categories(session, team)
    team = session.get(Team, team.id)
    team.quorum = 1
    session.add(team)
    category_id = session.exec(select(CostCategory.id).where(
        CostCategory.municipality_id == municipality_id(session, team), CostCategory.code == "groceries")).one()
    draft = save_draft(session, team, active_membership(session, requester.id, team.id), DraftInput(
        amount=cents_to_input(amount_cents), cost_category_id=category_id, situation="Vader met twee kinderen.",
        prevents="Afsluiting.", household_reference=household), household_secret=SECRET)
    post_request(session, draft, team, requester.id)
    cast_vote(session, draft, active_membership(session, voter.id, team.id), "approve")
    decide(session, draft, team)
    session.commit()
    return draft


def card_on(session, team, request, coordinator, last_four="1234"):
    """A new card of the team, reserved for the request."""
    card = register_card(session, team, f"K-{last_four}-{request.id}", last_four, actor_id=coordinator.id)
    reserve_card(session, card, request, actor_id=request.requester_id)
    session.commit()
    return card


def loaded(session, team, cards, coordinator, top_up_cents=None):
    """A batch of the cards' loads with the top-up they need, downloaded and executed; returns the batch."""
    total = sum(session.get(SpendRequest, card.request_id).granted_amount_cents for card in cards)
    batch = create_batch(session, municipality_id(session, team), card_ids=[card.id for card in cards],
                         top_ups={team.id: total if top_up_cents is None else top_up_cents}, actor_id=coordinator.id)
    freeze(session, batch, "<xml/>")
    execute_batch(session, batch, actor_id=coordinator.id)
    session.commit()
    return batch
