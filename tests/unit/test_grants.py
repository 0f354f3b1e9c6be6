"""Cancelling a grant, carrying one over, and the frozen year, as rules without Flask views."""
from datetime import date, datetime, timezone

import pytest
from sqlmodel import select

from models.audit import AuditEvent
from models.cards import Card, CardState, register_card, reserve_card
from models.decisions import decide
from models.grants import CANCEL_REASON_MAX, cancel_grant
from models.ledger import AccountKind, account, accounts_out_of_balance, balance_cents, post_entry, top_up
from models.members import active_membership
from models.requests import DraftInput, RequestStatus, SpendRequest, save_draft
from models.rules import RuleViolation
from models.teams import BudgetYear, Team
from models.year_close import carry_over, close_year
from tests.card_world import SECRET, card_on, granted_request, loaded, municipality_id


@pytest.fixture
def world(session, make_team, make_member):
    """A team with a requester, a voter and a coordinator; another municipality's coordinator."""
    team = make_team("Team Annuleer", annual_budget_cents=250_000)
    elsewhere = make_team("Team Elders")
    return {"team": team, "worker": make_member(team, "worker", name="Wim"),
            "voter": make_member(team, "worker", name="Vera"), "coordinator": make_member(team, "coordinator"),
            "stranger": make_member(elsewhere, "coordinator")}


def _money(session, team, year_id):
    return {kind: balance_cents(session, team.id, year_id, kind)
            for kind in (AccountKind.AVAILABLE, AccountKind.RESERVED, AccountKind.BANK)}


def _next_year(session, team):
    this = session.get(BudgetYear, session.exec(select(BudgetYear.id).where(
        BudgetYear.municipality_id == municipality_id(session, team))).first())
    following = BudgetYear(municipality_id=this.municipality_id, year=this.year + 1,
                           starts_on=date(this.year + 1, 1, 1), ends_on=date(this.year + 1, 12, 31))
    session.add(following)
    session.commit()
    return this, following


def test_cancel_grant_by_the_requester_returns_the_money_and_the_card(session, world):
    team, worker = world["team"], world["worker"]
    request = granted_request(session, team, worker, world["voter"], 12_000)
    card = card_on(session, team, request, world["coordinator"])
    before = _money(session, team, request.budget_year_id)
    cancel_grant(session, request, worker, "  De huur is al betaald door de verhuurder.  ")
    session.commit()
    after = _money(session, team, request.budget_year_id)
    assert request.status == RequestStatus.CANCELLED
    assert after[AccountKind.AVAILABLE] == before[AccountKind.AVAILABLE] + 12_000
    assert after[AccountKind.RESERVED] == before[AccountKind.RESERVED] - 12_000
    card = session.get(Card, card.id)
    assert card.state == CardState.IN_STOCK and card.request_id is None and card.budget_year_id is None
    event = session.exec(select(AuditEvent).where(AuditEvent.request_id == request.id,
                                                  AuditEvent.action == "cancelled")).one()
    assert event.actor_id == worker.id and event.detail["reason"] == "De huur is al betaald door de verhuurder."
    assert accounts_out_of_balance(session) == []


def test_cancel_grant_by_a_coordinator_of_the_municipality(session, world):
    request = granted_request(session, world["team"], world["worker"], world["voter"], 5_000)
    cancel_grant(session, request, world["coordinator"], "Niet meer nodig.")
    session.commit()
    assert request.status == RequestStatus.CANCELLED


@pytest.mark.parametrize("who", ["voter", "stranger"])
def test_cancel_grant_refused_for_others(session, world, who):
    request = granted_request(session, world["team"], world["worker"], world["voter"], 5_000)
    with pytest.raises(RuleViolation):
        cancel_grant(session, request, world[who], "Niet meer nodig.")
    session.rollback()
    assert session.get(SpendRequest, request.id).status == RequestStatus.GRANTED


@pytest.mark.parametrize("reason, fragment", [
    ("", "Schrijf op waarom"), ("   ", "Schrijf op waarom"), ("x" * (CANCEL_REASON_MAX + 1), "hoogstens"),
    ("Geld staat op NL91ABNA0417164300", "persoonsgegevens")])
def test_cancel_grant_needs_a_clean_reason(session, world, reason, fragment):
    request = granted_request(session, world["team"], world["worker"], world["voter"], 5_000)
    with pytest.raises(RuleViolation) as refused:
        cancel_grant(session, request, world["worker"], reason)
    assert refused.value.field == "reason" and fragment in str(refused.value.message)


def test_cancel_grant_refused_once_the_card_is_in_a_batch_or_loaded(session, world):
    team = world["team"]
    request = granted_request(session, team, world["worker"], world["voter"], 5_000)
    card = card_on(session, team, request, world["coordinator"])
    loaded(session, team, [card], world["coordinator"])
    with pytest.raises(RuleViolation) as refused:
        cancel_grant(session, request, world["worker"], "Niet meer nodig.")
    assert "geladen" in str(refused.value.message)


