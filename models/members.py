"""Members, their roles and team memberships.

Invariants:
- A member belongs to one municipality and may hold a membership in several of its teams, with a
  different role in each; a membership's role is one of TEAM_ROLES.
- `coordinator` is municipality-wide: a flag on the member, never a team membership.
- A membership is ended, not deleted, so a member's history in a team stays attributable.
- A member's WebAuthn user handle is 32 random bytes: it carries no personal data.
- A deactivated member (`deactivated_at`, see models/deactivation.py) holds no active membership and is
  never given one; the row stays, so their name stays in every timeline.
- A team's composition is judged by `composition_warnings` (no income consultant, too few voters for
  its quorum, more than LARGEST_TEAM members); it warns, it never refuses.
"""
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, LargeBinary, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, func, select

from models.clock import utcnow
from models.rules import RuleViolation
from models.teams import District, Team, municipality_of_team

ORGANISATION_MAX = 100
DISPLAY_NAME_MAX = 60


class Role(StrEnum):
    """The roles of docs/domain.md."""

    WORKER = "worker"
    INCOME_CONSULTANT = "income_consultant"
    PROVISIONS_EXPERT = "provisions_expert"
    CLIENT_MANAGER = "client_manager"
    TEAM_LEADER = "team_leader"
    OBSERVER = "observer"
    PROGRAMME_MANAGER = "programme_manager"
    COORDINATOR = "coordinator"
    ADMINISTRATOR = "administrator"


#: roles held within one team (coordinator is municipality-wide, administrator installation-wide)
TEAM_ROLES = tuple(role for role in Role if role not in (Role.COORDINATOR, Role.ADMINISTRATOR))
#: roles that never vote on a request
NON_VOTING_ROLES = (Role.TEAM_LEADER, Role.OBSERVER)

ROLE_LABELS = {
    Role.WORKER: _l("Hulpverlener"),
    Role.INCOME_CONSULTANT: _l("Inkomensconsulent"),
    Role.PROVISIONS_EXPERT: _l("Voorzieningenexpert"),
    Role.CLIENT_MANAGER: _l("Klantmanager"),
    Role.TEAM_LEADER: _l("Teamleider"),
    Role.OBSERVER: _l("Meekijker"),
    Role.PROGRAMME_MANAGER: _l("Programmamanager"),
    Role.COORDINATOR: _l("Coördinator"),
    Role.ADMINISTRATOR: _l("Beheerder"),
}

_TEAM_ROLE_SQL = ", ".join(f"'{role.value}'" for role in TEAM_ROLES)


class Member(UserMixin, SQLModel, table=True):
    """A person who uses the app: a worker, approver, team leader, observer or coordinator."""

    id: int | None = Field(default=None, primary_key=True)
    #: None only for an administrator (beheerder), who works for every municipality
    municipality_id: int | None = Field(default=None, foreign_key="municipality.id", index=True)
    display_name: str = Field(max_length=DISPLAY_NAME_MAX)
    #: the organisation the member works for (shown to a client with the first name only); may be empty
    organisation: str = Field(default="", max_length=ORGANISATION_MAX, sa_column_kwargs={"server_default": ""})
    #: WebAuthn user handle: random, so a passkey reveals nothing about the person
    user_handle: bytes = Field(sa_type=LargeBinary, unique=True)
    is_coordinator: bool = False
    #: foundation staff: sets up municipalities and acts as coordinator of any of them
    is_administrator: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    #: set when the member was deactivated: sessions ended, passkeys revoked, name kept in history
    deactivated_at: datetime | None = None


class Membership(SQLModel, table=True):
    """A member's role in one team."""

    __table_args__ = (
        UniqueConstraint("member_id", "team_id"),
        CheckConstraint(f"role IN ({_TEAM_ROLE_SQL})", name="membership_team_role"),
    )
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    role: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    #: set when the member left the team; the row stays for history
    ended_at: datetime | None = None

    @property
    def is_active(self):
        """Whether the membership still gives access to the team."""
        return self.ended_at is None


def new_user_handle() -> bytes:
    """A fresh WebAuthn user handle with no personal data in it."""
    return secrets.token_bytes(32)


def clean_display_name(raw: str | None) -> str:
    """The display name with surrounding blanks removed, or RuleViolation when empty or too long."""
    name = " ".join((raw or "").split())
    if not name:
        raise RuleViolation(_l("Vul een naam in."), field="display_name")
    if len(name) > DISPLAY_NAME_MAX:
        raise RuleViolation(_l("Gebruik hoogstens %(max)s tekens.", max=DISPLAY_NAME_MAX), field="display_name")
    return name


def set_organisation(session: Session, member: Member, raw: str | None) -> None:
    """The organisation the member works for, which a client sees beside the first name; may be empty."""
    name = " ".join((raw or "").split())
    if len(name) > ORGANISATION_MAX:
        raise RuleViolation(_l("Gebruik hoogstens %(max)s tekens.", max=ORGANISATION_MAX), field="organisation")
    from models.privacy import check_no_personal_data  # a client reads it: no phone number or e-mail in it
    check_no_personal_data(name, field="organisation")
    member.organisation = name
    session.add(member)


def create_member(session: Session, *, municipality_id: int, display_name: str,
                  is_coordinator: bool = False, user_handle: bytes | None = None) -> Member:
    """Add a member to a municipality."""
    member = Member(municipality_id=municipality_id, display_name=clean_display_name(display_name),
                    is_coordinator=is_coordinator, user_handle=user_handle or new_user_handle())
    session.add(member)
    session.flush()
    return member


