"""The coordinator's pages: teams of the municipality, members, roles and invites.

URL table (signed in as coordinator; objects of another municipality are 404):
  GET  /beheer                                             overview of teams with budgets
  GET  /beheer/leden                                       members, searched by name and paged (?zoek=, ?pagina=)
  POST /beheer/leden/<member_id>/herstel                   recovery invite for a member (reactivates a deactivated one)
  POST /beheer/leden/<member_id>/deactiveren               deactivate a member: sessions, passkeys, teams end
  POST /beheer/coordinatoren/uitnodigen                    invite a coordinator
  GET  /beheer/teams/<team_id>                             a team's members, composition warnings, open invites;
                                                           ?zoek= finds members to add (htmx: just that part)
  GET  /beheer/teams/<team_id>/instellingen                 a team's rules: quorum, caps, threshold, expiry
  POST /beheer/teams/<team_id>/instellingen                 change them (open requests are looked at again)
  POST /beheer/teams/<team_id>/uitnodigen                  invite a new member with a role
  POST /beheer/teams/<team_id>/leden                       add an existing member with a role
  POST /beheer/teams/<team_id>/leden/<membership_id>/rol   change a member's role
  POST /beheer/teams/<team_id>/leden/<membership_id>/weg   take a member out of the team
  POST /beheer/teams/<team_id>/leden/<membership_id>/verhuizen  move a member to another team
  POST /beheer/uitnodigingen/<invite_id>/intrekken         revoke an open invite
  POST /beheer/uitnodigingen/<invite_id>/mailen            e-mail the link (only when SMTP is configured)
"""
import smtplib

import segno
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from models.decisions import redecide_open_requests
from models.invites import (
    Invite, hash_token, invite_coordinator, invite_recovery, invite_to_team, open_invites, revoke_invite)
from models.deactivation import deactivate_member
from models.member_lists import clean_search, passkey_counts, search_members, teams_of_members
from models.members import (
    ROLE_LABELS, TEAM_ROLES, Member, Membership, add_membership, change_role, composition_warnings, end_membership,
    move_membership, reactivate_member, team_roster)
from models.bounds import parse_id, parse_whole_number
from models.budget_years import year_banner
from models.clock import today
from models.ledger import lock_for_money
from models.money import parse_amount
from models.rules import RuleViolation
from models.teams import (
    TEAM_SETTINGS, District, Team, annual_budget_cents, change_team_settings, current_budget_year,
    municipality_of_team, teams_of_municipality)
from web.access import load_of_municipality, load_team_of_municipality, signed_in_coordinator
from web.database import db
from web.htmx import render_page_or_partial
from web.i18n import amount_input
from web.mail import mail_configured, send_invite_link
from web.respond import refusal_shows

bp = Blueprint("admin", __name__, url_prefix="/beheer")


@bp.url_value_preprocessor
def load_for_coordinator(_endpoint, values):
    """Only coordinators; every object in the URL must belong to their municipality."""
    signed_in_coordinator()
    values = values if values is not None else {}
    load_team_of_municipality(values)
    if "membership_id" in values:
        g.membership = db().get(Membership, values.pop("membership_id"))
        if g.membership is None or g.membership.team_id != g.team.id or not g.membership.is_active:
            abort(404)
    load_of_municipality(values, "member_id", Member, "member")
    load_of_municipality(values, "invite_id", Invite, "invite")


@bp.url_defaults
def keep_team_id(endpoint, values):
    """Links on a team's admin page stay on that team."""
    if "team" in g and "team_id" not in values and endpoint.startswith("admin.team"):
        values["team_id"] = g.team.id


@bp.get("")
def overview():
    """Every team of the municipality with this year's budget and its number of members."""
    budget_year = current_budget_year(db(), g.municipality_id, today())
    rows = []
    for team in teams_of_municipality(db(), g.municipality_id):
        if team.archived_at is not None:  # foundation: an archived team leaves the overview
            continue
        rows.append({"team": team, "district": db().get(District, team.district_id),
                     "annual_budget_cents": annual_budget_cents(db(), team, budget_year),
                     "member_count": len(team_roster(db(), team.id))})
    return render_template("admin/overview.html", rows=rows, budget_year=budget_year,
                           banner=year_banner(db(), g.municipality_id, today()))


#: how many members the team page's "add an existing member" offers at once (a search narrows them down)
ADD_CHOICES = 20


