"""Cards: the coordinator's stock and load batches, the worker's card on the request page, the client's handover.

URL table — coordinator (signed in as coordinator; objects of another municipality are 404):
  GET  /beheer/kaarten                                      per team: account, waiting loads, top-up needed, stock
  POST /beheer/kaarten/teams/<team_id>                      register a card (bank reference, last four digits)
  POST /beheer/kaarten/<card_id>                            action=release, block, lose, spend, return (+ remaining)
  POST /beheer/kaarten/opdrachten                           make a batch of chosen loads and top-ups
  GET  /beheer/kaarten/opdrachten/<batch_id>                a batch with its lines and totals
  POST /beheer/kaarten/opdrachten/<batch_id>/download       the pain.001 file; freezes the batch
  POST /beheer/kaarten/opdrachten/<batch_id>/uitgevoerd     the bank executed it: post the ledger entries, once
  POST /beheer/kaarten/opdrachten/<batch_id>/annuleren      throw away a batch not yet downloaded
URL table — member of the request's team:
  GET  /teams/<team_id>/aanvragen/<request_id>/kaart               the card part of the request page (polled)
  POST /teams/<team_id>/aanvragen/<request_id>/kaart               the requester takes a card from the stock
  POST /teams/<team_id>/aanvragen/<request_id>/kaart/overhandigen  the requester makes a handover link and QR
URL table — public, rate-limited (the client, without an account):
  GET  /kaart/<token>      what the card is for, and the button to confirm
  POST /kaart/<token>      confirm receiving the card (once)
"""
from flask import (
    Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for)
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

import segno
from models.audit import team_version
from models.batches import (
    LoadBatch, cancel_batch, create_batch, execute_batch, freeze, lines_of, open_batch,
    teams_money, waiting_loads)
from models.cards import (
    NAMED_STATES, STATE_LABELS, Card, act_on_card, card_choice, card_of_request, cards_of_request, current_card,
    open_cards, register_card, reserve_card)
from models.clock import utcnow
from models.db import begin_write
from models.ledger import lock_municipality
from models.handover import confirm_handover, create_handover, usable_handover
from models.bounds import parse_id
from models.money import cents_to_input, parse_amount_or_zero
from models.requests import SpendRequest
from models.rules import RuleViolation
from models.sepa import SETTINGS, pain001
from models.teams import CostCategory, Team, current_budget_year, municipality_of_team, teams_of_municipality
from web.access import (
    load_request_of_team, load_team_of_member, load_team_of_municipality, signed_in_coordinator, signed_in_member)
from web.database import db
from web.live import not_modified, with_etag
from web.rate_limits import counts_failures
from web.requests import request_page_or_part

admin_bp = Blueprint("card_admin", __name__, url_prefix="/beheer/kaarten")
bp = Blueprint("cards", __name__, url_prefix="/teams/<int:team_id>/aanvragen/<int:request_id>/kaart")
handover_bp = Blueprint("handover", __name__, url_prefix="/kaart")


# --- coordinator ---------------------------------------------------------------------------------

@admin_bp.url_value_preprocessor
def load_for_coordinator(_endpoint, values):
    """Only coordinators; every object in the URL belongs to their municipality; POSTs hold the money lock."""
    signed_in_coordinator()
    if request.method == "POST":
        begin_write(db())
        lock_municipality(db(), g.municipality_id)
    values = values if values is not None else {}
    load_team_of_municipality(values)
    if "card_id" in values:
        g.card = db().get(Card, values.pop("card_id"))
        if g.card is None or municipality_of_team(db(), db().get(Team, g.card.team_id)).id != g.municipality_id:
            abort(404)
    if "batch_id" in values:
        g.batch = db().get(LoadBatch, values.pop("batch_id"))
        if g.batch is None or g.batch.municipality_id != g.municipality_id:
            abort(404)


def _render_overview(status=200, errors=None, values=None):
    year = current_budget_year(db(), g.municipality_id, utcnow().date())
    teams = teams_of_municipality(db(), g.municipality_id)
    team_ids = [team.id for team in teams]
    cards, loads = open_cards(db(), team_ids), waiting_loads(db(), team_ids)
    money = teams_money(db(), teams, year.id, loads) if year else {}
    rows = [{"team": team, "money": money.get(team.id), "cards": cards[team.id], "waiting": loads[team.id],
             "top_up_input": _top_up_input(money.get(team.id))} for team in teams]
    batches = db().exec(select(LoadBatch).where(LoadBatch.municipality_id == g.municipality_id)
                        .order_by(LoadBatch.id.desc()).limit(10)).all()
    return render_template("cards/overview.html", rows=rows, batches=batches, open_batch=open_batch(
        db(), g.municipality_id), state_labels=STATE_LABELS, errors=errors or {}, values=values or {}), status


