"""Helpers for the loan tests (unit and HTTP): a granted loan, and its card handed over to the client.

Each helper acts as a view would (the verb, then one commit) and returns what it made.
"""
from sqlmodel import select

from models.cards import mark_handed_over
from models.decisions import decide
from models.members import active_membership
from models.money import cents_to_input
from models.requests import DraftInput, post_request, save_draft
from models.teams import CostCategory, Team
from models.votes import cast_vote
from tests.card_world import SECRET, card_on, loaded, municipality_id, with_categories


def granted_loan(session, team, requester, voter, amount_cents, household="L-1"):
    """A loan request of `requester`, granted `amount_cents` by `voter` (the team's quorum is set to 1)."""
    with_categories(session, team)
    team = session.get(Team, team.id)
    team.quorum = 1
    session.add(team)
    category_id = session.exec(select(CostCategory.id).where(
        CostCategory.municipality_id == municipality_id(session, team), CostCategory.code == "furnishing")).one()
    draft = save_draft(session, team, active_membership(session, requester.id, team.id), DraftInput(
        amount=cents_to_input(amount_cents), cost_category_id=category_id, situation="Koelkast kapot.",
        prevents="Bederf van eten.", household_reference=household, kind="loan"), household_secret=SECRET)
    post_request(session, draft, team, requester.id)
    cast_vote(session, draft, active_membership(session, voter.id, team.id), "approve")
    decide(session, draft, team)
    session.commit()
    return draft


def lent_out(session, team, request, coordinator, last_four="4321"):
    """The loan's card reserved, loaded in an executed batch and handed over to the client; returns the card."""
    card = card_on(session, team, request, coordinator, last_four=last_four)
    loaded(session, team, [card], coordinator)
    mark_handed_over(session, card)
    session.commit()
    return card
