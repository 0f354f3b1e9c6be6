"""Decisions on requests as rules, without Flask views: the transition table, quorum, amounts, stops,
escalation, the household cap, the budget, the other endings, the audit trail and the ledger.

Domain verbs never commit; a test commits where a view would (once per action) or not at all.
"""
from datetime import date, timedelta

import pytest
from sqlmodel import func, select

from models.audit import AuditEvent, timeline
from models.clock import utcnow
from models.decisions import decide, expire_overdue, redecide_open_requests, tally
from models.ledger import (
    Account, AccountKind, Entry, Posting, account, accounts_out_of_balance, allocate_annual_budget, balance_cents,
    post_entry, reverse_entry)
from models.members import active_membership, change_role, end_membership
from models.money import cents_to_input
from models.requests import (
    FINAL_STATUSES, TRANSITIONS, DraftInput, RequestStatus, SpendRequest, household_key, post_request, save_draft,
    transition, withdraw_request)
from models.rules import RuleViolation
from models.teams import (
    BudgetYear, CostCategory, District, Municipality, add_default_cost_categories, change_team_settings)
from models.votes import Stop, Vote, cast_vote, lift_stop, place_stop

SECRET = "test-household-secret"
S = RequestStatus
ACTIONS = sorted({action for _status, action in TRANSITIONS})
VOTERS = ["w1", "w2", "w3", "w4"]


# --- a team to decide in ------------------------------------------------------------------------------

class World:
    """One municipality's teams, their members by nickname, and verbs that act as a view would."""

    def __init__(self, session, make_team, make_member):
        self.session, self.make_team, self.make_member = session, make_team, make_member
        self.members = {}

    def team(self, name, municipality=None, budget_cents=250_000, quorum=3):
        """A team with cost categories and one member per role (four workers who vote)."""
        team = self.make_team(name, municipality=municipality, annual_budget_cents=budget_cents)
        municipality = self.municipality(team)
        if not self.session.exec(select(CostCategory).where(CostCategory.municipality_id == municipality.id)).first():
            add_default_cost_categories(self.session, municipality)
        team.quorum = quorum
        self.session.add(team)
        self.session.commit()
        roles = {"requester": "worker", **{nick: "worker" for nick in VOTERS}, "ic": "income_consultant",
                 "pe": "provisions_expert", "cm": "client_manager", "tl": "team_leader", "ob": "observer"}
        for nick, role in roles.items():
            self.members[(team.id, nick)] = self.make_member(team, role, name=f"{nick} {name}")
        return team

    def municipality(self, team):
        return self.session.get(Municipality, self.session.get(District, team.district_id).municipality_id)

    def membership(self, team, nick):
        return active_membership(self.session, self.members[(team.id, nick)].id, team.id)

    def draft(self, team, amount_cents, *, kind="gift", household="DOSSIER-1", nick="requester"):
        """A saved draft of groceries money, typed in as a worker would."""
        category = self.session.exec(select(CostCategory).where(
            CostCategory.municipality_id == self.municipality(team).id, CostCategory.code == "groceries")).one()
        data = DraftInput(amount=cents_to_input(amount_cents), cost_category_id=category.id,
                          situation="Moeder van drie kinderen met een uitkering.", prevents="Een afgesloten meter.",
                          kind=kind, household_reference=household)
        request = save_draft(self.session, team, self.membership(team, nick), data, household_secret=SECRET)
        self.session.commit()
        return request

    def open(self, team, amount_cents, **draft):
        """A posted request."""
        request = self.draft(team, amount_cents, **draft)
        post_request(self.session, request, team, request.requester_id)
        self.session.commit()
        return request

    def vote(self, team, request, nick, choice="approve", amount_cents=None, alternative=None):
        """Vote and decide, committed together; returns why a grant waits, if it does."""
        cast_vote(self.session, request, self.membership(team, nick), choice, amount_cents=amount_cents,
                  alternative_name=alternative)
        waits = decide(self.session, request, team, actor_id=self.members[(team.id, nick)].id)
        self.session.commit()
        return waits

    def balance(self, team, kind=AccountKind.AVAILABLE):
        return balance_cents(self.session, team.id, self.year(team).id, kind)

    def year(self, team):
        return self.session.exec(select(BudgetYear).where(BudgetYear.municipality_id == self.municipality(team).id,
                                                          BudgetYear.year == date.today().year)).one()


