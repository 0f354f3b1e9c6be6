"""Invites: the only way into the app, and the way back in after losing every passkey.

Invariants:
- The token is shown once; only its SHA-256 is stored, so a database dump holds no usable link.
- An invite is usable once, until INVITE_TTL after it was made, unless revoked.
- Only a coordinator makes invites, and only for teams of their own municipality; an administrator makes
  them for any municipality, and is the only one who invites another administrator (the first one is
  invited on the command line: `flask --app web invite-administrator`, `created_by_id` None).
- The administrators' list of open invites (`open_foundation_invites`) says whom an invite is for and when it
  ends, never its link: the token is gone once the link was shown.
- A join invite creates a member (with a team role, as coordinator, or as administrator: installation-wide,
  with no municipality); a recovery invite belongs to an
  existing member and, when redeemed, revokes their old passkeys and ends their sessions while keeping
  their memberships and history.
"""
import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, update
from sqlmodel import Field, Session, SQLModel, or_, select

from models.clock import utcnow
from models.members import Member, Role, add_membership, check_team_role, create_member
from models.passkeys import revoke_all_passkeys
from models.rules import RuleViolation
from models.sign_in import end_all_login_sessions
from models.teams import Municipality, Team, municipality_of_team

INVITE_TTL = timedelta(hours=72)


class InviteKind(StrEnum):
    """Why an invite was made."""

    JOIN = "join"
    RECOVERY = "recovery"


