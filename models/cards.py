"""The team's prepaid cards: the stock, one transition table, and what each step does to the ledger.

Invariants:
- A card is known by the bank's card reference and its last four digits only; a full card number is
  never accepted (exactly four digits, checked here and by a CHECK constraint).
- A card's state changes only along TRANSITIONS; anything else raises RuleViolation. Every change is
  an audit event of the team (so the request page, which polls the team's version, follows it).
- A card is reserved only for a granted request of its own team that has no other live card and was
  never loaded before; so a request is loaded at most once, with exactly its granted amount.
- Money moves only in models.ledger: a load (in an executed batch, models.batches) posts bank → cards;
  spending posts cards → spent; a return or the settlement of a blocked or lost card posts the
  remaining amount back to the bank account (models.ledger.settle_card).
"""
import re
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from models.audit import EVENT_LABELS, record
from models.clock import utcnow
from models.requests import RequestStatus, SpendRequest
from models.rules import RuleViolation, step
from models.teams import Team


class CardState(StrEnum):
    """Where a card is in its life."""

    IN_STOCK = "in_stock"
    RESERVED = "reserved"
    LOAD_REQUESTED = "load_requested"
    LOADED = "loaded"
    HANDED_OVER = "handed_over"
    SPENT = "spent"
    RETURNED = "returned"
    BLOCKED = "blocked"
    LOST = "lost"


C = CardState
TRANSITIONS = {
    (C.IN_STOCK, "reserve"): C.RESERVED,
    (C.RESERVED, "release"): C.IN_STOCK,
    (C.RESERVED, "request_load"): C.LOAD_REQUESTED,
    (C.LOAD_REQUESTED, "cancel_load"): C.RESERVED,
    (C.LOAD_REQUESTED, "load"): C.LOADED,
    (C.LOADED, "hand_over"): C.HANDED_OVER,
    (C.HANDED_OVER, "spend"): C.SPENT,
    (C.LOADED, "return"): C.RETURNED,
    (C.HANDED_OVER, "return"): C.RETURNED,
    (C.BLOCKED, "return"): C.RETURNED,
    (C.LOST, "return"): C.RETURNED,
    **{(state, "block"): C.BLOCKED for state in (C.IN_STOCK, C.RESERVED, C.LOADED, C.HANDED_OVER)},
    **{(state, "lose"): C.LOST for state in (C.IN_STOCK, C.RESERVED, C.LOADED, C.HANDED_OVER, C.BLOCKED)},
}
#: states in which a card belongs to its request
LIVE_STATES = {C.RESERVED, C.LOAD_REQUESTED, C.LOADED, C.HANDED_OVER}
#: states of a request's card that the request page names (a blocked or lost card has its own notice)
NAMED_STATES = LIVE_STATES | {C.SPENT, C.RETURNED}
STATE_LABELS = {
    C.IN_STOCK: _l("op voorraad"),
    C.RESERVED: _l("gereserveerd"),
    C.LOAD_REQUESTED: _l("wordt geladen"),
    C.LOADED: _l("geladen"),
    C.HANDED_OVER: _l("overhandigd"),
    C.SPENT: _l("opgemaakt"),
    C.RETURNED: _l("teruggegeven"),
    C.BLOCKED: _l("geblokkeerd"),
    C.LOST: _l("kwijt"),
}
_LAST_FOUR = re.compile(r"^[0-9]{4}$")
_REFERENCE = re.compile(r"^[A-Za-z0-9-]{1,40}$")


