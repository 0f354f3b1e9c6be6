"""The one next step a request page shows first, for the member looking at it (issue 14).

Invariant: `next_step` is a pure function of what the request page read (models/request_page.py): it reads
nothing itself and returns one of STEPS, or None when the member has nothing to do and nothing to wait for.
For the requester of a granted request the steps follow the card's life: take a card, wait for the
foundation to load it, hand it over, photograph the receipt, state its amount, look back after a month; a
loan also asks for the repayment agreement and, while money is outstanding, its repayments. A loaded card
that was blocked, lost or returned before the client had it says so (the request gets no other card, and
there is no receipt to photograph). "done" only when nothing is left to do or to wait for, and a step only
names what its viewer may do (the requester's steps only for the requester: `card_panel.mine`).
"""
from models.cards import LIVE_STATES, CardState

#: every step, in the order a request goes through them
STEPS = ("vote", "wait_for_votes", "take_card", "no_cards", "wait_for_load", "hand_over", "card_stopped",
         "card_returned_unused", "photograph_receipt", "receipt_amounts", "loan_agreement", "review",
         "loan_repayments", "done")

#: the steps whose work is in the receipts part (templates/requests/_receipts.html), which then comes first
RECEIPT_STEPS = frozenset({"photograph_receipt", "receipt_amounts"})


def next_step(page) -> str | None:
    """The next step on `page` (a models.request_page.RequestPage) for the member it was read for."""
    request = page.req
    if page.can_vote:
        return "vote" if page.my_vote is None else None
    if request.is_open:
        return "wait_for_votes" if _is_requester(page) else None
    if page.card_panel is None or not page.card_panel.mine:
        return None
    return _granted_step(page)


def _is_requester(page) -> bool:
    return page.req.requester_id == page.member_id


def _granted_step(page) -> str:
    """The requester's step on a granted request, by its card and receipts."""
    card = page.card_panel.card
    # no card yet, or only one that ended before it was loaded: it may take one (models.cards.card_choice);
    # a card that was loaded gets no other, whatever became of it
    if card is None or card.state not in LIVE_STATES and card.loaded_at is None:
        return "take_card" if page.card_panel.stock else "no_cards"
    state = card.state
    if state in (CardState.RESERVED, CardState.LOAD_REQUESTED):
        return "wait_for_load"
    if state == CardState.LOADED:
        return "hand_over"
    if card.handed_over_at is None:  # loaded, then blocked, lost or returned before the client had it
        return "card_returned_unused" if state == CardState.RETURNED else "card_stopped"
    receipts = page.receipt_panel
    if receipts is not None and receipts.can_add and not receipts.receipts and receipts.waiver is None:
        return "photograph_receipt"
    if receipts is not None and receipts.can_add and any(r.amount_cents is None for r in receipts.receipts):
        return "receipt_amounts"
    loan = page.loan
    if loan is not None and loan.due_on is None and loan.outstanding_cents > 0:
        return "loan_agreement"
    if page.review is not None and page.review.answered_at is None:
        return "review"
    if loan is not None and loan.outstanding_cents > 0:
        return "loan_repayments"
    return "done"
