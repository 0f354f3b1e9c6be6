"""Client operations: what a phone sent from its outbox, so that a replay is applied exactly once.

A phone gives every queued draft, vote and comment a UUID before it first sends it, and sends that UUID
with every attempt. The server keeps one ClientOperation per (member, UUID), written in the same
transaction as the operation's effect.

Invariants:
- A (member, UUID) pair is applied at most once: the unique constraint holds even when two attempts
  race, because the row and the effect commit together or not at all.
- The same UUID with the same body gets the stored answer again, without applying anything; with a
  different body it is refused (`ReusedOperation`), never applied.
- Only operations that took effect are recorded. A refused attempt (a rule, a conflict) changes
  nothing, so the worker may edit the item and send it again under the same UUID.
- The body hash is SHA-256 of a canonical JSON of the fields; a household reference in it is replaced by
  its keyed hash first, so the table holds nothing that leads back to a client.
"""
import hashlib
import json
import uuid
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from models.clock import utcnow
from models.rules import RuleViolation


class ClientOperation(SQLModel, table=True):
    """One operation a member's phone sent with its own UUID, and the answer it got."""

    __table_args__ = (UniqueConstraint("member_id", "client_uuid", name="uq_clientoperation_member_uuid"),)
    id: int | None = Field(default=None, primary_key=True)
    #: the unique constraint's first column also serves lookups by member
    member_id: int = Field(foreign_key="member.id")
    #: the UUID the phone generated before the first attempt (canonical lower-case form)
    client_uuid: str = Field(max_length=36)
    kind: str = Field(max_length=20)
    #: SHA-256 (hex) of the canonical body, to tell a replay from a reuse of the UUID
    body_sha256: str = Field(max_length=64)
    status_code: int
    #: the JSON answer of the first attempt, returned again on every replay
    response_body: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)


class ReusedOperation(RuleViolation):
    """The UUID was already used for a different body."""


def canonical_uuid(raw: str | None) -> str | None:
    """The UUID in canonical form, or None when `raw` is not a UUID."""
    try:
        return str(uuid.UUID(str(raw or "")))
    except ValueError:
        return None


def body_digest(kind: str, fields: dict[str, list[str]]) -> str:
    """SHA-256 of the kind and the fields (each a list of values), independent of their order."""
    canonical = json.dumps({"kind": kind, "fields": {key: sorted(values) for key, values in sorted(fields.items())}},
                           ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def earlier_operation(session: Session, member_id: int, client_uuid: str, digest: str) -> ClientOperation | None:
    """The operation already applied under this UUID, if any; a different body raises ReusedOperation."""
    done = session.exec(select(ClientOperation).where(ClientOperation.member_id == member_id,
                                                      ClientOperation.client_uuid == client_uuid)).first()
    if done is not None and done.body_sha256 != digest:
        raise ReusedOperation(_l("Dit is al eerder verstuurd, met een andere inhoud. De eerste versie telt. "
                                 "Bekijk de aanvraag en gooi dit bericht weg."))
    return done


def record_operation(session: Session, member_id: int, client_uuid: str, kind: str, digest: str,
                     status_code: int, response: dict) -> ClientOperation:
    """Remember an applied operation and its answer; the caller commits it with the effect."""
    operation = ClientOperation(member_id=member_id, client_uuid=client_uuid, kind=kind, body_sha256=digest,
                                status_code=status_code, response_body=json.dumps(response, ensure_ascii=False))
    session.add(operation)
    session.flush()  # a racing attempt with the same UUID fails here, before anything else is written
    return operation
