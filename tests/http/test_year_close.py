"""Cancelling a grant and closing a year over HTTP: the checklist with an action per blocker, cancels by the
requester and the coordinator, carry-over, the close (not before the year ended, not with blockers), and the
year statement against a small year computed by hand.
"""
import csv
import io
from datetime import date, datetime, timezone

import pytest
from sqlmodel import select

from models.cards import Card, CardState, mark_handed_over, mark_spent, return_card
from models.clock import utcnow
from models.decisions import decide
from models.ledger import AccountKind, accounts_out_of_balance, balance_cents
from models.loans import record_repayment
from models.members import active_membership
from models.receipts import Receipt
from models.requests import RequestStatus, SpendRequest
from models.teams import BudgetYear, Team
from models.votes import cast_vote
from tests.card_world import SEPA_CONFIG, card_on, granted_request, loaded, municipality_id


@pytest.fixture
def app(make_app):
    """The app with the foundation's and the card bank's accounts configured."""
    return make_app(**SEPA_CONFIG)


@pytest.fixture
def world(session, make_team, make_member):
    """A team of this year with a requester, a voter, a coordinator; a granted request without a card."""
    team = make_team("Team Sluit", annual_budget_cents=250_000)
    people = {"worker": make_member(team, "worker", name="Wim Werker"),
              "voter": make_member(team, "worker", name="Vera"),
              "coordinator": make_member(team, "coordinator", name="Cora")}
    year = session.exec(select(BudgetYear).where(BudgetYear.municipality_id == municipality_id(session, team))).one()
    request = granted_request(session, team, people["worker"], people["voter"], 6_000, household="H-1")
    return {"team": team, "year": year, "request": request, **people}


def _next_year(session, year):
    following = BudgetYear(municipality_id=year.municipality_id, year=year.year + 1,
                           starts_on=date(year.year + 1, 1, 1), ends_on=date(year.year + 1, 12, 31))
    session.add(following)
    session.commit()
    return following


def _after_the_year(clock, year):
    clock(datetime(year.year + 1, 1, 5, 9, tzinfo=timezone.utc))


def _request_page(world):
    return f"/teams/{world['team'].id}/aanvragen/{world['request'].id}"


# --- cancelling a grant ----------------------------------------------------------------------------------

def test_the_requester_cancels_a_grant_from_the_request_page(client, session, world, login_as):
    card = card_on(session, world["team"], world["request"], world["coordinator"])
    login_as(world["worker"])
    page = client.get(_request_page(world)).text
    assert "Toekenning annuleren" in page and f"{_request_page(world)}/annuleren" in page
    response = client.post(f"{_request_page(world)}/annuleren", data={"reason": "De verhuurder wacht nog."})
    assert response.status_code == 303 and response.headers["Location"] == _request_page(world)
    session.expire_all()
    assert session.get(SpendRequest, world["request"].id).status == RequestStatus.CANCELLED
    assert session.get(Card, card.id).state == CardState.IN_STOCK
    page = client.get(_request_page(world)).text
    assert "toekenning geannuleerd" in page and "De verhuurder wacht nog." in page  # the timeline
    assert "Toekenning annuleren" not in page


def test_cancel_without_a_reason_shows_the_message_beside_the_field(client, session, world, login_as):
    login_as(world["worker"])
    response = client.post(f"{_request_page(world)}/annuleren", data={"reason": "  "})
    assert response.status_code == 422
    assert 'id="reason-error"' in response.text and 'aria-describedby="reason-error"' in response.text
    session.expire_all()
    assert session.get(SpendRequest, world["request"].id).status == RequestStatus.GRANTED


def test_cancel_refused_once_the_card_is_loaded(client, session, world, login_as):
    card = card_on(session, world["team"], world["request"], world["coordinator"])
    loaded(session, world["team"], [card], world["coordinator"])
    login_as(world["worker"])
    assert "Toekenning annuleren" not in client.get(_request_page(world)).text
    response = client.post(f"{_request_page(world)}/annuleren", data={"reason": "Niet meer nodig."})
    assert response.status_code == 422 and "geladen" in response.text
    session.expire_all()
    assert session.get(SpendRequest, world["request"].id).status == RequestStatus.GRANTED


