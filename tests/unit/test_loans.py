"""Loans as rules: the agreed repayment, repayments booked into the year they came in, what is lent when
the loan card is settled, and overdue loans."""
import traceback
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from models.audit import AuditEvent
from models.cards import Card, mark_handed_over, mark_spent, return_card
from models.clock import today
from models.db import begin_write, make_engine, make_session
from models.ledger import AccountKind, Entry, Posting, accounts_out_of_balance, balance_cents
from models.loans import Repayment, agree_repayment, loan_position, overdue_loans, parse_day, record_repayment
from models.requests import SpendRequest
from models.rules import RuleViolation
from models.teams import BudgetYear
from tests.card_world import granted_request, municipality_id
from tests.loan_world import granted_loan, lent_out
from tests.racing import race


@pytest.fixture
def world(session, make_team, make_member):
    """A team with a requester, a voter, a team leader and a coordinator; a loan of EUR 200 handed over."""
    team = make_team("Team Lening", annual_budget_cents=250_000)
    world = {"team": team, "worker": make_member(team, "worker", name="Wim"),
             "voter": make_member(team, "worker", name="Vera"), "leader": make_member(team, "team_leader"),
             "coordinator": make_member(team, "coordinator")}
    world["loan"] = granted_loan(session, team, world["worker"], world["voter"], 20_000)
    world["card"] = lent_out(session, team, world["loan"], world["coordinator"])
    return world


def _available(session, world, year_id=None):
    return balance_cents(session, world["team"].id, year_id or world["loan"].budget_year_id, AccountKind.AVAILABLE)


def _next_year(session, world, closed=False):
    """Next budget year of the team's municipality."""
    this = session.get(BudgetYear, world["loan"].budget_year_id)
    year = BudgetYear(municipality_id=this.municipality_id, year=this.year + 1, starts_on=date(this.year + 1, 1, 1),
                      ends_on=date(this.year + 1, 12, 31), closed_at=datetime.now(timezone.utc) if closed else None)
    session.add(year)
    session.commit()
    return year


# --- what is lent -----------------------------------------------------------------------------------

def test_loan_position_counts_the_card_once_handed_over(session, world):
    position = loan_position(session, world["loan"])
    assert (position.lent_cents, position.repaid_cents, position.outstanding_cents) == (20_000, 0, 20_000)


def test_a_loaded_card_not_handed_over_lends_nothing(session, world, make_member):
    other = granted_loan(session, world["team"], world["worker"], world["voter"], 5_000, household="L-2")
    assert loan_position(session, other).lent_cents == 0
    with pytest.raises(RuleViolation) as refused:
        record_repayment(session, other, 100, today(), world["worker"].id)
    assert refused.value.field == "repaid_amount"


def test_settling_a_loan_card_books_lent_not_spent(session, world):
    mark_spent(session, world["card"], actor_id=world["coordinator"].id)
    session.commit()
    year = world["loan"].budget_year_id
    assert balance_cents(session, world["team"].id, year, AccountKind.LENT) == 20_000
    assert balance_cents(session, world["team"].id, year, AccountKind.SPENT) == 0
    assert balance_cents(session, world["team"].id, year, AccountKind.CARDS) == 0
    assert loan_position(session, world["loan"]).lent_cents == 20_000


def test_a_returned_loan_card_lends_what_was_spent(session, world):
    return_card(session, world["card"], 5_000, actor_id=world["coordinator"].id)
    session.commit()
    year = world["loan"].budget_year_id
    assert balance_cents(session, world["team"].id, year, AccountKind.LENT) == 15_000
    assert loan_position(session, world["loan"]).outstanding_cents == 15_000


def test_a_gift_card_still_books_spent(session, world):
    from tests.card_world import card_on, loaded
    gift = granted_request(session, world["team"], world["worker"], world["voter"], 3_000, household="G-1")
    card = card_on(session, world["team"], gift, world["coordinator"], last_four="5555")
    loaded(session, world["team"], [card], world["coordinator"])
    mark_handed_over(session, card)
    mark_spent(session, card, actor_id=world["coordinator"].id)
    session.commit()
    assert balance_cents(session, world["team"].id, gift.budget_year_id, AccountKind.SPENT) == 3_000
    assert balance_cents(session, world["team"].id, gift.budget_year_id, AccountKind.LENT) == 0