def _top_up_input(found: dict | None) -> str:
    """The top-up field filled with what the waiting loads need, or empty when they need nothing."""
    return cents_to_input(found["needed_top_up"]) if found and found["needed_top_up"] else ""


@admin_bp.get("")
def overview():
    """Every team's account, the loads waiting, the top-up they need, and the cards."""
    return _render_overview()


@admin_bp.post("/teams/<int:team_id>")
def register():
    """Add a card to a team's stock."""
    try:
        register_card(db(), g.team, request.form.get("reference", ""), request.form.get("last_four", ""),
                      actor_id=g.current_member.id)
    except RuleViolation as violation:
        db().rollback()
        return _render_overview(422, {f"{violation.field}_{g.team.id}": violation.message}, request.form)
    db().commit()
    flash(_("De kaart staat in de voorraad."), "info")
    return redirect(url_for("card_admin.overview"), code=303)


@admin_bp.post("/<int:card_id>")
def card_action():
    """Release, block, report lost, mark spent, or take back a card with what is left on it."""
    action = request.form.get("action", "")
    try:
        remaining = parse_amount_or_zero(request.form.get("remaining"), field="remaining") if action == "return" else 0
        act_on_card(db(), g.card, action, actor_id=g.current_member.id, remaining_cents=remaining)
    except RuleViolation as violation:
        db().rollback()
        return _render_overview(422, {f"card_{g.card.id}": violation.message})
    db().commit()
    return redirect(url_for("card_admin.overview"), code=303)


@admin_bp.post("/opdrachten")
def batch_create():
    """Make a batch of the chosen waiting loads and top-ups."""
    try:
        top_ups = {team.id: _top_up(team.id) for team in teams_of_municipality(db(), g.municipality_id)}
        batch = create_batch(db(), g.municipality_id, card_ids=[parse_id(raw) or 0 for raw in request.form.getlist("card_id")],
                             top_ups=top_ups, actor_id=g.current_member.id)
    except RuleViolation as violation:
        db().rollback()
        return _render_overview(422, {violation.field or "batch": violation.message}, request.form)
    db().commit()
    return redirect(url_for("card_admin.batch", batch_id=batch.id), code=303)


def _top_up(team_id):
    return parse_amount_or_zero(request.form.get(f"top_up_{team_id}"), field=f"top_up_{team_id}")


def _render_batch(status=200, error=None):
    lines = lines_of(db(), g.batch.id)
    teams = {line.team_id: db().get(Team, line.team_id) for line in lines}
    cards = {line.card_id: db().get(Card, line.card_id) for line in lines if line.card_id}
    return render_template("cards/batch.html", batch=g.batch, lines=lines, teams=teams, cards=cards,
                           total=sum(line.amount_cents for line in lines), error=error), status


@admin_bp.get("/opdrachten/<int:batch_id>")
def batch():
    """A batch: its lines and totals, and what can still be done with it."""
    return _render_batch()