@pytest.fixture
def world(session, make_team, make_member):
    """Teams to decide in."""
    return World(session, make_team, make_member)


@pytest.fixture
def team(world):
    """One team with quorum 3, a budget of 2,500 euros and the default caps."""
    return world.team("Team Oost")


def _entries(session):
    return session.exec(select(func.count()).select_from(Entry)).one()


# --- the transition table ---------------------------------------------------------------------------

@pytest.mark.parametrize("status", [s for s in RequestStatus if s not in FINAL_STATUSES])
def test_transitions_have_no_dead_state(status):
    assert any(source == status for source, _action in TRANSITIONS)


@pytest.mark.parametrize("status", sorted(FINAL_STATUSES))
def test_transitions_final_statuses_have_no_way_out(status):
    """A decision stands; only a grant whose card was never loaded can still be cancelled."""
    ways_out = {action for source, action in TRANSITIONS if source == status}
    assert ways_out == ({"cancel"} if status == RequestStatus.GRANTED else set())


def test_transitions_reach_every_status_from_draft():
    reached, frontier = {S.DRAFT}, [S.DRAFT]
    while frontier:
        source = frontier.pop()
        for (start, _action), target in TRANSITIONS.items():
            if start == source and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(RequestStatus)


@pytest.mark.parametrize("status, action", sorted(TRANSITIONS))
def test_transition_in_the_table_moves_the_request(status, action):
    request = SpendRequest(team_id=1, requester_id=1, status=status)
    transition(request, action)
    assert request.status == TRANSITIONS[(status, action)]


@pytest.mark.parametrize("status, action", [(s, a) for s in RequestStatus for a in ACTIONS + ["fly"]
                                            if (s, a) not in TRANSITIONS])
def test_transition_not_in_the_table_is_a_rule_violation(status, action):
    request = SpendRequest(team_id=1, requester_id=1, status=status)
    with pytest.raises(RuleViolation):
        transition(request, action)
    assert request.status == status


# --- quorum, amount and kind ------------------------------------------------------------------------

A = 7_500  # the amount asked in the quorum table
QUORUM_TABLE = [
    # quorum, asked kind, votes in order (choice, amount), status, granted cents, granted kind
    (3, "gift", [("approve", None), ("approve_lower", 6_000), ("approve_lower", 5_000)], S.GRANTED, 5_000, "gift"),
    (3, "gift", [("approve", None), ("approve", None), ("approve_lower", 6_000), ("approve_lower", 5_000)],
     S.GRANTED, 6_000, "gift"),
    (3, "gift", [("approve", None), ("approve", None)], S.OPEN, None, None),
    (1, "gift", [("approve", None)], S.GRANTED, A, "gift"),
    (1, "gift", [("approve_lower", 100)], S.GRANTED, 100, "gift"),
    (2, "gift", [("approve_lower", 6_000), ("approve_lower", 5_000)], S.GRANTED, 5_000, "gift"),
    (4, "gift", [("approve", None), ("approve", None), ("approve", None)], S.OPEN, None, None),
    (4, "gift", [("approve", None)] * 4, S.GRANTED, A, "gift"),
    # loans: asked for, or proposed by most of the approvals that back the granted amount
    (1, "loan", [("approve", None)], S.GRANTED, A, "loan"),
    (3, "gift", [("loan", None), ("loan", 7_000), ("approve", None)], S.GRANTED, 7_000, "loan"),
    (3, "gift", [("loan", None), ("approve", None), ("approve", None)], S.GRANTED, A, "gift"),
    (2, "gift", [("loan", 6_000), ("loan", 5_000), ("approve", None)], S.GRANTED, 6_000, "gift"),
    (2, "gift", [("approve", None), ("loan", 6_000), ("loan", 6_500)], S.GRANTED, 6_500, "gift"),
    (2, "gift", [("loan", 6_000), ("loan", 6_500), ("approve_lower", 100)], S.GRANTED, 6_000, "loan"),
    # the other endings
    (3, "gift", [("reject", None)] * 3, S.REJECTED, None, None),
    (3, "gift", [("reject", None), ("reject", None), ("approve", None)], S.OPEN, None, None),
    (2, "gift", [("reject", None), ("approve", None), ("reject", None)], S.REJECTED, None, None),
    (3, "gift", [("alternative", None)] * 3, S.SOLVED, None, None),
    (2, "gift", [("alternative", None), ("reject", None), ("approve", None)], S.OPEN, None, None),
]


