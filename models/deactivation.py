"""Deactivating a member: someone who left the work keeps their name in history and loses every way in.

Invariants:
- A deactivated member (`Member.deactivated_at`) has no open login session, no active passkey, no
  active membership, no open invite for them and no push subscription; `member_of_login_session`
  (models/sign_in.py) and `add_membership` refuse them as well, so nothing brings them back but a
  coordinator's recovery invite (web/admin.py reactivates the member when it makes one).
- Nothing is deleted that history needs: the member row, ended memberships, votes, comments and
  audit events stay, so every timeline still shows their name.
- Their open requests stay open for the team to decide (they never voted on them anyway); their drafts
  stay unseen, as every draft of someone else.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, update
from sqlmodel import Session, select

from models.clock import utcnow
from models.invites import Invite
from models.members import Member, Membership, end_membership
from models.passkeys import revoke_all_passkeys
from models.rules import RuleViolation
from models.sign_in import end_all_login_sessions
from models.subscriptions import PushSubscription


def deactivate_member(session: Session, coordinator: Member, member: Member) -> None:
    """Deactivate `member`: sessions ended, passkeys and invites revoked, memberships ended, pushes stopped."""
    if member.id == coordinator.id:
        raise RuleViolation(_l("Je kunt jezelf niet deactiveren."), field="member")
    if member.deactivated_at is not None:
        raise RuleViolation(_l("Dit lid is al gedeactiveerd."), field="member")
    now = utcnow()
    member.deactivated_at = now
    session.add(member)
    for membership in session.exec(select(Membership).where(
            Membership.member_id == member.id, Membership.ended_at.is_(None))):
        end_membership(session, membership)
    end_all_login_sessions(session, member.id)
    revoke_all_passkeys(session, member.id)
    session.execute(update(Invite).where(Invite.member_id == member.id, Invite.used_at.is_(None),
                                         Invite.revoked_at.is_(None)).values(revoked_at=now))
    session.execute(delete(PushSubscription).where(PushSubscription.member_id == member.id))
