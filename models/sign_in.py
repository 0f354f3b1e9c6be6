"""Server-side sign-in state: WebAuthn challenges and login sessions.

Invariants:
- A challenge is 32 random bytes, bound to one browser session and one purpose, used at most once
  (marked used with a conditional UPDATE, so two racing requests cannot both consume it) and refused
  after CHALLENGE_TTL.
- A login session lives on the server: signing out, a recovery invite, deactivation or a timeout ends it,
  and an ended session never becomes valid again. Idle and absolute timeouts are parameters, set by the app.
  A deactivated member's session is never valid.
"""
import secrets
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import LargeBinary, update
from sqlmodel import Field, Session, SQLModel, select
from webauthn.helpers import base64url_to_bytes, parse_client_data_json

from models.clock import utcnow
from models.members import Member
from models.rules import RuleViolation

CHALLENGE_TTL = timedelta(minutes=5)
#: how stale last_seen_at may get before a request writes it again (saves a write per request)
TOUCH_INTERVAL = timedelta(minutes=1)


class WebAuthnChallenge(SQLModel, table=True):
    """A challenge handed to the browser for one passkey ceremony."""

    id: int | None = Field(default=None, primary_key=True)
    challenge: bytes = Field(sa_type=LargeBinary, unique=True)
    #: random key kept in the browser's session cookie: binds the challenge to that session
    session_key: str = Field(max_length=64, index=True)
    #: "register" or "authenticate"
    purpose: str = Field(max_length=16)
    #: the member adding a passkey, or the recovered member
    member_id: int | None = Field(default=None, foreign_key="member.id")
    invite_id: int | None = Field(default=None, foreign_key="invite.id")
    #: the user handle offered to a member who does not exist yet (join invite)
    user_handle: bytes | None = Field(default=None, sa_type=LargeBinary)
    #: the display name given with a join invite, kept until the ceremony finishes
    display_name: str | None = Field(default=None, max_length=60)
    created_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = None


class LoginSession(SQLModel, table=True):
    """One signed-in browser; the cookie carries only its random key."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None


def new_session_key() -> str:
    """A random key to bind challenges to a browser session."""
    return secrets.token_urlsafe(32)


def issue_challenge(session: Session, *, session_key: str, purpose: str, **binding) -> WebAuthnChallenge:
    """Store a fresh challenge for `purpose`, bound to the browser session."""
    record = WebAuthnChallenge(challenge=secrets.token_bytes(32), session_key=session_key,
                               purpose=purpose, **binding)
    session.add(record)
    session.flush()
    return record


def challenge_in(credential: dict) -> bytes:
    """The challenge the browser signed, read from the credential's clientDataJSON."""
    try:
        client_data = base64url_to_bytes(credential["response"]["clientDataJSON"])
        return parse_client_data_json(client_data).challenge
    except Exception as error:  # any malformed input is the same refusal
        raise RuleViolation(_l("Dit antwoord van de passkey is niet leesbaar.")) from error


def consume_challenge(session: Session, *, session_key: str, purpose: str, credential: dict) -> WebAuthnChallenge:
    """Use up the challenge this credential answers, or RuleViolation when it is unknown, used or expired."""
    record = session.exec(select(WebAuthnChallenge).where(
        WebAuthnChallenge.challenge == challenge_in(credential),
        WebAuthnChallenge.session_key == session_key,
        WebAuthnChallenge.purpose == purpose,
    )).first()
    if record is None or record.created_at < utcnow() - CHALLENGE_TTL:
        raise RuleViolation(_l("Deze poging is verlopen. Probeer het opnieuw."))
    claimed = session.execute(
        update(WebAuthnChallenge)
        .where(WebAuthnChallenge.id == record.id, WebAuthnChallenge.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        raise RuleViolation(_l("Deze poging is al gebruikt. Probeer het opnieuw."))
    return record


def start_login_session(session: Session, member_id: int) -> LoginSession:
    """Open a new server-side session for a member who just proved a passkey."""
    login = LoginSession(key=secrets.token_urlsafe(32), member_id=member_id)
    session.add(login)
    session.flush()
    return login


def member_of_login_session(session: Session, key: str | None, member_id: int) -> tuple[LoginSession, Member] | None:
    """The open login session with this key and its member, read in one query (every request asks); reads only.
    A deactivated member has none, even if a session was somehow left open."""
    if not key:
        return None
    return session.exec(select(LoginSession, Member).join(Member, Member.id == LoginSession.member_id).where(
        LoginSession.key == key, LoginSession.member_id == member_id, LoginSession.ended_at.is_(None),
        Member.deactivated_at.is_(None),
    )).first()


def upkeep_of(login: LoginSession, *, now: datetime, idle: timedelta, absolute: timedelta) -> str | None:
    """What the session's bookkeeping needs now: "end" once a timeout has passed, "touch" when its last-seen
    time is older than TOUCH_INTERVAL, else None (most requests write nothing)."""
    if now - login.last_seen_at > idle or now - login.created_at > absolute:
        return "end"
    if now - login.last_seen_at > TOUCH_INTERVAL:
        return "touch"
    return None


def keep_up_login_session(session: Session, login: LoginSession, upkeep: str, *, now: datetime) -> None:
    """Record the `upkeep` of a login session: end it, or move its last-seen time to `now`.

    A conditional UPDATE, so two requests of one browser racing to touch it write nothing twice and an ended
    session never comes back."""
    changes = {"ended_at": now} if upkeep == "end" else {"last_seen_at": now}
    session.execute(update(LoginSession).where(LoginSession.id == login.id, LoginSession.ended_at.is_(None))
                    .values(**changes))


def end_login_session(session: Session, key: str | None) -> None:
    """End the session with this key, if it is open."""
    if key:
        session.execute(update(LoginSession).where(
            LoginSession.key == key, LoginSession.ended_at.is_(None)).values(ended_at=utcnow()))


def end_all_login_sessions(session: Session, member_id: int) -> None:
    """End every open session of a member (after a recovery, for example)."""
    session.execute(update(LoginSession).where(
        LoginSession.member_id == member_id, LoginSession.ended_at.is_(None)).values(ended_at=utcnow()))