@pytest.mark.parametrize("quorum, kind, votes, status, granted, granted_kind", QUORUM_TABLE)
def test_quorum_decides_status_amount_and_kind(world, quorum, kind, votes, status, granted, granted_kind):
    """All votes are in when the rules decide (as when the quorum is lowered, or a stop is lifted)."""
    team = world.team("Team Oost", quorum=quorum)
    request = world.open(team, A, kind=kind)
    for nick, (choice, amount) in zip(VOTERS, votes):
        alternative = "Voedselbank" if choice == "alternative" else None
        cast_vote(world.session, request, world.membership(team, nick), choice, amount_cents=amount,
                  alternative_name=alternative)
    decide(world.session, request, team)
    world.session.commit()
    assert (request.status, request.granted_amount_cents, request.granted_kind) == (status, granted, granted_kind)
    assert world.balance(team, AccountKind.RESERVED) == (granted or 0)
    assert world.balance(team) == 250_000 - (granted or 0)


def test_quorum_is_not_reached_early(world, team):
    request = world.open(team, A)
    for nick in ["w1", "w2"]:
        world.vote(team, request, nick)
        assert request.status == S.OPEN and world.balance(team, AccountKind.RESERVED) == 0
    world.vote(team, request, "w3")
    assert request.status == S.GRANTED


@pytest.mark.parametrize("settings, status", [
    ({"quorum": 2}, S.GRANTED), ({"quorum": 4}, S.OPEN), ({"quorum": 2, "escalation_threshold_cents": 5_000}, S.OPEN),
    ({"quorum": 2, "household_cap_cents": 7_000}, S.OPEN), ({"quorum": 2, "request_expiry_hours": 1, "reminder_after_hours": 1}, S.EXPIRED)])
def test_changed_settings_decide_open_requests_again(world, team, settings, status):
    request = world.open(team, A)
    _age(world, request, 2)
    world.vote(team, request, "w1", "approve")
    world.vote(team, request, "w2", "approve")
    coordinator = world.make_member(team, "coordinator")
    change_team_settings(world.session, team, coordinator.id, **settings)
    redecide_open_requests(world.session, team, actor_id=coordinator.id)
    world.session.commit()
    assert request.status == status
    assert world.balance(team, AccountKind.RESERVED) == (A if status == S.GRANTED else 0)


@pytest.mark.parametrize("nick", ["requester", "tl", "ob"])
def test_vote_by_requester_team_leader_or_observer_is_refused(world, team, nick):
    request = world.open(team, A)
    with pytest.raises(RuleViolation):
        cast_vote(world.session, request, world.membership(team, nick), "approve")
    assert world.session.exec(select(Vote)).first() is None


def test_vote_by_a_member_of_another_team_is_refused(world, team):
    other = world.team("Team West", municipality=world.municipality(team))
    request = world.open(team, A)
    with pytest.raises(RuleViolation):
        cast_vote(world.session, request, world.membership(other, "w1"), "approve")


@pytest.mark.parametrize("choice, amount_cents", [
    ("approve_lower", A), ("approve_lower", None), ("approve_lower", 0), ("loan", A + 1), ("loan", 0), ("loan", -1),
    ("maybe", None), ("alternative", None)])
def test_vote_with_a_bad_amount_or_choice_is_refused(world, team, choice, amount_cents):
    request = world.open(team, A)
    with pytest.raises(RuleViolation):
        cast_vote(world.session, request, world.membership(team, "w1"), choice, amount_cents=amount_cents)


