"""The coordinator's catalogue: the municipality's cost categories and other provisions (models/catalogue.py).

URL table (signed in as coordinator, or administrator in the municipality they chose; objects of another
municipality are 404):
  GET  /beheer/kostensoorten                                the cost categories, and the form to add one
  POST /beheer/kostensoorten                                add a cost category
  GET  /beheer/kostensoorten/<category_id>                  one category: rename, place, archive
  POST /beheer/kostensoorten/<category_id>                  rename it (Dutch and English)
  POST /beheer/kostensoorten/<category_id>/volgorde         move it up or down (by) or to a place (position)
  POST /beheer/kostensoorten/<category_id>/archiveren       archive it (requests keep it)
  POST /beheer/kostensoorten/<category_id>/terugzetten      bring it back
  GET  /beheer/voorzieningen                                the other provisions, and the form to add one
  POST /beheer/voorzieningen                                add a provision
  GET  /beheer/voorzieningen/<provision_id>                 one provision: edit, archive
  POST /beheer/voorzieningen/<provision_id>                 save its name, description, link and categories
  POST /beheer/voorzieningen/<provision_id>/archiveren      archive it (requests and votes keep its name)
  POST /beheer/voorzieningen/<provision_id>/terugzetten     bring it back

Every POST takes the municipality's lock first (PostgreSQL; SQLite's POSTs hold the write lock), so two
coordinators adding the same name one after the other get a message, not a database error.
"""
from flask import Blueprint, flash, g, render_template, request, url_for
from flask_babel import gettext as _

from models.bounds import parse_whole_number
from models.catalogue import (
    ProvisionInput, add_cost_category, add_provision, categories_of_provision, cost_categories_of, edit_provision,
    move_cost_category, provisions_of, rename_cost_category, set_cost_category_active, set_provision_active)
from models.ledger import lock_municipality
from models.teams import CostCategory, Provision
from web.access import load_of_municipality, signed_in_coordinator
from web.database import db
from web.respond import refusal_shows, respond

bp = Blueprint("catalogue", __name__, url_prefix="/beheer")


@bp.url_value_preprocessor
def load_for_coordinator(_endpoint, values):
    """Only coordinators (and administrators); the category or provision in the URL must be of their
    municipality."""
    signed_in_coordinator()
    values = values if values is not None else {}
    if request.method == "POST":
        lock_municipality(db(), g.municipality_id)
    load_of_municipality(values, "category_id", CostCategory, "category")
    load_of_municipality(values, "provision_id", Provision, "provision")


def _refused(render):
    """A refusal draws the page again (422) with what was typed and the message beside its field."""
    return refusal_shows(lambda violation: render(422, request.form, {violation.field or "form": violation.message}))


# --- cost categories ---

def _render_categories(status=200, values=None, errors=None):
    return render_template("catalogue/categories.html", categories=cost_categories_of(db(), g.municipality_id),
                           values=values or {}, errors=errors or {}), status


@bp.get("/kostensoorten")
def categories():
    """The municipality's cost categories in their order, archived ones marked."""
    return _render_categories()


@bp.post("/kostensoorten")
@_refused(_render_categories)
def category_add():
    """Add a cost category at the end of the list."""
    category = add_cost_category(db(), g.municipality_id, request.form.get("name_nl"), request.form.get("name_en"),
                                 actor_id=g.current_member.id)
    flash(_("Soort uitgave %(name)s is toegevoegd.", name=category.name_nl), "info")
    return respond(back=url_for("catalogue.categories"))


def _render_category(status=200, values=None, errors=None):
    values = values or {"name_nl": g.category.name_nl, "name_en": g.category.name_en}
    ordered = cost_categories_of(db(), g.municipality_id)
    place = next(i for i, c in enumerate(ordered) if c.id == g.category.id) + 1
    return render_template("catalogue/category.html", category=g.category, values=values, place=place,
                           count=len(ordered), errors=errors or {}), status


@bp.get("/kostensoorten/<int:category_id>")
def category():
    """One cost category: its names, its place in the list, archive or bring back."""
    return _render_category()


@bp.post("/kostensoorten/<int:category_id>")
@_refused(_render_category)
def category_rename():
    """Rename the category in both languages; its requests show the new names."""
    rename_cost_category(db(), g.category, request.form.get("name_nl"), request.form.get("name_en"),
                         actor_id=g.current_member.id)
    flash(_("De namen zijn opgeslagen."), "info")
    return respond(back=url_for("catalogue.categories"))