class Card(SQLModel, table=True):
    """A prepaid card of a team."""

    __table_args__ = (
        UniqueConstraint("team_id", "reference"),
        CheckConstraint("length(last_four) = 4", name="card_last_four_only"),
        CheckConstraint("loaded_amount_cents IS NULL OR loaded_amount_cents > 0", name="card_loaded_positive"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    #: the card bank's reference for the card (not the card number)
    reference: str = Field(max_length=40)
    last_four: str = Field(max_length=4)
    #: the card's own account at the card bank, where the bank gives it one (electronic IBAN form); its
    #: statements then come in as a card account's (models.bank_statements)
    account_iban: str | None = Field(default=None, max_length=34, index=True)
    state: str = Field(default=CardState.IN_STOCK, max_length=20, index=True)
    request_id: int | None = Field(default=None, foreign_key="spendrequest.id", index=True)
    #: the budget year whose accounts the card's money is booked in (the request's)
    budget_year_id: int | None = Field(default=None, foreign_key="budgetyear.id")
    loaded_amount_cents: int | None = None
    #: what was left on the card when it was returned
    returned_amount_cents: int | None = None
    registered_at: datetime = Field(default_factory=utcnow)
    loaded_at: datetime | None = None
    #: when the client confirmed receiving the card; the receipts reminder counts from here
    handed_over_at: datetime | None = None
    closed_at: datetime | None = None


def transition(session: Session, card: Card, action: str, *, actor_id: int | None, **detail) -> None:
    """Move the card along the table and audit it, or RuleViolation when that is not a step from here."""
    target = step(TRANSITIONS, CardState(card.state), action, refusal=_l("Dat kan niet met deze kaart."))
    card.state = target
    session.add(card)
    record(session, team_id=card.team_id, request_id=card.request_id, actor_id=actor_id,
           action=f"card_{target}", card_id=card.id, last_four=card.last_four, **detail)


def register_card(session: Session, team: Team, reference: str, last_four: str, *, actor_id: int) -> Card:
    """Add a card to the team's stock; only the bank's reference and the last four digits."""
    reference, last_four = (reference or "").strip(), (last_four or "").replace(" ", "")
    if not _LAST_FOUR.match(last_four):
        raise RuleViolation(_l("Vul alleen de laatste vier cijfers van de kaart in."), field="last_four")
    if not _REFERENCE.match(reference):
        raise RuleViolation(_l("Vul het kenmerk van de bank in: letters, cijfers en streepjes."), field="reference")
    if reference.isdigit() and len(reference) >= 12:
        raise RuleViolation(_l("Dat lijkt een kaartnummer. Vul het kenmerk van de bank in."), field="reference")
    if session.exec(select(Card.id).where(Card.team_id == team.id, Card.reference == reference)).first():
        raise RuleViolation(_l("Deze kaart staat al in de voorraad."), field="reference")
    card = Card(team_id=team.id, reference=reference, last_four=last_four)
    session.add(card)
    session.flush()
    record(session, team_id=team.id, actor_id=actor_id, action="card_registered", card_id=card.id,
           last_four=last_four)
    return card


def cards_of_request(session: Session, request_id: int) -> list[Card]:
    """Every card the request had, newest first."""
    return list(session.exec(select(Card).where(Card.request_id == request_id).order_by(Card.id.desc())))


def current_card(cards: list[Card]) -> Card | None:
    """Of a request's cards (newest first): its live one, else the newest it had."""
    return next((card for card in cards if card.state in LIVE_STATES), cards[0] if cards else None)


def card_of_request(session: Session, request_id: int) -> Card | None:
    """The request's card: its live one, else the newest it had."""
    return current_card(cards_of_request(session, request_id))


def _had_a_card(cards: list[Card]) -> bool:
    """Whether one of these cards of a request is live, or was ever loaded: then it gets no other."""
    return any(card.state in LIVE_STATES or card.loaded_at for card in cards)


def card_choice(session: Session, request: SpendRequest, member_id: int, cards: list[Card]) -> list[Card]:
    """The stock `member_id` may take a card from for the request now, given the request's `cards`:
    what `reserve_card` allows (the requester, a granted request, no card yet); else nothing."""
    if member_id != request.requester_id or request.status != RequestStatus.GRANTED or _had_a_card(cards):
        return []
    return stock(session, request.team_id)


def open_cards(session: Session, team_ids: list[int]) -> dict[int, list[Card]]:
    """Per team, its cards that are not closed, oldest first (one query for all the teams)."""
    found = {team_id: [] for team_id in team_ids}
    for card in session.exec(select(Card).where(Card.team_id.in_(team_ids), Card.closed_at.is_(None)).order_by(Card.id)):
        found[card.team_id].append(card)
    return found


def stock(session: Session, team_id: int) -> list[Card]:
    """The team's cards on the shelf, oldest first."""
    return list(session.exec(select(Card).where(Card.team_id == team_id, Card.state == CardState.IN_STOCK)
                             .order_by(Card.id)))


def reserve_card(session: Session, card: Card, request: SpendRequest, *, actor_id: int) -> None:
    """The requester takes a card from the stock for a granted request that never had a card loaded."""
    if actor_id != request.requester_id:
        raise RuleViolation(_l("Alleen de aanvrager pakt een kaart."), field="card_id")
    if card.team_id != request.team_id:
        raise RuleViolation(_l("Deze kaart hoort bij een ander team."), field="card_id")
    if request.status != RequestStatus.GRANTED:
        raise RuleViolation(_l("Alleen een toegekende aanvraag krijgt een kaart."), field="card_id")
    if _had_a_card([other for other in cards_of_request(session, request.id) if other.id != card.id]):
        raise RuleViolation(_l("Deze aanvraag heeft al een kaart."), field="card_id")
    # the year whose accounts hold the grant's money: the one it was carried over to, else its own
    card.request_id, card.budget_year_id = request.id, request.carried_to_year_id or request.budget_year_id
    transition(session, card, "reserve", actor_id=actor_id)


def release_card(session: Session, card: Card, *, actor_id: int) -> None:
    """Put a reserved card back on the shelf (the request may take another)."""
    transition(session, card, "release", actor_id=actor_id)
    card.request_id = card.budget_year_id = None


def mark_loaded(session: Session, card: Card, amount_cents: int, *, actor_id: int | None) -> None:
    """Record that the card bank loaded the card (the ledger entry is the batch's)."""
    card.loaded_amount_cents, card.loaded_at = amount_cents, utcnow()
    transition(session, card, "load", actor_id=actor_id, amount_cents=amount_cents)


def mark_handed_over(session: Session, card: Card) -> None:
    """The client confirmed receiving the card."""
    card.handed_over_at = utcnow()
    transition(session, card, "hand_over", actor_id=None)


def mark_spent(session: Session, card: Card, *, actor_id: int) -> None:
    """The client used up the card: its money counts as spent."""
    from models.ledger import settle_card

    team = session.get(Team, card.team_id)
    transition(session, card, "spend", actor_id=actor_id)
    settle_card(session, team, card.budget_year_id, card.loaded_amount_cents, 0, memo=f"Kaart {card.last_four} op",
                request_id=card.request_id, actor_id=actor_id)
    card.closed_at = utcnow()


def return_card(session: Session, card: Card, remaining_cents: int, *, actor_id: int) -> None:
    """The card came back: what is left goes back to the team account, the rest counts as spent."""
    from models.batch_lines import pending_top_ups_cents
    from models.ledger import settle_card
    from models.loans import repaid_cents

    team = session.get(Team, card.team_id)
    had_money = card.loaded_at is not None
    if had_money and remaining_cents > card.loaded_amount_cents - repaid_cents(session, card.request_id):
        # a loan's repayments came out of what the client spent: outstanding never goes below zero
        raise RuleViolation(_l("Er is al terugbetaald op deze lening: het restbedrag kan niet zo hoog zijn."), field="remaining")
    transition(session, card, "return", actor_id=actor_id, amount_cents=remaining_cents)
    if had_money:
        settle_card(session, team, card.budget_year_id, card.loaded_amount_cents, remaining_cents,
                    memo=f"Kaart {card.last_four} terug", request_id=card.request_id, actor_id=actor_id,
                    pending_top_ups_cents=pending_top_ups_cents(session, team.id))
        card.returned_amount_cents = remaining_cents
    card.closed_at = utcnow()


def block_card(session: Session, card: Card, action: str, *, actor_id: int) -> None:
    """Block a card, or report it lost; its money stays on it until the bank returns it ("return")."""
    if action not in ("block", "lose"):
        raise RuleViolation(_l("Dat kan niet met deze kaart."))
    was_live = card.state in (C.IN_STOCK, C.RESERVED)
    transition(session, card, action, actor_id=actor_id)
    if was_live and card.loaded_at is None:
        card.closed_at = utcnow()  # no money on it: nothing left to settle


def register_card_account(session: Session, card: Card, iban, *, actor_id: int | None) -> None:
    """Record the card's own account at the card bank (its statements then import as the card's): an IBAN
    checked by schwifty, in electronic form, of no other card and no team account; audited."""
    from models.municipalities import check_iban

    if not (iban.strip() if isinstance(iban, str) else ""):
        raise RuleViolation(_l("Vul het IBAN van de kaartrekening in."), field="account_iban")
    compact = check_iban(iban, field="account_iban")
    if session.exec(select(Card.id).where(Card.account_iban == compact, Card.id != card.id)).first():
        raise RuleViolation(_l("Deze rekening hoort al bij een andere kaart."), field="account_iban")
    if session.exec(select(Team.id).where(Team.iban == compact)).first():
        raise RuleViolation(_l("Dit is een teamrekening, geen kaartrekening."), field="account_iban")
    if card.account_iban == compact:
        return
    card.account_iban = compact
    session.add(card)
    record(session, team_id=card.team_id, request_id=card.request_id, actor_id=actor_id,
           action="card_account_registered", card_id=card.id, last_four=card.last_four)


def act_on_card(session: Session, card: Card, action: str, *, actor_id: int, remaining_cents: int = 0) -> None:
    """What a coordinator does with a card in the stock list: release, block, lose, spend or return it."""
    if action == "release":
        release_card(session, card, actor_id=actor_id)
    elif action in ("block", "lose"):
        block_card(session, card, action, actor_id=actor_id)
    elif action == "spend":
        mark_spent(session, card, actor_id=actor_id)
    elif action == "return":
        return_card(session, card, remaining_cents, actor_id=actor_id)
    else:
        raise RuleViolation(_l("Dat kan niet met deze kaart."))


EVENT_LABELS.update({
    "card_registered": _l("kaart in voorraad"),
    "card_account_registered": _l("kaartrekening vastgelegd"),
    **{f"card_{state}": _l("kaart: %(state)s", state=label) for state, label in STATE_LABELS.items()},
})
