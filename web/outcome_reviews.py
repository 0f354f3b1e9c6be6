"""Outcome reviews (issue 13 §2): the requester says how a grant went; the team sees its regret rate and lessons.

URL table (signed in, active member of the team; anyone else gets 404):
  GET  /teams/<team_id>/terugblik                               the team's regret rate against the 20% the
                                                                practice allows, and its lessons (no names)
  POST /teams/<team_id>/aanvragen/<request_id>/terugblik        the requester answers the review (once)

The review is asked by `flask --app web send-reminders` (web/push.py, models.outcome_reviews.ask_due_reviews).
The answer goes through the phone's outbox like a vote (`data-outbox="review"`, web/outbox.py): sent with a
UUID it is applied exactly once; the outbox gets JSON, a plain form a 303 back to the request page, and a
refusal (personal data in the lesson, no outcome chosen) shows the request page with the message beside its
field. Another member than the requester gets 403; a request without an asked review 404.
"""
from flask import Blueprint, abort, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from models.clock import today
from models.outcome_reviews import (OUTCOME_LABELS, REGRET_ALLOWED, answer_review, review_of, team_lessons,
                                    team_regret)
from models.teams import District, current_budget_year
from web.access import load_posted_request, load_team_of_member
from web.database import db
from web.outbox import client_operation
from web.request_page import request_page
from web.respond import refusal_shows

bp = Blueprint("outcome_reviews", __name__, url_prefix="/teams/<int:team_id>")


@bp.url_value_preprocessor
def load(_endpoint, values):
    """The team and membership (and for an answer, a posted request of the team; POSTs hold the write lock)."""
    if "request_id" in values:
        load_posted_request(values)
    else:
        load_team_of_member(values)


@bp.app_context_processor
def outcome_labels():
    """The words for each outcome, for the request page and the team's page."""
    return {"outcome_labels": OUTCOME_LABELS}


@bp.get("/terugblik")
def team_page():
    """The team's regret rate (this budget year and all years) against the 20%, and its lessons."""
    municipality_id = db().get(District, g.team.district_id).municipality_id
    year = current_budget_year(db(), municipality_id, today())
    return render_template("outcome_reviews/team.html", team=g.team, year=year, allowed=REGRET_ALLOWED,
                           this_year=team_regret(db(), g.team.id, year.id) if year else None,
                           all_years=team_regret(db(), g.team.id), lessons=team_lessons(db(), g.team.id, 30))


def _panel(status: int = 200, notice=None, **errors):
    """The review part of the request page (with the message beside its field), JSON for the outbox, or 303."""
    page = url_for("requests.show", team_id=g.team.id, request_id=g.spend_request.id)
    if status < 400:
        json = {"redirect": page, "notice": str(notice)}
    else:
        field, message = next(iter(errors.items()))
        json = {"error": str(message), "field": field}
    return request_page("requests/_review.html", status, json=json, back=page + "#review", review_errors=errors,
                        review_notice=notice, review_form=request.form if status >= 400 else {})


_refused = refusal_shows(lambda violation: _panel(422, **{violation.field or "review": violation.message}))


@bp.post("/aanvragen/<int:request_id>/terugblik")
@client_operation("review")
@_refused
def answer():
    """The requester says how it went and, if they like, what the team can learn from it."""
    review = review_of(db(), g.spend_request.id)
    if review is None:
        abort(404)
    if g.spend_request.requester_id != current_user.id:
        abort(403)
    answer_review(db(), review, request.form.get("outcome"), request.form.get("lesson"), actor_id=current_user.id)
    return _panel(notice=_("Dank je. Het team ziet je les, zonder je naam."))
