"""Setting up: the municipalities (foundation staff), and each municipality's districts and teams.

URL table (signed in as administrator; a coordinator or a team member gets 403):
  GET  /beheer/gemeenten                                        every municipality; a new one; invite an administrator;
                                                                the open invites for coordinators and administrators
  POST /beheer/gemeenten                                        create a municipality (default categories, provisions)
  POST /beheer/gemeenten/beheerders/uitnodigen                  invite another administrator
  POST /beheer/gemeenten/uitnodigingen/<invite_id>/intrekken    revoke an open invite of that list
  GET  /beheer/gemeenten/<municipality_id>                      one municipality: rename, work in it, invite a coordinator
  POST /beheer/gemeenten/<municipality_id>/naam                 rename it
  POST /beheer/gemeenten/<municipality_id>/kiezen               work in it: the coordinator's pages show this one
  POST /beheer/gemeenten/<municipality_id>/coordinator          invite a coordinator of it (and work in it)
(signed in as coordinator, or as administrator in the municipality they chose; objects of another
municipality are 404):
  GET  /beheer/inrichting                                       districts and teams; add a district or a team
  GET  /beheer/inrichting/wijzigingen                           the newest changes of the setup (audit events without a
                                                                team: name, districts, catalogue, scenarios)
  POST /beheer/inrichting/stadsdelen                            add a district
  GET  /beheer/inrichting/stadsdelen/<district_id>              one district: rename, archive or restore
  POST /beheer/inrichting/stadsdelen/<district_id>/naam         rename it
  POST /beheer/inrichting/stadsdelen/<district_id>/archiveren   archive it (once its teams are archived)
  POST /beheer/inrichting/stadsdelen/<district_id>/terugzetten  take an archived one into use again (not its teams)
  POST /beheer/inrichting/teams                                 add a team: name, district, bank account (IBAN)
  GET  /beheer/inrichting/teams/<team_id>                       one team: name, district, IBAN; archive or restore
  POST /beheer/inrichting/teams/<team_id>                       change them
  POST /beheer/inrichting/teams/<team_id>/archiveren            archive it (nothing open, every grant loaded)
  POST /beheer/inrichting/teams/<team_id>/terugzetten           take an archived one into use again (active district,
                                                                its IBAN no other active team's)

A team's rules (quorum, caps) stay on /beheer/teams/<team_id>/instellingen (web/admin.py). A refusal draws
the form again with the message beside its field (web/respond.py).
"""
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from models.audit import setup_changes
from models.audit_chain import last_verifications
from models.bounds import parse_id
from models.clock import today
from models.invites import (
    Invite, invite_administrator, invite_coordinator, is_foundation_invite, open_foundation_invites, revoke_invite)
from models.members import ROLE_LABELS, coordinators_of
from models.municipalities import (
    add_district, archive_district, archive_team, create_municipality, create_team, districts_of, edit_team,
    formatted_iban, municipalities_with_team_counts, rename_district, rename_municipality, restore_district,
    restore_team, teams_of)
from models.teams import District, Municipality, current_budget_years
from web.access import (
    choose_municipality, chosen_municipality, load_of_municipality, load_team_of_municipality,
    signed_in_administrator, signed_in_coordinator)
from web.admin import _render_invite_link
from web.database import db
from web.i18n import format_cents, language
from web.respond import refusal_shows

bp = Blueprint("foundation", __name__, url_prefix="/beheer")


@bp.url_value_preprocessor
def load_for_role(endpoint, values):
    """Municipalities: administrators only. Districts and teams: the coordinator's (or chosen) municipality."""
    values = values if values is not None else {}
    if endpoint.startswith(("foundation.municipalit", "foundation.administrator")):
        signed_in_administrator()
        if "municipality_id" in values:
            g.municipality = db().get(Municipality, values.pop("municipality_id"))
            if g.municipality is None:
                abort(404)
        if "invite_id" in values:  # only the invites the municipalities' page lists
            g.invite = db().get(Invite, values.pop("invite_id"))
            if g.invite is None or not is_foundation_invite(g.invite):
                abort(404)
        return
    signed_in_coordinator()
    load_team_of_municipality(values)
    load_of_municipality(values, "district_id", District, "district")


