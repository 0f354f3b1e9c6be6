"""Random lives of requests in two teams of one municipality keep the money rules of docs/domain.md.

A hypothesis state machine drafts, posts, votes (every choice, random amounts), stops and lifts,
withdraws, lets time pass, changes roles, team settings (the rules then look again at open requests)
and budgets, and after every step checks:
- every ledger entry has at least two postings, none zero, summing to zero;
- no team's available balance is negative, and reserved == the sum of its granted amounts;
- every account's running total (what balance_cents reads) equals the sum of its postings;
- a household's granted total in the budget year stays within the cap of the team that granted;
- a granted amount is > 0 and <= the amount asked;
- a final status never changes again;
- nothing is granted while a stop stands;
- a grant had >= quorum approvals at that moment, at exactly the highest amount a quorum approved,
  and a client manager or programme manager among them above the escalation threshold.
Each step does what a view does: begin_write, lock_for_money, the verb, decide, one commit (or a
rollback on RuleViolation). Every example runs on a fresh database.
"""
import itertools
import os
import shutil
from datetime import date, timedelta

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test)
from sqlalchemy import event, text
from sqlmodel import SQLModel, func, select

from models.audit import AuditEvent
from models.db import begin_write, make_engine, make_session
from models.decisions import decide, expire_overdue, redecide_open_requests
from models.ledger import Account, AccountKind, Posting, allocate_annual_budget, lock_for_money
from models.members import (
    NON_VOTING_ROLES, TEAM_ROLES, Member, Membership, Role, active_membership, add_membership, change_role,
    create_member, end_membership)
from models.money import cents_to_input
from models.requests import (
    FINAL_STATUSES, DraftInput, RequestStatus, SpendRequest, post_request, save_draft, withdraw_request)
from models.rules import RuleViolation
from models.teams import (
    BudgetYear, CostCategory, District, Municipality, Team, TeamBudget, add_default_cost_categories,
    change_team_settings)
from models.votes import APPROVING, Vote, VoteChoice, cast_vote, lift_stop, place_stop, standing_stop

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
SECRET = "test-household-secret"
HOUSEHOLDS = ["H-1", "H-2"]
#: every cap a team may get; the municipality-wide total can never pass the largest
CAPS = [5_000, 10_000, 50_000]
ROLES = [Role.WORKER, Role.WORKER, Role.WORKER, Role.WORKER, Role.INCOME_CONSULTANT, Role.PROVISIONS_EXPERT,
         Role.CLIENT_MANAGER, Role.TEAM_LEADER, Role.OBSERVER]
S = RequestStatus
index = st.integers(min_value=0, max_value=1_000)
#: mostly amounts a team grants, sometimes anything up to above the largest cap
amounts = st.one_of(st.sampled_from([2_500, 5_000, 7_500, 12_000, 30_000]), st.integers(1, 60_000))
#: approvals are the common answer
choices = st.sampled_from([*[VoteChoice.APPROVE] * 3, VoteChoice.APPROVE_LOWER, VoteChoice.LOAN, VoteChoice.REJECT,
                           VoteChoice.ALTERNATIVE])
#: a vote's amount as a share of the amount asked (None: no amount given)
fractions = st.sampled_from([None, 0.0, 0.3, 0.5, 0.9, 1.0, 1.5])
CONSULTANT = ROLES.index(Role.INCOME_CONSULTANT)
#: members voting one after another: (member, choice, amount as a share of the amount asked)
ballots = st.lists(st.tuples(index, choices, fractions), min_size=1, max_size=5)
#: a request: often the newest, so votes gather on one before the next is drafted
requests = st.one_of(st.just(-1), index)


class FreshDatabase:
    """A migrated, empty database per example: a copy of the SQLite template, or truncated PostgreSQL."""

    def __init__(self, template, directory):
        self.template, self.directory, self.numbers = template, directory, itertools.count()
        self.path = None

    def open(self):
        """An engine on a fresh database."""
        if TEST_DATABASE_URL:
            engine = make_engine(TEST_DATABASE_URL)
            tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
            with engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return engine
        self.path = str(self.directory / f"example-{next(self.numbers)}.sqlite3")
        shutil.copyfile(self.template, self.path)
        engine = make_engine(f"sqlite:///{self.path}")
        # a scratch file: waiting for the disk on every commit only makes the examples fewer
        event.listen(engine, "connect", lambda connection, _record: connection.execute("PRAGMA synchronous=OFF"))
        return engine

    def close(self, engine):
        """Close the engine and remove the example's file."""
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            if self.path and os.path.exists(self.path + suffix):
                os.remove(self.path + suffix)