def test_a_returned_card_never_brings_back_more_than_is_outstanding(session, world):
    record_repayment(session, world["loan"], 15_000, today(), world["worker"].id)
    session.commit()
    with pytest.raises(RuleViolation) as refused:
        return_card(session, world["card"], 5_001, actor_id=world["coordinator"].id)
    assert refused.value.field == "remaining"
    session.rollback()
    card = session.get(Card, world["card"].id)
    return_card(session, card, 5_000, actor_id=world["coordinator"].id)
    session.commit()
    assert loan_position(session, world["loan"]).outstanding_cents == 0


# --- repayments ---------------------------------------------------------------------------------------

def test_repayment_is_booked_into_available_of_the_year_received(session, world):
    before = _available(session, world)
    repayment = record_repayment(session, world["loan"], 7_550, today(), world["worker"].id)
    session.commit()
    year = world["loan"].budget_year_id
    assert _available(session, world) == before + 7_550
    assert balance_cents(session, world["team"].id, year, AccountKind.REPAYMENTS) == -7_550
    postings = session.exec(select(Posting.amount_cents).where(Posting.entry_id == repayment.entry_id)).all()
    assert sorted(postings) == [-7_550, 7_550]
    assert session.get(Entry, repayment.entry_id).request_id == world["loan"].id
    assert repayment.budget_year_id == year
    position = loan_position(session, world["loan"])
    assert (position.repaid_cents, position.outstanding_cents) == (7_550, 12_450)
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "repayment")).one().detail["amount_cents"] == 7_550
    assert accounts_out_of_balance(session) == []


def test_repayment_received_next_year_is_booked_in_next_year(session, world, clock):
    this_year = session.get(BudgetYear, world["loan"].budget_year_id).year
    following = _next_year(session, world)
    clock(datetime(this_year + 1, 1, 10, 9, tzinfo=timezone.utc))
    before_old = _available(session, world)
    record_repayment(session, world["loan"], 5_000, date(this_year + 1, 1, 9), world["coordinator"].id)
    record_repayment(session, world["loan"], 1_000, date(this_year, 12, 31), world["coordinator"].id)
    session.commit()
    assert _available(session, world, following.id) == 5_000
    assert balance_cents(session, world["team"].id, following.id, AccountKind.REPAYMENTS) == -5_000
    assert _available(session, world) == before_old + 1_000
    rows = session.exec(select(Repayment.budget_year_id).order_by(Repayment.id)).all()
    assert rows == [following.id, world["loan"].budget_year_id]


def test_repayment_never_more_than_outstanding(session, world):
    record_repayment(session, world["loan"], 19_000, today(), world["worker"].id)
    with pytest.raises(RuleViolation) as refused:
        record_repayment(session, world["loan"], 1_001, today(), world["worker"].id)
    assert refused.value.field == "repaid_amount"
    record_repayment(session, world["loan"], 1_000, today(), world["worker"].id)
    assert loan_position(session, world["loan"]).outstanding_cents == 0


def repay_share(database_url, request_id, actor_id, amount_cents, start, results):
    """One process: register a repayment as the view does (write lock first, then the verb), and commit."""
    errors, engine = [], make_engine(database_url)
    start.wait()
    with make_session(engine) as session:
        try:
            begin_write(session)
            record_repayment(session, session.get(SpendRequest, request_id), amount_cents, today(), actor_id)
            session.commit()
        except RuleViolation as refused:
            session.rollback()
            errors.append(f"refused: {refused.field}")
        except Exception:  # noqa: BLE001 -- a deadlock or a busy database counts as a failure
            session.rollback()
            errors.append(traceback.format_exc())
    engine.dispose()
    results.put(errors)


def test_racing_repayments_never_pass_what_is_outstanding(session, world, database_url):
    shares = [(database_url, world["loan"].id, world[who].id, 15_000) for who in ("worker", "coordinator")]
    session.close()
    errors, exit_codes = race(repay_share, shares)
    assert errors == ["refused: repaid_amount"] and exit_codes == [0, 0]
    assert [r.amount_cents for r in session.exec(select(Repayment))] == [15_000]
    assert accounts_out_of_balance(session) == []


def test_repayment_refused_into_a_closed_year(session, world, clock):
    this_year = session.get(BudgetYear, world["loan"].budget_year_id)
    this_year.closed_at = datetime.now(timezone.utc)
    session.add(this_year)
    session.commit()
    before = session.exec(select(Entry.id)).all()
    with pytest.raises(RuleViolation) as refused:
        record_repayment(session, world["loan"], 1_000, today(), world["worker"].id)
    assert refused.value.field == "received_on"
    assert session.exec(select(Entry.id)).all() == before


