"""Cancelling a grant whose card was not loaded: its money goes back to the team's available budget.

Invariants:
- Only a granted request is cancelled, only while none of its cards is being loaded (in a batch), loaded
  or later: until then its money is still the team's (reserved, or on the team account after a top-up).
- The requester cancels their own grant; a coordinator of the request's municipality, or an
  administrator, cancels any. A reason is required (at most CANCEL_REASON_MAX characters, no personal
  data) and stands in the request's timeline.
- The money moves in the year whose accounts hold it (`money_year_id`: the year it was carried over to,
  else the year the request was posted in), in one entry: reserved → available (what a top-up already
  brought onto the team account comes back from the bank). A reserved card goes back to the stock.
- A cancelled grant no longer counts for the household cap (which sums granted requests only).
"""
from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from models.audit import EVENT_LABELS, record
from models.cards import Card, CardState, cards_of_request, release_card
from models.clock import utcnow
from models.events import RequestDecided, record_outcome
from models.ledger import AccountKind, account, balance_cents, lock_for_money, post_entry
from models.members import Member
from models.privacy import check_no_personal_data
from models.requests import RequestStatus, SpendRequest, transition
from models.rules import RuleViolation
from models.teams import District, Team

CANCEL_REASON_MAX = 500
#: a card in one of these states carries the grant's money, or is about to: the grant stands
_LOADING_OR_LATER = {CardState.LOAD_REQUESTED, CardState.LOADED, CardState.HANDED_OVER, CardState.SPENT,
                     CardState.RETURNED}


def money_year_id(request: SpendRequest) -> int | None:
    """The budget year whose accounts hold the request's money (the year it was carried to, else its own)."""
    return request.carried_to_year_id or request.budget_year_id


def card_was_loaded(cards: list[Card]) -> bool:
    """Whether one of a request's cards is in a batch, loaded or later, or ever held money."""
    return any(card.state in _LOADING_OR_LATER or card.loaded_at is not None for card in cards)


def not_loaded_blocker(request: SpendRequest, cards: list[Card]):
    """Why the grant cannot be taken back (cancelled or carried over) now, or None."""
    if request.status != RequestStatus.GRANTED:
        return _l("Alleen een toegekende aanvraag kan worden geannuleerd.")
    if card_was_loaded(cards):
        return _l("De kaart wordt al geladen of is geladen: de toekenning kan niet meer terug.")
    return None


def may_cancel_grant(request: SpendRequest, card: Card | None, member_id: int) -> bool:
    """Whether the request page offers `member_id` to cancel the grant, given the request's current card."""
    return (request.status == RequestStatus.GRANTED and request.requester_id == member_id
            and not card_was_loaded([card] if card else []))


def _may_act_for_municipality(session: Session, actor: Member, team_id: int) -> bool:
    if actor.is_administrator:
        return True
    district = session.get(District, session.get(Team, team_id).district_id)
    return actor.is_coordinator and actor.municipality_id == district.municipality_id


def check_reason(reason: str | None, field: str = "reason") -> str:
    """The reason as stored: required, at most CANCEL_REASON_MAX characters, no personal data."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_l("Schrijf op waarom de toekenning wordt geannuleerd."), field=field)
    if len(reason) > CANCEL_REASON_MAX:
        raise RuleViolation(_l("Gebruik hoogstens %(max)s tekens.", max=CANCEL_REASON_MAX), field=field)
    check_no_personal_data(reason, field=field)
    return reason


def take_back_postings(session: Session, team_id: int, year_id: int, amount_cents: int) -> list:
    """The postings that take a not-loaded grant's money out of the year: from reserved, and what a top-up
    already moved onto the team account from the bank (negative amounts; the caller adds the other side)."""
    from_reserved = min(amount_cents, max(0, balance_cents(session, team_id, year_id, AccountKind.RESERVED)))
    parts = [(AccountKind.RESERVED, -from_reserved), (AccountKind.BANK, -(amount_cents - from_reserved))]
    return [(account(session, team_id, year_id, kind), cents) for kind, cents in parts if cents]


def cancel_grant(session: Session, request: SpendRequest, actor: Member, reason: str | None) -> None:
    """Cancel a grant whose card was not loaded: money back to available, a reserved card back to the stock."""
    lock_for_money(session, request.team_id)
    session.refresh(request)  # PostgreSQL: read before the money lock was taken
    if actor.id != request.requester_id and not _may_act_for_municipality(session, actor, request.team_id):
        raise RuleViolation(_l("Alleen de aanvrager of de coördinator kan de toekenning annuleren."))
    reason = check_reason(reason)
    cards = cards_of_request(session, request.id)
    blocker = not_loaded_blocker(request, cards)
    if blocker:
        raise RuleViolation(blocker, field="reason")
    for card in cards:
        if card.state == CardState.RESERVED:
            release_card(session, card, actor_id=actor.id)
    year_id, amount = money_year_id(request), request.granted_amount_cents
    post_entry(session, request.team_id, [
        *take_back_postings(session, request.team_id, year_id, amount),
        (account(session, request.team_id, year_id, AccountKind.AVAILABLE), amount),
    ], memo=f"Annulering toekenning aanvraag {request.id}", request_id=request.id, actor_id=actor.id)
    transition(request, "cancel")
    request.updated_at = utcnow()
    session.add(request)
    record(session, team_id=request.team_id, request_id=request.id, actor_id=actor.id, action="cancelled",
           amount_cents=amount, reason=reason)
    if actor.id != request.requester_id:  # the requester hears of it (told only if this commits)
        record_outcome(session, RequestDecided(request.id, request.requester_id))


EVENT_LABELS.update({"cancelled": _l("toekenning geannuleerd")})