@admin_bp.post("/opdrachten/<int:batch_id>/download")
def batch_download():
    """The pain.001 file of the batch; the first download freezes it, later ones return the same file."""
    try:
        xml = g.batch.sepa_xml or pain001(g.batch.id, lines_of(db(), g.batch.id),
                                          {name: current_app.config.get(name) for name in SETTINGS},
                                          execution_date=utcnow().date())
        xml = freeze(db(), g.batch, xml)
    except RuleViolation as violation:
        db().rollback()
        return _render_batch(422, violation.message)
    db().commit()
    return Response(xml, mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="teambudget-opdracht-{g.batch.id}.xml"'})


@admin_bp.post("/opdrachten/<int:batch_id>/uitgevoerd")
def batch_execute():
    """The bank executed the batch: post its entries (refused the second time)."""
    try:
        execute_batch(db(), g.batch, actor_id=g.current_member.id)
    except RuleViolation as violation:
        db().rollback()
        db().refresh(g.batch)
        return _render_batch(422, violation.message)
    db().commit()
    flash(_("De opdracht is verwerkt: de kaarten zijn geladen."), "info")
    return redirect(url_for("card_admin.batch", batch_id=g.batch.id), code=303)


@admin_bp.post("/opdrachten/<int:batch_id>/annuleren")
def batch_cancel():
    """Throw away a batch that was not downloaded yet."""
    try:
        cancel_batch(db(), g.batch, actor_id=g.current_member.id)
    except RuleViolation as violation:
        db().rollback()
        return _render_batch(422, violation.message)
    db().commit()
    return redirect(url_for("card_admin.overview"), code=303)


# --- the card on the request page ------------------------------------------------------------------

@bp.url_value_preprocessor
def load_request(_endpoint, values):
    """The team and membership, and a posted request of that team; POSTs hold the write lock."""
    signed_in_member()
    if request.method == "POST":
        begin_write(db())
    load_team_of_member(values)
    load_request_of_team(values)


@bp.app_context_processor
def card_panel_helper():
    """`card_panel(req, version)` for requests/_card.html, wherever the request page is rendered."""
    return {"card_panel": card_panel}


def card_panel(spend_request, version=None):
    """What the card part of a request page shows; `version`, the team's, when the page has read it already."""
    cards = cards_of_request(db(), spend_request.id)
    return {"card": current_card(cards), "state_labels": STATE_LABELS, "named_states": NAMED_STATES,
            "mine": spend_request.requester_id == current_user.id,
            "stock": card_choice(db(), spend_request, current_user.id, cards),
            "version": team_version(db(), spend_request.team_id) if version is None else version}


@bp.get("")
def live():
    """The card part of the request page, re-rendered only when the team changed."""
    version = team_version(db(), g.team.id)
    if not_modified(version):
        return "", 304
    return with_etag(render_template("requests/_card.html", req=g.spend_request, version=version), version)


@bp.post("")
def reserve():
    """The requester takes a card from the team's stock for the granted request."""
    card = db().get(Card, parse_id(request.form.get("card_id")) or 0)
    try:
        if card is None or card.team_id != g.team.id:  # another team's card is no card here
            raise RuleViolation(_("Kies een kaart."), field="card_id")
        reserve_card(db(), card, g.spend_request, actor_id=current_user.id)
    except RuleViolation as violation:
        db().rollback()
        return _refused(violation)
    db().commit()
    return redirect(url_for("requests.show", team_id=g.team.id, request_id=g.spend_request.id), code=303)


def _refused(violation):
    """The card part with the message for an htmx swap; else the whole request page with it (a plain form)."""
    return request_page_or_part("requests/_card.html", 422, card_error=violation.message)


@bp.post("/overhandigen")
def hand_over():
    """A one-time link and QR code for the client; the page then follows the confirmation live."""
    card = card_of_request(db(), g.spend_request.id)
    try:
        if card is None:
            raise RuleViolation(_("Deze aanvraag heeft nog geen kaart."))
        token = create_handover(db(), card, g.spend_request, member_id=current_user.id)
    except RuleViolation as violation:
        db().rollback()
        return _refused(violation)
    db().commit()
    link = current_app.config["WEBAUTHN_ORIGIN"] + url_for("handover.show", token=token)
    qr_svg = segno.make(link, error="m").svg_inline(scale=5, svgclass="qr-code", omitsize=True)
    return render_template("cards/hand_over.html", team=g.team, req=g.spend_request, link=link, qr_svg=qr_svg)


@bp.get("/overhandigen")
def hand_over_reloaded():
    """Reloading the handover page: the link is shown only once, so back to the request (where a new one can be made)."""
    return redirect(url_for("requests.show", team_id=g.team.id, request_id=g.spend_request.id), code=303)


# --- the client ------------------------------------------------------------------------------------

def _client_page(template, status=200, **context):
    """A page for the client: nothing of the signed-in member (if any), never kept in a cache."""
    response = current_app.make_response((render_template(template, shell_only=True, **context), status))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@handover_bp.route("/<token>", methods=["GET", "POST"])
@counts_failures("RATELIMIT_HANDOVER", "handover")  # wrong or used-up links count, a genuine one opens
def show(token):
    """The client's page: the card, the amount, what it is for; confirming uses the link up."""
    if request.method == "POST":
        begin_write(db())
    try:
        found = usable_handover(db(), token)
        card = db().get(Card, found.card_id)
        if request.method == "POST":
            confirm_handover(db(), found)
            db().commit()
            return _client_page("cards/client_thanks.html")
    except RuleViolation as unusable:
        db().rollback()
        return _client_page("cards/client_unusable.html", 410, message=unusable.message)
    spend_request = db().get(SpendRequest, card.request_id)
    category = db().get(CostCategory, spend_request.cost_category_id) if spend_request.cost_category_id else None
    return _client_page("cards/client.html", token=token, last_four=card.last_four,
                        amount_cents=card.loaded_amount_cents, category=category)