def test_cancel_grant_refused_for_a_request_that_is_not_granted(session, world):
    team, worker = world["team"], world["worker"]
    draft = save_draft(session, team, active_membership(session, worker.id, team.id), DraftInput(
        amount="50", situation="s", prevents="p", household_reference="H-9"), household_secret=SECRET)
    with pytest.raises(RuleViolation):
        cancel_grant(session, draft, worker, "Niet meer nodig.")


def test_cancel_after_a_top_up_takes_the_money_back_from_the_team_account(session, world):
    team = session.get(Team, world["team"].id)
    request = granted_request(session, team, world["worker"], world["voter"], 8_000)
    top_up(session, team, request.budget_year_id, 8_000, memo="Opwaardering")
    session.commit()
    cancel_grant(session, request, world["worker"], "Niet meer nodig.")
    session.commit()
    money = _money(session, team, request.budget_year_id)
    assert money[AccountKind.RESERVED] == 0 and money[AccountKind.BANK] == 0
    assert money[AccountKind.AVAILABLE] == 250_000


def test_a_cancelled_grant_frees_the_households_room(session, world):
    team, worker, voter = world["team"], world["worker"], world["voter"]
    first = granted_request(session, team, worker, voter, 40_000, household="H-cap")
    second = granted_request(session, team, worker, voter, 20_000, household="H-cap")
    assert second.status == RequestStatus.OPEN  # 400 + 200 is above the household cap of 500
    cancel_grant(session, first, worker, "Een ander fonds betaalt.")
    session.commit()
    decide(session, second, session.get(Team, team.id))
    session.commit()
    assert second.status == RequestStatus.GRANTED


def test_a_reserved_card_of_a_carried_grant_loads_from_the_new_year(session, world):
    team = world["team"]
    this, following = _next_year(session, team)
    request = granted_request(session, team, world["worker"], world["voter"], 6_000)
    card = card_on(session, team, request, world["coordinator"])
    carry_over(session, request, following, world["coordinator"])
    session.commit()
    assert request.carried_to_year_id == following.id and session.get(Card, card.id).budget_year_id == following.id
    assert balance_cents(session, team.id, this.id, AccountKind.CARRIED) == 6_000
    assert balance_cents(session, team.id, following.id, AccountKind.CARRIED) == -6_000
    assert balance_cents(session, team.id, following.id, AccountKind.RESERVED) == 6_000
    # released and taken again, the card still takes the money year
    from models.cards import release_card
    release_card(session, session.get(Card, card.id), actor_id=world["worker"].id)
    other = register_card(session, team, "K-NIEUW", "4321", actor_id=world["coordinator"].id)
    reserve_card(session, other, request, actor_id=world["worker"].id)
    assert other.budget_year_id == following.id
    # cancelled in the new year, its money goes back to the new year's available budget
    cancel_grant(session, request, world["worker"], "Niet meer nodig.")
    session.commit()
    assert balance_cents(session, team.id, following.id, AccountKind.AVAILABLE) == 6_000
    assert balance_cents(session, team.id, following.id, AccountKind.RESERVED) == 0


def test_carry_over_needs_a_later_year_of_the_municipality(session, world):
    team = world["team"]
    request = granted_request(session, team, world["worker"], world["voter"], 6_000)
    with pytest.raises(RuleViolation):
        carry_over(session, request, session.get(BudgetYear, request.budget_year_id), world["coordinator"])
    session.rollback()
    with pytest.raises(RuleViolation):
        carry_over(session, request, _next_year(session, team)[1], world["worker"])


def test_post_entry_refuses_a_closed_year(session, world, clock):
    team = world["team"]
    year = session.get(BudgetYear, session.exec(select(BudgetYear.id).where(
        BudgetYear.municipality_id == municipality_id(session, team))).first())
    clock(datetime(year.year + 1, 1, 2, 9, tzinfo=timezone.utc))
    close_year(session, municipality_id(session, team), year, world["coordinator"])
    session.commit()
    assert year.closed_at is not None
    assert balance_cents(session, team.id, year.id, AccountKind.TO_MUNICIPALITY) == 250_000
    with pytest.raises(RuleViolation) as refused:
        post_entry(session, team.id, [(account(session, team.id, year.id, AccountKind.FUNDING), -1),
                                      (account(session, team.id, year.id, AccountKind.AVAILABLE), 1)], memo="te laat")
    assert str(refused.value.message) == "Dit budgetjaar is afgesloten."


def test_post_entry_into_an_open_year_asks_one_query_about_the_year(session, world):
    from sqlalchemy import event

    team = world["team"]
    year_id = session.exec(select(BudgetYear.id).where(
        BudgetYear.municipality_id == municipality_id(session, team))).first()
    postings = [(account(session, team.id, year_id, AccountKind.FUNDING), -1),
                (account(session, team.id, year_id, AccountKind.AVAILABLE), 1)]
    statements = []
    engine = session.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        post_entry(session, team.id, postings, memo="test")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert sum(1 for text in statements if "FROM budgetyear" in text) == 1
