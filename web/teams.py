"""A team's own pages, for its members only.

URL table (signed in, active member of the team; anyone else gets 404, so a team's existence does not leak):
  GET /teams/<team_id>         the team's home: balance, reminders and the inbox of requests
  GET /teams/<team_id>/live    the live part of the home page, 304 while nothing changed (polled)
"""
from flask import Blueprint, g, render_template

from models.audit import team_version
from models.db import begin_write
from models.decisions import expire_overdue, has_overdue_requests
from models.members import ROLE_LABELS
from models.teams import District
from web.access import load_team_of_member
from web.database import db
from models.inbox import team_overview
from web.live import not_modified, with_etag

bp = Blueprint("teams", __name__, url_prefix="/teams/<int:team_id>")


@bp.url_value_preprocessor
def load_team_for_member(_endpoint, values):
    """Load the team and the member's membership once for the whole blueprint."""
    load_team_of_member(values)


@bp.url_defaults
def keep_team_id(_endpoint, values):
    """Links within a team page stay within that team."""
    if "team_id" not in values and "team" in g:
        values["team_id"] = g.team.id


def _refresh_expired():
    """Expire overdue requests before showing the team; the write lock is taken only when there is work."""
    if not has_overdue_requests(db(), g.team):
        return
    begin_write(db())  # on SQLite a read transaction cannot safely become a write one under contention
    if expire_overdue(db(), g.team):
        db().commit()


@bp.get("")
def home():
    """The team's home: the budget, reminders and the inbox."""
    _refresh_expired()
    district = db().get(District, g.team.district_id)
    version = team_version(db(), g.team.id)
    return with_etag(render_template("teams/home.html", team=g.team, district=district,
                                     role_label=ROLE_LABELS[g.membership.role], version=version,
                                     **team_overview(db(), g.team, g.membership)), version)


@bp.get("/live")
def live():
    """The balance, reminders and inbox, re-rendered only when something in the team changed."""
    _refresh_expired()
    version = team_version(db(), g.team.id)
    if not_modified(version):
        return "", 304
    return with_etag(render_template("teams/_live.html", team=g.team, version=version,
                                     **team_overview(db(), g.team, g.membership)), version)
