"""Policy signals (models/policy_signals.py): recurring needs across a municipality's teams for its policy makers,
and the "would have been solved if …" notes workers add to a decided request.

URL table
(signed in as coordinator, or administrator in the municipality they chose; team roles 403):
  GET  /beheer/signalen                          the signals of a budget year (?jaar=) and quarter (?kwartaal=,
                                                 default the last full one): rising needs and tip tags, the same
                                                 other provision again and again, the notes per cost category
  GET  /beheer/signalen/aanvragen                the anonymised requests behind one signal (?soort=stijging|tips|
                                                 voorziening|notities, jaar, kwartaal, kostensoort, voorziening);
                                                 403 when the signal counts fewer than 5 requests
(signed in, active member of the request's team; anyone else 404):
  POST /teams/<team_id>/aanvragen/<request_id>/was-opgelost-als    add a note to a decided request

Every count passes the small-number rule (k ≥ 5): the page shows "< 5" and no link, the list URL refuses.
"""
from flask import Blueprint, g, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from models.bounds import parse_id
from models.budget_years import years_of
from models.clock import today
from models.policy_signals import (
    RISE_DISTRICTS, RISE_MIN, SIGNAL_KINDS, SignalKey, add_solved_if_note, default_quarter,
    notes_by_category, quarter_start, repeated_provisions, requests_behind, rising_needs, rising_tip_tags)
from models.reports import SUPPRESSED, THRESHOLD, report_year
from web.access import load_posted_request, signed_in_coordinator
from web.database import db
from web.errors import render_error
from web.request_page import request_page
from web.respond import refusal_shows

bp = Blueprint("policy_signals", __name__)

KIND_TITLES = {"stijging": _l("Stijgende behoefte"), "tips": _l("Stijgend aantal tips"),
               "voorziening": _l("Steeds dezelfde andere voorziening"), "notities": _l("Was opgelost als …")}


@bp.url_value_preprocessor
def load(_endpoint, values):
    """A note: the team, membership and posted request (the POST holds the write lock); else a coordinator."""
    if values and "request_id" in values:
        load_posted_request(values)
    else:
        signed_in_coordinator()


@bp.app_template_filter("month_year")
def month_year(day) -> str:
    """'maart 2026' / 'March 2026'."""
    return format_date(day, "LLLL y")


def _choice() -> dict:
    """The year and quarter asked for, unknown values falling back to the defaults."""
    years = [budget_year.year for budget_year in years_of(db(), g.municipality_id)]
    year = report_year(years, parse_id(request.args.get("jaar", "")), today().year)
    quarter = parse_id(request.args.get("kwartaal", ""))
    quarter = quarter if quarter in (1, 2, 3, 4) else default_quarter(year, today())
    running = quarter_start(year, quarter + 1).date() > today()
    return {"years": years, "year": year, "quarter": quarter, "running": running}


@bp.get("/beheer/signalen")
def overview():
    """The signals of the chosen budget year and quarter, each with a link to its requests from 5 on."""
    choice = _choice()
    year, quarter = choice["year"], choice["quarter"]
    return render_template("policy_signals/overview.html", choice=choice, threshold=THRESHOLD,
                           suppressed=SUPPRESSED, rise_min=RISE_MIN, rise_districts=RISE_DISTRICTS,
                           rising=rising_needs(db(), g.municipality_id, year, quarter),
                           tip_tags=rising_tip_tags(db(), g.municipality_id, year, quarter),
                           provisions=repeated_provisions(db(), g.municipality_id, year),
                           notes=notes_by_category(db(), g.municipality_id, year))


@bp.get("/beheer/signalen/aanvragen")
def requests_list():
    """The anonymised requests behind one signal; refused (403) below 5 requests or for no such signal."""
    args = request.args
    kind = args.get("soort") if args.get("soort") in SIGNAL_KINDS else None
    key = SignalKey(kind=kind or "", year=parse_id(args.get("jaar", "")) or 0,
                    quarter=parse_id(args.get("kwartaal", "")), category_id=parse_id(args.get("kostensoort", "")),
                    provision=args.get("voorziening", "")[:200])
    lines = requests_behind(db(), g.municipality_id, key) if kind else None
    if lines is None:
        return render_error(403, _("Geen lijst"), _("Achter dit signaal zitten minder dan %(k)s aanvragen (of het "
                                                    "bestaat niet). Die lijst tonen we niet.", k=THRESHOLD))
    return render_template("policy_signals/requests.html", key=key, lines=lines, title=KIND_TITLES[kind])


def _note_panel(status: int = 200, **errors):
    """The notes part of the request page (with the message beside its field), or 303 back to it."""
    page = url_for("requests.show", team_id=g.team.id, request_id=g.spend_request.id)
    return request_page("requests/_solved_if.html", status, json={"redirect": page}, back=page + "#solved-if",
                        note_errors=errors, note_body=request.form.get("body", "") if status >= 400 else "")


@bp.post("/teams/<int:team_id>/aanvragen/<int:request_id>/was-opgelost-als")
@refusal_shows(lambda violation: _note_panel(422, **{violation.field or "body": violation.message}))
def add_note():
    """A member of the team notes what would have solved the decided request (a provision, a rule, a policy)."""
    add_solved_if_note(db(), g.spend_request, current_user, request.form.get("body", ""))
    return _note_panel()