@bp.app_template_filter("iban")
def iban_filter(iban):
    """An IBAN in groups of four, as people read it."""
    return formatted_iban(iban)


def _refused_name(render):
    """A refused name draws the page again (422) with the typed name and the message beside it."""
    return refusal_shows(lambda violation: render(422, {"name": violation.message}, request.form.get("name", "")))


def _renamed(rename, thing, back: str):
    """Give `thing` the posted name with the verb `rename`, commit, and go `back` to its page."""
    rename(db(), thing, request.form.get("name"), actor_id=g.current_member.id)
    db().commit()
    flash(_("De naam is opgeslagen."), "info")
    return redirect(back, code=303)


# municipalities (administrators)

def _render_municipalities(status=200, errors=None, name=""):
    years = current_budget_years(db(), today())
    chosen = chosen_municipality()
    return render_template("foundation/municipalities.html", rows=municipalities_with_team_counts(db()),
                           years=years, chosen=chosen, errors=errors or {}, name=name,
                           verified=last_verifications(db()), invites=open_foundation_invites(db()),
                           role_labels=ROLE_LABELS), status


@bp.get("/gemeenten")
def municipalities():
    """Every municipality with its number of teams, current budget year and when its audit trail was last
    verified (`flask --app web verify`); the form for a new one."""
    return _render_municipalities()


@bp.post("/gemeenten")
@refusal_shows(lambda violation: _render_municipalities(422, {"municipality_name": violation.message},
                                                        request.form.get("name", "")))
def municipality_create():
    """A new municipality with the default cost categories and other provisions, and this year's budget year."""
    municipality = create_municipality(db(), request.form.get("name"))
    db().commit()
    flash(_("Gemeente %(name)s is aangemaakt. Nodig nu de eerste coördinator uit.", name=municipality.name), "info")
    return redirect(url_for("foundation.municipality", municipality_id=municipality.id), code=303)


@bp.post("/gemeenten/beheerders/uitnodigen")
def administrator_invite():
    """A one-time invite link for another administrator."""
    invite, token = invite_administrator(db(), g.current_member)
    db().commit()
    return _render_invite_link(invite, token, back=url_for("foundation.municipalities"))


def _invite_gone():
    flash(_("Deze uitnodiging was al gebruikt, ingetrokken of verlopen."), "info")
    return redirect(url_for("foundation.municipalities"), code=303)


@bp.post("/gemeenten/uitnodigingen/<int:invite_id>/intrekken")
@refusal_shows(lambda _violation: _invite_gone())  # used, revoked or expired in the meantime
def administrator_invite_revoke():
    """Revoke an open invite for a coordinator or an administrator: its link no longer works."""
    revoke_invite(db(), g.invite)
    db().commit()
    flash(_("De uitnodiging is ingetrokken. De link werkt niet meer."), "info")
    return redirect(url_for("foundation.municipalities"), code=303)


def _render_municipality(status=200, errors=None, name=None):
    coordinators = coordinators_of(db(), g.municipality.id)
    chosen = chosen_municipality()
    return render_template("foundation/municipality.html", municipality=g.municipality, coordinators=coordinators,
                           is_chosen=chosen is not None and chosen.id == g.municipality.id, errors=errors or {},
                           name=g.municipality.name if name is None else name), status


@bp.get("/gemeenten/<int:municipality_id>")
def municipality():
    """One municipality: its name, its coordinators, working in it, inviting a coordinator."""
    return _render_municipality()


@bp.post("/gemeenten/<int:municipality_id>/naam")
@_refused_name(_render_municipality)
def municipality_rename():
    """Give the municipality another name."""
    return _renamed(rename_municipality, g.municipality,
                    url_for("foundation.municipality", municipality_id=g.municipality.id))


@bp.post("/gemeenten/<int:municipality_id>/kiezen")
def municipality_choose():
    """Work in this municipality: the coordinator's pages (/beheer) now show it."""
    choose_municipality(g.municipality)
    return redirect(url_for("admin.overview"), code=303)


