"""Random years of two teams, closed: the money of every closed year is accounted for, and the year is frozen.

Each example lives through two budget years (and opens a third): grants (gifts and loans), cancels, loads
(the ledger verbs top_up and load_onto_card with the card's transitions), hand-overs, spending, returns and
loan repayments (models/loans.py record_repayment), in random order; at each year's end every loaded card is
spent or returned and every grant not loaded is cancelled or carried over to the next year, and the year is
closed. After each close, for every team:
- budget + repayments received + carried in = spent + lent + carried out + to_municipality (the statement's
  row is `balanced`, and the same sums straight from the postings);
- available, reserved, bank and cards of the closed year are all zero;
- `accounts_out_of_balance` is empty and every entry's postings sum to zero;
- `post_entry` into the closed year raises RuleViolation.
Each step does what a view does: begin_write, the verb, one commit (a RuleViolation rolls back).
"""
import os
from datetime import date, datetime, timezone

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st
from sqlmodel import func, select

from models import clock
from models.cards import Card, CardState, mark_handed_over, mark_loaded, mark_spent, register_card, reserve_card, \
    return_card, transition
from models.db import begin_write, make_session
from models.decisions import decide
from models.grants import cancel_grant, money_year_id
from models.ledger import (
    Account, AccountKind, Posting, account, accounts_out_of_balance, allocate_annual_budget, balance_cents,
    load_onto_card, post_entry, top_up)
from models.loans import Repayment, loan_position, record_repayment, repaid_cents
from models.members import Member, active_membership, add_membership, create_member
from models.money import cents_to_input
from models.requests import DraftInput, RequestKind, RequestStatus, SpendRequest, post_request, save_draft
from models.rules import RuleViolation
from models.teams import BudgetYear, CostCategory, District, Municipality, Team, add_default_cost_categories
from models.votes import cast_vote
from models.year_close import carry_over, close_year, year_statement
from tests.card_world import SECRET
from tests.unit.test_decision_properties import FreshDatabase

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
FIRST_YEAR = 2030
BUDGET = 200_000
index = st.integers(min_value=0, max_value=1_000)
STEPS = st.lists(st.one_of(
    st.tuples(st.just("grant"), index, st.integers(100, 30_000), st.booleans()),
    st.tuples(st.just("lend"), index, st.integers(100, 30_000)),
    st.tuples(st.just("cancel"), index),
    st.tuples(st.just("load"), index, st.booleans()),
    st.tuples(st.just("hand_over"), index),
    st.tuples(st.just("spend"), index),
    st.tuples(st.just("give_back"), index, st.sampled_from([0.0, 0.3, 1.0])),
    st.tuples(st.just("repay"), index, st.sampled_from([0.25, 0.5, 1.0])),
), min_size=10, max_size=24)
#: per year: how each grant not loaded at its end is settled (carried over or cancelled), how each card
A_YEAR = st.tuples(STEPS, st.lists(st.booleans(), min_size=8, max_size=8), st.lists(st.floats(0, 1), min_size=8,
                                                                                       max_size=8))