@pytest.mark.parametrize("change", ["ended", "team_leader", "observer"])
def test_votes_no_longer_count_once_membership_ends_or_role_loses_its_vote(world, team, change):
    request = world.open(team, A)
    world.vote(team, request, "w1")
    world.vote(team, request, "w2")
    membership = world.membership(team, "w1")
    if change == "ended":
        end_membership(world.session, membership)
    else:
        change_role(world.session, membership, change)
    world.session.commit()
    world.vote(team, request, "w3")
    assert request.status == S.OPEN and tally(world.session, request, team).approvals == 2
    world.vote(team, request, "w4")
    assert request.status == S.GRANTED


def test_changed_vote_replaces_the_old_one(world, team):
    request = world.open(team, A)
    world.vote(team, request, "w1")
    world.vote(team, request, "w1", "reject")
    world.vote(team, request, "w2")
    world.vote(team, request, "w3")
    assert request.status == S.OPEN
    [vote] = world.session.exec(select(Vote).where(Vote.member_id == world.members[(team.id, "w1")].id)).all()
    assert vote.choice == "reject" and vote.amount_cents is None
    world.vote(team, request, "w1", "approve_lower", 5_000)
    assert request.status == S.GRANTED and request.granted_amount_cents == 5_000
    assert [e.detail["choice"] for e in timeline(world.session, request.id) if e.action == "vote"] == [
        "approve", "reject", "approve", "approve", "approve_lower"]  # the audit keeps every version


def test_vote_after_the_decision_is_refused(world):
    team = world.team("Team Oost", quorum=1)
    request = world.open(team, A)
    world.vote(team, request, "w1")
    with pytest.raises(RuleViolation):
        cast_vote(world.session, request, world.membership(team, "w2"), "reject")


# --- stop --------------------------------------------------------------------------------------------

def test_stop_blocks_the_grant_and_lifting_it_grants(world):
    team = world.team("Team Oost", quorum=1)
    request = world.open(team, A)
    place_stop(world.session, request, world.membership(team, "ic"), "Valt onder bijzondere bijstand")
    world.session.commit()
    assert world.vote(team, request, "w1") is not None
    assert request.status == S.OPEN and world.balance(team, AccountKind.RESERVED) == 0
    lift_stop(world.session, request, world.membership(team, "ic"), "Toch niet")
    decide(world.session, request, team)
    world.session.commit()
    assert request.status == S.GRANTED and world.balance(team, AccountKind.RESERVED) == A


@pytest.mark.parametrize("nick", ["w1", "pe", "cm", "tl", "ob", "requester"])
def test_stop_is_for_the_income_consultant_only(world, team, nick):
    request = world.open(team, A)
    with pytest.raises(RuleViolation):
        place_stop(world.session, request, world.membership(team, nick), "Onrechtmatig")


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_stop_needs_a_reason(world, team, reason):
    request = world.open(team, A)
    with pytest.raises(RuleViolation):
        place_stop(world.session, request, world.membership(team, "ic"), reason)


def test_stop_stands_once_and_lifts_once(world, team):
    request = world.open(team, A)
    ic = world.membership(team, "ic")
    with pytest.raises(RuleViolation):
        lift_stop(world.session, request, ic, "Er is niets")
    place_stop(world.session, request, ic, "Onrechtmatig")
    with pytest.raises(RuleViolation):
        place_stop(world.session, request, ic, "Nog eens")
    lift_stop(world.session, request, ic, "Toch rechtmatig")
    world.session.commit()
    assert world.session.exec(select(Stop)).one().lifted_at is not None


def test_rejection_by_a_quorum_ends_a_stopped_request(world):
    team = world.team("Team Oost", quorum=2)
    request = world.open(team, A)
    place_stop(world.session, request, world.membership(team, "ic"), "Onrechtmatig")
    for nick in ["w1", "w2", "w3"]:
        world.vote(team, request, nick, "approve" if nick == "w1" else "reject")
    assert request.status == S.REJECTED and world.balance(team, AccountKind.RESERVED) == 0


# --- escalation -------------------------------------------------------------------------------------