def check_team_role(role: str) -> Role:
    """The role as a Role, or RuleViolation when it is not a role within a team."""
    if role not in {r.value for r in TEAM_ROLES}:
        raise RuleViolation(_l("Kies een rol in het team."), field="role")
    return Role(role)


def add_membership(session: Session, member: Member, team: Team, role: str) -> Membership:
    """Give `member` a `role` in `team`, reopening an ended membership if there was one."""
    role = check_team_role(role)
    if municipality_of_team(session, team).id != member.municipality_id:
        raise RuleViolation(_l("Dit lid hoort bij een andere gemeente."))
    if member.deactivated_at is not None:
        raise RuleViolation(_l("Dit lid is gedeactiveerd. Maak eerst een herstellink."), field="member_id")
    membership = session.exec(
        select(Membership).where(Membership.member_id == member.id, Membership.team_id == team.id)
    ).first()
    if membership is None:
        membership = Membership(member_id=member.id, team_id=team.id, role=role)
    elif membership.is_active:
        raise RuleViolation(_l("Dit lid zit al in het team."))
    else:
        membership.role, membership.ended_at = role, None
    session.add(membership)
    session.flush()
    return membership


def change_role(session: Session, membership: Membership, role: str) -> None:
    """Give an active membership another role within the team."""
    membership.role = check_team_role(role)
    session.add(membership)


def end_membership(session: Session, membership: Membership) -> None:
    """Take a member out of a team; their history in it stays."""
    membership.ended_at = utcnow()
    session.add(membership)


def active_membership(session: Session, member_id: int, team_id: int) -> Membership | None:
    """The member's active membership of a team, or None."""
    return session.exec(select(Membership).where(
        Membership.member_id == member_id, Membership.team_id == team_id, Membership.ended_at.is_(None)
    )).first()


def teams_of_member(session: Session, member_id: int) -> list[tuple[Team, Membership]]:
    """The teams a member is active in, with the membership, ordered by team name.

    Each team's district comes along into the session: a team page and a decision ask for the
    municipality (session.get then needs no query)."""
    statement = (
        select(Team, Membership, District)
        .join(Membership, Membership.team_id == Team.id)
        .join(District, District.id == Team.district_id)
        .where(Membership.member_id == member_id, Membership.ended_at.is_(None))
        .order_by(Team.name)
    )
    return [(team, membership) for team, membership, _district in session.exec(statement)]


def colleagues_of(session: Session, team_id: int, member_id: int) -> list[int]:
    """The ids of the team's active members other than `member_id`."""
    return list(session.exec(select(Membership.member_id).where(
        Membership.team_id == team_id, Membership.ended_at.is_(None), Membership.member_id != member_id)))


def team_roster(session: Session, team_id: int) -> list[tuple[Member, Membership]]:
    """The active members of a team with their memberships, ordered by name."""
    statement = (
        select(Member, Membership)
        .join(Membership, Membership.member_id == Member.id)
        .where(Membership.team_id == team_id, Membership.ended_at.is_(None))
        .order_by(Member.display_name)
    )
    return list(session.exec(statement))


# --- members over time: moving, reactivating ---------------------------------------------------------

def move_membership(session: Session, membership: Membership, to_team: Team, role: str | None = None) -> Membership:
    """End the membership and give the member `role` (the same one when None) in another team of the
    municipality. Their votes stay on the requests where they were cast (they no longer count there)."""
    if to_team.id == membership.team_id:
        raise RuleViolation(_l("Kies een ander team."), field="to_team_id")
    if to_team.archived_at is not None:
        raise RuleViolation(_l("Dit team is gearchiveerd."), field="to_team_id")
    moved = add_membership(session, session.get(Member, membership.member_id), to_team, role or membership.role)
    end_membership(session, membership)
    return moved


def reactivate_member(session: Session, member: Member) -> None:
    """Let a deactivated member back in (they still need a recovery invite, and a team); others stay as they are."""
    if member.deactivated_at is not None:
        member.deactivated_at = None
        session.add(member)


# --- team composition ---------------------------------------------------------------------------------

#: a team larger than this decides with too many voices (docs/domain.md: in practice 10–15)
LARGEST_TEAM = 15


@dataclass(frozen=True)
class CompositionWarning:
    """Something about who is in a team that keeps it from working as meant.

    `kind` is "no_income_consultant" (nobody can place a stop), "too_few_voters" (`count` voting members,
    fewer than `limit` = quorum + 1, because a requester does not vote on their own request) or
    "too_many_members" (`count` members, more than `limit` = LARGEST_TEAM)."""

    kind: str
    count: int = 0
    limit: int = 0


def composition_warnings(session: Session, team: Team) -> list[CompositionWarning]:
    """What is wrong with the team's composition, in one query (empty when nothing is)."""
    by_role = dict(session.exec(select(Membership.role, func.count(Membership.id)).where(
        Membership.team_id == team.id, Membership.ended_at.is_(None)).group_by(Membership.role)).all())
    warnings = []
    if not by_role.get(Role.INCOME_CONSULTANT):
        warnings.append(CompositionWarning("no_income_consultant"))
    voting = sum(count for role, count in by_role.items() if role not in NON_VOTING_ROLES)
    if voting < team.quorum + 1:
        warnings.append(CompositionWarning("too_few_voters", count=voting, limit=team.quorum + 1))
    members = sum(by_role.values())
    if members > LARGEST_TEAM:
        warnings.append(CompositionWarning("too_many_members", count=members, limit=LARGEST_TEAM))
    return warnings


def coordinators_of(session: Session, municipality_id: int) -> list[Member]:
    """The municipality's coordinators, by name (deactivated ones too: the page shows them as such)."""
    return list(session.exec(select(Member).where(
        Member.municipality_id == municipality_id, Member.is_coordinator).order_by(Member.display_name)))
