"""The coordinator's budget years: open the next one with each team's budget, change the budgets of a year
that is not closed, and the banner before the turn of the year.

URL table (signed in as coordinator; a budget year of another municipality is 404):
  GET  /beheer/budgetjaren                                  the years, the banner, the form to open the next one
  POST /beheer/budgetjaren                                  open it (year, team_id + budget per team)
  GET  /beheer/budgetjaren/totaal                           the total of the typed budgets (htmx, as you type)
  GET  /beheer/budgetjaren/<budget_year_id>                 a year's budget per team, editable while not closed
  POST /beheer/budgetjaren/<budget_year_id>                 change them (never below what a team granted)

A form posts one `team_id` and one `budget` per row, in the same order. The municipality's total shown
after a save is read back from the database.
"""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import format_date, gettext as _

from models.bounds import parse_id, parse_whole_number
from models.budget_years import (
    STATE_LABELS, budget_field, budget_rows, budgets_prefill, find_year, open_budget_year, set_budgets, year_banner, year_state,
    year_to_open, year_totals, years_of)
from models.clock import today
from models.money import parse_amount_or_zero
from models.rules import RuleViolation
from models.teams import BudgetYear
from web.access import load_of_municipality, signed_in_coordinator
from web.database import db
from web.respond import refusal_shows

bp = Blueprint("budget_years", __name__, url_prefix="/beheer/budgetjaren")


@bp.url_value_preprocessor
def load_for_coordinator(_endpoint, values):
    """Only coordinators; the budget year in the URL must be of their municipality."""
    signed_in_coordinator()
    load_of_municipality(values if values is not None else {}, "budget_year_id", BudgetYear, "budget_year")


def _posted_budgets() -> dict[int, int]:
    """The posted rows as team id → cents; RuleViolation beside the first amount that is none."""
    team_ids, amounts = request.form.getlist("team_id"), request.form.getlist("budget")
    if len(team_ids) != len(amounts):
        raise RuleViolation(_("Vul voor elk team een budget in."))
    budgets = {}
    for raw_id, raw_amount in zip(team_ids, amounts):
        team_id = parse_id(raw_id)
        if team_id is None or team_id in budgets:
            raise RuleViolation(_("Dat team hoort niet bij deze gemeente."))
        budgets[team_id] = parse_amount_or_zero(raw_amount, field=budget_field(team_id))
    return budgets


def _typed() -> dict[int, str]:
    """What was typed per team, to fill the form again after a refusal."""
    return {parse_id(team_id): amount for team_id, amount in
            zip(request.form.getlist("team_id"), request.form.getlist("budget"))}


def _total_of(rows, typed=None) -> int | None:
    """The total of the rows' budgets, or of what was typed (None when something typed is no amount)."""
    if typed is None:
        return sum(row["budget_cents"] or 0 for row in rows)
    try:
        return sum(parse_amount_or_zero(amount) for amount in typed.values())
    except RuleViolation:
        return None


def _render_index(status=200, errors=None, typed=None, year=None):
    on = today()
    year = year or year_to_open(db(), g.municipality_id, on)
    years = years_of(db(), g.municipality_id)
    latest = next((y for y in years if year and y.year < year), None)  # the year the budgets are copied from
    rows = budgets_prefill(db(), g.municipality_id, latest and latest.year) if year else []
    return render_template(
        "budget_years/index.html", years=years, states={y.id: year_state(y, on) for y in years}, state_labels=STATE_LABELS,
        totals=year_totals(db(), g.municipality_id), banner=year_banner(db(), g.municipality_id, on),
        year=year, copied_from=latest, rows=rows, typed=typed, total=_total_of(rows, typed),
        errors=errors or {}), status


@bp.get("")
def index():
    """The municipality's budget years, and the form to open the next one prefilled from the latest."""
    return _render_index()


def _posted_year() -> int:
    return parse_whole_number(request.form.get("year"), field="year", minimum=1, maximum=9999)


@bp.post("")
@refusal_shows(lambda violation: _render_index(422, {violation.field or "form": violation.message}, _typed(),
                                               _year_or_none()))
def open_year():
    """Open the year with the typed budget of each team."""
    budget_year = open_budget_year(db(), g.municipality_id, _posted_year(), _posted_budgets(), g.current_member.id)
    db().commit()
    flash(_("Budgetjaar %(year)s is geopend.", year=budget_year.year), "info")
    return redirect(url_for("budget_years.year", budget_year_id=budget_year.id), code=303)


def _year_or_none() -> int | None:
    """The posted year when it is one the form may show again (not an existing one: that has its page)."""
    try:
        year = _posted_year()
    except RuleViolation:
        return None
    on = today()
    return year if on.year <= year <= on.year + 1 and find_year(db(), g.municipality_id, year) is None else None


@bp.get("/totaal")
def total():
    """The total of the budgets typed so far (swapped into the form's table as you type)."""
    typed = dict(enumerate(request.args.getlist("budget")))
    return render_template("budget_years/_total.html", total=_total_of([], typed))


def _render_year(status=200, errors=None, typed=None):
    rows = budget_rows(db(), g.budget_year)
    return render_template(
        "budget_years/year.html", budget_year=g.budget_year, state=year_state(g.budget_year, today()), rows=rows,
        state_labels=STATE_LABELS, starts_on=format_date(g.budget_year.starts_on, "long"),
        ends_on=format_date(g.budget_year.ends_on, "long"),
        typed=typed, total=_total_of(rows, typed), saved_total=_total_of(rows),
        banner=year_banner(db(), g.municipality_id, today()), errors=errors or {}), status


@bp.get("/<int:budget_year_id>")
def year():
    """A year's budget per team; editable while the year is not closed."""
    return _render_year()


@bp.post("/<int:budget_year_id>")
@refusal_shows(lambda violation: _render_year(422, {violation.field or "form": violation.message}, _typed()))
def save():
    """Change the budgets of the year (what a team granted stays granted)."""
    changed = set_budgets(db(), g.budget_year, _posted_budgets(), g.current_member.id)
    db().commit()
    flash(_("De budgetten zijn opgeslagen.") if changed else _("Er is niets veranderd."), "info")
    return redirect(url_for("budget_years.year", budget_year_id=g.budget_year.id), code=303)