@pytest.mark.parametrize("votes, status, granted", [
    ([("w1", "approve", None), ("w2", "approve", None), ("w3", "approve", None)], S.OPEN, None),
    ([("w1", "approve", None), ("w2", "approve", None), ("cm", "approve", None)], S.GRANTED, 30_000),
    ([("w1", "approve", None), ("w2", "approve", None), ("w3", "approve", None), ("cm", "approve", None)],
     S.GRANTED, 30_000),
    # the client manager backs a lower amount only: the quorum's 30,000 still needs them
    ([("w1", "approve", None), ("w2", "approve", None), ("w3", "approve", None), ("cm", "approve_lower", 20_000)],
     S.OPEN, None),
    # a quorum at or below the threshold needs no client manager
    ([("w1", "approve", None), ("w2", "approve_lower", 25_000), ("w3", "approve_lower", 25_000)],
     S.GRANTED, 25_000),
])
def test_escalation_above_threshold_needs_a_client_manager(world, team, votes, status, granted):
    """The larger-budget variant: a team whose threshold is below its household cap."""
    assert team.escalation_threshold_cents == team.household_cap_cents  # by default a team decides up to the cap
    team.escalation_threshold_cents = 25_000
    world.session.add(team)
    request = world.open(team, 30_000)
    for nick, choice, amount in votes:
        world.vote(team, request, nick, choice, amount)
    assert (request.status, request.granted_amount_cents) == (status, granted)


# --- household cap ---------------------------------------------------------------------------------

def _grant(world, team, amount_cents, household):
    """Ask and approve at once (quorum 1, the client manager approves, so escalation never waits)."""
    team.quorum = 1
    world.session.add(team)
    request = world.open(team, amount_cents, household=household)
    world.vote(team, request, "cm")
    return request


def test_household_cap_holds_across_teams_of_the_municipality(world):
    east = world.team("Team Oost")
    west = world.team("Team West", municipality=world.municipality(east))
    assert _grant(world, east, 40_000, "DOSSIER-1").status == S.GRANTED
    too_much = _grant(world, west, 20_000, " dossier-1 ")  # the same reference, typed differently
    assert too_much.household_key == household_key(SECRET, "DOSSIER-1")
    assert too_much.status == S.OPEN
    assert _grant(world, west, 10_000, "DOSSIER-1").status == S.GRANTED  # exactly the cap
    assert _grant(world, west, 1, "DOSSIER-1").status == S.OPEN
    assert _grant(world, west, 20_000, "DOSSIER-2").status == S.GRANTED  # another household
    assert world.balance(west, AccountKind.RESERVED) == 30_000


def test_household_cap_does_not_span_municipalities(world):
    east = world.team("Team Oost")
    elsewhere = world.team("Team Elders")
    assert world.municipality(east).id != world.municipality(elsewhere).id
    assert _grant(world, east, 50_000, "DOSSIER-1").status == S.GRANTED
    assert _grant(world, elsewhere, 50_000, "DOSSIER-1").status == S.GRANTED


def test_household_cap_is_per_budget_year(world):
    east = world.team("Team Oost")
    last_year = date.today().year - 1
    old_year = BudgetYear(municipality_id=world.municipality(east).id, year=last_year,
                          starts_on=date(last_year, 1, 1), ends_on=date(last_year, 12, 31))
    world.session.add(old_year)
    world.session.flush()
    world.session.add(SpendRequest(team_id=east.id, requester_id=world.members[(east.id, "requester")].id,
                                   status=S.GRANTED, amount_cents=50_000, granted_amount_cents=50_000,
                                   household_key=household_key(SECRET, "DOSSIER-1"), budget_year_id=old_year.id))
    world.session.commit()
    assert _grant(world, east, 50_000, "DOSSIER-1").status == S.GRANTED


def test_household_cap_follows_the_granting_team(world):
    east = world.team("Team Oost")
    west = world.team("Team West", municipality=world.municipality(east))
    west.household_cap_cents = 30_000
    assert _grant(world, east, 25_000, "DOSSIER-1").status == S.GRANTED
    assert _grant(world, west, 10_000, "DOSSIER-1").status == S.OPEN
    assert _grant(world, west, 5_000, "DOSSIER-1").status == S.GRANTED