class World:
    """Two teams of one municipality with budget years FIRST_YEAR .. FIRST_YEAR + 2, driven like the views."""

    def __init__(self, engine):
        self.session = s = make_session(engine)
        municipality = Municipality(name="Gemeente Jaar")
        s.add(municipality)
        s.flush()
        add_default_cost_categories(s, municipality)
        self.municipality_id = municipality.id
        self.years = [BudgetYear(municipality_id=municipality.id, year=year, starts_on=date(year, 1, 1),
                                 ends_on=date(year, 12, 31)) for year in range(FIRST_YEAR, FIRST_YEAR + 3)]
        district = District(municipality_id=municipality.id, name="Oost")
        s.add_all([*self.years, district])
        s.flush()
        self.teams = [Team(district_id=district.id, name=name, quorum=1, account_cap_cents=BUDGET)
                      for name in ("Oost", "West")]
        s.add_all(self.teams)
        s.flush()
        self.coordinator = create_member(s, municipality_id=municipality.id, display_name="C", is_coordinator=True)
        self.people = {}
        for team in self.teams:
            worker, voter = (create_member(s, municipality_id=municipality.id, display_name=f"{n} {team.name}")
                             for n in ("W", "V"))
            for member in (worker, voter):
                add_membership(s, member, team, "worker")
            self.people[team.id] = (worker, voter)
        self.category_id = s.exec(select(CostCategory.id).where(CostCategory.municipality_id == municipality.id,
                                                                CostCategory.code == "other")).first()
        s.commit()
        self.households = self.cards = 0

    def act(self, action) -> None:
        """begin_write, the action, one commit; a RuleViolation rolls everything back."""
        begin_write(self.session)
        try:
            action()
        except RuleViolation:
            self.session.rollback()
            return
        self.session.commit()

    def grant(self, team_index, amount_cents, loan):
        """A new household's request, approved (or lent) by the team's voter: granted when the budget allows."""
        team = self.teams[team_index % 2]
        worker, voter = self.people[team.id]
        self.households += 1

        def step():
            draft = save_draft(self.session, team, active_membership(self.session, worker.id, team.id), DraftInput(
                amount=cents_to_input(amount_cents), cost_category_id=self.category_id, situation="Gezin.",
                prevents="Schuld.", household_reference=f"H-{self.households}",
                kind=RequestKind.LOAN if loan else RequestKind.GIFT), household_secret=SECRET)
            post_request(self.session, draft, team, worker.id)
            cast_vote(self.session, draft, active_membership(self.session, voter.id, team.id),
                      "loan" if loan else "approve", amount_cents=amount_cents if loan else None)
            decide(self.session, draft, team)
        self.act(step)

    def lend(self, team_index, amount_cents):
        """A loan granted, its card loaded and handed over at once (the household then owes it back)."""
        self.grant(team_index, amount_cents, True)
        newest = self.session.exec(select(func.count(SpendRequest.id)).where(
            SpendRequest.status == RequestStatus.GRANTED)).one()
        self.session.rollback()
        self.load(newest - 1, True)  # the newest grant, if this one was granted (else another one: fine too)

    def _pick(self, statement, number):
        found = self.session.exec(statement).all()
        self.session.rollback()  # end the read, as a view's request would
        return found[number % len(found)] if found else None

    def granted(self, number):
        return self._pick(select(SpendRequest).where(SpendRequest.status == RequestStatus.GRANTED)
                          .order_by(SpendRequest.id), number)

    def card_in(self, states, number):
        return self._pick(select(Card).where(Card.state.in_(states)).order_by(Card.id), number)

    def cancel(self, number):
        request = self.granted(number)
        if request is not None:
            self.act(lambda: cancel_grant(self.session, request, self.session.get(Member, request.requester_id),
                                          "Niet meer nodig."))

    def load(self, number, hand_over):
        """A card for a granted request, topped up and loaded straight away (what an executed batch does), and
        handed over to the client when `hand_over`."""
        request = self.granted(number)
        if request is None:
            return
        self.cards += 1

        def step():
            team = self.session.get(Team, request.team_id)
            card = register_card(self.session, team, f"K-{self.cards}", f"{self.cards % 10_000:04d}",
                                 actor_id=self.coordinator.id)
            reserve_card(self.session, card, request, actor_id=request.requester_id)
            transition(self.session, card, "request_load", actor_id=self.coordinator.id)
            year_id, amount = card.budget_year_id, request.granted_amount_cents
            needed = amount - balance_cents(self.session, team.id, year_id, AccountKind.BANK)
            if needed > 0:
                top_up(self.session, team, year_id, needed, memo="Opwaardering", actor_id=self.coordinator.id)
            load_onto_card(self.session, team, year_id, amount, memo="Lading", request_id=request.id)
            mark_loaded(self.session, card, amount, actor_id=self.coordinator.id)
            if hand_over:
                mark_handed_over(self.session, card)
        self.act(step)

    def hand_over(self, number):
        card = self.card_in([CardState.LOADED], number)
        if card is not None:
            self.act(lambda: mark_handed_over(self.session, self.session.get(Card, card.id)))

    def spend(self, number):
        card = self.card_in([CardState.HANDED_OVER], number)
        if card is not None:
            self.act(lambda: mark_spent(self.session, self.session.get(Card, card.id), actor_id=self.coordinator.id))

    def give_back(self, number, share):
        card = self.card_in([CardState.LOADED, CardState.HANDED_OVER], number)
        if card is not None:
            self.act(lambda: return_card(self.session, self.session.get(Card, card.id),
                                         int(card.loaded_amount_cents * share), actor_id=self.coordinator.id))

    def repay(self, number, share):
        """The household pays back part of what a loan card lent (received today)."""
        request = self._pick(select(SpendRequest).join(Card, Card.request_id == SpendRequest.id)
                             .where(SpendRequest.granted_kind == RequestKind.LOAN, Card.handed_over_at.is_not(None))
                             .order_by(SpendRequest.id), number)
        if request is None:
            return

        def step():
            outstanding = loan_position(self.session, request).outstanding_cents
            if outstanding > 0:
                record_repayment(self.session, request, max(1, int(outstanding * share)), clock.today(),
                                 request.requester_id)
        self.act(step)

    def settle_year(self, year, carry, remaining):
        """At the year's end: every loaded card of the year spent or returned, every grant not loaded carried
        over to the next year (when `carry` says so) or cancelled."""
        open_cards = self.session.exec(select(Card).where(Card.budget_year_id == year.id, Card.loaded_at.is_not(None),
                                                          Card.closed_at.is_(None)).order_by(Card.id)).all()
        self.session.rollback()
        for number, card in enumerate(open_cards):
            share = remaining[number % len(remaining)]

            def settle():
                found = self.session.get(Card, card.id)
                if found.state == CardState.LOADED:
                    mark_handed_over(self.session, found)
                if share < 0.5:  # back with what is left (of a loan: never more than is still outstanding)
                    left = found.loaded_amount_cents - repaid_cents(self.session, found.request_id)
                    return_card(self.session, found, min(int(found.loaded_amount_cents * share), left),
                                actor_id=self.coordinator.id)
                else:
                    mark_spent(self.session, found, actor_id=self.coordinator.id)
            self.act(settle)
        waiting = self.session.exec(select(SpendRequest).where(SpendRequest.status == RequestStatus.GRANTED)
                                    .order_by(SpendRequest.id)).all()
        self.session.rollback()
        following = next(y for y in self.years if y.year == year.year + 1)
        for number, request in enumerate(waiting):
            if money_year_id(request) != year.id or self.session.exec(select(Card.id).where(
                    Card.request_id == request.id, Card.loaded_at.is_not(None))).first():
                self.session.rollback()
                continue
            self.session.rollback()
            if carry[number % len(carry)]:
                self.act(lambda: carry_over(self.session, request, following, self.coordinator))
            else:
                self.act(lambda: cancel_grant(self.session, request, self.coordinator, "Jaareinde."))


