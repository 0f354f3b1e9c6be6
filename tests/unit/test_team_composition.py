"""Defaults and team composition (issue 11 §6) and members over time (§7), as rules without Flask views:
the programme manager's approval above the escalation threshold, the composition warnings, moving and
deactivating a member, and searching and paging member lists in SQL.
"""
import pytest
from sqlmodel import select

from models.decisions import tally
from models.deactivation import deactivate_member
from models.invites import Invite, invite_recovery
from models.member_lists import MEMBERS_PER_PAGE, clean_search, search_members
from models.members import (
    LARGEST_TEAM, Membership, active_membership, add_membership, composition_warnings, create_member,
    end_membership, move_membership, reactivate_member)
from models.passkeys import Passkey, active_passkeys
from models.requests import RequestStatus, may_request
from models.rules import RuleViolation
from models.sign_in import LoginSession, member_of_login_session, start_login_session
from models.subscriptions import PushSubscription
from models.teams import (
    DEFAULT_ESCALATION_THRESHOLD_CENTS, DEFAULT_HOUSEHOLD_CAP_CENTS, District, Municipality, Team)
from models.clock import utcnow
from models.votes import Vote, is_voting_member
from tests.unit.test_decision_rules import World

S = RequestStatus


@pytest.fixture
def world(session, make_team, make_member):
    """Teams to decide in (tests/unit/test_decision_rules.py), with a programme manager in each."""
    return World(session, make_team, make_member)


@pytest.fixture
def team(world):
    """Team Oost with a programme manager "pm", and a threshold below its cap (the larger-budget variant)."""
    team = world.team("Team Oost")
    world.members[(team.id, "pm")] = world.make_member(team, "programme_manager", name="pm Team Oost")
    team.escalation_threshold_cents = 25_000
    world.session.add(team)
    world.session.commit()
    return team


# --- the programme manager and the escalation threshold --------------------------------------------------

def test_default_escalation_threshold_is_the_household_cap():
    assert DEFAULT_ESCALATION_THRESHOLD_CENTS == DEFAULT_HOUSEHOLD_CAP_CENTS == 50_000
    assert Team(district_id=1, name="T").escalation_threshold_cents == Team(district_id=1, name="T").household_cap_cents


def test_default_team_decides_up_to_the_cap_without_escalation(world):
    team = world.team("Team Standaard")
    request = world.open(team, DEFAULT_HOUSEHOLD_CAP_CENTS)
    for nick in ["w1", "w2", "w3"]:
        world.vote(team, request, nick)
    assert (request.status, request.granted_amount_cents) == (S.GRANTED, DEFAULT_HOUSEHOLD_CAP_CENTS)


@pytest.mark.parametrize("votes, status", [
    ([("w1", "approve", None), ("w2", "approve", None), ("pm", "approve", None)], S.GRANTED),
    ([("w1", "approve", None), ("w2", "approve", None), ("cm", "approve", None)], S.GRANTED),
    ([("w1", "approve", None), ("w2", "approve", None), ("w3", "approve", None)], S.OPEN),
    # the programme manager backs only a lower amount: the quorum's 30,000 still needs one of the two
    ([("w1", "approve", None), ("w2", "approve", None), ("w3", "approve", None), ("pm", "approve_lower", 20_000)],
     S.OPEN),
])
def test_escalation_needs_a_client_manager_or_programme_manager(world, team, votes, status):
    request = world.open(team, 30_000)
    waits = None
    for nick, choice, amount in votes:
        waits = world.vote(team, request, nick, choice, amount)
    assert request.status == status
    if status == S.OPEN:
        assert str(waits) == "Boven de drempel moet ook een klantmanager of programmamanager instemmen."
        assert tally(world.session, request, team).escalation_approved is False


def test_programme_manager_votes_and_requests(world, team):
    membership = world.membership(team, "pm")
    request = world.open(team, 10_000)
    assert is_voting_member(membership, request) and may_request(membership)


def test_programme_manager_who_left_no_longer_lets_a_grant_through(world, team):
    request = world.open(team, 30_000)
    world.vote(team, request, "pm")
    end_membership(world.session, world.membership(team, "pm"))
    world.session.commit()
    world.vote(team, request, "w1")
    world.vote(team, request, "w2")
    assert world.vote(team, request, "w3") is not None and request.status == S.OPEN


# --- composition warnings ----------------------------------------------------------------------------------

