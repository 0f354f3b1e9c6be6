"""Receipts (bonnetjes): proof of what a granted amount was spent on, and the list of ones missing.

Invariants:
- Receipts belong to a granted request whose card reached the client (`may_add_receipts`); only the requester
  adds them, states their amounts, or says that no receipt is possible. Every one of these is audited.
- A receipt's amount is integer cents, entered by the worker (parsed with models.money.parse_amount);
  what was spent is the sum of the amounts entered, shown beside what was granted. What is left on the
  request's card by its receipts is `left_on_card_cents`: loaded − receipts, nothing once the card is closed.
- A request is missing its receipts when its card was handed over at least MISSING_AFTER ago, it has no
  receipt, and nobody stated that no receipt is possible (a reason is required, checked for personal data).
- A receipt names its files by a random name (models.receipt_images); the row is written in the same
  transaction the view commits, the files just before that commit and removed again if it fails.
- An upload is applied once per phone operation (web/outbox.py `client_operation`, the same table as
  votes): a photo sent twice is kept once.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Text
from sqlmodel import Field, Session, SQLModel, func, select

from models.audit import record
from models.cards import Card
from models.clock import utcnow
from models.money import parse_amount
from models.privacy import check_no_personal_data
from models.receipt_images import CleanImage
from models.requests import RequestStatus, SpendRequest
from models.rules import RuleViolation

MISSING_AFTER = timedelta(days=7)
REASON_MAX = 500


class Receipt(SQLModel, table=True):
    """A photo of a receipt for a granted request."""

    __table_args__ = (
        CheckConstraint("amount_cents IS NULL OR amount_cents > 0", name="receipt_amount_positive"),
    )
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="spendrequest.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    added_by_id: int = Field(foreign_key="member.id")
    #: random name of the photo and thumbnail files (models.receipt_images.ReceiptFiles)
    file_name: str = Field(max_length=32, unique=True)
    width: int
    height: int
    #: the total on the receipt, as the worker typed it; None until entered
    amount_cents: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ReceiptWaiver(SQLModel, table=True):
    """The requester's statement that no receipt is possible for a request, with the reason."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="spendrequest.id", unique=True)
    member_id: int = Field(foreign_key="member.id")
    reason: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)


def handed_over_requests():
    """THE "card handed over" condition, as a subquery of (request_id, handed_over_at): the moment the
    client confirmed receiving the request's card (models.cards). This is the one place to change if the
    money ever reaches clients another way."""
    return (select(Card.request_id.label("request_id"), func.min(Card.handed_over_at).label("handed_over_at"))
            .where(Card.handed_over_at.is_not(None), Card.request_id.is_not(None))
            .group_by(Card.request_id).subquery())


def handed_over_at(session: Session, request: SpendRequest) -> datetime | None:
    """When the client received this request's card, or None (see `handed_over_requests`)."""
    handed = handed_over_requests()
    return session.exec(select(handed.c.handed_over_at).where(handed.c.request_id == request.id)).first()


def may_add_receipts(session: Session, request: SpendRequest) -> bool:
    """Whether receipts can be added: the request was granted and its card reached the client."""
    return request.status == RequestStatus.GRANTED and handed_over_at(session, request) is not None


def check_may_add_receipts(session: Session, request: SpendRequest, member_id: int) -> None:
    """RuleViolation unless this member may add receipts to the request now (the requester, card handed over)."""
    if request.requester_id != member_id:
        raise RuleViolation(_l("Alleen de aanvrager kan bonnetjes toevoegen."), field="photo")
    if not may_add_receipts(session, request):
        raise RuleViolation(_l("Bonnetjes kunnen erbij zodra de cliënt de kaart heeft gekregen."), field="photo")


def add_receipt(session: Session, request: SpendRequest, member_id: int, image: CleanImage, file_name: str) -> Receipt:
    """Record a checked receipt photo (its files are written by the caller under `file_name`)."""
    check_may_add_receipts(session, request, member_id)
    receipt = Receipt(request_id=request.id, team_id=request.team_id, added_by_id=member_id, file_name=file_name,
                      width=image.width, height=image.height)
    session.add(receipt)
    session.flush()
    record(session, team_id=request.team_id, request_id=request.id, actor_id=member_id, action="receipt_added",
           receipt_id=receipt.id)
    return receipt


