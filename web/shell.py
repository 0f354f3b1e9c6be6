"""The shell around everything: the home page per role, the language switch, the accessibility statement.

URL table:
  GET  /                    home: to the sign-in page, the coordinator's overview (an administrator's municipalities
                            until they chose one), the only team, or a choice
  GET  /teams               the teams the member belongs to (signed in)
  GET  /instellingen        the member's settings: notifications on this device, and the way to their passkeys
  GET  /toegankelijkheid    the accessibility statement (public)
  POST /taal                remember the chosen language, back to the page the member was on (public)
"""
from collections.abc import Sequence
from functools import cached_property

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from models.members import teams_of_member
from models.requests import may_start_request
from web.access import chosen_municipality
from web.database import db
from web.i18n import LANGUAGE_COOKIE, LANGUAGES
from web.security import safe_next

bp = Blueprint("shell", __name__)


class MyTeams(Sequence):
    """The member's (team, membership) pairs, read only when a template uses them: partials never do."""

    def __init__(self, member_id: int):
        self.member_id = member_id

    @cached_property
    def pairs(self):
        # a team page read them already with the membership (web/access.py)
        return g.my_teams if "my_teams" in g else teams_of_member(db(), self.member_id)

    def __getitem__(self, index):
        return self.pairs[index]

    def __len__(self):
        return len(self.pairs)


@bp.app_context_processor
def team_switcher():
    """The signed-in member's teams, for the team switcher and the bottom navigation in the layout."""
    if current_user.is_authenticated:
        return {"my_teams": MyTeams(current_user.id), "bottom_nav_team": bottom_nav_team}
    return {"my_teams": []}


def bottom_nav_team(my_teams: Sequence) -> tuple:
    """The team the bottom navigation leads to (the page's team when it is one of the member's, else their only
    team, else none) and whether it offers "new request" there. Reads the layout's `my_teams`: no query of its own."""
    page_team_id = getattr(g.get("team"), "id", None)
    mine = next((pair for pair in my_teams if pair[0].id == page_team_id), None)
    team, membership = mine or (my_teams[0] if len(my_teams) == 1 else (None, None))
    return team, team is not None and may_start_request(team, membership)


@bp.get("/")
def home():
    """Send each member to their own start: coordinators (and administrators) to the overview, others to
    their team."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in"))
    if current_user.is_administrator:  # the chosen municipality's overview, or the choice first
        return redirect(url_for("admin.overview" if chosen_municipality() else "foundation.municipalities"))
    if current_user.is_coordinator:
        return redirect(url_for("admin.overview"))
    teams = teams_of_member(db(), current_user.id)
    if len(teams) == 1:
        return redirect(url_for("teams.home", team_id=teams[0][0].id))
    return render_template("shell/choose_team.html", teams=teams)


@bp.get("/toegankelijkheid")
def accessibility():
    """The accessibility statement."""
    return render_template("shell/accessibility.html")


@bp.post("/taal")
def switch_language():
    """Remember the chosen language in a cookie and go back to the page the member was on."""
    language = request.form.get("lang")
    response = redirect(safe_next(request.form.get("next"), url_for("shell.home")), code=303)
    if language in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax",
                            httponly=True, secure=request.is_secure)
    return response


@bp.get("/teams")
@login_required
def choose_team():
    """The teams the member belongs to."""
    return render_template("shell/choose_team.html", teams=teams_of_member(db(), current_user.id))


@bp.get("/instellingen")
@login_required
def settings():
    """The member's settings: notifications on this device have their own place, beside the passkeys."""
    return render_template("shell/settings.html")