@pytest.mark.parametrize("roles, quorum, expected", [
    (["income_consultant", "worker", "worker", "worker"], 3, []),
    (["worker", "worker", "worker", "worker"], 3, [("no_income_consultant", 0, 0)]),
    # a requester does not vote: quorum 3 needs four voting members
    (["income_consultant", "worker", "worker"], 3, [("too_few_voters", 3, 4)]),
    # team leaders and observers never vote
    (["income_consultant", "worker", "worker", "team_leader", "observer"], 3, [("too_few_voters", 3, 4)]),
    (["income_consultant", "worker", "worker", "team_leader", "observer"], 2, []),
    (["income_consultant", "programme_manager", "client_manager", "provisions_expert"], 3, []),
    ([], 1, [("no_income_consultant", 0, 0), ("too_few_voters", 0, 2)]),
    (["income_consultant"] + ["worker"] * LARGEST_TEAM, 3, [("too_many_members", LARGEST_TEAM + 1, LARGEST_TEAM)]),
    (["income_consultant"] + ["worker"] * (LARGEST_TEAM - 1), 3, []),
])
def test_composition_warnings(session, make_team, make_member, roles, quorum, expected):
    team = make_team("Team Samenstelling")
    team.quorum = quorum
    session.add(team)
    for number, role in enumerate(roles):
        make_member(team, role, name=f"{role} {number}")
    assert [(w.kind, w.count, w.limit) for w in composition_warnings(session, team)] == expected


def test_composition_counts_only_active_members(session, make_team, make_member):
    team = make_team("Team Oost")
    consultant = make_member(team, "income_consultant", name="Ine")
    coordinator = make_member(team, "coordinator", name="Cora")
    for name in ["A", "B", "C"]:
        make_member(team, "worker", name=name)
    assert composition_warnings(session, team) == []
    end_membership(session, active_membership(session, consultant.id, team.id))
    session.commit()
    assert [w.kind for w in composition_warnings(session, team)] == ["no_income_consultant", "too_few_voters"]
    add_membership(session, consultant, team, "income_consultant")  # back again
    deactivate_member(session, coordinator, consultant)
    session.commit()
    assert [w.kind for w in composition_warnings(session, team)] == ["no_income_consultant", "too_few_voters"]


# --- moving a member ------------------------------------------------------------------------------------------

def test_moved_members_votes_stay_but_no_longer_count_in_the_old_team(world, team):
    west = world.team("Team West", municipality=world.municipality(team))
    request = world.open(team, 10_000)
    world.vote(team, request, "w1")
    world.vote(team, request, "w2")
    moved = move_membership(world.session, world.membership(team, "w1"), west)
    world.session.commit()
    assert (moved.team_id, moved.role) == (west.id, "worker")
    assert world.membership(team, "w1") is None
    world.vote(team, request, "w3")
    assert request.status == S.OPEN  # w1's vote is still on the request, but only w2 and w3 count
    assert world.members[(team.id, "w1")].id in {v.member_id for v in world.session.exec(
        select(Vote).where(Vote.request_id == request.id))}
    assert tally(world.session, request, team).approvals == 2
    world.vote(team, request, "w4")
    assert request.status == S.GRANTED


def test_move_with_another_role(world, team):
    west = world.team("Team West", municipality=world.municipality(team))
    moved = move_membership(world.session, world.membership(team, "w1"), west, "programme_manager")
    assert moved.role == "programme_manager"


def test_move_is_refused_to_the_same_or_an_archived_team_or_where_the_member_already_is(world, team):
    west = world.team("Team West", municipality=world.municipality(team))
    other_municipality = world.team("Team Elders")
    membership = world.membership(team, "w1")
    with pytest.raises(RuleViolation, match="ander team"):
        move_membership(world.session, membership, team)
    with pytest.raises(RuleViolation, match="andere gemeente"):
        move_membership(world.session, membership, other_municipality)
    with pytest.raises(RuleViolation, match="rol"):
        move_membership(world.session, membership, west, "coordinator")
    add_membership(world.session, world.members[(team.id, "w1")], west, "worker")
    with pytest.raises(RuleViolation, match="zit al in het team"):
        move_membership(world.session, membership, west)
    west.archived_at = utcnow()
    with pytest.raises(RuleViolation, match="gearchiveerd"):
        move_membership(world.session, membership, west)
    assert membership.is_active


# --- deactivating a member -------------------------------------------------------------------------------------