def set_receipt_amount(session: Session, receipt: Receipt, request: SpendRequest, member_id: int, raw: str) -> Receipt:
    """The worker states the total on the receipt."""
    check_may_add_receipts(session, request, member_id)
    receipt.amount_cents = parse_amount(raw, field=f"amount-{receipt.id}")
    session.add(receipt)
    record(session, team_id=request.team_id, request_id=request.id, actor_id=member_id, action="receipt_amount",
           receipt_id=receipt.id, amount_cents=receipt.amount_cents)
    return receipt


def state_no_receipt(session: Session, request: SpendRequest, member_id: int, reason: str) -> ReceiptWaiver:
    """The requester says no receipt is possible, and why; this closes the missing receipt."""
    check_may_add_receipts(session, request, member_id)
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_l("Schrijf op waarom er geen bonnetje is."), field="no_receipt_reason")
    if len(reason) > REASON_MAX:
        raise RuleViolation(_l("Gebruik hoogstens %(max)s tekens.", max=REASON_MAX), field="no_receipt_reason")
    check_no_personal_data(reason, field="no_receipt_reason")
    if session.exec(select(ReceiptWaiver).where(ReceiptWaiver.request_id == request.id)).first():
        raise RuleViolation(_l("Dit is al gemeld."), field="no_receipt_reason")
    waiver = ReceiptWaiver(request_id=request.id, member_id=member_id, reason=reason)
    session.add(waiver)
    record(session, team_id=request.team_id, request_id=request.id, actor_id=member_id, action="no_receipt",
           reason=reason)
    return waiver


@dataclass
class ReceiptPanel:
    """What the request page shows about receipts."""

    receipts: list
    waiver: ReceiptWaiver | None
    granted_cents: int | None
    spent_cents: int
    can_add: bool
    #: what is left on the request's card by the receipts (`left_on_card_cents`); None: no money on a card yet
    left_cents: int | None = None


def left_on_card_cents(card: Card | None, receipts_cents: int) -> int | None:
    """What is left on a card by its request's receipts: loaded − receipts; nothing once the card is closed
    (used up, returned, settled); None while no money was loaded onto it."""
    if card is None or card.loaded_amount_cents is None:
        return None
    return 0 if card.closed_at is not None else card.loaded_amount_cents - receipts_cents


def receipt_panel(session: Session, request: SpendRequest, member_id: int, card: Card | None = None) -> ReceiptPanel:
    """The request's receipts, the no-receipt statement, granted vs spent, what is left on `card` (the
    request's current one, models.cards.current_card), and whether I may add."""
    receipts = list(session.exec(select(Receipt).where(Receipt.request_id == request.id).order_by(Receipt.id)))
    waiver = session.exec(select(ReceiptWaiver).where(ReceiptWaiver.request_id == request.id)).first()
    spent = sum(r.amount_cents or 0 for r in receipts)
    return ReceiptPanel(receipts=receipts, waiver=waiver, granted_cents=request.granted_amount_cents,
                        spent_cents=spent, left_cents=left_on_card_cents(card, spent),
                        can_add=request.requester_id == member_id and may_add_receipts(session, request))


def _missing_receipts_query(team_id: int, requester_id: int | None):
    handed = handed_over_requests()
    has_receipt = select(Receipt.id).where(Receipt.request_id == SpendRequest.id).exists()
    has_waiver = select(ReceiptWaiver.id).where(ReceiptWaiver.request_id == SpendRequest.id).exists()
    query = (select(SpendRequest, handed.c.handed_over_at).join(handed, handed.c.request_id == SpendRequest.id)
             .where(SpendRequest.team_id == team_id, handed.c.handed_over_at <= utcnow() - MISSING_AFTER,
                    ~has_receipt, ~has_waiver)
             .order_by(handed.c.handed_over_at))
    if requester_id is not None:
        query = query.where(SpendRequest.requester_id == requester_id)
    return query


def missing_receipts(session: Session, team_id: int, requester_id: int | None = None) -> list[tuple[SpendRequest, datetime]]:
    """Requests of the team handed over at least MISSING_AFTER ago with no receipt and no statement, oldest first."""
    return list(session.exec(_missing_receipts_query(team_id, requester_id)).all())


def count_missing_receipts(session: Session, team_id: int, requester_id: int) -> int:
    """How many of my requests miss their receipts (the reminder on every load of the team's home page)."""
    missing = _missing_receipts_query(team_id, requester_id).order_by(None).subquery()
    return session.exec(select(func.count()).select_from(missing)).one()