@bp.post("/gemeenten/<int:municipality_id>/coordinator")
def municipality_coordinator_invite():
    """A one-time invite link for a coordinator of this municipality; the administrator now works in it, so
    the link page's e-mail form and the open invites on /beheer/leden are this municipality's."""
    invite, token = invite_coordinator(db(), g.current_member, g.municipality.id)
    choose_municipality(g.municipality)
    db().commit()
    return _render_invite_link(invite, token, back=url_for("foundation.municipality",
                                                           municipality_id=g.municipality.id))


# districts and teams (coordinators; administrators in the chosen municipality)

def _render_setup(status=200, errors=None, values=None):
    return render_template("foundation/setup.html", districts=districts_of(db(), g.municipality_id),
                           open_districts=districts_of(db(), g.municipality_id, archived=False),
                           teams=teams_of(db(), g.municipality_id), errors=errors or {}, values=values or {}), status


def _refused_on_setup(prefix, fields):
    """A refusal draws the setup page again, the message beside `prefix` + its field, the typed values kept."""
    return refusal_shows(lambda violation: _render_setup(
        422, {prefix + (violation.field or fields[0]): violation.message},
        {prefix + field: request.form.get(field, "") for field in fields}))


@bp.get("/inrichting")
def setup():
    """The municipality's districts and teams, with the forms to add them."""
    return _render_setup()


@bp.post("/inrichting/stadsdelen")
@_refused_on_setup("district_", ["name"])
def district_add():
    """Add a district to the municipality."""
    district = add_district(db(), g.municipality_id, request.form.get("name"), actor_id=g.current_member.id)
    db().commit()
    flash(_("Stadsdeel %(name)s is toegevoegd.", name=district.name), "info")
    return redirect(url_for("foundation.setup"), code=303)


def _render_district(status=200, errors=None, name=None):
    teams = [team for team, _district in teams_of(db(), g.municipality_id) if team.district_id == g.district.id]
    return render_template("foundation/district.html", district=g.district, teams=teams, errors=errors or {},
                           name=g.district.name if name is None else name), status


@bp.get("/inrichting/stadsdelen/<int:district_id>")
def district():
    """One district: its teams, its name, archiving it."""
    return _render_district()


@bp.post("/inrichting/stadsdelen/<int:district_id>/naam")
@_refused_name(_render_district)
def district_rename():
    """Give the district another name."""
    return _renamed(rename_district, g.district, url_for("foundation.district", district_id=g.district.id))


@bp.post("/inrichting/stadsdelen/<int:district_id>/archiveren")
@refusal_shows(lambda violation: _render_district(422, {"archive": violation.message}))
def district_archive():
    """Archive the district: no new teams in it; its teams' history stays."""
    archive_district(db(), g.district, actor_id=g.current_member.id)
    db().commit()
    flash(_("Stadsdeel %(name)s is gearchiveerd.", name=g.district.name), "info")
    return redirect(url_for("foundation.setup"), code=303)


@bp.post("/inrichting/stadsdelen/<int:district_id>/terugzetten")
@refusal_shows(lambda violation: _render_district(422, {"restore": violation.message}))
def district_restore():
    """Take the archived district into use again; its teams stay archived until each is restored."""
    restore_district(db(), g.district, actor_id=g.current_member.id)
    db().commit()
    flash(_("Stadsdeel %(name)s is weer in gebruik.", name=g.district.name), "info")
    return redirect(url_for("foundation.district", district_id=g.district.id), code=303)


#: how many setup changes the page shows, newest first
SETUP_CHANGES_SHOWN = 200
#: the fields a setup event's `changed` may name, as the page says them
CHANGED_FIELDS = {"name": _l("naam"), "name_nl": _l("Nederlandse naam"), "name_en": _l("Engelse naam"),
                  "description": _l("omschrijving"), "link": _l("link"), "categories": _l("soorten uitgaven"),
                  "reference_cost_cents": _l("kosten"), "source": _l("bron"), "is_example": _l("voorbeeldbedrag"),
                  "position": _l("plaats")}
