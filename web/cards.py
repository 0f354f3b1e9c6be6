"""The card on the request page: the requester takes one from the team's stock and hands it over.

URL table (signed in, active member of the request's team; the request must be posted):
  GET  /teams/<team_id>/aanvragen/<request_id>/kaart               the card part of the request page (polled)
  POST /teams/<team_id>/aanvragen/<request_id>/kaart               the requester takes a card from the stock
  GET  /teams/<team_id>/aanvragen/<request_id>/kaart/overhandigen  reloading the handover page: back to the request
  POST /teams/<team_id>/aanvragen/<request_id>/kaart/overhandigen  the requester makes a handover link and QR

The coordinator's side is web/card_admin.py, the client's page web/handover.py. A refusal shows the card
part with its message for htmx, or the whole request page with it for a plain form (web/respond.py).
"""
from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

import segno
from models.audit import team_version
from models.bounds import parse_id
from models.cards import Card, card_of_request, reserve_card
from models.handover import create_handover
from models.request_page import card_panel
from models.rules import RuleViolation
from web.access import load_posted_request
from web.database import db
from web.live import not_modified, with_etag
from web.request_page import request_page
from web.respond import refusal_json, refusal_shows

bp = Blueprint("cards", __name__, url_prefix="/teams/<int:team_id>/aanvragen/<int:request_id>/kaart")


@bp.url_value_preprocessor
def load_request(_endpoint, values):
    """The team and membership, and a posted request of that team; POSTs hold the write lock."""
    load_posted_request(values)


#: a refusal shows the card part with its message for htmx, else the whole request page with it
_refused = refusal_shows(lambda violation: request_page(
    "requests/_card.html", 422, json=refusal_json(violation), card_error=violation.message))


@bp.get("")
def live():
    """The card part of the request page, re-rendered only when the team changed."""
    version = team_version(db(), g.team.id)
    if not_modified(version):
        return "", 304
    return with_etag(render_template("requests/_card.html", req=g.spend_request,
                                     card_panel=card_panel(db(), g.spend_request, current_user.id, version)), version)


@bp.post("")
@_refused
def reserve():
    """The requester takes a card from the team's stock for the granted request."""
    card = db().get(Card, parse_id(request.form.get("card_id")) or 0)
    if card is None or card.team_id != g.team.id:  # another team's card is no card here
        raise RuleViolation(_("Kies een kaart."), field="card_id")
    reserve_card(db(), card, g.spend_request, actor_id=current_user.id)
    db().commit()
    return redirect(url_for("requests.show", team_id=g.team.id, request_id=g.spend_request.id), code=303)


@bp.post("/overhandigen")
@_refused
def hand_over():
    """A one-time link and QR code for the client; the page then follows the confirmation live."""
    card = card_of_request(db(), g.spend_request.id)
    if card is None:
        raise RuleViolation(_("Deze aanvraag heeft nog geen kaart."))
    token = create_handover(db(), card, g.spend_request, member_id=current_user.id)
    db().commit()
    link = current_app.config["WEBAUTHN_ORIGIN"] + url_for("handover.show", token=token)
    qr_svg = segno.make(link, error="m").svg_inline(scale=5, svgclass="qr-code", omitsize=True)
    return render_template("cards/hand_over.html", team=g.team, req=g.spend_request, link=link, qr_svg=qr_svg,
                           card_panel=card_panel(db(), g.spend_request, current_user.id))


@bp.get("/overhandigen")
def hand_over_reloaded():
    """Reloading the handover page: the link is shown only once, so back to the request (where a new one can be made)."""
    return redirect(url_for("requests.show", team_id=g.team.id, request_id=g.spend_request.id), code=303)