def test_posting_checks_the_amount_against_the_household_cap(world, team):
    draft = world.draft(team, 40_000)
    team.household_cap_cents = 30_000
    world.session.add(team)
    world.session.commit()
    with pytest.raises(RuleViolation) as refused:
        post_request(world.session, draft, team, draft.requester_id)
    assert refused.value.field == "amount" and draft.status == S.DRAFT


# --- budget -------------------------------------------------------------------------------------------

def test_team_never_grants_more_than_its_available_budget(world):
    team = world.team("Team Oost", budget_cents=10_000, quorum=1)
    first, second = world.open(team, A, household="A"), world.open(team, A, household="B")
    world.vote(team, first, "w1")
    waits = world.vote(team, second, "w1")
    assert (first.status, second.status) == (S.GRANTED, S.OPEN)
    assert "budget" in str(waits)
    assert world.balance(team) == 2_500 and world.balance(team, AccountKind.RESERVED) == A
    world.vote(team, second, "w1", "approve_lower", 2_500)  # the vote changed to a lower amount that fits
    assert (second.status, second.granted_amount_cents, world.balance(team)) == (S.GRANTED, 2_500, 0)


def test_team_grants_its_budget_to_the_last_cent(world):
    team = world.team("Team Oost", budget_cents=2 * A, quorum=1)
    requests = [world.open(team, A, household=h) for h in "ABC"]
    for request in requests:
        world.vote(team, request, "w1")
    assert [r.status for r in requests] == [S.GRANTED, S.GRANTED, S.OPEN] and world.balance(team) == 0


@pytest.mark.parametrize("new_budget_cents, allowed", [(A - 1, False), (0, False), (A, True), (20_000, True)])
def test_lowered_budget_never_takes_back_a_grant(world, new_budget_cents, allowed):
    team = world.team("Team Oost", budget_cents=10_000, quorum=1)
    world.vote(team, world.open(team, A), "w1")
    entries = _entries(world.session)
    if allowed:
        allocate_annual_budget(world.session, team, world.year(team).id, new_budget_cents)
    else:
        with pytest.raises(RuleViolation):
            allocate_annual_budget(world.session, team, world.year(team).id, new_budget_cents)
    world.session.commit()
    assert world.balance(team) == (new_budget_cents - A if allowed else 10_000 - A) >= 0
    assert world.balance(team, AccountKind.FUNDING) == -(new_budget_cents if allowed else 10_000)
    assert _entries(world.session) == entries + (allowed and new_budget_cents != 10_000)


def test_grant_and_its_entry_land_in_one_transaction(world):
    team = world.team("Team Oost", quorum=1)
    request = world.open(team, A)
    cast_vote(world.session, request, world.membership(team, "w1"), "approve")
    decide(world.session, request, team)
    assert request.status == S.GRANTED  # not committed yet: the entry is in the same transaction
    entry = world.session.exec(select(Entry).where(Entry.request_id == request.id)).one()
    postings = {world.session.get(Account, p.account_id).kind: p.amount_cents
                for p in world.session.exec(select(Posting).where(Posting.entry_id == entry.id))}
    assert postings == {AccountKind.AVAILABLE: -A, AccountKind.RESERVED: A}
    world.session.rollback()
    world.session.refresh(request)
    assert request.status == S.OPEN and request.granted_amount_cents is None
    assert world.session.exec(select(Entry).where(Entry.request_id == request.id)).first() is None
    assert world.balance(team) == 250_000 and world.balance(team, AccountKind.RESERVED) == 0


# --- the other endings --------------------------------------------------------------------------------

def test_rejected_by_a_quorum_moves_no_money(world, team):
    request = world.open(team, A)
    entries = _entries(world.session)
    for nick in ["w1", "w2", "w3"]:
        world.vote(team, request, nick, "reject")
    assert request.status == S.REJECTED and request.granted_amount_cents is None
    assert _entries(world.session) == entries and request.decided_at is not None