def _sums(session, team_id, year_id):
    """Per kind of account: (what went in, what went out) of the team's year, straight from the postings."""
    rows = session.exec(select(Account.kind, Posting.amount_cents).join(Posting, Posting.account_id == Account.id)
                        .where(Account.team_id == team_id, Account.budget_year_id == year_id)).all()
    found = {}
    for kind, amount in rows:
        plus, minus = found.get(kind, (0, 0))
        found[kind] = (plus + max(amount, 0), minus + max(-amount, 0))
    return found


def check_closed_year(world, year):
    """The invariants of a closed year (see the module docstring)."""
    s = world.session
    statement = year_statement(s, world.municipality_id, year)
    for team, row in zip(world.teams, statement.rows):
        assert row.balanced, row
        sums = _sums(s, team.id, year.id)
        net = {kind: plus - minus for kind, (plus, minus) in sums.items()}
        carried_out, carried_in = sums.get(AccountKind.CARRIED, (0, 0))
        budget = -net.get(AccountKind.FUNDING, 0)
        assert budget == BUDGET
        assert (budget - net.get(AccountKind.REPAYMENTS, 0) + carried_in
                == net.get(AccountKind.SPENT, 0) + net.get(AccountKind.LENT, 0) + carried_out
                + net.get(AccountKind.TO_MUNICIPALITY, 0))
        for kind in (AccountKind.AVAILABLE, AccountKind.RESERVED, AccountKind.BANK, AccountKind.CARDS):
            assert balance_cents(s, team.id, year.id, kind) == 0, kind
        with pytest.raises(RuleViolation):
            post_entry(s, team.id, [(account(s, team.id, year.id, AccountKind.FUNDING), -1),
                                    (account(s, team.id, year.id, AccountKind.AVAILABLE), 1)], memo="te laat")
        s.rollback()
    assert accounts_out_of_balance(s) == []
    assert s.exec(select(Posting.entry_id).group_by(Posting.entry_id)
                  .having(func.sum(Posting.amount_cents) != 0)).all() == []
    s.rollback()


def live_a_year(world, year, steps, carry, remaining):
    """The year's steps (the clock in March of it), then its end settled and the close (the clock in January)."""
    clock.travel_to(datetime(year.year, 3, 1, 9, tzinfo=timezone.utc))
    for name, *arguments in steps:
        getattr(world, name)(*arguments)
    world.settle_year(year, carry, remaining)
    clock.travel_to(datetime(year.year + 1, 1, 2, 9, tzinfo=timezone.utc))
    begin_write(world.session)
    close_year(world.session, world.municipality_id, world.session.get(BudgetYear, year.id), world.coordinator)
    world.session.commit()
    check_closed_year(world, world.session.get(BudgetYear, year.id))


@pytest.fixture
def fresh_databases(migrated_database, tmp_path):
    """A fresh database per example; the clock back to the real time afterwards."""
    yield FreshDatabase(migrated_database, tmp_path)
    clock.travel_to(None)


@settings(max_examples=5 if TEST_DATABASE_URL else 8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(first=A_YEAR, second=A_YEAR)
def test_random_years_close_with_every_cent_accounted_for(fresh_databases, first, second):
    engine = fresh_databases.open()
    try:
        world = World(engine)
        for team in world.teams:
            for year in world.years:
                allocate_annual_budget(world.session, team, year.id, BUDGET)
        world.session.commit()
        live_a_year(world, world.years[0], *first)
        live_a_year(world, world.years[1], *second)
        s = world.session  # what the example went through (pytest --hypothesis-show-statistics)
        for what, condition in (("carried over", SpendRequest.carried_to_year_id.is_not(None)),
                                ("cancelled", SpendRequest.status == RequestStatus.CANCELLED)):
            event(f"{what}: {s.exec(select(func.count(SpendRequest.id)).where(condition)).one() > 0}")
        event(f"repaid: {s.exec(select(func.count(Repayment.id))).one() > 0}")
        world.session.close()
    finally:
        clock.travel_to(None)
        fresh_databases.close(engine)