def test_deactivation_ends_every_way_in_and_keeps_the_name(session, make_team, make_member):
    east = make_team("Team Oost")
    west = make_team("Team West", municipality=session.get(Municipality, session.get(District, east.district_id).municipality_id))
    coordinator = make_member(east, "coordinator", name="Cora")
    leaver = make_member(east, "worker", name="Lotte")
    add_membership(session, leaver, west, "income_consultant")
    login = start_login_session(session, leaver.id)
    session.add(Passkey(member_id=leaver.id, credential_id=b"lotte", public_key=b"k", name="Telefoon"))
    session.add(PushSubscription(member_id=leaver.id, endpoint="https://push.example/1", p256dh="p", auth="a"))
    invite, _token = invite_recovery(session, coordinator, leaver)
    session.commit()

    deactivate_member(session, coordinator, leaver)
    session.commit()
    assert leaver.deactivated_at is not None and leaver.display_name == "Lotte"
    assert session.exec(select(Membership).where(Membership.member_id == leaver.id, Membership.ended_at.is_(None))).all() == []
    assert len(session.exec(select(Membership).where(Membership.member_id == leaver.id)).all()) == 2  # history kept
    assert session.get(LoginSession, login.id).ended_at is not None
    assert member_of_login_session(session, login.key, leaver.id) is None
    assert active_passkeys(session, leaver.id) == []
    assert session.get(Invite, invite.id).revoked_at is not None
    assert session.exec(select(PushSubscription).where(PushSubscription.member_id == leaver.id)).all() == []
    with pytest.raises(RuleViolation, match="gedeactiveerd"):
        add_membership(session, leaver, east, "worker")
    with pytest.raises(RuleViolation, match="al gedeactiveerd"):
        deactivate_member(session, coordinator, leaver)


def test_a_session_left_open_does_not_let_a_deactivated_member_in(session, make_team, make_member):
    team = make_team()
    member = make_member(team, "worker")
    login = start_login_session(session, member.id)
    member.deactivated_at = utcnow()  # as if the sessions had not been ended
    session.add(member)
    session.commit()
    assert member_of_login_session(session, login.key, member.id) is None


def test_nobody_deactivates_themselves(session, make_team, make_member):
    coordinator = make_member(make_team(), "coordinator")
    with pytest.raises(RuleViolation, match="jezelf"):
        deactivate_member(session, coordinator, coordinator)
    assert coordinator.deactivated_at is None


def test_reactivated_member_can_join_a_team_again(session, make_team, make_member):
    team = make_team()
    coordinator, member = make_member(team, "coordinator"), make_member(team, "worker")
    deactivate_member(session, coordinator, member)
    reactivate_member(session, member)
    assert member.deactivated_at is None
    assert add_membership(session, member, team, "worker").is_active


# --- searching and paging ------------------------------------------------------------------------------------

def _municipality_with(session, make_team, names):
    team = make_team("Team Zoek")
    municipality_id = session.get(District, team.district_id).municipality_id
    for name in names:
        create_member(session, municipality_id=municipality_id, display_name=name)
    session.commit()
    return team, municipality_id


@pytest.mark.parametrize("query, expected", [
    ("", ["100% Anna", "Anna_B", "AnnaXB", "Bob", "back\\slash"]),
    ("anna", ["100% Anna", "Anna_B", "AnnaXB"]),
    ("ANNA_", ["Anna_B"]),  # _ is a character, not any character
    ("%", ["100% Anna"]),  # % is a character, not anything
    ("\\", ["back\\slash"]),
    ("  bob\x00\x1b ", ["Bob"]),  # control characters and blanks around are dropped
    ("x" * 10_000, []),
    ("'; DROP TABLE member; --", []),
])
def test_search_finds_names_case_insensitively_with_wildcards_taken_literally(session, make_team, query, expected):
    _team, municipality_id = _municipality_with(session, make_team, ["AnnaXB", "Anna_B", "100% Anna", "Bob", "back\\slash"])
    found = search_members(session, municipality_id, query)
    assert sorted(member.display_name for member in found.members) == sorted(expected) and found.total == len(expected)


def test_clean_search_is_never_longer_than_a_name():
    assert len(clean_search("a" * 1_000)) == 60 and clean_search("\ud800a\x7fb") == "ab"


@pytest.mark.parametrize("page, shown, first, last", [(1, 50, 1, 50), (2, 50, 51, 100), (3, 20, 101, 120),
                                                      (4, 20, 101, 120), (0, 50, 1, 50)])
def test_paging_120_members(session, make_team, page, shown, first, last):
    _team, municipality_id = _municipality_with(session, make_team, [f"Lid {n:03d}" for n in range(1, 121)])
    found = search_members(session, municipality_id, page=page)
    assert (len(found.members), found.first, found.last, found.total, found.pages) == (shown, first, last, 120, 3)
    assert found.members[0].display_name == f"Lid {first:03d}" and MEMBERS_PER_PAGE == 50


def test_addable_members_are_active_and_not_yet_in_the_team(session, make_team, make_member):
    team, municipality_id = _municipality_with(session, make_team, ["Anna", "Bram"])
    make_member(team, "worker", name="Al in het team")
    coordinator = make_member(team, "coordinator", name="Coördinator")
    gone = make_member(team, "worker", name="Vertrokken")
    deactivate_member(session, coordinator, gone)
    session.commit()
    found = search_members(session, municipality_id, addable_to=team)
    assert [member.display_name for member in found.members] == ["Anna", "Bram"]