@pytest.mark.parametrize("days_ahead, field", [(1, "received_on"), (400, "received_on")])
def test_repayment_refused_in_the_future(session, world, days_ahead, field):
    with pytest.raises(RuleViolation) as refused:
        record_repayment(session, world["loan"], 1_000, today() + timedelta(days=days_ahead), world["worker"].id)
    assert refused.value.field == field


def test_repayment_refused_without_a_budget_year(session, world):
    with pytest.raises(RuleViolation) as refused:
        record_repayment(session, world["loan"], 1_000, date(1999, 5, 1), world["worker"].id)
    assert refused.value.field == "received_on"


@pytest.mark.parametrize("who", ["voter", "leader"])
def test_only_the_requester_or_a_coordinator_registers_a_repayment(session, world, who):
    with pytest.raises(RuleViolation):
        record_repayment(session, world["loan"], 1_000, today(), world[who].id)


def test_a_coordinator_of_another_municipality_cannot_register(session, world, make_team, make_member):
    foreign = make_member(make_team("Team Elders"), "coordinator")
    with pytest.raises(RuleViolation):
        record_repayment(session, world["loan"], 1_000, today(), foreign.id)


def test_no_repayment_on_a_gift(session, world):
    gift = granted_request(session, world["team"], world["worker"], world["voter"], 3_000, household="G-1")
    with pytest.raises(RuleViolation):
        record_repayment(session, gift, 1_000, today(), world["worker"].id)
    with pytest.raises(RuleViolation):
        agree_repayment(session, gift, 1_000, today(), world["worker"].id)


# --- the agreed repayment and overdue loans -----------------------------------------------------------

def test_agree_repayment_records_and_changes_the_terms(session, world):
    agree_repayment(session, world["loan"], 20_000, today() + timedelta(days=90), world["worker"].id)
    agree_repayment(session, world["loan"], 10_000, today() + timedelta(days=30), world["worker"].id)
    session.commit()
    assert (world["loan"].repayment_amount_cents, world["loan"].repayment_due_on) == (10_000, today() + timedelta(days=30))
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "repayment_agreed")).all()
    assert [e.detail["amount_cents"] for e in events] == [20_000, 10_000]


@pytest.mark.parametrize("amount, days, field", [
    (20_001, 30, "repayment_amount"), (0, 30, "repayment_amount"), (1_000, -1, "repayment_due_on")])
def test_agree_repayment_refuses_more_than_the_loan_or_a_past_date(session, world, amount, days, field):
    with pytest.raises(RuleViolation) as refused:
        agree_repayment(session, world["loan"], amount, today() + timedelta(days=days), world["worker"].id)
    assert refused.value.field == field


def test_only_the_requester_agrees_the_repayment(session, world):
    with pytest.raises(RuleViolation):
        agree_repayment(session, world["loan"], 1_000, today(), world["coordinator"].id)


def test_a_loan_is_overdue_after_its_date_while_outstanding(session, world, clock):
    agree_repayment(session, world["loan"], 20_000, today(), world["worker"].id)
    session.commit()
    assert not loan_position(session, world["loan"]).overdue and overdue_loans(session, world["team"]) == []
    clock(datetime.now(timezone.utc) + timedelta(days=1))
    position = loan_position(session, world["loan"])
    assert position.overdue
    [overdue] = overdue_loans(session, world["team"])
    assert (overdue.request_id, overdue.outstanding_cents, overdue.due_on) == (world["loan"].id, 20_000, position.due_on)
    record_repayment(session, world["loan"], 20_000, today() - timedelta(days=1), world["worker"].id)
    session.commit()
    assert not loan_position(session, world["loan"]).overdue and overdue_loans(session, world["team"]) == []


@pytest.mark.parametrize("raw, expected", [("2026-12-31", date(2026, 12, 31)), ("31-12-2026", date(2026, 12, 31)),
                                           (" 1-2-2027 ", date(2027, 2, 1))])
def test_parse_day_reads_a_date_field_and_dutch_dates(raw, expected):
    assert parse_day(raw, field="d") == expected


@pytest.mark.parametrize("raw", ["", "2026-02-30", "0000-01-01", "31/12/2026", "2026-1-1x", "９９-01-2026",
                                 "99999-01-01", "2026-13-01"])
def test_parse_day_refuses_what_is_no_date(raw):
    with pytest.raises(RuleViolation) as refused:
        parse_day(raw, field="d")
    assert refused.value.field == "d"