def test_solved_with_an_alternative_is_counted_and_moves_no_money(world, team):
    request = world.open(team, A)
    entries = _entries(world.session)
    for nick, name in [("w1", "Voedselbank"), ("w2", "Bijzondere  bijstand"), ("pe", "Bijzondere bijstand")]:
        world.vote(team, request, nick, "alternative", alternative=name)
    assert request.status == S.SOLVED and request.alternative_name == "Bijzondere bijstand"
    assert tally(world.session, request, team).alternatives == 3
    assert _entries(world.session) == entries and request.granted_amount_cents is None
    [solved] = [e for e in timeline(world.session, request.id) if e.action == S.SOLVED]
    assert solved.detail["alternative_name"] == "Bijzondere bijstand"
    count = world.session.exec(select(func.count()).select_from(SpendRequest).where(
        SpendRequest.team_id == team.id, SpendRequest.status == S.SOLVED)).one()
    assert count == 1


@pytest.mark.parametrize("status_before", [S.DRAFT, S.OPEN])
def test_withdrawn_by_the_requester(world, team, status_before):
    request = world.draft(team, A) if status_before == S.DRAFT else world.open(team, A)
    withdraw_request(world.session, request, request.requester_id)
    world.session.commit()
    assert request.status == S.WITHDRAWN and request.decided_at is not None
    assert timeline(world.session, request.id)[-1].action == "withdrawn"


@pytest.mark.parametrize("nick", ["w1", "ic", "cm", "tl", "ob"])
def test_withdrawn_by_nobody_else(world, team, nick):
    request = world.open(team, A)
    with pytest.raises(RuleViolation):
        withdraw_request(world.session, request, world.members[(team.id, nick)].id)
    assert request.status == S.OPEN


def test_withdrawing_a_decided_request_is_refused(world):
    team = world.team("Team Oost", quorum=1)
    request = world.open(team, A)
    world.vote(team, request, "w1")
    with pytest.raises(RuleViolation):
        withdraw_request(world.session, request, request.requester_id)
    assert request.status == S.GRANTED


def _age(world, request, hours):
    request.posted_at = utcnow() - timedelta(hours=hours)
    world.session.add(request)
    world.session.commit()


@pytest.mark.parametrize("hours, status", [(71.9, S.OPEN), (72, S.EXPIRED), (200, S.EXPIRED)])
def test_expired_after_the_teams_expiry_time_by_decide(world, team, hours, status):
    request = world.open(team, A)
    _age(world, request, hours)
    decide(world.session, request, team)
    world.session.commit()
    assert request.status == status


def test_expired_request_is_not_granted_by_a_late_quorum(world):
    team = world.team("Team Oost", quorum=1)
    request = world.open(team, A)
    _age(world, request, 73)
    world.vote(team, request, "w1")
    assert request.status == S.EXPIRED and world.balance(team, AccountKind.RESERVED) == 0


def test_expire_overdue_expires_only_the_teams_overdue_open_requests(world, team):
    team.request_expiry_hours = 24
    world.session.add(team)
    other = world.team("Team West", municipality=world.municipality(team))
    overdue, fresh, elsewhere = world.open(team, A), world.open(team, A), world.open(other, A)
    for request in (overdue, elsewhere):
        _age(world, request, 25)
    assert expire_overdue(world.session, team) == 1
    world.session.commit()
    assert [r.status for r in (overdue, fresh, elsewhere)] == [S.EXPIRED, S.OPEN, S.OPEN]
    assert timeline(world.session, overdue.id)[-1].action == "expired"
    assert expire_overdue(world.session, team) == 0


# --- time and trail -----------------------------------------------------------------------------------

def test_decision_time_is_recorded(world):
    team = world.team("Team Oost", quorum=1)
    request = world.open(team, A)
    _age(world, request, 2)
    world.vote(team, request, "w1")
    world.session.expire_all()
    request = world.session.get(SpendRequest, request.id)
    assert request.decided_at is not None and 7_200 <= request.decision_seconds < 7_300
    assert timeline(world.session, request.id)[-1].detail["decision_seconds"] == request.decision_seconds


def _flow_grant(world, team, request):
    world.vote(team, request, "w1")


