"""Taking an archived district or team into use again (models/municipalities.py), and the administrators'
list of open invites for coordinators and administrators (models/invites.py)."""
from datetime import timedelta

import pytest
from sqlmodel import select

from models.audit import AuditEvent
from models.clock import utcnow
from models.invites import (
    InviteUnusable, invite_administrator, invite_coordinator, invite_to_team, open_foundation_invites,
    redeem_invite, revoke_invite, usable_invite)
from models.members import create_member, new_user_handle
from models.municipalities import (
    add_district, archive_district, archive_team, create_team, edit_team,
    municipalities_with_team_counts, restore_district, restore_team, teams_of)
from models.rules import RuleViolation
# the municipality's set-up as test_municipalities makes it: the same constants and fixtures
from tests.unit.test_municipalities import IBAN, OTHER_IBAN, district, municipality  # noqa: F401


@pytest.fixture
def archived_team(session, municipality, district):
    team = create_team(session, municipality.id, name="Team Een", district_id=district.id, iban=IBAN, actor_id=None)
    archive_team(session, team, actor_id=None)
    session.commit()
    return team


def test_restore_team_brings_it_back_with_an_audit_event(session, municipality, archived_team):
    assert municipalities_with_team_counts(session) == [(municipality, 0)]
    restore_team(session, archived_team, actor_id=None)
    assert archived_team.archived_at is None
    assert municipalities_with_team_counts(session) == [(municipality, 1)]
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.team_id == archived_team.id)
                           .order_by(AuditEvent.id)).all()
    assert actions == ["team_created", "team_archived", "team_restored"]
    with pytest.raises(RuleViolation, match="al in gebruik"):
        restore_team(session, archived_team, actor_id=None)


def test_a_team_in_an_archived_district_is_not_restored(session, municipality, district, archived_team):
    archive_district(session, district)
    with pytest.raises(RuleViolation, match="Stadsdeel Noord is gearchiveerd. Neem eerst het stadsdeel weer in "
                                            "gebruik, of zet het team in een ander stadsdeel."):
        restore_team(session, archived_team, actor_id=None)
    assert archived_team.archived_at is not None
    # moved to an open district, it comes back
    zuid = add_district(session, municipality.id, "Zuid")
    edit_team(session, archived_team, name="Team Een", district_id=zuid.id, iban=IBAN, actor_id=None)
    restore_team(session, archived_team, actor_id=None)
    assert archived_team.archived_at is None


def test_a_team_whose_account_was_taken_is_not_restored(session, municipality, district, archived_team):
    create_team(session, municipality.id, name="Team Twee", district_id=district.id, iban=IBAN, actor_id=None)
    with pytest.raises(RuleViolation, match="De rekening NL91 ABNA 0417 1643 00 hoort nu bij een ander team") as refused:
        restore_team(session, archived_team, actor_id=None)
    assert refused.value.field == "iban" and archived_team.archived_at is not None
    edit_team(session, archived_team, name="Team Een", district_id=district.id, iban=OTHER_IBAN, actor_id=None)
    restore_team(session, archived_team, actor_id=None)
    assert [team.name for team, _district in teams_of(session, municipality.id)] == ["Team Een", "Team Twee"]


def test_restore_district_leaves_its_teams_archived(session, district, archived_team):
    with pytest.raises(RuleViolation, match="al in gebruik"):
        restore_district(session, district)
    archive_district(session, district)
    restore_district(session, district)
    assert district.archived_at is None and archived_team.archived_at is not None
    restore_team(session, archived_team, actor_id=None)
    assert archived_team.archived_at is None


def _administrator(session, name="Bea"):
    return redeem_invite(session, invite_administrator(session, None)[0], display_name=name,
                         user_handle=new_user_handle())


def test_open_foundation_invites_are_the_open_ones_an_administrator_made(session, municipality, district):
    administrator = _administrator(session)
    command_line, _token = invite_administrator(session, None)
    for_coordinator, _token = invite_coordinator(session, administrator, municipality.id)
    used, _token = invite_administrator(session, administrator)
    redeem_invite(session, used, display_name="Ben", user_handle=new_user_handle())
    revoked, _token = invite_administrator(session, administrator)
    revoke_invite(session, revoked)
    expired, _token = invite_coordinator(session, administrator, municipality.id)
    expired.expires_at = utcnow() - timedelta(minutes=1)
    coordinator = create_member(session, municipality_id=municipality.id, display_name="Cora", is_coordinator=True)
    invite_coordinator(session, coordinator)  # a coordinator's own: on /beheer/leden
    team = create_team(session, municipality.id, name="Team Een", district_id=district.id, iban=IBAN, actor_id=None)
    invite_to_team(session, administrator, team, "worker")  # a team's: on the team's page
    session.commit()
    listed = [(invite.id, name, maker) for invite, name, maker in open_foundation_invites(session)]
    assert sorted(listed) == sorted([(command_line.id, None, None), (for_coordinator.id, "Gemeente Proef", "Bea")])


def test_a_revoked_foundation_invite_no_longer_lets_anyone_in(session, municipality):
    administrator = _administrator(session)
    invite, token = invite_coordinator(session, administrator, municipality.id)
    revoke_invite(session, invite)
    with pytest.raises(InviteUnusable, match="ingetrokken"):
        usable_invite(session, token)
    assert open_foundation_invites(session) == []
