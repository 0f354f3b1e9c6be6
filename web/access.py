"""The shared first step of every access check: a signed-in member, or the sign-in page.

A coordinator works in their own municipality; an administrator (foundation staff, no municipality of
their own) in the one they chose, kept in the Flask session and checked to exist on every request.
"""
from flask import abort
from flask_login import current_user

from web.extensions import login_manager


def signed_in_member():
    """The current member; for anyone else the request ends at the sign-in page."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    return current_user._get_current_object()


def _my_team(team_id: int):
    """(team, membership) of the signed-in member's team `team_id`, or None. All their teams go on `g` at once:
    the layout's team switcher lists them (web/shell.py)."""
    from flask import g

    from models.members import teams_of_member
    from web.database import db

    g.my_teams = teams_of_member(db(), signed_in_member().id)
    return next(((team, membership) for team, membership in g.my_teams if team.id == team_id), None)


def load_team_of_member(values) -> None:
    """Put the team in the URL and the member's active membership of it on `g`; 404 for outsiders."""
    from flask import g

    found = _my_team(values.pop("team_id"))
    if found is None:
        abort(404)
    g.team, g.membership = found


def load_request_of_team(values, *, own_drafts: bool = False) -> None:
    """Put the request in the URL on `g` when it belongs to `g.team`, else 404. A draft is nobody's
    business but its requester's, and only where `own_drafts` (elsewhere a draft is not a request yet)."""
    from flask import g

    from models.requests import RequestStatus, SpendRequest
    from web.database import db

    found = db().get(SpendRequest, values.pop("request_id"))
    if found is None or found.team_id != g.team.id:
        abort(404)
    if found.status == RequestStatus.DRAFT and not (own_drafts and found.requester_id == current_user.id):
        abort(404)
    g.spend_request = found


def load_request_for_reader(values) -> None:
    """For the request page itself (the page, its live part, the discussion): a member of the team as
    `load_team_of_member` and `load_request_of_team` (own drafts too); anyone else passes only as an expert
    asked about this posted request (models.experts.expert_seat), with the team on `g` and a seat that is no
    membership. Everyone else gets 404, as before."""
    from flask import g

    from models.experts import expert_seat
    from models.requests import SpendRequest
    from models.teams import Team
    from web.database import db

    mine = _my_team(values["team_id"])
    if mine is not None:
        values.pop("team_id")
        g.team, g.membership = mine
        load_request_of_team(values, own_drafts=True)
        return
    team_id, request_id = values.pop("team_id"), values.pop("request_id")
    found = db().get(SpendRequest, request_id)
    seat = expert_seat(db(), signed_in_member(), found) if found is not None and found.team_id == team_id else None
    if seat is None:
        abort(404)
    g.team, g.membership, g.spend_request = db().get(Team, team_id), seat, found


def load_posted_request(values) -> None:
    """For a part of the request page (its card, its loan): the team and membership, and a posted request of
    that team, on `g`; 404 for outsiders. A POST holds the write lock from here on."""
    from flask import request

    from models.db import begin_write
    from web.database import db

    signed_in_member()
    if request.method == "POST":
        begin_write(db())
    load_team_of_member(values)
    load_request_of_team(values)


def signed_in_coordinator():
    """The signed-in coordinator, with their municipality on `g`; 403 for anyone else. An administrator
    counts as coordinator of the municipality they chose (`chosen_municipality`), and is sent to the list
    of municipalities while they have chosen none."""
    from flask import g, redirect, url_for

    member = signed_in_member()
    if member.is_administrator:
        municipality = chosen_municipality()
        if municipality is None:
            abort(redirect(url_for("foundation.municipalities"), code=303))
        g.current_member, g.municipality_id, g.municipality = member, municipality.id, municipality
        return member
    if not member.is_coordinator:
        abort(403)
    g.current_member, g.municipality_id = member, member.municipality_id
    return member


def signed_in_administrator():
    """The signed-in administrator (foundation staff) on `g`; 403 for anyone else, coordinators too."""
    from flask import g

    member = signed_in_member()
    if not member.is_administrator:
        abort(403)
    g.current_member = member
    return member


#: where the Flask session keeps the municipality an administrator works in
CHOSEN_MUNICIPALITY = "municipality_id"


def chosen_municipality():
    """The municipality the signed-in administrator chose to work in, if it still exists."""
    from flask import session

    from models.bounds import parse_id
    from models.teams import Municipality
    from web.database import db

    municipality_id = parse_id(session.get(CHOSEN_MUNICIPALITY))
    return db().get(Municipality, municipality_id) if municipality_id else None


def choose_municipality(municipality) -> None:
    """From now on the administrator works in `municipality` (every coordinator page shows that one)."""
    from flask import session

    session[CHOSEN_MUNICIPALITY] = municipality.id


def load_of_municipality(values, argument: str, model, into: str) -> None:
    """When the URL names a `model` by `argument`, put it on `g` as `into` if it belongs to the coordinator's
    municipality (`g.municipality_id`), else 404 (another municipality's object looks like none at all)."""
    from flask import g

    from web.database import db

    if argument in values:
        found = db().get(model, values.pop(argument))
        if found is None or found.municipality_id != g.municipality_id:
            abort(404)
        setattr(g, into, found)


def load_team_of_municipality(values) -> None:
    """Put the team in the URL on `g` when it belongs to the coordinator's municipality, else 404."""
    from flask import g

    from models.teams import Team, municipality_of_team
    from web.database import db

    if "team_id" in values:
        g.team = db().get(Team, values.pop("team_id"))
        if g.team is None or municipality_of_team(db(), g.team).id != g.municipality_id:
            abort(404)
