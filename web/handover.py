"""The client's handover page: the one-time link the requester shows as a QR code when handing over a card.

URL table (public, rate-limited: the client, without an account):
  GET  /kaart/<token>      what the card is for, and the button to confirm
  POST /kaart/<token>      confirm receiving the card (once)

Wrong or used-up links count against the address (web/rate_limits.py); a genuine one opens. The page shows
nothing of a signed-in member (if any) and is never kept in a cache.
"""
from flask import Blueprint, current_app, render_template, request

from models.cards import Card
from models.db import begin_write
from models.handover import confirm_handover, usable_handover
from models.request_page import category_of
from models.requests import SpendRequest
from web.database import db
from web.rate_limits import counts_failures
from web.respond import refusal_shows

bp = Blueprint("handover", __name__, url_prefix="/kaart")


def _client_page(template, status=200, **context):
    """A page for the client: nothing of the signed-in member (if any), never kept in a cache."""
    response = current_app.make_response((render_template(template, shell_only=True, **context), status))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/<token>", methods=["GET", "POST"])
@counts_failures("RATELIMIT_HANDOVER", "handover")  # wrong or used-up links count, a genuine one opens
@refusal_shows(lambda unusable: _client_page("cards/client_unusable.html", 410, message=unusable.message))
def show(token):
    """The client's page: the card, the amount, what it is for; confirming uses the link up."""
    if request.method == "POST":
        begin_write(db())
    found = usable_handover(db(), token)
    if request.method == "POST":
        confirm_handover(db(), found)
        db().commit()
        return _client_page("cards/client_thanks.html")
    card = db().get(Card, found.card_id)
    return _client_page("cards/client.html", token=token, last_four=card.last_four,
                        amount_cents=card.loaded_amount_cents, category=category_of(db(), db().get(SpendRequest, card.request_id)))
