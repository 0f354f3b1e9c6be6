"""Loans on the request page: the repayment agreed with the household, and repayments as they come in.

URL table (signed in, active member of the request's team; the request must be posted):
  POST /teams/<team_id>/aanvragen/<request_id>/lening/afspraak         agree (or change) the repayment: amount, date
  POST /teams/<team_id>/aanvragen/<request_id>/lening/terugbetalingen  register a repayment received

Only the requester does either (models/loans.py; the verb also lets a coordinator register, who is no team
member and has no request pages). Both forms go through the phone's outbox like a vote (`data-outbox`,
web/outbox.py): sent with a UUID they are applied exactly once, so a repayment sent twice is booked once;
the outbox gets JSON, a plain form a 303 back to the request page, and a refusal shows the request page
with the message beside its field (web/respond.py).
"""
from flask import Blueprint, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from models.loans import agree_repayment, parse_day, record_repayment
from models.money import parse_amount
from web.access import load_posted_request
from web.database import db
from web.i18n import format_cents
from web.outbox import client_operation
from web.request_page import request_page
from web.respond import refusal_shows

bp = Blueprint("loans", __name__, url_prefix="/teams/<int:team_id>/aanvragen/<int:request_id>/lening")


@bp.url_value_preprocessor
def load_request(_endpoint, values):
    """The team and membership, and a posted request of that team; POSTs hold the write lock."""
    load_posted_request(values)


def _panel(status: int = 200, notice=None, **errors):
    """The loan part of the request page (with the message beside its field), JSON for the outbox, or 303."""
    page = url_for("requests.show", team_id=g.team.id, request_id=g.spend_request.id)
    back = page + "#loan"
    if status < 400:  # the outbox loads `page`: to `back` from a page at `back` would only scroll, not reload
        json = {"redirect": page, "notice": str(notice)}
    else:
        field, message = next(iter(errors.items()))
        json = {"error": str(message), "field": field}
    return request_page("requests/_loan.html", status, json=json, back=back, loan_errors=errors,
                        loan_notice=notice, loan_form=request.form if status >= 400 else {})


#: a refusal is shown in the loan part, beside the field it names (or above the part)
_refused = refusal_shows(lambda violation: _panel(422, **{violation.field or "loan": violation.message}))


@bp.post("/afspraak")
@client_operation("loan")
@_refused
def agree():
    """The requester records, or changes, the repayment agreed with the household."""
    amount_cents = parse_amount(request.form.get("repayment_amount"), field="repayment_amount")
    due_on = parse_day(request.form.get("repayment_due_on"), field="repayment_due_on")
    agree_repayment(db(), g.spend_request, amount_cents, due_on, current_user.id)
    return _panel(notice=_("De afspraak is opgeslagen."))


@bp.post("/terugbetalingen")
@client_operation("loan")
@_refused
def repay():
    """The requester registers money the household paid back; it goes back to the team's budget."""
    amount_cents = parse_amount(request.form.get("repaid_amount"), field="repaid_amount")
    received_on = parse_day(request.form.get("received_on"), field="received_on")
    record_repayment(db(), g.spend_request, amount_cents, received_on, current_user.id)
    return _panel(notice=_("Terugbetaling van %(amount)s geregistreerd.", amount=format_cents(amount_cents)))
