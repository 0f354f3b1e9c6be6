"""The requester cancels a grant whose card was not loaded, from the request page.

URL table (signed in, active member of the request's team; the request must be posted):
  POST /teams/<team_id>/aanvragen/<request_id>/annuleren   cancel the grant, with a reason (requester)

The coordinator cancels from the year-close checklist (web/year_close.py). A refusal shows the cancel form
with its message for htmx, or the whole request page with it for a plain form (web/respond.py).
"""
from flask import Blueprint, g, request, url_for
from flask_login import current_user

from models.db import begin_write
from models.grants import cancel_grant, may_cancel_grant
from web.access import load_request_of_team, load_team_of_member, signed_in_member
from web.database import db
from web.request_page import request_page
from web.respond import refusal_json, refusal_shows

bp = Blueprint("grants", __name__, url_prefix="/teams/<int:team_id>/aanvragen/<int:request_id>/annuleren")
#: the cancel form shows itself only to whom it is offered (the rule is models.grants')
bp.add_app_template_global(may_cancel_grant)


@bp.url_value_preprocessor
def load_request(_endpoint, values):
    """The team and membership, and a posted request of that team; the POST holds the write lock."""
    signed_in_member()
    begin_write(db())
    load_team_of_member(values)
    load_request_of_team(values)


@bp.post("")
@refusal_shows(lambda violation: request_page("requests/_cancel.html", 422, json=refusal_json(violation),
                                              cancel_errors={violation.field or "reason": violation.message},
                                              cancel_reason=request.form.get("reason", "")))
def cancel():
    """The requester cancels the grant: the money goes back to the team's budget."""
    cancel_grant(db(), g.spend_request, current_user._get_current_object(), request.form.get("reason"))
    return request_page("requests/_cancel.html", json={"status": g.spend_request.status},
                        back=url_for("requests.show", team_id=g.team.id, request_id=g.spend_request.id))