#: changes whose old and new value the page shows; of the others it says only that they changed
_SHOWN_VALUES = {"name", "name_nl", "name_en", "position", "reference_cost_cents"}


def _described(detail: dict) -> tuple[str, list[str]]:
    """A setup event's name (in the current language) and a line per changed field."""
    name = detail.get("name") or (detail.get("name_en") if language() == "en" else None) or detail.get("name_nl", "")
    lines = []
    for field, change in (detail.get("changed") or {}).items():
        label = CHANGED_FIELDS.get(field, field)
        if field not in _SHOWN_VALUES:
            lines.append(_("%(field)s gewijzigd", field=label))
            continue
        old, new = change.get("old"), change.get("new")
        if field == "reference_cost_cents":
            old, new = format_cents(old), format_cents(new)
        lines.append(_("%(field)s: %(old)s → %(new)s", field=label, old=old, new=new))
    return name, lines


@bp.get("/inrichting/wijzigingen")
def setup_changes_page():
    """The newest changes of the municipality's setup, newest first: when, who, what."""
    rows = [(event, actor, *_described(event.detail or {}))
            for event, actor in setup_changes(db(), g.municipality_id, limit=SETUP_CHANGES_SHOWN)]
    return render_template("foundation/setup_changes.html", rows=rows, shown=SETUP_CHANGES_SHOWN)


TEAM_FIELDS = ["name", "district_id", "iban"]


def _team_values():
    return {"name": request.form.get("name"), "district_id": parse_id(request.form.get("district_id")),
            "iban": request.form.get("iban")}


@bp.post("/inrichting/teams")
@_refused_on_setup("team_", TEAM_FIELDS)
def team_create():
    """Add a team: name, district and bank account; its rules start at the defaults."""
    team = create_team(db(), g.municipality_id, actor_id=g.current_member.id, **_team_values())
    db().commit()
    flash(_("%(name)s is aangemaakt. Nodig de leden uit en kijk de regels na.", name=team.name), "info")
    return redirect(url_for("admin.team_members", team_id=team.id), code=303)


def _render_team(status=200, errors=None, values=None):
    values = values or {"name": g.team.name, "district_id": str(g.team.district_id), "iban": formatted_iban(g.team.iban)}
    districts = [d for d in districts_of(db(), g.municipality_id) if d.archived_at is None or d.id == g.team.district_id]
    return render_template("foundation/team.html", team=g.team, districts=districts, errors=errors or {},
                           values=values), status


@bp.get("/inrichting/teams/<int:team_id>")
def team():
    """One team's name, district and bank account, and archiving it."""
    return _render_team()


@bp.post("/inrichting/teams/<int:team_id>")
@refusal_shows(lambda violation: _render_team(422, {violation.field or "name": violation.message},
                                              {field: request.form.get(field, "") for field in TEAM_FIELDS}))
def team_save():
    """Change the team's name, district or bank account."""
    edit_team(db(), g.team, actor_id=g.current_member.id, **_team_values())
    db().commit()
    flash(_("De gegevens van %(name)s zijn opgeslagen.", name=g.team.name), "info")
    return redirect(url_for("foundation.team", team_id=g.team.id), code=303)


@bp.post("/inrichting/teams/<int:team_id>/archiveren")
@refusal_shows(lambda violation: _render_team(422, {"archive": violation.message}))
def team_archive():
    """Archive the team: no new requests; its history stays readable."""
    archive_team(db(), g.team, actor_id=g.current_member.id)
    db().commit()
    flash(_("%(name)s is gearchiveerd.", name=g.team.name), "info")
    return redirect(url_for("foundation.setup"), code=303)


@bp.post("/inrichting/teams/<int:team_id>/terugzetten")
@refusal_shows(lambda violation: _render_team(422, {"restore": violation.message}))
def team_restore():
    """Take the archived team into use again: it is in the lists and takes new requests."""
    restore_team(db(), g.team, actor_id=g.current_member.id)
    db().commit()
    flash(_("%(name)s is weer in gebruik.", name=g.team.name), "info")
    return redirect(url_for("foundation.team", team_id=g.team.id), code=303)