class DecisionMachine(RuleBasedStateMachine):
    """Two teams of one municipality sharing households, driven the way the views drive the rules."""

    database: FreshDatabase = None

    def __init__(self):
        super().__init__()
        self.engine = self.database.open()
        self.session = make_session(self.engine)
        self.request_ids = []
        #: request id -> the final status it reached
        self.final = {}
        self.granted = set()
        self._build()

    def _build(self):
        """A municipality, its budget year and two teams with one member per role, and one in both teams."""
        s = self.session
        municipality = Municipality(name="Gemeente Eigenschap")
        s.add(municipality)
        s.flush()
        add_default_cost_categories(s, municipality)
        year = date.today().year
        self.year = BudgetYear(municipality_id=municipality.id, year=year, starts_on=date(year, 1, 1),
                               ends_on=date(year, 12, 31))
        s.add(self.year)
        teams = []
        for name in ("Oost", "West"):
            district = District(municipality_id=municipality.id, name=name)
            s.add(district)
            s.flush()
            # Oost's low cap is soon reached by what both teams granted one household
            cap = CAPS[1] if name == "Oost" else CAPS[2]
            team = Team(district_id=district.id, name=name, quorum=2, household_cap_cents=cap)
            s.add(team)
            s.flush()
            allocate_annual_budget(s, team, self.year.id, 30_000)
            teams.append((team, [self._member(municipality, team, role, f"{role} {number} {name}")
                                 for number, role in enumerate(ROLES)]))
        self.coordinator_id = create_member(s, municipality_id=municipality.id, display_name="Coordinator",
                                            is_coordinator=True).id
        roamer = create_member(s, municipality_id=municipality.id, display_name="Roamer")
        add_membership(s, roamer, teams[0][0], Role.WORKER)
        add_membership(s, roamer, teams[1][0], Role.CLIENT_MANAGER)
        self.teams = [team.id for team, _members in teams]
        #: per team: its own members in ROLES order, the member of both teams, and one outsider
        self.cast = {team.id: [*members, roamer.id, other[0]]
                     for (team, members), (_other_team, other) in zip(teams, reversed(teams))}
        self.category_id = s.exec(select(CostCategory.id).where(CostCategory.code == "groceries")).one()
        s.commit()

    def _member(self, municipality, team, role, name):
        """A new member with `role` in `team`; their id."""
        member = create_member(self.session, municipality_id=municipality.id, display_name=name)
        add_membership(self.session, member, team, role)
        return member.id

    def teardown(self):
        """Close the session and throw the database away."""
        self.session.close()
        self.database.close(self.engine)

    # --- doing things as a view does them --------------------------------------------------------

    def _act(self, team_id, action):
        """begin_write, lock_for_money, the action, one commit; a RuleViolation rolls everything back."""
        begin_write(self.session)
        team = self.session.get(Team, team_id)
        lock_for_money(self.session, team.id)
        self.session.refresh(team)
        try:
            action(team)
        except RuleViolation:
            self.session.rollback()
            return False
        self.session.commit()
        return True

    def _decide_after(self, request_id, action):
        """Run `action` on the request, then let the rules decide (a view's _decide_after)."""
        def step(team):
            request = self.session.get(SpendRequest, request_id)
            self.session.refresh(request)
            action(request, team)
            decide(self.session, request, team)
        self._act(self.session.get(SpendRequest, request_id).team_id, step)

    def _pick(self, request):
        """A request, and the members who might act on it."""
        request_id = self.request_ids[request % len(self.request_ids)]
        return request_id, self.cast[self.session.get(SpendRequest, request_id).team_id]

    @initialize(opened=st.lists(st.tuples(index, amounts, st.sampled_from(HOUSEHOLDS), ballots), max_size=4))
    def open_requests(self, opened):
        """Requests posted and voted on from the start, so every example has decisions to keep checking."""
        for team, amount, household, votes in opened:
            if self._draft(team, 0, amount, "gift", household, True):
                self.vote(-1, votes, "Voedselbank")

    @rule(team=index, member=index, amount=amounts, kind=st.sampled_from(["gift", "gift", "loan"]),
          household=st.sampled_from(HOUSEHOLDS), post=st.sampled_from([True, True, True, False]))
    def draft(self, team, member, amount, kind, household, post):
        """A member drafts a request, and mostly posts it at once."""
        self._draft(team, member, amount, kind, household, post)

    def _draft(self, team, member, amount, kind, household, post):
        """Save (and post) a draft as a view would; whether it was saved."""
        team_id = self.teams[team % 2]
        member_id = self.cast[team_id][member % len(self.cast[team_id])]
        drafted = []

        def step(team_):
            data = DraftInput(amount=cents_to_input(amount), cost_category_id=self.category_id,
                              situation="Vader met twee kinderen, inkomen valt weg.", prevents="Huisuitzetting.",
                              kind=kind, household_reference=household)
            drafted.append(save_draft(self.session, team_, active_membership(self.session, member_id, team_id), data,
                                      household_secret=SECRET))
            if post:
                post_request(self.session, drafted[0], team_, member_id)
        if self._act(team_id, step):
            self.request_ids.append(drafted[0].id)
            return True
        return False

    @precondition(lambda self: self.request_ids)
    @rule(request=requests, member=index, requester=st.booleans())
    def post(self, request, member, requester):
        """The requester (or someone else, who is refused) posts a draft."""
        request_id, cast = self._pick(request)
        self._decide_after(request_id, lambda r, team: post_request(
            self.session, r, team, r.requester_id if requester else cast[member % len(cast)]))

    @precondition(lambda self: self.request_ids)
    @rule(request=requests, votes=ballots,
          alternative=st.sampled_from(["Voedselbank", "Kledingbank"]))
    def vote(self, request, votes, alternative):
        """Up to five members vote one after another, each in a transaction of its own."""
        request_id, cast = self._pick(request)
        for member, choice, fraction in votes:
            self._decide_after(request_id, self._ballot(cast[member % len(cast)], choice, fraction, alternative))

    def _ballot(self, member_id, choice, fraction, alternative):
        """The action of one member's vote, its amount a share of the amount asked."""
        def cast(request, team):
            amount = None if fraction is None else max(1, int(request.amount_cents * fraction))
            cast_vote(self.session, request, active_membership(self.session, member_id, team.id), choice,
                      amount_cents=amount, alternative_name=alternative)
        return cast

    @precondition(lambda self: self.request_ids)
    @rule(request=requests, member=st.one_of(st.just(CONSULTANT), index), lift=st.booleans())
    def stop(self, request, member, lift):
        """A member (often the income consultant) places or lifts a stop."""
        request_id, cast = self._pick(request)
        verb, member_id = (lift_stop if lift else place_stop), cast[member % len(cast)]
        self._decide_after(request_id, lambda r, team: verb(
            self.session, r, active_membership(self.session, member_id, team.id), "Mogelijk onrechtmatig"))

    @precondition(lambda self: self.request_ids)
    @rule(request=requests, member=index, requester=st.booleans())
    def withdraw(self, request, member, requester):
        """The requester (or someone else, who is refused) withdraws a request."""
        request_id, cast = self._pick(request)

        def step(team):
            r = self.session.get(SpendRequest, request_id)
            withdraw_request(self.session, r, r.requester_id if requester else cast[member % len(cast)])
        self._act(self.session.get(SpendRequest, request_id).team_id, step)

    @precondition(lambda self: self.request_ids)
    @rule(request=requests, hours=st.integers(1, 30))
    def time_passes(self, request, hours):
        """The request was posted `hours` earlier; the team's home page then expires what is overdue."""
        r = self.session.get(SpendRequest, self._pick(request)[0])
        if r.status != S.OPEN:
            return
        r.posted_at -= timedelta(hours=hours)
        self.session.add(r)
        self.session.commit()
        expire_overdue(self.session, self.session.get(Team, r.team_id))
        self.session.commit()

    @rule(team=index, quorum=st.integers(1, 4), threshold=st.sampled_from([5_000, 25_000, 40_000]),
          cap=st.sampled_from(CAPS), expiry=st.sampled_from([24, 72]), which=st.sampled_from(
              ["quorum", "quorum", "escalation_threshold_cents", "household_cap_cents", "request_expiry_hours"]))
    def change_setting(self, team, quorum, threshold, cap, expiry, which):
        """The coordinator changes one of a team's settings, and the rules look again at its open requests."""
        value = {"quorum": quorum, "escalation_threshold_cents": threshold, "household_cap_cents": cap,
                 "request_expiry_hours": expiry}[which]

        def step(team_):
            change_team_settings(self.session, team_, self.coordinator_id, **{which: value})
            redecide_open_requests(self.session, team_, actor_id=self.coordinator_id)
        self._act(self.teams[team % 2], step)

    @rule(team=index, budget=st.integers(0, 60_000))
    def change_budget(self, team, budget):
        """The coordinator sets a team's annual budget, higher or lower."""
        self._act(self.teams[team % 2], lambda team_: allocate_annual_budget(self.session, team_, self.year.id, budget))

    @rule(team=index, member=index, role=st.sampled_from([*TEAM_ROLES, "ended"]))
    def change_membership(self, team, member, role):
        """A member gets another role, leaves the team, or comes back."""
        team_id = self.teams[team % 2]
        member_id = self.cast[team_id][member % len(self.cast[team_id])]

        def step(team_):
            membership = self.session.exec(select(Membership).where(
                Membership.member_id == member_id, Membership.team_id == team_id)).first()
            if membership is None:
                return
            if role == "ended":
                end_membership(self.session, membership)
            elif membership.is_active:
                change_role(self.session, membership, role)
            else:
                add_membership(self.session, self.session.get(Member, member_id), team_, role)
        self._act(team_id, step)

    @precondition(lambda self: self.request_ids)
    @rule(request=requests)
    def decide_again(self, request):
        """Any later action on the request lets the rules decide again (e.g. after the quorum was lowered)."""
        self._decide_after(self._pick(request)[0], lambda r, team: None)

    # --- what must always hold ----------------------------------------------------------------------

    @invariant()
    def ledger_entries_balance(self):
        """Every entry: two postings or more, none zero, summing to zero."""
        entries = self.session.exec(select(Posting.entry_id, func.sum(Posting.amount_cents), func.count(),
                                           func.min(func.abs(Posting.amount_cents))).group_by(Posting.entry_id)).all()
        assert all(total == 0 and count >= 2 and smallest > 0 for _entry, total, count, smallest in entries), entries

    @invariant()
    def balances_follow_the_grants(self):
        """Balances are the sums of postings; available never negative; reserved is what was granted."""
        sums = dict(self.session.exec(select(Posting.account_id, func.sum(Posting.amount_cents))
                                      .group_by(Posting.account_id)).all())
        balances = dict.fromkeys(((team_id, kind) for team_id in self.teams for kind in AccountKind), 0)
        for account_id, team_id, kind, running_total in self.session.exec(
                select(Account.id, Account.team_id, Account.kind, Account.balance_cents)):
            assert running_total == sums.get(account_id, 0), (team_id, kind, running_total, sums.get(account_id))
            balances[(team_id, kind)] = running_total
        granted = dict(self.session.exec(select(SpendRequest.team_id, func.sum(SpendRequest.granted_amount_cents))
                                         .where(SpendRequest.status == S.GRANTED).group_by(SpendRequest.team_id)).all())
        budgets = dict(self.session.exec(select(TeamBudget.team_id, TeamBudget.annual_budget_cents)).all())
        for team_id in self.teams:
            available, reserved = balances[(team_id, AccountKind.AVAILABLE)], balances[(team_id, AccountKind.RESERVED)]
            assert available >= 0, (team_id, available)
            assert reserved == granted.get(team_id, 0), (team_id, reserved, granted)
            assert available + reserved == budgets[team_id] == -balances[(team_id, AccountKind.FUNDING)]

    @invariant()
    def household_totals_stay_within_the_largest_cap(self):
        """Whatever the caps were over time, no household ever got more than the largest."""
        totals = self.session.exec(select(SpendRequest.household_key, func.sum(SpendRequest.granted_amount_cents))
                                   .where(SpendRequest.status == S.GRANTED)
                                   .group_by(SpendRequest.household_key, SpendRequest.budget_year_id)).all()
        assert all(total <= max(CAPS) for _key, total in totals), totals

    @invariant()
    def final_statuses_stay_final(self):
        """Also checks, once, each request that reached a final status or a grant in the last step."""
        for request in self.session.exec(select(SpendRequest)).all():
            if request.id in self.final:
                assert request.status == self.final[request.id], (request.id, self.final[request.id], request.status)
            elif request.status in FINAL_STATUSES:
                self.final[request.id] = request.status
                self._check_decided(request)
            if request.status == S.GRANTED and request.id not in self.granted:
                self.granted.add(request.id)
                self._check_grant(request)
        self.session.rollback()  # end the read transaction, as a view's request would

    def _check_decided(self, request):
        assert request.decided_at is not None
        action = "withdrawn" if request.status == S.WITHDRAWN else request.status
        events = self.session.exec(select(AuditEvent.action).where(AuditEvent.request_id == request.id)).all()
        assert events.count(action) == 1, events

    def _check_grant(self, request):
        """At the moment of the grant (this step): the rules that allowed it, recounted independently."""
        team = self.session.get(Team, request.team_id)
        granted = request.granted_amount_cents
        assert 0 < granted <= request.amount_cents
        assert standing_stop(self.session, request.id) is None
        backing = self._backing_votes(request, team)
        at_least = [(vote, role) for vote, role in backing if vote.amount_cents >= granted]
        above = [vote for vote, _role in backing if vote.amount_cents > granted]
        assert len(at_least) >= team.quorum > len(above), (granted, team.quorum, backing)
        if granted > team.escalation_threshold_cents:
            assert any(role in (Role.CLIENT_MANAGER, Role.PROGRAMME_MANAGER) for _vote, role in at_least)
        loans = sum(1 for vote, _role in at_least if vote.choice == VoteChoice.LOAN)
        assert request.granted_kind == ("loan" if request.kind == "loan" or 2 * loans > len(at_least) else "gift")
        # What the household had when this grant was made: grants of other teams (with other caps) made
        # later in the same step do not count against this team's cap.
        granted_event = (select(func.min(AuditEvent.id)).where(AuditEvent.request_id == SpendRequest.id,
                                                               AuditEvent.action == S.GRANTED).scalar_subquery())
        this_event = self.session.exec(select(func.min(AuditEvent.id)).where(
            AuditEvent.request_id == request.id, AuditEvent.action == S.GRANTED)).one()
        household_total = self.session.exec(select(func.sum(SpendRequest.granted_amount_cents)).where(
            SpendRequest.household_key == request.household_key, SpendRequest.status == S.GRANTED,
            SpendRequest.budget_year_id == request.budget_year_id, granted_event <= this_event)).one()
        assert household_total <= team.household_cap_cents

    def _backing_votes(self, request, team):
        """Approving votes of members who still have a vote in the team, with their roles."""
        rows = self.session.exec(select(Vote, Membership.role).join(
            Membership, (Membership.member_id == Vote.member_id) & (Membership.team_id == team.id)).where(
            Vote.request_id == request.id, Membership.ended_at.is_(None))).all()
        return [(vote, role) for vote, role in rows if vote.choice in APPROVING and role not in NON_VOTING_ROLES
                and vote.member_id != request.requester_id]


def test_random_decisions_keep_the_money_rules(migrated_database, tmp_path):
    DecisionMachine.database = FreshDatabase(migrated_database, tmp_path)
    examples = 25 if TEST_DATABASE_URL else 50  # about 20-30 s on either, on two idle cores
    run_state_machine_as_test(DecisionMachine, settings=settings(
        max_examples=examples, stateful_step_count=40, deadline=None,
        suppress_health_check=[HealthCheck.too_slow]))
