"""Members, roles, memberships, passkeys and invites as rules, without Flask views."""
from datetime import timedelta

import pytest
from sqlmodel import select

from models.clock import utcnow
from models.invites import (
    InviteUnusable, invite_coordinator, invite_recovery, invite_to_team, redeem_invite, revoke_invite, usable_invite)
from models.members import (
    ROLE_LABELS, TEAM_ROLES, Role, add_membership, clean_display_name, create_member, end_membership, teams_of_member)
from models.passkeys import Passkey, active_passkeys, remove_passkey
from models.rules import RuleViolation
from models.sign_in import LoginSession, start_login_session


def test_roles_are_those_of_the_domain():
    assert {role.value for role in Role} == {"worker", "income_consultant", "provisions_expert", "client_manager",
                                             "programme_manager", "team_leader", "observer", "coordinator",
                                             "administrator"}
    assert Role.COORDINATOR not in TEAM_ROLES and Role.ADMINISTRATOR not in TEAM_ROLES and set(ROLE_LABELS) == set(Role)


@pytest.mark.parametrize("raw, expected", [("  Anna  de  Vries ", "Anna de Vries"), ("Mo", "Mo")])
def test_display_name_is_tidied(raw, expected):
    assert clean_display_name(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", None, "x" * 61])
def test_display_name_must_be_given_and_short(raw):
    with pytest.raises(RuleViolation) as refused:
        clean_display_name(raw)
    assert refused.value.field == "display_name"


def test_member_has_a_different_role_per_team(session, make_team, make_member):
    first = make_team("Een")
    from models.teams import District, Municipality
    municipality = session.get(Municipality, session.get(District, first.district_id).municipality_id)
    second = make_team("Twee", municipality=municipality)
    member = make_member(first, "worker")
    add_membership(session, member, second, "income_consultant")
    assert {(t.name, m.role) for t, m in teams_of_member(session, member.id)} == {("Een", "worker"), ("Twee", "income_consultant")}


def test_ended_membership_reopens_with_the_new_role(session, make_team, make_member):
    team = make_team()
    member = make_member(team, "worker")
    [(_, membership)] = teams_of_member(session, member.id)
    end_membership(session, membership)
    assert teams_of_member(session, member.id) == []
    reopened = add_membership(session, member, team, "observer")
    assert reopened.id == membership.id and reopened.role == "observer" and reopened.ended_at is None


def test_user_handles_are_random_and_carry_no_name(session, make_team):
    team = make_team()
    from models.teams import District
    municipality_id = session.get(District, team.district_id).municipality_id
    a = create_member(session, municipality_id=municipality_id, display_name="Anna")
    b = create_member(session, municipality_id=municipality_id, display_name="Anna")
    assert a.user_handle != b.user_handle and len(a.user_handle) == 32 and b"Anna" not in a.user_handle


def test_only_a_coordinator_of_the_municipality_invites(session, make_team, make_member):
    ours, theirs = make_team("Ons"), make_team("Hun")
    worker = make_member(ours, "worker")
    foreign_coordinator = make_member(theirs, "coordinator")
    with pytest.raises(RuleViolation):
        invite_to_team(session, worker, ours, "worker")
    with pytest.raises(RuleViolation):
        invite_to_team(session, foreign_coordinator, ours, "worker")
    with pytest.raises(RuleViolation):
        invite_recovery(session, foreign_coordinator, worker)


def test_invite_works_once_and_expires(session, make_team, make_member):
    team = make_team()
    coordinator = make_member(team, "coordinator")
    invite, token = invite_to_team(session, coordinator, team, "provisions_expert")
    assert invite.expires_at - utcnow() > timedelta(hours=71, minutes=59)
    assert usable_invite(session, token).id == invite.id
    member = redeem_invite(session, invite, display_name="Vera", user_handle=b"h" * 32)
    assert [(t.id, m.role) for t, m in teams_of_member(session, member.id)] == [(team.id, "provisions_expert")]
    with pytest.raises(InviteUnusable) as refused:
        usable_invite(session, token)
    assert refused.value.reason == "used"
    with pytest.raises(InviteUnusable):
        redeem_invite(session, invite, display_name="Nog een", user_handle=b"i" * 32)

    late, late_token = invite_to_team(session, coordinator, team, "worker")
    late.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(InviteUnusable, match="verlopen"):
        usable_invite(session, late_token)
    revoked, revoked_token = invite_to_team(session, coordinator, team, "worker")
    revoke_invite(session, revoked)
    with pytest.raises(InviteUnusable, match="ingetrokken"):
        usable_invite(session, revoked_token)
    with pytest.raises(InviteUnusable, match="bestaat niet"):
        usable_invite(session, "made-up")
    # only an open invite is revoked: a second revocation keeps the first moment, an expired one stays expired
    first_revocation = revoked.revoked_at
    with pytest.raises(InviteUnusable, match="ingetrokken"):
        revoke_invite(session, revoked)
    assert revoked.revoked_at == first_revocation
    with pytest.raises(InviteUnusable, match="verlopen"):
        revoke_invite(session, late)
    assert late.revoked_at is None


def test_coordinator_invite_makes_a_coordinator_without_team(session, make_team, make_member):
    team = make_team()
    invite, _token = invite_coordinator(session, make_member(team, "coordinator"))
    member = redeem_invite(session, invite, display_name="Nieuwe coördinator", user_handle=b"c" * 32)
    assert member.is_coordinator and teams_of_member(session, member.id) == []


def test_recovery_revokes_passkeys_and_sessions_but_keeps_teams(session, make_team, make_member):
    team = make_team()
    coordinator = make_member(team, "coordinator")
    member = make_member(team, "worker")
    session.add(Passkey(member_id=member.id, credential_id=b"old", public_key=b"k", name="Oud"))
    start_login_session(session, member.id)
    invite, _token = invite_recovery(session, coordinator, member)
    assert redeem_invite(session, invite, display_name=None, user_handle=b"ignored").id == member.id
    assert active_passkeys(session, member.id) == []
    assert all(s.ended_at for s in session.exec(select(LoginSession).where(LoginSession.member_id == member.id)))
    assert [t.id for t, _m in teams_of_member(session, member.id)] == [team.id]


def test_last_passkey_cannot_be_removed(session, make_team, make_member):
    member = make_member(make_team(), "worker")
    only = Passkey(member_id=member.id, credential_id=b"only", public_key=b"k", name="Enige")
    session.add(only)
    session.flush()
    with pytest.raises(RuleViolation, match="laatste passkey"):
        remove_passkey(session, only)
