"""Tips for coordinators (issue 13 §3): every tip of the municipality, searched and filtered, and archived.

URL table (signed in as coordinator, or administrator in the municipality they chose; anyone else 403; a tip
of another municipality, or one already archived, 404):
  GET  /beheer/tips                           the municipality's tips (?zoek= text, ?kostensoort= category id)
  POST /beheer/tips/<tip_id>/archiveren       archive a tip (models.tips.archive_tip)
"""
from flask import Blueprint, abort, g, render_template, request, url_for

from models.bounds import parse_id
from models.catalogue import cost_categories_of
from models.db import begin_write
from models.teams import teams_of_municipality
from models.tips import Tip, archive_tip, categories_of_tips, may_archive_tip, search_tips
from web.access import signed_in_coordinator
from web.database import db
from web.respond import refusal_shows, respond

bp = Blueprint("tip_admin", __name__, url_prefix="/beheer/tips")


@bp.url_value_preprocessor
def load_for_coordinator(_endpoint, values):
    """Only coordinators (and administrators); a POST holds the write lock; the tip of their municipality."""
    signed_in_coordinator()
    if request.method == "POST":
        begin_write(db())
    if values and "tip_id" in values:
        tip = db().get(Tip, values.pop("tip_id"))
        if tip is None or tip.municipality_id != g.municipality_id or tip.archived_at is not None:
            abort(404)
        g.tip = tip


def _page(status=200, error=None):
    categories = cost_categories_of(db(), g.municipality_id)
    text = request.args.get("zoek", "")[:100]
    category_id = parse_id(request.args.get("kostensoort"))
    tips = search_tips(db(), g.municipality_id, text=text, category_id=category_id)
    teams = {team.id: team.name for team in teams_of_municipality(db(), g.municipality_id)}
    return render_template("tips/admin.html", tips=tips, categories=categories, names={c.id: c for c in categories},
                           tagged=categories_of_tips(db(), [tip.id for tip in tips]), teams=teams, text=text,
                           archivable={tip.id for tip in tips if may_archive_tip(tip, g.current_member)},
                           category_id=category_id, error=error), status


@bp.get("")
def index():
    """Every tip of the municipality, searched and filtered, each with an archive button."""
    return _page()


@bp.post("/<int:tip_id>/archiveren")
@refusal_shows(lambda violation: _page(403, violation.message))
def archive():
    """Archive a tip: it is no longer listed or suggested."""
    archive_tip(db(), g.tip, g.current_member)
    return respond(json={"ok": True}, back=url_for("tip_admin.index", weggehaald=1))
