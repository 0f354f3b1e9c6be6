"""Handing a card to the client: a one-time link the client opens on a phone, without an account.

Invariants:
- The token is shown once; only its SHA-256 is stored (as for invites).
- A link works once and for HANDOVER_TTL; making a new link for the card ends the open ones.
- Confirming is atomic: of two confirmations at once, one wins and the other sees "used".
- What the client sees holds no team or household: the card's last four digits, the amount, the cost
  category, and whom to contact: the worker's first name and organisation only (`ClientView`).
- After confirming, the link keeps showing that (and that it was confirmed) until it would have expired;
  a used link never confirms again.
"""
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlmodel import Field, Session, SQLModel, select

from models.cards import Card, CardState, mark_handed_over
from models.clock import utcnow
from models.invites import hash_token
from models.members import Member
from models.requests import SpendRequest
from models.rules import RuleViolation
from models.teams import CostCategory

HANDOVER_TTL = timedelta(hours=24)


class CardHandover(SQLModel, table=True):
    """A one-time link for the client to confirm receiving a card."""

    id: int | None = Field(default=None, primary_key=True)
    #: SHA-256 of the token in the link, hex
    token_hash: str = Field(max_length=64, unique=True)
    card_id: int = Field(foreign_key="card.id", index=True)
    created_by_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    confirmed_at: datetime | None = None
    #: set when a newer link for the same card replaced this one
    revoked_at: datetime | None = None


class HandoverUnusable(RuleViolation):
    """The link cannot be used; `reason` is unknown, used or expired; a used one carries its `handover`."""

    def __init__(self, reason, handover=None):
        messages = {
            "unknown": _l("Deze link werkt niet. Vraag je hulpverlener om een nieuwe."),
            "used": _l("Je hebt al bevestigd dat je de kaart hebt gekregen. Je hoeft niets meer te doen."),
            "expired": _l("Deze link is verlopen. Vraag je hulpverlener om een nieuwe."),
        }
        super().__init__(messages[reason])
        self.reason = reason
        self.handover = handover


@dataclass(frozen=True)
class ClientView:
    """What the client's page shows of a card: never a team, a household or a worker's full name."""

    last_four: str
    amount_cents: int
    category: CostCategory | None
    #: whom to contact: the worker's first name and organisation (may be empty)
    contact_name: str
    organisation: str
    confirmed_at: datetime | None
    #: a confirmed link shows this view until then (the link's own expiry)
    shown_until: datetime


def first_name(display_name: str) -> str:
    """The first word of a display name: all a client sees of the worker."""
    return (display_name or "").split(" ", 1)[0]


def client_view(session: Session, handover: CardHandover) -> ClientView:
    """The card, amount, purpose and contact of a handover link, as the client sees them."""
    card = session.get(Card, handover.card_id)
    request = session.get(SpendRequest, card.request_id)
    worker = session.get(Member, handover.created_by_id)
    category = session.get(CostCategory, request.cost_category_id) if request.cost_category_id else None
    return ClientView(last_four=card.last_four, amount_cents=card.loaded_amount_cents, category=category,
                      contact_name=first_name(worker.display_name), organisation=worker.organisation,
                      confirmed_at=handover.confirmed_at, shown_until=handover.expires_at)


def still_shown(handover: CardHandover) -> bool:
    """Whether a confirmed link still shows what was confirmed (until it would have expired)."""
    return handover.confirmed_at is not None and handover.revoked_at is None and utcnow() < handover.expires_at


def create_handover(session: Session, card: Card, request: SpendRequest, *, member_id: int) -> str:
    """A new link for a loaded card, by the requester; returns the token (shown once)."""
    if request.requester_id != member_id:
        raise RuleViolation(_l("Alleen de aanvrager geeft de kaart aan de cliënt."))
    if card.request_id != request.id or card.state != CardState.LOADED:
        raise RuleViolation(_l("De kaart is nog niet geladen, of al overhandigd."))
    now = utcnow()
    session.execute(update(CardHandover).where(
        CardHandover.card_id == card.id, CardHandover.confirmed_at.is_(None), CardHandover.revoked_at.is_(None))
        .values(revoked_at=now))
    token = secrets.token_urlsafe(16)
    session.add(CardHandover(token_hash=hash_token(token), card_id=card.id, created_by_id=member_id,
                             created_at=now, expires_at=now + HANDOVER_TTL))
    session.flush()
    return token


def usable_handover(session: Session, token: str) -> CardHandover:
    """The open handover for `token`, or HandoverUnusable saying why not."""
    found = session.exec(select(CardHandover).where(CardHandover.token_hash == hash_token(token or ""))).first()
    if found is None or found.revoked_at is not None:
        raise HandoverUnusable("unknown")
    if found.confirmed_at is not None:
        raise HandoverUnusable("used", found)
    if found.expires_at <= utcnow():
        raise HandoverUnusable("expired")
    return found


def confirm_handover(session: Session, handover: CardHandover) -> Card:
    """The client confirms receiving the card: the link is used up and the card is handed over."""
    claimed = session.execute(update(CardHandover).where(
        CardHandover.id == handover.id, CardHandover.confirmed_at.is_(None)).values(confirmed_at=utcnow()))
    if claimed.rowcount != 1:
        raise HandoverUnusable("used", handover)
    card = session.get(Card, handover.card_id)
    mark_handed_over(session, card)
    return card
