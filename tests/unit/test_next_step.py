"""The next step of a request page as a table (models/next_step.py): what the requester of a granted request
is asked to do or wait for, by the card's state, its receipts, a loan and the outcome review. A pure function
of the page, so a page is built here from plain values."""
from datetime import date, datetime
from types import SimpleNamespace

import pytest

from models.cards import CardState as C
from models.loans import LoanPosition
from models.next_step import STEPS, next_step

ME, COLLEAGUE = 1, 2
LOADED_AT = datetime(2026, 11, 2, 10, 0)


def _card(state, loaded=True, handed_over=False):
    return SimpleNamespace(state=state, loaded_at=LOADED_AT if loaded else None,
                           handed_over_at=datetime(2026, 11, 3) if handed_over else None)


def _receipts(can_add, receipts=(), waiver=None):
    return SimpleNamespace(can_add=can_add, receipts=list(receipts), waiver=waiver)


def _loan(lent=0, repaid=0, due_on=None):
    return LoanPosition(lent_cents=lent, repaid_cents=repaid, agreed_cents=lent if due_on else None, due_on=due_on,
                        today=date(2026, 11, 10))


def _page(card, *, stock=(), mine=True, receipts=None, loan=None, review=None, status="granted"):
    granted = status == "granted"
    request = SimpleNamespace(requester_id=ME if mine else COLLEAGUE, is_open=status == "open", status=status)
    return SimpleNamespace(
        req=request, member_id=ME, can_vote=False, my_vote=None,
        card_panel=SimpleNamespace(card=card, stock=list(stock), mine=mine) if granted else None,
        receipt_panel=(receipts or _receipts(card is not None and card.handed_over_at is not None)) if granted else None,
        loan=loan, review=review)


RECEIPT = SimpleNamespace(amount_cents=1_000)
UNANSWERED, ANSWERED = SimpleNamespace(answered_at=None), SimpleNamespace(answered_at=datetime(2026, 12, 1))
DUE = date(2026, 12, 31)


@pytest.mark.parametrize("page, step", [
    # before the card is loaded
    (_page(None, stock=["K-1"]), "take_card"),
    (_page(None), "no_cards"),
    (_page(_card(C.RESERVED, loaded=False)), "wait_for_load"),
    (_page(_card(C.LOAD_REQUESTED, loaded=False)), "wait_for_load"),
    # a card that ended before it was loaded: the request may take another (models.cards.card_choice)
    (_page(_card(C.BLOCKED, loaded=False), stock=["K-2"]), "take_card"),
    (_page(_card(C.LOST, loaded=False)), "no_cards"),
    # loaded: hand it over
    (_page(_card(C.LOADED)), "hand_over"),
    # loaded, then blocked or lost before the client had it: nothing to photograph, and no other card
    (_page(_card(C.BLOCKED), stock=["K-2"]), "card_stopped"),
    (_page(_card(C.LOST)), "card_stopped"),
    # ... or returned: the money went back, the client got nothing ("done" would hide that)
    (_page(_card(C.RETURNED), stock=["K-2"]), "card_returned_unused"),
    (_page(_card(C.RETURNED), review=UNANSWERED), "card_returned_unused"),
    # handed over: the receipts, then the look back
    (_page(_card(C.HANDED_OVER, handed_over=True)), "photograph_receipt"),
    (_page(_card(C.LOST, handed_over=True)), "photograph_receipt"),  # lost by the client: the receipts still count
    (_page(_card(C.HANDED_OVER, handed_over=True), receipts=_receipts(True, [SimpleNamespace(amount_cents=None)])),
     "receipt_amounts"),
    (_page(_card(C.HANDED_OVER, handed_over=True), receipts=_receipts(True, [RECEIPT]), review=UNANSWERED), "review"),
    (_page(_card(C.SPENT, handed_over=True), receipts=_receipts(True, [RECEIPT]), review=ANSWERED), "done"),
    (_page(_card(C.RETURNED, handed_over=True), receipts=_receipts(True, waiver=object())), "done"),
    # a loan: the agreement, the look back, then the repayments while something is outstanding
    (_page(_card(C.LOADED), loan=_loan()), "hand_over"),
    (_page(_card(C.HANDED_OVER, handed_over=True), receipts=_receipts(True, [RECEIPT]), loan=_loan(7_500)),
     "loan_agreement"),
    (_page(_card(C.HANDED_OVER, handed_over=True), receipts=_receipts(True, [RECEIPT]), loan=_loan(7_500),
           review=UNANSWERED), "loan_agreement"),
    (_page(_card(C.HANDED_OVER, handed_over=True), receipts=_receipts(True, [RECEIPT]), loan=_loan(7_500, due_on=DUE),
           review=UNANSWERED), "review"),
    (_page(_card(C.HANDED_OVER, handed_over=True), receipts=_receipts(True, [RECEIPT]),
           loan=_loan(7_500, 2_500, due_on=DUE)), "loan_repayments"),
    (_page(_card(C.SPENT, handed_over=True), receipts=_receipts(True, [RECEIPT]), loan=_loan(7_500, 7_500, due_on=DUE)),
     "done"),
    (_page(_card(C.RETURNED, handed_over=True), receipts=_receipts(True, [RECEIPT]), loan=_loan(0)), "done"),
])
def test_next_step_of_the_requester_follows_the_card(page, step):
    assert step in STEPS
    assert next_step(page) == step


@pytest.mark.parametrize("page", [
    _page(_card(C.LOADED), mine=False),  # a colleague's granted request: nothing to do for me
    _page(_card(C.BLOCKED), mine=False),
    _page(None, stock=["K-1"], mine=False),  # never "take a card" for someone who may not take one
    _page(None, status="cancelled"),  # a cancelled grant: no card part, nothing to do
    _page(None, status="rejected"),
])
def test_next_step_none_where_the_viewer_has_nothing_to_do(page):
    assert next_step(page) is None