def _render_team(status=200, errors=None):
    """The team page (or, for htmx, just its "add an existing member" part); the search comes in `zoek`, also
    posted back with the add form so a refusal keeps the choices."""
    query = clean_search(request.values.get("zoek"))
    found = search_members(db(), g.municipality_id, query, per_page=ADD_CHOICES, addable_to=g.team)
    context = {"team": g.team, "query": query, "found": found, "errors": errors or {},
               "found_teams": teams_of_members(db(), [member.id for member in found.members]),
               "chosen_id": parse_id(request.form.get("member_id")) if request.method == "POST" else None,
               "role_choices": [(role.value, ROLE_LABELS[role]) for role in TEAM_ROLES]}
    if request.method == "GET" and request.args.get("zoek") is not None:
        return render_page_or_partial("admin/team.html", "admin/_add_member.html", status, **context)
    return render_template("admin/team.html", roster=team_roster(db(), g.team.id), roles=TEAM_ROLES,
                           invites=open_invites(db(), g.municipality_id, g.team.id), role_labels=ROLE_LABELS,
                           composition=composition_warnings(db(), g.team), other_teams=[
                               team for team in teams_of_municipality(db(), g.municipality_id)
                               if team.id != g.team.id and team.archived_at is None], **context), status


@bp.get("/teams/<int:team_id>")
def team_members():
    """A team's members with their roles, what is wrong with its composition, the open invites and the forms to
    change them; `?zoek=` finds members to add."""
    return _render_team()


SETTING_FIELDS = [  # (name, is an amount in euros)
    ("quorum", False), ("household_cap_cents", True), ("account_cap_cents", True),
    ("escalation_threshold_cents", True), ("request_expiry_hours", False), ("reminder_after_hours", False)]


def _render_settings(status=200, values=None, errors=None):
    values = values or {name: (amount_input(getattr(g.team, name)) if money else getattr(g.team, name))
                        for name, money in SETTING_FIELDS}
    return render_template("admin/settings.html", team=g.team, values=values, errors=errors or {}), status


@bp.get("/teams/<int:team_id>/instellingen")
def team_settings():
    """The team's decision rules."""
    return _render_settings()


def _posted_settings() -> dict[str, str]:
    return {name: request.form.get(name, "") for name, _money in SETTING_FIELDS}


@bp.post("/teams/<int:team_id>/instellingen")
@refusal_shows(lambda violation: _render_settings(422, _posted_settings(), {violation.field: violation.message}))
def team_settings_save():
    """Change the team's rules; open requests are looked at again under the new rules."""
    lock_for_money(db(), g.team.id)
    db().refresh(g.team)  # PostgreSQL: read before the money lock was taken
    raw = _posted_settings()
    values = {name: parse_amount(raw[name], field=name) if money else
              parse_whole_number(raw[name], field=name, minimum=TEAM_SETTINGS[name][0], maximum=TEAM_SETTINGS[name][1])
              for name, money in SETTING_FIELDS}
    change_team_settings(db(), g.team, g.current_member.id, **values)
    redecide_open_requests(db(), g.team, actor_id=g.current_member.id)
    db().commit()
    flash(_("De instellingen zijn opgeslagen."), "info")
    return redirect(url_for("admin.team_settings"), code=303)


def _team_refused(field_of):
    """A refusal draws the team page again with the message beside `field_of(violation)`."""
    return refusal_shows(lambda violation: _render_team(422, errors={field_of(violation): violation.message}))


@bp.post("/teams/<int:team_id>/uitnodigen")
@_team_refused(lambda violation: "invite_" + (violation.field or "role"))
def team_invite():
    """Make a one-time invite link for a new member of this team."""
    invite, token = invite_to_team(db(), g.current_member, g.team, request.form.get("role", ""))
    db().commit()
    return _render_invite_link(invite, token, back=url_for("admin.team_members"))


@bp.post("/teams/<int:team_id>/leden")
@_team_refused(lambda violation: "add_" + (violation.field or "member_id"))
def team_add_member():
    """Give an existing member of the municipality a role in this team."""
    member = db().get(Member, parse_id(request.form.get("member_id")) or 0)
    if member is None or member.municipality_id != g.municipality_id:
        raise RuleViolation(_("Kies een lid."), field="member_id")
    add_membership(db(), member, g.team, request.form.get("role", ""))
    db().commit()
    return redirect(url_for("admin.team_members"), code=303)


@bp.post("/teams/<int:team_id>/leden/<int:membership_id>/rol")
@_team_refused(lambda _violation: f"role_{g.membership.id}")
def team_change_role():
    """Give a member another role in this team."""
    change_role(db(), g.membership, request.form.get("role", ""))
    db().commit()
    return redirect(url_for("admin.team_members"), code=303)


@bp.post("/teams/<int:team_id>/leden/<int:membership_id>/weg")
def team_remove_member():
    """Take a member out of this team (their history stays)."""
    end_membership(db(), g.membership)
    db().commit()
    return redirect(url_for("admin.team_members"), code=303)


@bp.post("/teams/<int:team_id>/leden/<int:membership_id>/verhuizen")
@_team_refused(lambda _violation: f"move_{g.membership.id}")
def team_move_member():
    """Move a member to another team of the municipality, with the same role or the one chosen."""
    to_team = db().get(Team, parse_id(request.form.get("to_team_id")) or 0)
    if to_team is None or municipality_of_team(db(), to_team).id != g.municipality_id:
        raise RuleViolation(_("Kies een ander team."), field="to_team_id")
    member = db().get(Member, g.membership.member_id)
    move_membership(db(), g.membership, to_team, request.form.get("role") or None)
    db().commit()
    flash(_("%(name)s zit nu in %(team)s.", name=member.display_name, team=to_team.name), "info")
    return redirect(url_for("admin.team_members"), code=303)