def _flow_stop(world, team, request):
    place_stop(world.session, request, world.membership(team, "ic"), "Onrechtmatig")
    world.session.commit()
    world.vote(team, request, "w1")
    lift_stop(world.session, request, world.membership(team, "ic"), "Toch niet")
    decide(world.session, request, team)
    world.session.commit()


def _flow_withdraw(world, team, request):
    withdraw_request(world.session, request, request.requester_id)
    world.session.commit()


def _flow_expire(world, team, request):
    _age(world, request, 100)
    expire_overdue(world.session, team)
    world.session.commit()


@pytest.mark.parametrize("flow, actions", [
    (_flow_grant, ["posted", "vote", "granted"]),
    (lambda w, t, r: w.vote(t, r, "w1", "reject"), ["posted", "vote", "rejected"]),
    (lambda w, t, r: w.vote(t, r, "w1", "alternative", alternative="Kledingbank"),
     ["posted", "vote", "solved_alternative"]),
    (_flow_stop, ["posted", "stop", "vote", "stop_lifted", "granted"]),
    (_flow_withdraw, ["posted", "withdrawn"]),
    (_flow_expire, ["posted", "expired"]),
])
def test_every_step_writes_an_audit_event(world, flow, actions):
    team = world.team("Team Oost", quorum=1)
    request = world.open(team, A)
    flow(world, team, request)
    events = timeline(world.session, request.id)
    assert [e.action for e in events] == actions
    assert all(e.team_id == team.id for e in events)
    assert world.session.exec(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.request_id == request.id)).one() == len(actions)


# --- ledger -----------------------------------------------------------------------------------------

@pytest.fixture
def accounts(world, team):
    year = world.year(team)
    return {kind: account(world.session, team.id, year.id, kind) for kind in AccountKind}


@pytest.mark.parametrize("amounts", [
    [], [100], [100, -99], [100, 0, -100], [0, 0], [50, 50, -99], [-1, -1]])
def test_post_entry_refuses_what_does_not_balance(world, team, accounts, amounts):
    kinds = [AccountKind.AVAILABLE, AccountKind.RESERVED, AccountKind.FUNDING]
    entries = _entries(world.session)
    with pytest.raises(RuleViolation):
        post_entry(world.session, team.id, [(accounts[kinds[i % 3]], a) for i, a in enumerate(amounts)], memo="x")
    assert _entries(world.session) == entries


def test_post_entry_stays_within_one_team(world, team, accounts):
    other = world.team("Team West", municipality=world.municipality(team))
    foreign = account(world.session, other.id, world.year(other).id, AccountKind.AVAILABLE)
    with pytest.raises(RuleViolation):
        post_entry(world.session, team.id, [(accounts[AccountKind.AVAILABLE], -100), (foreign, 100)], memo="x")


def test_reverse_entry_returns_the_balances(world, team, accounts):
    before = {kind: world.balance(team, kind) for kind in AccountKind}
    entry = post_entry(world.session, team.id, [(accounts[AccountKind.AVAILABLE], -1_234),
                                                 (accounts[AccountKind.RESERVED], 1_000),
                                                 (accounts[AccountKind.FUNDING], 234)], memo="Toekenning")
    assert world.balance(team, AccountKind.RESERVED) == before[AccountKind.RESERVED] + 1_000
    correction = reverse_entry(world.session, entry, memo="Correctie")
    world.session.commit()
    assert correction.reverses_entry_id == entry.id
    assert {kind: world.balance(team, kind) for kind in AccountKind} == before


def test_balances_are_sums_of_postings(world, team, accounts):
    for amount in [100, 250, 1, 9_999]:
        post_entry(world.session, team.id, [(accounts[AccountKind.AVAILABLE], -amount),
                                            (accounts[AccountKind.RESERVED], amount)], memo="x")
    world.session.commit()
    for kind, acc in accounts.items():
        total = world.session.exec(select(func.coalesce(func.sum(Posting.amount_cents), 0))
                                   .where(Posting.account_id == acc.id)).one()
        assert world.balance(team, kind) == total
    assert world.balance(team, AccountKind.RESERVED) == 10_350
    assert sum(world.balance(team, kind) for kind in AccountKind) == 0
    assert accounts_out_of_balance(world.session) == []
