"""Avoided costs (models/avoided_costs.py): the municipality's escalation scenarios with their reference cost
and source, and what granted requests are expected to have prevented, per team and district.

URL table (signed in as coordinator, or administrator in the municipality they chose; a scenario of another
municipality is 404):
  GET  /beheer/rendement                                 the scenarios, and the form to add one
  POST /beheer/rendement                                 add a scenario
  GET  /beheer/rendement/opbrengst                       expected avoided costs per team and district (?jaar=
                                                         a budget year's id; default the newest) and the method
  GET  /beheer/rendement/<scenario_id>                   one scenario: edit, archive
  POST /beheer/rendement/<scenario_id>                   save its names, reference cost, source, example flag
  POST /beheer/rendement/<scenario_id>/volgorde          move it one place up or down (by)
  POST /beheer/rendement/<scenario_id>/archiveren        archive it (requests that picked it keep it)
  POST /beheer/rendement/<scenario_id>/terugzetten       bring it back

Every POST takes the municipality's lock first (PostgreSQL; SQLite's POSTs hold the write lock), so two
administrators adding the same name one after the other get a message, not a database error.
"""
from flask import Blueprint, flash, g, render_template, request, url_for
from flask_babel import gettext as _

from models.avoided_costs import (
    LIKELIHOODS, AvoidedCostScenario, ScenarioInput, add_scenario, avoided_cost_totals,
    edit_scenario, move_scenario, scenarios_of, set_scenario_active)
from models.bounds import parse_id
from models.budget_years import years_of
from models.ledger import lock_municipality
from web.access import load_of_municipality, signed_in_coordinator
from web.database import db
from web.i18n import amount_input
from web.respond import refusal_shows, respond

bp = Blueprint("avoided_costs", __name__, url_prefix="/beheer/rendement")


@bp.url_value_preprocessor
def load_for_coordinator(_endpoint, values):
    """Only coordinators (and administrators); the scenario in the URL must be of their municipality."""
    signed_in_coordinator()
    values = values if values is not None else {}
    if request.method == "POST":
        lock_municipality(db(), g.municipality_id)
    load_of_municipality(values, "scenario_id", AvoidedCostScenario, "scenario")


def _posted() -> ScenarioInput:
    form = request.form
    return ScenarioInput(name_nl=form.get("name_nl", ""), name_en=form.get("name_en", ""),
                         reference_cost=form.get("reference_cost", ""), source=form.get("source", ""),
                         is_example=form.get("is_example") == "1")


def _typed(values) -> dict:
    return {"name_nl": values.get("name_nl", ""), "name_en": values.get("name_en", ""),
            "reference_cost": values.get("reference_cost", ""), "source": values.get("source", ""),
            "is_example": values.get("is_example") == "1"}


def _refused(render):
    """A refusal draws the page again (422) with what was typed and the message beside its field."""
    return refusal_shows(lambda violation: render(422, request.form, {violation.field or "form": violation.message}))


def _render_list(status=200, values=None, errors=None):
    return render_template("avoided_costs/scenarios.html", scenarios=scenarios_of(db(), g.municipality_id),
                           values=_typed(values) if values else {}, errors=errors or {}), status


@bp.get("")
def scenarios():
    """The municipality's scenarios in their order, archived ones last."""
    return _render_list()


@bp.post("")
@_refused(_render_list)
def scenario_add():
    """Add a scenario at the end of the list; request forms offer it from now on."""
    scenario = add_scenario(db(), g.municipality_id, _posted(), actor_id=g.current_member.id)
    flash(_("Gevolg %(name)s is toegevoegd.", name=scenario.name_nl), "info")
    return respond(back=url_for("avoided_costs.scenarios"))


def _render_one(status=200, values=None, errors=None):
    scenario = g.scenario
    if values is None:
        values = {"name_nl": scenario.name_nl, "name_en": scenario.name_en, "source": scenario.source,
                  "reference_cost": amount_input(scenario.reference_cost_cents),
                  "is_example": scenario.is_example}
    else:
        values = _typed(values)
    return render_template("avoided_costs/scenario.html", scenario=scenario, values=values,
                           errors=errors or {}), status


@bp.get("/<int:scenario_id>")
def scenario():
    """One scenario: its names, reference cost, source and example flag; archive or bring back."""
    return _render_one()


@bp.post("/<int:scenario_id>")
@_refused(_render_one)
def scenario_save():
    """Save the scenario; the expected avoided cost of every request that picked it follows."""
    edit_scenario(db(), g.scenario, _posted(), actor_id=g.current_member.id)
    flash(_("Gevolg %(name)s is opgeslagen.", name=g.scenario.name_nl), "info")
    return respond(back=url_for("avoided_costs.scenarios"))


@bp.post("/<int:scenario_id>/volgorde")
def scenario_move():
    """Move the scenario one place up (by=-1) or down (by=1); anything else leaves it where it is."""
    by = {"-1": -1, "1": 1}.get(request.form.get("by", ""), 0)
    move_scenario(db(), g.scenario, by, actor_id=g.current_member.id)
    return respond(back=url_for("avoided_costs.scenarios") + f"#scenario-{g.scenario.id}")


@bp.post("/<int:scenario_id>/archiveren")
def scenario_archive():
    """Archive the scenario: request forms no longer offer it; requests that picked it keep it."""
    set_scenario_active(db(), g.scenario, False, actor_id=g.current_member.id)
    flash(_("Gevolg %(name)s is gearchiveerd.", name=g.scenario.name_nl), "info")
    return respond(back=url_for("avoided_costs.scenarios"))


@bp.post("/<int:scenario_id>/terugzetten")
def scenario_restore():
    """Bring an archived scenario back."""
    set_scenario_active(db(), g.scenario, True, actor_id=g.current_member.id)
    flash(_("Gevolg %(name)s is weer in gebruik.", name=g.scenario.name_nl), "info")
    return respond(back=url_for("avoided_costs.scenarios"))


@bp.get("/opbrengst")
def totals():
    """The expected avoided costs of one budget year's granted requests per team and district, and how they
    are counted. An unknown year shows the newest."""
    years = years_of(db(), g.municipality_id)
    wanted = parse_id(request.args.get("jaar", ""))
    year = next((y for y in years if y.id == wanted), years[0] if years else None)
    result = avoided_cost_totals(db(), g.municipality_id, year.id if year else None)
    return render_template("avoided_costs/totals.html", years=years, year=year, result=result,
                           likelihoods=LIKELIHOODS)