class Invite(SQLModel, table=True):
    """A one-time link that lets someone create a passkey."""

    __table_args__ = (
        CheckConstraint("kind IN ('join', 'recovery')", name="invite_kind"),
        CheckConstraint("kind = 'join' OR member_id IS NOT NULL", name="invite_recovery_has_member"),
        CheckConstraint("role IN ('coordinator', 'administrator') OR team_id IS NOT NULL OR kind = 'recovery'",
                        name="invite_team_role_has_team"),
    )
    id: int | None = Field(default=None, primary_key=True)
    #: SHA-256 of the token in the link, hex
    token_hash: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=16)
    #: None only for an administrator's invite (installation-wide)
    municipality_id: int | None = Field(default=None, foreign_key="municipality.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    role: str | None = Field(default=None, max_length=32)
    #: the existing member a recovery invite is for
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    #: None for an invite made on the command line (`flask --app web invite-administrator`)
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def is_open(self):
        """Neither used, revoked nor expired."""
        return self.used_at is None and self.revoked_at is None and self.expires_at > utcnow()


class InviteUnusable(RuleViolation):
    """The link cannot be used; `reason` is unknown, used, revoked or expired."""

    def __init__(self, reason):
        messages = {
            "unknown": _l("Deze link bestaat niet. Vraag de coördinator om een nieuwe."),
            "used": _l("Deze link is al gebruikt. Vraag de coördinator om een nieuwe."),
            "revoked": _l("Deze link is ingetrokken. Vraag de coördinator om een nieuwe."),
            "expired": _l("Deze link is verlopen. Vraag de coördinator om een nieuwe."),
        }
        super().__init__(messages[reason])
        self.reason = reason


def hash_token(token: str) -> str:
    """The stored form of an invite token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _check_coordinator(coordinator: Member, municipality_id: int | None) -> None:
    if municipality_id is None:
        raise RuleViolation(_l("Kies eerst een gemeente."))
    if coordinator.is_administrator:
        return  # an administrator acts as coordinator of every municipality
    if not coordinator.is_coordinator or coordinator.municipality_id != municipality_id:
        raise RuleViolation(_l("Alleen een coördinator van deze gemeente kan uitnodigen."))


def _new_invite(session: Session, **fields) -> tuple[Invite, str]:
    token = secrets.token_urlsafe(24)
    invite = Invite(token_hash=hash_token(token), expires_at=utcnow() + INVITE_TTL, **fields)
    session.add(invite)
    session.flush()
    return invite, token


def invite_to_team(session: Session, coordinator: Member, team: Team, role: str) -> tuple[Invite, str]:
    """A join invite for a new member with `role` in `team`; returns the invite and its token."""
    municipality_id = municipality_of_team(session, team).id
    _check_coordinator(coordinator, municipality_id)
    role = check_team_role(role)
    return _new_invite(session, kind=InviteKind.JOIN, municipality_id=municipality_id, team_id=team.id,
                       role=role, created_by_id=coordinator.id)


def invite_coordinator(session: Session, coordinator: Member, municipality_id: int | None = None) -> tuple[Invite, str]:
    """A join invite for a new coordinator of `municipality_id` (by default the coordinator's own)."""
    municipality_id = municipality_id if municipality_id is not None else coordinator.municipality_id
    _check_coordinator(coordinator, municipality_id)
    return _new_invite(session, kind=InviteKind.JOIN, municipality_id=municipality_id,
                       role=Role.COORDINATOR, created_by_id=coordinator.id)


def invite_administrator(session: Session, administrator: Member | None) -> tuple[Invite, str]:
    """A join invite for a new administrator, made by an administrator (None: on the command line)."""
    if administrator is not None and not administrator.is_administrator:
        raise RuleViolation(_l("Alleen een beheerder kan een beheerder uitnodigen."))
    return _new_invite(session, kind=InviteKind.JOIN, municipality_id=None, role=Role.ADMINISTRATOR,
                       created_by_id=administrator.id if administrator else None)


def invite_recovery(session: Session, coordinator: Member, member: Member) -> tuple[Invite, str]:
    """A recovery invite for a member who lost every passkey (an administrator's: by an administrator)."""
    if member.is_administrator:
        if not coordinator.is_administrator:
            raise RuleViolation(_l("Alleen een beheerder kan een beheerder een herstellink geven."))
    else:
        _check_coordinator(coordinator, member.municipality_id)
    return _new_invite(session, kind=InviteKind.RECOVERY, municipality_id=member.municipality_id,
                       member_id=member.id, created_by_id=coordinator.id)


def usable_invite(session: Session, token: str) -> Invite:
    """The open invite for `token`, or InviteUnusable saying why not."""
    invite = session.exec(select(Invite).where(Invite.token_hash == hash_token(token or ""))).first()
    if invite is None:
        raise InviteUnusable("unknown")
    _refuse_unless_open(invite)
    return invite


def _refuse_unless_open(invite: Invite) -> None:
    """InviteUnusable saying why, unless the invite is open (`Invite.is_open`)."""
    if invite.used_at is not None:
        raise InviteUnusable("used")
    if invite.revoked_at is not None:
        raise InviteUnusable("revoked")
    if invite.expires_at <= utcnow():
        raise InviteUnusable("expired")


def redeem_invite(session: Session, invite: Invite, *, display_name: str | None, user_handle: bytes) -> Member:
    """Use up the invite and return the member it lets in (created for a join invite)."""
    claimed = session.execute(
        update(Invite).where(Invite.id == invite.id, Invite.used_at.is_(None)).values(used_at=utcnow()))
    if claimed.rowcount != 1:
        raise InviteUnusable("used")
    if invite.kind == InviteKind.RECOVERY:
        member = session.get(Member, invite.member_id)
        revoke_all_passkeys(session, member.id)
        end_all_login_sessions(session, member.id)
        return member
    member = create_member(session, municipality_id=invite.municipality_id, display_name=display_name,
                           is_coordinator=invite.role == Role.COORDINATOR, user_handle=user_handle)
    if invite.role == Role.ADMINISTRATOR:
        member.is_administrator = True
        session.add(member)
    if invite.team_id is not None:
        add_membership(session, member, session.get(Team, invite.team_id), invite.role)
    return member


def revoke_invite(session: Session, invite: Invite) -> None:
    """Withdraw an open invite; one used, revoked (its first revocation is kept) or expired is refused."""
    _refuse_unless_open(invite)
    invite.revoked_at = utcnow()
    session.add(invite)


def open_invites(session: Session, municipality_id: int, team_id: int | None = None) -> list[Invite]:
    """Invites not used, revoked or expired, newest first."""
    statement = select(Invite).where(
        Invite.municipality_id == municipality_id, Invite.used_at.is_(None),
        Invite.revoked_at.is_(None), Invite.expires_at > utcnow())
    if team_id is not None:
        statement = statement.where(Invite.team_id == team_id)
    return list(session.exec(statement.order_by(Invite.created_at.desc(), Invite.id.desc())))


#: the roles an administrator invites from the municipalities' pages (web/foundation.py)
FOUNDATION_ROLES = (Role.COORDINATOR, Role.ADMINISTRATOR)


def is_foundation_invite(invite: Invite) -> bool:
    """A join invite for a coordinator or an administrator, the kind listed for administrators."""
    return invite.kind == InviteKind.JOIN and invite.role in FOUNDATION_ROLES


def open_foundation_invites(session: Session) -> list[tuple[Invite, str | None, str | None]]:
    """Open invites for coordinators and administrators that an administrator made (or the command line:
    no maker), newest first, each with its municipality's name (None: an administrator's) and its maker's name."""
    statement = (select(Invite, Municipality.name, Member.display_name)
                 .outerjoin(Municipality, Municipality.id == Invite.municipality_id)
                 .outerjoin(Member, Member.id == Invite.created_by_id)
                 .where(Invite.kind == InviteKind.JOIN, Invite.role.in_(FOUNDATION_ROLES), Invite.used_at.is_(None),
                        Invite.revoked_at.is_(None), Invite.expires_at > utcnow(),
                        or_(Invite.created_by_id.is_(None), Member.is_administrator.is_(True)))
                 .order_by(Invite.created_at.desc(), Invite.id.desc()))
    return [(invite, municipality, maker) for invite, municipality, maker in session.exec(statement)]
