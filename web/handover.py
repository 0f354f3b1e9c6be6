"""The client's handover page: the one-time link the requester shows as a QR code when handing over a card.

URL table (public, rate-limited: the client, without an account):
  GET  /kaart/<token>      what the card is for, and the button to confirm
  POST /kaart/<token>      confirm receiving the card (once)

Wrong or expired links count against the address (web/rate_limits.py); a genuine one opens. A confirmed link
keeps showing the amount, what it is for and whom to contact, saying plainly it was confirmed, until it would
have expired; then it only says that. The page follows the phone's language (Accept-Language, web/i18n.py)
until the client picks one with the switch at its top. It shows nothing of a signed-in member (if any) and
is never kept in a cache.
"""
from flask import Blueprint, current_app, render_template, request

from models.db import begin_write
from models.handover import CardHandover, client_view, confirm_handover, still_shown, usable_handover
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


def _unusable(unusable):
    """A link that cannot confirm: a confirmed one still shows what was confirmed, the rest say why not."""
    handover = unusable.handover and db().get(CardHandover, unusable.handover.id)  # read again after the rollback
    if unusable.reason == "used" and handover is not None and still_shown(handover):
        return _client_page("cards/client_thanks.html", view=client_view(db(), handover), token=unusable_token(),
                            already=True)
    return _client_page("cards/client_unusable.html", 410, message=unusable.message, token=unusable_token(),
                        confirmed=unusable.reason == "used")


def unusable_token():
    """The token of the link being answered (for the language switch, which comes back to it)."""
    return request.view_args.get("token", "")


@bp.route("/<token>", methods=["GET", "POST"])
@counts_failures("RATELIMIT_HANDOVER", "handover")  # wrong or expired links count, a genuine one opens
@refusal_shows(_unusable)
def show(token):
    """The client's page: the card, the amount, what it is for, whom to contact; confirming uses the link up."""
    if request.method == "POST":
        begin_write(db())
    found = usable_handover(db(), token)
    if request.method == "POST":
        confirm_handover(db(), found)
        db().commit()
        return _client_page("cards/client_thanks.html", view=client_view(db(), found), token=token, already=False)
    return _client_page("cards/client.html", token=token, view=client_view(db(), found))
