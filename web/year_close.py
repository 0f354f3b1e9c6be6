"""The coordinator closes a budget year: the checklist of what blocks it, the close, the year statement.

URL table (signed in as coordinator; objects of another municipality are 404):
  GET  /beheer/jaarafsluiting                                          the municipality's budget years
  GET  /beheer/jaarafsluiting/<budget_year_id>                         checklist, close button, statement
  GET  /beheer/jaarafsluiting/<budget_year_id>/overzicht.csv           the year statement as CSV
  POST /beheer/jaarafsluiting/<budget_year_id>/afsluiten               close the year (after it ended)
  POST /beheer/jaarafsluiting/aanvragen/<request_id>/annuleren         cancel a grant not loaded (reason)
  POST /beheer/jaarafsluiting/aanvragen/<request_id>/overdragen        carry a grant not loaded to the next year

Every POST holds the write lock; the verbs (models/year_close.py, models/grants.py) take the money lock. A
refusal draws the checklist again with the message beside the row or button it is about (web/respond.py).
"""
import csv
import io

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from models.cards import STATE_LABELS
from models.db import begin_write
from models.exports import safe_text
from models.grants import CANCEL_REASON_MAX, cancel_grant, money_year_id
from models.money import cents_to_input
from models.requests import RequestStatus, SpendRequest
from models.rules import RuleViolation
from models.budget_years import years_of
from models.teams import BudgetYear, Team, municipality_of_team
from models.year_close import (
    MONEY_FIELDS, MONEY_LABELS, OUTCOME_LABELS, OUTCOMES, carry_over, close_blockers, close_year, next_year,
    year_has_ended, year_statement)
from web.access import load_of_municipality, signed_in_coordinator
from web.database import db
from web.respond import refusal_shows

bp = Blueprint("year_close", __name__, url_prefix="/beheer/jaarafsluiting")


@bp.url_value_preprocessor
def load_for_coordinator(_endpoint, values):
    """Only coordinators; the budget year or request in the URL belongs to their municipality; POSTs write."""
    signed_in_coordinator()
    if request.method == "POST":
        begin_write(db())
    values = values if values is not None else {}
    load_of_municipality(values, "budget_year_id", BudgetYear, "budget_year")
    if "request_id" in values:
        g.spend_request = db().get(SpendRequest, values.pop("request_id"))
        if (g.spend_request is None or g.spend_request.status == RequestStatus.DRAFT
                or municipality_of_team(db(), db().get(Team, g.spend_request.team_id)).id != g.municipality_id):
            abort(404)
        year_id = money_year_id(g.spend_request)  # the checklist the request is on
        g.budget_year = db().get(BudgetYear, year_id) if year_id else None
        if g.budget_year is None:
            abort(404)


@bp.get("")
def years():
    """The municipality's budget years, newest first, each with whether it is closed."""
    return render_template("year_close/years.html", years=years_of(db(), g.municipality_id))


def _render_checklist(status=200, errors=None, values=None):
    year = g.budget_year
    return render_template(
        "year_close/checklist.html", year=year, blockers=close_blockers(db(), g.municipality_id, year),
        next_year=next_year(db(), year), ended=year_has_ended(year),
        statement=year_statement(db(), g.municipality_id, year), money_fields=MONEY_FIELDS,
        money_labels=MONEY_LABELS, outcomes=OUTCOMES, outcome_labels=OUTCOME_LABELS,
        reason_max=CANCEL_REASON_MAX, state_labels=STATE_LABELS, errors=errors or {}, values=values or {}), status


def _refused_at(field_of):
    """A refusal draws the checklist again with the message beside the field `field_of()` names."""
    return refusal_shows(lambda violation: _render_checklist(422, {field_of(): violation.message}, request.form))


def _request_row() -> str:
    """The checklist's field of the grant in the URL: its row."""
    return f"request_{g.spend_request.id}"


def _to_checklist():
    """Back to the year's checklist (303)."""
    return redirect(url_for("year_close.checklist", budget_year_id=g.budget_year.id), code=303)


@bp.get("/<int:budget_year_id>")
def checklist():
    """What blocks closing the year, each with its action; the close button; the year statement."""
    return _render_checklist()


@bp.post("/<int:budget_year_id>/afsluiten")
@_refused_at(lambda: "close")
def close():
    """Close the year: what is left goes to the municipality, and the year is frozen."""
    close_year(db(), g.municipality_id, g.budget_year, g.current_member)
    db().commit()
    flash(_("Budgetjaar %(year)s is afgesloten.", year=g.budget_year.year), "info")
    return _to_checklist()


@bp.post("/aanvragen/<int:request_id>/annuleren")
@_refused_at(_request_row)
def cancel():
    """The coordinator cancels a grant that was not loaded, with a reason."""
    cancel_grant(db(), g.spend_request, g.current_member, request.form.get("reason"))
    db().commit()
    flash(_("De toekenning van aanvraag %(id)s is geannuleerd.", id=g.spend_request.id), "info")
    return _to_checklist()


@bp.post("/aanvragen/<int:request_id>/overdragen")
@_refused_at(_request_row)
def carry():
    """Carry a grant that was not loaded over to the next budget year."""
    to_year = next_year(db(), g.budget_year)
    if to_year is None:
        raise RuleViolation(_("Open eerst het volgende budgetjaar; dan kan de toekenning daarheen."))
    carry_over(db(), g.spend_request, to_year, g.current_member)
    db().commit()
    flash(_("Aanvraag %(id)s is overgedragen naar %(year)s.", id=g.spend_request.id, year=to_year.year), "info")
    return _to_checklist()


@bp.get("/<int:budget_year_id>/overzicht.csv")
def statement_csv():
    """The year statement per team and for the municipality, for a spreadsheet (semicolons, decimal commas)."""
    statement = year_statement(db(), g.municipality_id, g.budget_year)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([_("Team"), *(str(MONEY_LABELS[name]) for name in MONEY_FIELDS),
                     *(str(OUTCOME_LABELS[outcome]) for outcome in OUTCOMES)])
    for row in [*statement.rows, statement.total]:
        writer.writerow([safe_text(str(row.name)), *(cents_to_input(getattr(row, name)) for name in MONEY_FIELDS),
                         *(row.counts[outcome] for outcome in OUTCOMES)])
    name = f"jaaroverzicht-{g.budget_year.year}.csv"
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