@bp.post("/kostensoorten/<int:category_id>/volgorde")
@refusal_shows(lambda violation: _render_category(422, None, {violation.field or "position": violation.message}))
def category_move():
    """Move the category one place up or down (`by`, from the list) or to a numbered place (`position`)."""
    by = {"-1": -1, "1": 1}.get(request.form.get("by", ""))
    if by is None:
        count = len(cost_categories_of(db(), g.municipality_id))
        to = parse_whole_number(request.form.get("position"), field="position", minimum=1, maximum=count)
        move_cost_category(db(), g.category, to=to, actor_id=g.current_member.id)
    else:
        move_cost_category(db(), g.category, by=by, actor_id=g.current_member.id)
    return respond(back=url_for("catalogue.categories") + f"#category-{g.category.id}")


@bp.post("/kostensoorten/<int:category_id>/archiveren")
@refusal_shows(lambda violation: _render_category(422, None, {"active": violation.message}))
def category_archive():
    """Archive the category: no new requests choose it; its requests keep it."""
    set_cost_category_active(db(), g.category, False, actor_id=g.current_member.id)
    flash(_("Soort uitgave %(name)s is gearchiveerd.", name=g.category.name_nl), "info")
    return respond(back=url_for("catalogue.categories"))


@bp.post("/kostensoorten/<int:category_id>/terugzetten")
def category_restore():
    """Bring an archived category back."""
    set_cost_category_active(db(), g.category, True, actor_id=g.current_member.id)
    flash(_("Soort uitgave %(name)s is weer in gebruik.", name=g.category.name_nl), "info")
    return respond(back=url_for("catalogue.categories"))


# --- other provisions ---

def _posted_provision() -> ProvisionInput:
    form = request.form
    return ProvisionInput(name=form.get("name", ""), description=form.get("description", ""),
                          link=form.get("link", ""), category_ids=form.getlist("category_ids"))


def _typed(values) -> dict:
    """The form's values as the provision templates show them (the ticked categories as a set of strings)."""
    return {"name": values.get("name", ""), "description": values.get("description", ""),
            "link": values.get("link", ""), "category_ids": set(values.getlist("category_ids"))}


def _render_provisions(status=200, values=None, errors=None):
    return render_template("catalogue/provisions.html", rows=provisions_of(db(), g.municipality_id),
                           categories=cost_categories_of(db(), g.municipality_id),
                           values=_typed(values) if values else {"category_ids": set()}, errors=errors or {}), status


@bp.get("/voorzieningen")
def provisions():
    """The municipality's other provisions with the categories they fit, and the form to add one."""
    return _render_provisions()


@bp.post("/voorzieningen")
@_refused(_render_provisions)
def provision_add():
    """Add a provision; requests of the categories it fits offer it from now on."""
    provision = add_provision(db(), g.municipality_id, _posted_provision(), actor_id=g.current_member.id)
    flash(_("Voorziening %(name)s is toegevoegd.", name=provision.name), "info")
    return respond(back=url_for("catalogue.provisions"))


def _render_provision(status=200, values=None, errors=None):
    if values is None:
        values = {"name": g.provision.name, "description": g.provision.description, "link": g.provision.link,
                  "category_ids": {str(i) for i in categories_of_provision(db(), g.provision)}}
    else:
        values = _typed(values)
    return render_template("catalogue/provision.html", provision=g.provision, values=values,
                           categories=cost_categories_of(db(), g.municipality_id), errors=errors or {}), status


@bp.get("/voorzieningen/<int:provision_id>")
def provision():
    """One provision: its name, description, link and categories; archive or bring back."""
    return _render_provision()


@bp.post("/voorzieningen/<int:provision_id>")
@_refused(_render_provision)
def provision_save():
    """Save the provision; requests and votes that named it keep the name they stored."""
    edit_provision(db(), g.provision, _posted_provision(), actor_id=g.current_member.id)
    flash(_("Voorziening %(name)s is opgeslagen.", name=g.provision.name), "info")
    return respond(back=url_for("catalogue.provisions"))


@bp.post("/voorzieningen/<int:provision_id>/archiveren")
def provision_archive():
    """Archive the provision: no longer offered; what requests and votes stored stays."""
    set_provision_active(db(), g.provision, False, actor_id=g.current_member.id)
    flash(_("Voorziening %(name)s is gearchiveerd.", name=g.provision.name), "info")
    return respond(back=url_for("catalogue.provisions"))


@bp.post("/voorzieningen/<int:provision_id>/terugzetten")
def provision_restore():
    """Bring an archived provision back."""
    set_provision_active(db(), g.provision, True, actor_id=g.current_member.id)
    flash(_("Voorziening %(name)s is weer in gebruik.", name=g.provision.name), "info")
    return respond(back=url_for("catalogue.provisions"))