def test_a_colleague_cannot_cancel_and_a_stranger_does_not_find_it(client, session, world, login_as, make_team,
                                                                    make_member):
    login_as(world["voter"])
    assert "Toekenning annuleren" not in client.get(_request_page(world)).text
    assert client.post(f"{_request_page(world)}/annuleren", data={"reason": "Weg ermee."}).status_code == 422
    stranger = make_member(make_team("Team Vreemd"), "worker")
    login_as(stranger)
    assert client.post(f"{_request_page(world)}/annuleren", data={"reason": "Weg ermee."}).status_code == 404
    other_coordinator = make_member(make_team("Team Ver"), "coordinator")
    login_as(other_coordinator)
    response = client.post(f"/beheer/jaarafsluiting/aanvragen/{world['request'].id}/annuleren",
                           data={"reason": "Weg ermee."})
    assert response.status_code == 404
    login_as(world["worker"])
    assert client.post(f"/beheer/jaarafsluiting/aanvragen/{world['request'].id}/annuleren",
                       data={"reason": "Weg ermee."}).status_code == 403
    session.expire_all()
    assert session.get(SpendRequest, world["request"].id).status == RequestStatus.GRANTED


def test_the_coordinator_cancels_from_the_checklist(client, session, world, login_as):
    login_as(world["coordinator"])
    response = client.post(f"/beheer/jaarafsluiting/aanvragen/{world['request'].id}/annuleren",
                           data={"reason": "Dubbel aangevraagd."})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/beheer/jaarafsluiting/{world['year'].id}"
    session.expire_all()
    assert session.get(SpendRequest, world["request"].id).status == RequestStatus.CANCELLED
    assert balance_cents(session, world["team"].id, world["year"].id, AccountKind.AVAILABLE) == 250_000


def test_a_refused_cancel_on_the_checklist_stands_beside_its_grant(client, session, world, login_as):
    login_as(world["coordinator"])
    response = client.post(f"/beheer/jaarafsluiting/aanvragen/{world['request'].id}/annuleren", data={"reason": ""})
    assert response.status_code == 422
    assert f'id="request_{world["request"].id}-error"' in response.text


# --- the checklist and the close ---------------------------------------------------------------------------

def test_the_checklist_shows_each_blocker_with_its_action(client, session, world, login_as):
    team, worker, voter, coordinator = world["team"], world["worker"], world["voter"], world["coordinator"]
    open_request = SpendRequest(team_id=team.id, requester_id=worker.id, status="open", amount_cents=4_000,
                                situation="s", prevents="p", posted_at=utcnow(), budget_year_id=world["year"].id)
    session.add(open_request)
    session.commit()
    loaded_request = granted_request(session, team, worker, voter, 3_000, household="H-2")
    card = card_on(session, team, loaded_request, coordinator, last_four="5555")
    loaded(session, team, [card], coordinator)
    waiting = granted_request(session, team, worker, voter, 2_000, household="H-3")
    in_batch = card_on(session, team, waiting, coordinator, last_four="6666")
    from models.batches import create_batch
    create_batch(session, municipality_id(session, team), card_ids=[in_batch.id], top_ups={team.id: 2_000},
                 actor_id=coordinator.id)
    session.commit()
    login_as(coordinator)
    page = client.get(f"/beheer/jaarafsluiting/{world['year'].id}").text
    assert f'data-request="{open_request.id}"' in page and "aangevraagd door Wim Werker" in page
    assert "vraag de aanvrager de aanvraag in te trekken" in page
    assert f"/beheer/jaarafsluiting/aanvragen/{world['request'].id}/annuleren" in page
    assert "/overdragen" not in page and "kan zodra dat jaar is geopend" in page  # no next year yet
    assert "De kaart zit in een opdracht" in page  # the grant whose card is in the batch: wait for it
    assert "kaart eindigend op 5555" in page and 'href="/beheer/kaarten"' in page
    assert 'data-blocker="open_batch"' in page
    assert "Afsluiten kan na" in page
    _next_year(session, world["year"])
    page = client.get(f"/beheer/jaarafsluiting/{world['year'].id}").text
    assert f"/beheer/jaarafsluiting/aanvragen/{world['request'].id}/overdragen" in page


def test_the_coordinator_carries_a_grant_over(client, session, world, login_as):
    following = _next_year(session, world["year"])
    card = card_on(session, world["team"], world["request"], world["coordinator"])
    login_as(world["coordinator"])
    response = client.post(f"/beheer/jaarafsluiting/aanvragen/{world['request'].id}/overdragen")
    assert response.status_code == 303
    session.expire_all()
    request = session.get(SpendRequest, world["request"].id)
    assert request.carried_to_year_id == following.id and request.budget_year_id == world["year"].id
    assert session.get(Card, card.id).budget_year_id == following.id
    team_id = world["team"].id
    assert balance_cents(session, team_id, world["year"].id, AccountKind.RESERVED) == 0
    assert balance_cents(session, team_id, following.id, AccountKind.RESERVED) == 6_000
    page = client.get(f"/beheer/jaarafsluiting/{world['year'].id}").text
    assert "Niets staat meer open" in page


