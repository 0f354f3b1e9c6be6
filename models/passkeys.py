"""Passkeys (WebAuthn credentials) and the two ceremonies that create and use them.

Invariants:
- User verification is required in both ceremonies; origin and relying-party id must match exactly.
- A credential id is registered once, across all members; a member's existing passkeys are excluded
  when they add another.
- The stored sign count only moves forward: py_webauthn refuses an assertion whose counter does not
  exceed a non-zero stored counter (a cloned authenticator), and we store the new one.
- A member keeps at least one active passkey: the last one cannot be removed (a recovery invite is the
  way back in, and it revokes the old ones).
"""
from dataclasses import dataclass
from datetime import datetime

import webauthn
from flask_babel import lazy_gettext as _l
from sqlalchemy import LargeBinary
from sqlmodel import Field, Session, SQLModel, func, select
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from models.clock import utcnow
from models.members import Member
from models.rules import RuleViolation

PASSKEY_NAME_MAX = 60
CEREMONY_TIMEOUT_MS = 120_000


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys are for: the exact id and origin the browser must report."""

    id: str
    name: str
    origin: str


class Passkey(SQLModel, table=True):
    """A member's WebAuthn credential on one device or password manager."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    credential_id: bytes = Field(sa_type=LargeBinary, unique=True)
    public_key: bytes = Field(sa_type=LargeBinary)
    #: the authenticator's signature counter at the last sign-in (0 for authenticators without one)
    sign_count: int = 0
    #: comma-separated transports the browser reported, handed back as hints
    transports: str = Field(default="", max_length=200)
    name: str = Field(max_length=PASSKEY_NAME_MAX)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    #: set by a recovery invite; a revoked passkey never signs in again
    revoked_at: datetime | None = None


def active_passkeys(session: Session, member_id: int) -> list[Passkey]:
    """The member's passkeys that can still sign in, oldest first."""
    return list(session.exec(select(Passkey).where(
        Passkey.member_id == member_id, Passkey.revoked_at.is_(None)).order_by(Passkey.created_at, Passkey.id)))


def clean_passkey_name(raw: str | None) -> str:
    """The passkey's name without surrounding blanks, or RuleViolation when empty or too long."""
    name = " ".join((raw or "").split())
    if not name:
        raise RuleViolation(_l("Geef de passkey een naam."), field="name")
    if len(name) > PASSKEY_NAME_MAX:
        raise RuleViolation(_l("Gebruik hoogstens %(max)s tekens.", max=PASSKEY_NAME_MAX), field="name")
    return name


def registration_options(rp: RelyingParty, *, user_handle: bytes, display_name: str, challenge: bytes,
                         exclude: list[Passkey]) -> str:
    """Creation options (JSON) for a discoverable passkey with user verification."""
    options = webauthn.generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_id=user_handle, user_name=display_name,
        user_display_name=display_name, challenge=challenge, timeout=CEREMONY_TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=p.credential_id) for p in exclude],
    )
    return webauthn.options_to_json(options)


def add_passkey(session: Session, rp: RelyingParty, member: Member, credential: dict, *,
                expected_challenge: bytes, name: str) -> Passkey:
    """Verify a registration response and store the new passkey for `member`."""
    try:
        verified = webauthn.verify_registration_response(
            credential=credential, expected_challenge=expected_challenge, expected_rp_id=rp.id,
            expected_origin=rp.origin, require_user_verification=True)
    except (InvalidRegistrationResponse, KeyError, ValueError, TypeError) as error:
        raise RuleViolation(_l("De passkey kon niet worden gecontroleerd. Probeer het opnieuw.")) from error
    exists = session.exec(select(Passkey.id).where(Passkey.credential_id == verified.credential_id)).first()
    if exists is not None:
        raise RuleViolation(_l("Deze passkey is al in gebruik."))
    transports = credential.get("response", {}).get("transports") or []
    passkey = Passkey(member_id=member.id, credential_id=verified.credential_id,
                      public_key=verified.credential_public_key, sign_count=verified.sign_count,
                      transports=",".join(str(t) for t in transports)[:200], name=clean_passkey_name(name))
    session.add(passkey)
    session.flush()
    return passkey


def sign_in_options(rp: RelyingParty, *, challenge: bytes) -> str:
    """Request options (JSON) for a discoverable passkey: no username, no allow-list."""
    options = webauthn.generate_authentication_options(
        rp_id=rp.id, challenge=challenge, timeout=CEREMONY_TIMEOUT_MS,
        user_verification=UserVerificationRequirement.REQUIRED)
    return webauthn.options_to_json(options)


def verify_sign_in(session: Session, rp: RelyingParty, credential: dict, *, expected_challenge: bytes) -> Member:
    """Check an assertion against the stored passkey and return its member; advance the sign count."""
    refused = RuleViolation(_l("Inloggen met deze passkey lukte niet. Probeer het opnieuw."))
    try:
        credential_id = base64url_to_bytes(credential["rawId"])
        user_handle = base64url_to_bytes(credential["response"].get("userHandle") or "")
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise refused from error
    passkey = session.exec(select(Passkey).where(
        Passkey.credential_id == credential_id, Passkey.revoked_at.is_(None))).first()
    member = session.get(Member, passkey.member_id) if passkey else None
    if member is None or member.user_handle != user_handle:
        raise refused
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential, expected_challenge=expected_challenge, expected_rp_id=rp.id,
            expected_origin=rp.origin, credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count, require_user_verification=True)
    except (InvalidAuthenticationResponse, KeyError, ValueError, TypeError) as error:
        raise refused from error
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = utcnow()
    session.add(passkey)
    return member


def rename_passkey(session: Session, passkey: Passkey, name: str) -> None:
    """Give a passkey a name the member recognises."""
    passkey.name = clean_passkey_name(name)
    session.add(passkey)


def remove_passkey(session: Session, passkey: Passkey) -> None:
    """Remove one of a member's passkeys, but never the last active one."""
    remaining = session.exec(select(func.count(Passkey.id)).where(
        Passkey.member_id == passkey.member_id, Passkey.revoked_at.is_(None))).one()
    if remaining <= 1:
        raise RuleViolation(_l("Dit is je laatste passkey. Voeg eerst een andere toe."))
    session.delete(passkey)


def revoke_all_passkeys(session: Session, member_id: int) -> None:
    """Revoke every passkey of a member (a recovery invite does this)."""
    for passkey in active_passkeys(session, member_id):
        passkey.revoked_at = utcnow()
        session.add(passkey)