def _members_query() -> dict:
    """The search and page of the member list, from the URL or posted back with a form on it."""
    query, page = clean_search(request.values.get("zoek")), parse_id(request.values.get("pagina"))
    return {name: value for name, value in (("zoek", query), ("pagina", page)) if value}


def _render_members(status=200, errors=None):
    shown = _members_query()
    found = search_members(db(), g.municipality_id, shown.get("zoek"), page=shown.get("pagina", 1))
    ids = [member.id for member in found.members]
    return render_template("admin/members.html", found=found, query=shown.get("zoek", ""),
                           teams=teams_of_members(db(), ids), passkey_counts=passkey_counts(db(), ids),
                           role_labels=ROLE_LABELS, invites=open_invites(db(), g.municipality_id),
                           errors=errors or {}), status


@bp.get("/leden")
def members():
    """The municipality's members, searched by name and 50 a page, with recovery and deactivation."""
    return _render_members()


@bp.post("/leden/<int:member_id>/herstel")
def member_recovery():
    """A recovery invite: the member makes a new passkey; the old ones stop working. A deactivated member is
    active again from now on (with no team: the coordinator adds them where they belong)."""
    reactivate_member(db(), g.member)
    invite, token = invite_recovery(db(), g.current_member, g.member)
    db().commit()
    return _render_invite_link(invite, token, back=url_for("admin.members"), member=g.member)


@bp.post("/leden/<int:member_id>/deactiveren")
@refusal_shows(lambda violation: _render_members(422, errors={f"member_{g.member.id}": violation.message}))
def member_deactivate():
    """Deactivate a member who left: signed out everywhere, passkeys revoked, out of every team; name kept."""
    deactivate_member(db(), g.current_member, g.member)
    db().commit()
    flash(_("%(name)s is gedeactiveerd.", name=g.member.display_name), "info")
    return redirect(url_for("admin.members", **_members_query()), code=303)


@bp.post("/coordinatoren/uitnodigen")
def coordinator_invite():
    """Invite another coordinator of this municipality."""
    invite, token = invite_coordinator(db(), g.current_member, g.municipality_id)  # an administrator's: the chosen one
    db().commit()
    return _render_invite_link(invite, token, back=url_for("admin.members"))


def _back_from_revoke():
    back = request.form.get("back")
    return redirect(back if back and back.startswith("/beheer") else url_for("admin.members"), code=303)


@bp.post("/uitnodigingen/<int:invite_id>/intrekken")
@refusal_shows(lambda _violation: _back_from_revoke())  # an invite used meanwhile simply stays in the list
def invite_revoke():
    """Withdraw an invite that was not used yet."""
    revoke_invite(db(), g.invite)
    db().commit()
    return _back_from_revoke()


@bp.post("/uitnodigingen/<int:invite_id>/mailen")
def invite_mail():
    """E-mail an invite link that was just shown; the address is not kept."""
    token = request.form.get("token", "")
    if not mail_configured() or hash_token(token) != g.invite.token_hash or not g.invite.is_open:
        abort(404)
    member = db().get(Member, g.invite.member_id) if g.invite.member_id else None
    back = request.form.get("back", "")
    back = back if back.startswith("/beheer") else url_for("admin.overview")
    g.refusal_view = lambda violation: _render_invite_link(g.invite, token, back=back, member=member, status=422,
                                                           mail_error=violation.message)
    try:
        send_invite_link(request.form.get("address"), _invite_url(token))
    except (OSError, smtplib.SMTPException):
        current_app.logger.warning("Sending an invite e-mail failed")
        return _render_invite_link(g.invite, token, back=back, member=member, status=502,
                                   mail_error=_("Versturen lukte niet. Geef de link op een andere manier door."))
    return _render_invite_link(g.invite, token, back=back, member=member, mail_sent=True)


def _invite_url(token):
    return current_app.config["WEBAUTHN_ORIGIN"] + url_for("auth.invite", token=token)


def _render_invite_link(invite, token, *, back, member=None, status=200, **mail_state):
    link = _invite_url(token)
    qr_svg = segno.make(link, error="m").svg_inline(scale=5, svgclass="qr-code", omitsize=True)
    team = db().get(Team, invite.team_id) if invite.team_id else None
    return render_template("admin/invite_link.html", invite=invite, link=link, token=token, qr_svg=qr_svg,
                           team=team, member=member, back=back, role_labels=ROLE_LABELS,
                           # an administrator's invite (no municipality) is not mailed through /beheer/uitnodigingen
                           mail_enabled=mail_configured() and invite.municipality_id is not None, **mail_state), status