def test_carry_over_without_a_next_year_is_refused_on_the_checklist(client, session, world, login_as):
    login_as(world["coordinator"])
    response = client.post(f"/beheer/jaarafsluiting/aanvragen/{world['request'].id}/overdragen")
    assert response.status_code == 422 and "Open eerst het volgende budgetjaar" in response.text


def test_close_refused_before_the_year_ended(client, session, world, login_as):
    from models.grants import cancel_grant
    cancel_grant(session, world["request"], world["worker"], "Niet meer nodig.")
    session.commit()
    login_as(world["coordinator"])
    response = client.post(f"/beheer/jaarafsluiting/{world['year'].id}/afsluiten")
    assert response.status_code == 422 and "kan pas worden afgesloten als het voorbij is" in response.text
    session.expire_all()
    assert session.get(BudgetYear, world["year"].id).closed_at is None


def test_close_refused_with_blockers(client, session, world, login_as, clock):
    _after_the_year(clock, world["year"])
    login_as(world["coordinator"])
    page = client.get(f"/beheer/jaarafsluiting/{world['year'].id}").text
    assert "Handel eerst af wat hierboven open staat" in page and "afsluiten</button>" not in page
    response = client.post(f"/beheer/jaarafsluiting/{world['year'].id}/afsluiten")
    assert response.status_code == 422 and "Er staat nog iets open" in response.text
    session.expire_all()
    assert session.get(BudgetYear, world["year"].id).closed_at is None


def test_foreign_budget_year_is_not_found(client, session, world, login_as, make_team, make_member):
    other = make_member(make_team("Team Ver"), "coordinator")
    login_as(other)
    assert client.get(f"/beheer/jaarafsluiting/{world['year'].id}").status_code == 404
    assert client.post(f"/beheer/jaarafsluiting/{world['year'].id}/afsluiten").status_code == 404
    assert client.get(f"/beheer/jaarafsluiting/{world['year'].id}/overzicht.csv").status_code == 404


def _decided(session, team, requester, voter, amount_cents, household, choice="approve", vote_cents=None,
             kind="gift"):
    """A posted request of `requester` on which `voter` voted `choice` (quorum 1), decided."""
    from models.money import cents_to_input
    from models.requests import DraftInput, post_request, save_draft
    from tests.card_world import SECRET, with_categories
    from models.teams import CostCategory
    with_categories(session, team)
    team = session.get(Team, team.id)
    category_id = session.exec(select(CostCategory.id).where(
        CostCategory.municipality_id == municipality_id(session, team), CostCategory.code == "other")).one()
    draft = save_draft(session, team, active_membership(session, requester.id, team.id), DraftInput(
        amount=cents_to_input(amount_cents), cost_category_id=category_id, situation="Alleenstaande ouder.",
        prevents="Schuld.", household_reference=household, kind=kind), household_secret=SECRET)
    post_request(session, draft, team, requester.id)
    cast_vote(session, draft, active_membership(session, voter.id, team.id), choice, amount_cents=vote_cents,
              alternative_name="Voedselbank" if choice == "alternative" else None)
    decide(session, draft, team)
    session.commit()
    return draft


def _spent(session, team, request, coordinator, last_four, remaining_cents=None):
    card = card_on(session, team, request, coordinator, last_four=last_four)
    loaded(session, team, [card], coordinator)
    card = session.get(Card, card.id)
    mark_handed_over(session, card)
    if remaining_cents is None:
        mark_spent(session, card, actor_id=coordinator.id)
    else:
        return_card(session, card, remaining_cents, actor_id=coordinator.id)
    session.commit()
    return card


