"""Random lives of cards keep the money rules: grants, card reservations, batches of top-ups and loads,
handovers, spending, returns, blocking and losing, in any order.

After every step:
- every ledger entry has two postings or more, none zero, summing to zero;
- every account's running total equals the sum of its postings;
- the team account is never negative nor above its cap; reserved, cards and available never negative;
- available + reserved + bank + cards + spent is always the annual budget (nothing appears or vanishes);
- the money on cards is exactly what was loaded on cards not yet spent or returned;
- a request is loaded at most once, with exactly its granted amount.
Each step does what a view does: begin_write, the money lock, the verb, one commit (a RuleViolation rolls back).
"""
import os
from datetime import date

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlmodel import func, select

from models.batches import cancel_batch, create_batch, execute_batch, freeze, open_batch
from models.cards import Card, CardState, block_card, mark_spent, register_card, release_card, reserve_card, return_card
from models.db import begin_write, make_session
from models.handover import confirm_handover, create_handover, usable_handover
from models.ledger import Account, AccountKind, Posting, allocate_annual_budget, lock_for_money
from models.members import add_membership, create_member
from models.requests import RequestStatus, SpendRequest
from models.rules import RuleViolation
from models.teams import BudgetYear, District, Municipality, Team
from tests.card_world import granted_request
from tests.unit.test_decision_properties import FreshDatabase

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
BUDGET, CAP = 60_000, 20_000
index = st.integers(min_value=0, max_value=1_000)


