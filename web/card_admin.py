"""The coordinator's cards: the stock of each team, load batches, the pain.001 file and its execution.

URL table (signed in as coordinator; objects of another municipality are 404):
  GET  /beheer/kaarten                                      per team: account, waiting loads, top-up needed, stock
  POST /beheer/kaarten/teams/<team_id>                      register a card (bank reference, last four digits)
  POST /beheer/kaarten/<card_id>                            action=release, block, lose, spend, return (+ remaining)
  POST /beheer/kaarten/<card_id>/rekening                   the card's own account (account_iban) at the card bank
  POST /beheer/kaarten/opdrachten                           make a batch of chosen loads and top-ups
  GET  /beheer/kaarten/opdrachten/<batch_id>                a batch with its lines and totals
  POST /beheer/kaarten/opdrachten/<batch_id>/download       the pain.001 file; freezes the batch
  POST /beheer/kaarten/opdrachten/<batch_id>/uitgevoerd     the bank executed it: post the ledger entries, once
  POST /beheer/kaarten/opdrachten/<batch_id>/annuleren      throw away a batch not yet downloaded

Every POST holds the write lock and the municipality's money lock before it reads; a refusal (RuleViolation)
draws the overview or the batch again with the message beside its field (web/respond.py).
"""
from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from models.batches import (
    LoadBatch, cancel_batch, create_batch, execute_batch, freeze, lines_of, open_batch, recent_batches, teams_money,
    waiting_loads)
from models.bounds import parse_id
from models.cards import STATE_LABELS, Card, act_on_card, open_cards, register_card, register_card_account
from models.clock import today
from models.db import begin_write
from models.ledger import lock_municipality
from models.money import parse_amount_or_zero
from models.sepa import SETTINGS, pain001
from models.teams import Team, current_budget_year, municipality_of_team, teams_of_municipality
from web.access import load_team_of_municipality, signed_in_coordinator
from web.database import db
from web.i18n import amount_input
from web.respond import refusal_shows

bp = Blueprint("card_admin", __name__, url_prefix="/beheer/kaarten")


@bp.url_value_preprocessor
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
    year = current_budget_year(db(), g.municipality_id, today())
    teams = teams_of_municipality(db(), g.municipality_id)
    team_ids = [team.id for team in teams]
    cards, loads = open_cards(db(), team_ids), waiting_loads(db(), team_ids)
    money = teams_money(db(), teams, year.id, loads) if year else {}
    rows = [{"team": team, "money": money.get(team.id), "cards": cards[team.id], "waiting": loads[team.id],
             "top_up_input": _top_up_input(money.get(team.id))} for team in teams]
    batches = recent_batches(db(), g.municipality_id)
    return render_template("cards/overview.html", rows=rows, batches=batches, open_batch=open_batch(
        db(), g.municipality_id), state_labels=STATE_LABELS, errors=errors or {}, values=values or {}), status


def _top_up_input(found: dict | None) -> str:
    """The top-up field filled with what the waiting loads need, or empty when they need nothing."""
    return amount_input(found["needed_top_up"]) if found and found["needed_top_up"] else ""


def _overview_refused(field_of, keep_values=False):
    """A refusal draws the overview again, the message beside `field_of(violation)` (and the posted values)."""
    return refusal_shows(lambda violation: _render_overview(
        422, {field_of(violation): violation.message}, request.form if keep_values else None))


@bp.get("")
def overview():
    """Every team's account, the loads waiting, the top-up they need, and the cards."""
    return _render_overview()


@bp.post("/teams/<int:team_id>")
@_overview_refused(lambda violation: f"{violation.field or 'reference'}_{g.team.id}", keep_values=True)
def register():
    """Add a card to a team's stock."""
    register_card(db(), g.team, request.form.get("reference", ""), request.form.get("last_four", ""),
                  actor_id=g.current_member.id)
    db().commit()
    flash(_("De kaart staat in de voorraad."), "info")
    return redirect(url_for("card_admin.overview"), code=303)


@bp.post("/<int:card_id>")
@_overview_refused(lambda _violation: f"card_{g.card.id}")
def card_action():
    """Release, block, report lost, mark spent, or take back a card with what is left on it."""
    action = request.form.get("action", "")
    remaining = parse_amount_or_zero(request.form.get("remaining"), field="remaining") if action == "return" else 0
    act_on_card(db(), g.card, action, actor_id=g.current_member.id, remaining_cents=remaining)
    db().commit()
    return redirect(url_for("card_admin.overview"), code=303)


@bp.post("/<int:card_id>/rekening")
@_overview_refused(lambda _violation: f"account_{g.card.id}", keep_values=True)
def card_account():
    """Register the card's own account: its statements then come in on the bank page as the card's."""
    register_card_account(db(), g.card, request.form.get("account_iban", ""), actor_id=g.current_member.id)
    db().commit()
    flash(_("De rekening van de kaart is opgeslagen."), "info")
    return redirect(url_for("card_admin.overview"), code=303)


@bp.post("/opdrachten")
@_overview_refused(lambda violation: violation.field or "batch", keep_values=True)
def batch_create():
    """Make a batch of the chosen waiting loads and top-ups."""
    top_ups = {team.id: _top_up(team.id) for team in teams_of_municipality(db(), g.municipality_id)}
    batch = create_batch(db(), g.municipality_id, card_ids=[parse_id(raw) or 0 for raw in request.form.getlist("card_id")],
                         top_ups=top_ups, actor_id=g.current_member.id)
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


#: a refusal about a batch draws the batch again with the message (after the rollback, as it was)
_batch_refused = refusal_shows(lambda violation: _render_batch(422, violation.message))


@bp.get("/opdrachten/<int:batch_id>")
def batch():
    """A batch: its lines and totals, and what can still be done with it."""
    return _render_batch()


@bp.post("/opdrachten/<int:batch_id>/download")
@_batch_refused
def batch_download():
    """The pain.001 file of the batch; the first download freezes it, later ones return the same file."""
    xml = g.batch.sepa_xml or pain001(g.batch.id, lines_of(db(), g.batch.id),
                                      {name: current_app.config.get(name) for name in SETTINGS},
                                      execution_date=today())
    xml = freeze(db(), g.batch, xml)
    db().commit()
    return Response(xml, mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="teambudget-opdracht-{g.batch.id}.xml"'})


@bp.post("/opdrachten/<int:batch_id>/uitgevoerd")
@_batch_refused
def batch_execute():
    """The bank executed the batch: post its entries (refused the second time)."""
    execute_batch(db(), g.batch, actor_id=g.current_member.id)
    db().commit()
    flash(_("De opdracht is verwerkt: de kaarten zijn geladen."), "info")
    return redirect(url_for("card_admin.batch", batch_id=g.batch.id), code=303)


@bp.post("/opdrachten/<int:batch_id>/annuleren")
@_batch_refused
def batch_cancel():
    """Throw away a batch that was not downloaded yet."""
    cancel_batch(db(), g.batch, actor_id=g.current_member.id)
    db().commit()
    return redirect(url_for("card_admin.overview"), code=303)