def test_the_statement_of_a_small_year_computed_by_hand(client, session, world, login_as, clock):
    """Budget 2,500; A 100 granted and spent (a receipt of 95); B asked 80, granted 60, card back with 20;
    C a loan of 50, spent, 30 repaid; D 70 cancelled; E 40 carried over; one each rejected, withdrawn,
    expired, solved with another provision. So: granted 250, loaded 210, returned 20, spent 140, lent 50,
    repaid 30, outstanding 20, carried out 40, unspent 2,500 + 30 − 140 − 50 − 40 = 2,300."""
    team, worker, voter, coordinator, year = (world["team"], world["worker"], world["voter"], world["coordinator"],
                                              world["year"])
    from models.grants import cancel_grant
    from models.requests import withdraw_request
    from models.year_close import carry_over
    cancel_grant(session, world["request"], worker, "Niet meer nodig.")  # the world's grant: one more cancelled
    session.commit()
    a = _decided(session, team, worker, voter, 10_000, "H-A")
    _spent(session, team, a, coordinator, "1001")
    session.add(Receipt(request_id=a.id, team_id=team.id, added_by_id=worker.id, file_name="a" * 32, width=1,
                        height=1, amount_cents=9_500))
    b = _decided(session, team, worker, voter, 8_000, "H-B", "approve_lower", 6_000)
    _spent(session, team, b, coordinator, "1002", remaining_cents=2_000)
    c = _decided(session, team, worker, voter, 5_000, "H-C", "loan", 5_000, kind="loan")
    _spent(session, team, c, coordinator, "1003")
    record_repayment(session, session.get(SpendRequest, c.id), 3_000, utcnow().date(), worker.id)
    d = _decided(session, team, worker, voter, 7_000, "H-D")
    cancel_grant(session, d, coordinator, "Dubbel.")
    e = _decided(session, team, worker, voter, 4_000, "H-E")
    carry_over(session, e, _next_year(session, year), coordinator)
    _decided(session, team, worker, voter, 1_000, "H-F", "reject")
    _decided(session, team, worker, voter, 1_000, "H-I", "alternative")
    withdrawn = SpendRequest(team_id=team.id, requester_id=worker.id, status="open", amount_cents=900, situation="s",
                             prevents="p", posted_at=utcnow(), budget_year_id=year.id)
    expired = SpendRequest(team_id=team.id, requester_id=worker.id, status="expired", amount_cents=800,
                           situation="s", prevents="p", posted_at=utcnow(), budget_year_id=year.id)
    session.add_all([withdrawn, expired])
    session.flush()
    withdraw_request(session, withdrawn, worker.id)
    session.commit()

    _after_the_year(clock, year)
    login_as(coordinator)
    page = client.get(f"/beheer/jaarafsluiting/{year.id}").text
    assert "Niets staat meer open" in page and "Voorlopig" in page
    response = client.post(f"/beheer/jaarafsluiting/{year.id}/afsluiten")
    assert response.status_code == 303
    session.expire_all()
    assert session.get(BudgetYear, year.id).closed_at is not None
    assert accounts_out_of_balance(session) == []
    for kind in (AccountKind.AVAILABLE, AccountKind.RESERVED, AccountKind.BANK, AccountKind.CARDS):
        assert balance_cents(session, team.id, year.id, kind) == 0
    page = client.get(f"/beheer/jaarafsluiting/{year.id}").text
    assert "Dit budgetjaar is afgesloten" in page and "Voorlopig" not in page
    rows = list(csv.reader(io.StringIO(client.get(f"/beheer/jaarafsluiting/{year.id}/overzicht.csv")
                                       .get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    heading, team_row, total = rows[0], rows[1], rows[-1]
    figures = dict(zip(heading, team_row))
    assert team_row[0] == "Team Sluit" and total[1:] == team_row[1:]  # one team: the municipality is the team
    assert {name: figures[name] for name in heading[1:13]} == {
        "Budget": "2500,00", "Toegekend": "250,00", "Op kaarten geladen": "210,00",
        "Teruggekomen van kaarten": "20,00", "Besteed volgens bonnetjes": "95,00", "Besteed": "140,00",
        "Uitgeleend": "50,00", "Terugbetaald": "30,00", "Openstaande leningen": "20,00",
        "Overgedragen uit vorig jaar": "0,00", "Overgedragen naar volgend jaar": "40,00",
        "Niet besteed (naar de gemeente)": "2300,00"}
    assert {name: figures[name] for name in heading[13:]} == {
        "toegekend (volledig)": "2", "lager bedrag": "1", "lening": "1", "andere voorziening": "1",
        "afgewezen": "1", "verlopen": "1", "ingetrokken": "1", "toekenning geannuleerd": "2"}


def test_the_checklist_and_a_refused_close_write_days_in_the_readers_language(client, session, world, login_as):
    from models.grants import cancel_grant
    cancel_grant(session, world["request"], world["worker"], "Niet meer nodig.")
    session.commit()
    login_as(world["coordinator"])
    client.set_cookie("lang", "en")
    year = world["year"].year
    page = client.get(f"/beheer/jaarafsluiting/{world['year'].id}").text
    assert f"runs from 1 Jan {year} up to and including 31 Dec {year}" in page
    assert f"Closing is possible after 31 Dec {year}." in page and f"31-12-{year}" not in page
    refused = client.post(f"/beheer/jaarafsluiting/{world['year'].id}/afsluiten")
    assert refused.status_code == 422 and f"Budget year {year} can only be closed once it has ended." in refused.text
    assert f"Closing is possible after 31 Dec {year}." in refused.text  # the day, in the reader's format
