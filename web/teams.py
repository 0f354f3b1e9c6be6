"""A team's own pages, for its members only.

URL table (signed in, active member of the team; anyone else gets 404, so a team's existence does not leak):
  GET /teams/<team_id>         the team's home: balance, reminders and the inbox of requests
  GET /teams/<team_id>/live    the live part of the home page, 304 while nothing changed (polled)
"""
from flask import Blueprint, g, render_template

from models.audit import team_version
from models.db import begin_write
from models.decisions import expire_overdue, has_overdue_requests
from models.experts import open_questions_to
from models.inbox import team_overview
from models.loans import overdue_loans
from models.members import ROLE_LABELS, composition_warnings
from models.outcome_reviews import waiting_reviews
from models.receipts import count_missing_receipts
from models.requests import may_request
from models.teams import District
from web.access import load_team_of_member, signed_in_member
from web.database import db
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


def _expire_overdue():
    """Expire the team's overdue requests; the write lock is taken only now that there is work."""
    begin_write(db())  # on SQLite a read transaction cannot safely become a write one under contention
    if expire_overdue(db(), g.team):
        db().commit()


def _refresh_expired():
    """Expire overdue requests before the live region answers (a cheap read when there are none)."""
    if has_overdue_requests(db(), g.team):
        _expire_overdue()


@bp.get("")
def home():
    """The team's home: the budget, reminders and the inbox."""
    # the version first, then what it versions: a change in between is shown, and polled again
    # held here first: the overview's own lookup of it is then answered by the session, not the database
    district = db().get(District, g.team.district_id)
    version, overview = team_version(db(), g.team.id), team_overview(db(), g.team, g.membership)
    if overview["expired_open"]:  # the overview read the open requests anyway: no separate check
        _expire_overdue()
        version, overview = team_version(db(), g.team.id), team_overview(db(), g.team, g.membership)
    return with_etag(render_template("teams/home.html", team=g.team, district=district,
                                     role_label=ROLE_LABELS[g.membership.role], version=version,
                                     may_request=may_request(g.membership),
                                     missing_receipts_mine=count_missing_receipts(db(), g.team.id, g.membership.member_id),
                                     overdue_loans=overdue_loans(db(), g.team),
                                     waiting_reviews=waiting_reviews(db(), g.team.id, g.membership.member_id),
                                     composition=composition_warnings(db(), g.team),
                                     expert_questions=open_questions_to(db(), signed_in_member()), **overview), version)


@bp.get("/live")
def live():
    """The balance, reminders and inbox, re-rendered only when something in the team changed."""
    _refresh_expired()
    version = team_version(db(), g.team.id)
    if not_modified(version):
        return "", 304
    return with_etag(render_template("teams/_live.html", team=g.team, version=version,
                                     **team_overview(db(), g.team, g.membership)), version)
