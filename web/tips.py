"""Shared knowledge (issue 13 §3): tips shared across a municipality's teams, suggested while drafting, and
the household's history while drafting.

URL table (signed in, active member of the team; anyone else gets 404; a tip of another municipality 404):
  GET  /teams/<team_id>/tips                            the municipality's tips: search (?zoek=), filter by
                                                        cost category (?kostensoort=), and a form to write one
  POST /teams/<team_id>/tips                            write a tip (?aanvraag=<id>: from a request solved
                                                        with another provision of the team; any other
                                                        request is refused by models.tips.write_tip)
  POST /teams/<team_id>/tips/<tip_id>/archiveren        archive a tip (models.tips.may_archive_tip)
  POST /teams/<team_id>/tips/suggesties                 at most 3 tips for the request being drafted
                                                        (cost_category_id, situation in the body; partial)
  POST /teams/<team_id>/huishouden                      what was granted before to the household whose
                                                        reference is in the form (partial; members who
                                                        request only)

The situation being drafted (not yet checked for personal data) and the household reference are only ever
sent in a POST body, never in a URL, and never logged: the server
turns it into its keyed hash (models.requests.household_key) and forgets it. Offline the form works as
before; the suggestions and the history simply do not show.
"""
from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from models.bounds import parse_id
from models.clock import today
from models.db import begin_write
from models.household_history import history_while_drafting
from models.requests import household_key, may_request
from models.teams import active_cost_categories, municipality_of_team
from models.tips import (Tip, archive_tip, categories_of_tips, may_archive_tip, search_tips, source_request_of,
                         suggest_tips, write_tip)
from web.access import load_team_of_member, signed_in_member
from web.database import db
from web.respond import refusal_shows, respond

bp = Blueprint("tips", __name__, url_prefix="/teams/<int:team_id>")


@bp.url_value_preprocessor
def load(_endpoint, values):
    """The team and membership; a POST that writes holds the write lock; a tip only of this municipality."""
    signed_in_member()
    if request.method == "POST" and _endpoint not in ("tips.household", "tips.suggestions"):  # these only read
        begin_write(db())
    load_team_of_member(values)
    g.municipality_id = municipality_of_team(db(), g.team).id
    if "tip_id" in values:
        tip = db().get(Tip, values.pop("tip_id"))
        if tip is None or tip.municipality_id != g.municipality_id or tip.archived_at is not None:
            abort(404)
        g.tip = tip


@bp.url_defaults
def keep_team(_endpoint, values):
    """Links stay on the team."""
    if "team" in g and "team_id" not in values:
        values["team_id"] = g.team.id


def _source_request():
    """The team's request solved with another provision named by ?aanvraag=, if any (to start the form)."""
    return source_request_of(db(), g.team.id, request.args.get("aanvraag"))


def _page(status=200, errors=None, body="", chosen=()):
    categories = active_cost_categories(db(), g.team)
    text = request.args.get("zoek", "")[:100]
    category_id = parse_id(request.args.get("kostensoort"))
    tips = search_tips(db(), g.municipality_id, text=text, category_id=category_id)
    source = _source_request()
    if source is not None and not body and not chosen:
        body = _("Opgelost met %(name)s.", name=source.alternative_name) if source.alternative_name else ""
        chosen = [source.cost_category_id] if source.cost_category_id else []
    return render_template("tips/index.html", team=g.team, tips=tips, categories=categories,
                           names={c.id: c for c in categories},
                           tagged=categories_of_tips(db(), [tip.id for tip in tips]), text=text,
                           archivable={tip.id for tip in tips if may_archive_tip(tip, current_user)},
                           category_id=category_id, errors=errors or {}, body=body,
                           chosen=[str(value) for value in chosen], source=source), status


@bp.get("/tips")
def index():
    """The municipality's tips, searched and filtered, with the form to write one."""
    return _page()


@bp.post("/tips")
@refusal_shows(lambda violation: _page(422, {violation.field or "body": violation.message},
                                       body=request.form.get("body", ""),
                                       chosen=request.form.getlist("category_ids")))
def create():
    """Write a tip."""
    write_tip(db(), municipality_id=g.municipality_id, team_id=g.team.id, author_id=g.membership.member_id,
              body=request.form.get("body", ""), category_ids=request.form.getlist("category_ids"),
              source_request_id=parse_id(request.args.get("aanvraag")))
    return respond(json={"ok": True}, back=url_for("tips.index", bewaard=1))


@bp.post("/tips/<int:tip_id>/archiveren")
@refusal_shows(lambda violation: _page(403, {"form": violation.message}))
def archive():
    """Archive a tip: its author, a coordinator of the municipality or an administrator."""
    archive_tip(db(), g.tip, signed_in_member())
    return respond(json={"ok": True}, back=url_for("tips.index"))


@bp.post("/tips/suggesties")
def suggestions():
    """At most three tips for what is being drafted (a partial for the request form); a POST, so the text
    typed so far, not yet checked for personal data, never stands in a URL."""
    category_id = parse_id(request.form.get("cost_category_id"))
    tips = suggest_tips(db(), g.municipality_id, category_id, request.form.get("situation", "")[:2000])
    return render_template("tips/_suggestions.html", tips=tips)


@bp.post("/huishouden")
def household():
    """What was granted before this budget year to the household whose reference is in the form (or, when
    none is typed, the one already recorded on the member's own draft named by ?concept=)."""
    if not may_request(g.membership):
        abort(403)
    reference = (request.form.get("household_reference") or "").strip()[:200]
    key = household_key(current_app.config["HOUSEHOLD_KEY_SECRET"], reference) if reference else None
    lines, asked = history_while_drafting(db(), g.team, g.membership.member_id, today(), key=key,
                                          draft_id=parse_id(request.args.get("concept")))
    return render_template("tips/_household_lines.html", history=lines, asked=asked)