class CardMachine(RuleBasedStateMachine):
    """One team with a small account cap, driven the way the views drive the card rules."""

    database: FreshDatabase = None

    def __init__(self):
        super().__init__()
        self.engine = self.database.open()
        self.session = s = make_session(self.engine)
        municipality = Municipality(name="Gemeente Kaart")
        s.add(municipality)
        s.flush()
        year = date.today().year
        self.year = BudgetYear(municipality_id=municipality.id, year=year, starts_on=date(year, 1, 1),
                               ends_on=date(year, 12, 31))
        district = District(municipality_id=municipality.id, name="Oost")
        s.add_all([self.year, district])
        s.flush()
        self.team = Team(district_id=district.id, name="Oost", quorum=1, account_cap_cents=CAP)
        s.add(self.team)
        s.flush()
        allocate_annual_budget(s, self.team, self.year.id, BUDGET)
        self.worker, self.voter = (create_member(s, municipality_id=municipality.id, display_name=name)
                                   for name in ("Wim", "Vera"))
        for member in (self.worker, self.voter):
            add_membership(s, member, self.team, "worker")
        self.coordinator = create_member(s, municipality_id=municipality.id, display_name="C", is_coordinator=True)
        self.municipality_id = municipality.id
        s.commit()
        self.households = 0

    def teardown(self):
        """Close the session and throw the database away."""
        self.session.close()
        self.database.close(self.engine)

    def _act(self, action):
        """begin_write, the money lock, the action, one commit; a RuleViolation rolls everything back."""
        begin_write(self.session)
        lock_for_money(self.session, self.team.id)
        try:
            action()
        except RuleViolation:
            self.session.rollback()
            return
        self.session.commit()

    def _card(self, number):
        cards = self.session.exec(select(Card).order_by(Card.id)).all()
        return cards[number % len(cards)] if cards else None

    def _has_cards(self):
        return self.session.exec(select(Card.id)).first() is not None

    @rule(amount=st.one_of(st.sampled_from([2_500, 7_500, 15_000]), st.integers(1, 25_000)))
    def grant(self, amount):
        """The team grants a request (a new household each time)."""
        self.households += 1
        try:
            granted_request(self.session, self.team, self.worker, self.voter, amount, household=f"H-{self.households}")
        except RuleViolation:
            self.session.rollback()

    @rule(last_four=st.integers(0, 9_999))
    def register(self, last_four):
        """The coordinator adds a card to the stock."""
        self._act(lambda: register_card(self.session, self.team, f"K-{last_four}", f"{last_four:04d}",
                                        actor_id=self.coordinator.id))

    @precondition(lambda self: self._has_cards())
    @rule(card=index, request=index)
    def reserve(self, card, request):
        """The requester takes a card for a granted request."""
        requests = self.session.exec(select(SpendRequest).where(SpendRequest.status == RequestStatus.GRANTED)
                                     .order_by(SpendRequest.id)).all()
        if requests:
            self._act(lambda: reserve_card(self.session, self._card(card), requests[request % len(requests)],
                                           actor_id=self.worker.id))

    @precondition(lambda self: self._has_cards())
    @rule(card=index, action=st.sampled_from(["release", "block", "lose", "spend", "hand_over"]))
    def card_step(self, card, action):
        """Release, block, lose, spend, or hand over a card."""
        chosen = self._card(card)

        def step():
            if action == "release":
                release_card(self.session, chosen, actor_id=self.worker.id)
            elif action == "spend":
                mark_spent(self.session, chosen, actor_id=self.coordinator.id)
            elif action == "hand_over":
                request = self.session.get(SpendRequest, chosen.request_id) if chosen.request_id else None
                if request is None:
                    raise RuleViolation("no request")
                confirm_handover(self.session, usable_handover(self.session, create_handover(
                    self.session, chosen, request, member_id=self.worker.id)))
            else:
                block_card(self.session, chosen, action, actor_id=self.coordinator.id)
        self._act(step)

    @precondition(lambda self: self._has_cards())
    @rule(card=index, share=st.sampled_from([0.0, 0.25, 0.5, 1.0]))
    def give_back(self, card, share):
        """A card comes back with a share of its load left."""
        chosen = self._card(card)
        remaining = int((chosen.loaded_amount_cents or 0) * share)
        self._act(lambda: return_card(self.session, chosen, remaining, actor_id=self.coordinator.id))

    @rule(top_up=st.one_of(st.just(None), st.integers(0, 25_000)), take=st.lists(st.booleans(), max_size=6),
          then=st.sampled_from(["execute", "execute", "cancel", "leave"]))
    def batch(self, top_up, take, then):
        """The coordinator makes a batch (the needed top-up, or any), then executes, cancels or leaves it."""
        waiting = self.session.exec(select(Card).where(Card.state == CardState.RESERVED).order_by(Card.id)).all()
        chosen = [card for card, keep in zip(waiting, take) if keep]
        needed = sum(self.session.get(SpendRequest, card.request_id).granted_amount_cents for card in chosen)
        self._act(lambda: create_batch(self.session, self.municipality_id, card_ids=[card.id for card in chosen],
                                       top_ups={self.team.id: needed if top_up is None else top_up},
                                       actor_id=self.coordinator.id))
        batch = open_batch(self.session, self.municipality_id)
        if batch is None or then == "leave":
            return
        if then == "cancel":
            self._act(lambda: cancel_batch(self.session, batch, actor_id=self.coordinator.id))
            return
        self._act(lambda: freeze(self.session, batch, "<xml/>"))
        self._act(lambda: execute_batch(self.session, batch, actor_id=self.coordinator.id))
        self._act(lambda: execute_batch(self.session, batch, actor_id=self.coordinator.id))  # refused: once only

    # --- what must always hold ------------------------------------------------------------------

    @invariant()
    def entries_balance(self):
        """Every entry: two postings or more, none zero, summing to zero."""
        rows = self.session.exec(select(Posting.entry_id, func.sum(Posting.amount_cents), func.count(),
                                        func.min(func.abs(Posting.amount_cents))).group_by(Posting.entry_id)).all()
        assert all(total == 0 and count >= 2 and smallest > 0 for _entry, total, count, smallest in rows), rows

    @invariant()
    def balances_keep_the_money_rules(self):
        """Running totals are sums; the account within 0..cap; nothing negative; the budget is whole."""
        sums = dict(self.session.exec(select(Posting.account_id, func.sum(Posting.amount_cents))
                                      .group_by(Posting.account_id)).all())
        balance = dict.fromkeys(AccountKind, 0)
        for account_id, kind, running in self.session.exec(select(Account.id, Account.kind, Account.balance_cents)):
            assert running == sums.get(account_id, 0), (kind, running, sums.get(account_id))
            balance[AccountKind(kind)] = running
        assert 0 <= balance[AccountKind.BANK] <= CAP, balance
        assert min(balance[k] for k in (AccountKind.AVAILABLE, AccountKind.RESERVED, AccountKind.CARDS,
                                        AccountKind.SPENT)) >= 0, balance
        assert sum(balance[k] for k in AccountKind if k != AccountKind.FUNDING) == BUDGET == -balance[AccountKind.FUNDING]
        on_cards = self.session.exec(select(func.coalesce(func.sum(Card.loaded_amount_cents), 0)).where(
            Card.loaded_at.is_not(None), Card.closed_at.is_(None))).one()
        assert balance[AccountKind.CARDS] == on_cards, (balance, on_cards)

    @invariant()
    def requests_are_loaded_once_with_their_grant(self):
        """At most one loaded card per request, carrying exactly the granted amount."""
        loaded = self.session.exec(select(Card.request_id, Card.loaded_amount_cents, SpendRequest.granted_amount_cents)
                                   .join(SpendRequest, SpendRequest.id == Card.request_id)
                                   .where(Card.loaded_at.is_not(None))).all()
        assert len({request_id for request_id, _l, _g in loaded}) == len(loaded), loaded
        assert all(amount == granted for _r, amount, granted in loaded), loaded
        self.session.rollback()  # end the read transaction, as a view's request would


def test_random_card_lives_keep_the_money_rules(migrated_database, tmp_path):
    CardMachine.database = FreshDatabase(migrated_database, tmp_path)
    run_state_machine_as_test(CardMachine, settings=settings(
        max_examples=20 if TEST_DATABASE_URL else 40, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow]))
