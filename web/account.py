"""The signed-in member's own passkeys.

URL table (signed in; a passkey id is only ever the member's own):
  GET  /mijn-passkeys                        list
  POST /mijn-passkeys/opties                 creation options for one more passkey
  POST /mijn-passkeys/toevoegen              verify and store it
  POST /mijn-passkeys/<passkey_id>/naam      rename
  POST /mijn-passkeys/<passkey_id>/verwijderen   remove (never the last)
  POST /mijn-passkeys/organisatie            the organisation a client sees beside my first name
"""
from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from models.db import begin_write
from models.members import Member, set_organisation

from models.passkeys import (
    Passkey, active_passkeys, add_passkey, registration_options, remove_passkey, rename_passkey)
from models.sign_in import consume_challenge, issue_challenge
from web.ceremonies import default_passkey_name, posted_credential, refusal, relying_party
from web.access import signed_in_member
from web.database import db
from web.htmx import render_page_or_partial
from web.respond import refusal_shows, respond
from web.security import ceremony_key

bp = Blueprint("account", __name__, url_prefix="/mijn-passkeys")


@bp.url_value_preprocessor
def load_own_passkey(_endpoint, values):
    """Signed-in members only; another member's passkey is simply not found."""
    member = signed_in_member()
    if values and "passkey_id" in values:
        passkey = db().get(Passkey, values.pop("passkey_id"))
        if passkey is None or passkey.member_id != member.id or passkey.revoked_at is not None:
            abort(404)
        g.passkey = passkey


def _render_list(status=200, error=None, error_for=None, organisation=None, organisation_errors=None):
    """The page (or the passkey list); `organisation`: a refused organisation, shown again with its errors."""
    return render_page_or_partial("account/passkeys.html", "account/_passkey_list.html", status,
                                  passkeys=active_passkeys(db(), current_user.id), error=error,
                                  error_for=error_for, organisation=organisation,
                                  organisation_errors=organisation_errors or {})


@bp.get("")
def passkeys():
    """The member's passkeys, with rename, remove and add."""
    return _render_list()


@bp.post("/opties")
def add_begin():
    """Options for another passkey, excluding the ones the member already has."""
    challenge = issue_challenge(db(), session_key=ceremony_key(), purpose="register", member_id=current_user.id)
    options = registration_options(relying_party(), user_handle=current_user.user_handle,
                                   display_name=current_user.display_name, challenge=challenge.challenge,
                                   exclude=active_passkeys(db(), current_user.id))
    db().commit()
    return current_app.response_class(options, mimetype="application/json")


@bp.post("/toevoegen")
@refusal_shows(refusal)
def add_finish():
    """Verify and store the new passkey."""
    credential = posted_credential()
    challenge = consume_challenge(db(), session_key=ceremony_key(), purpose="register", credential=credential)
    db().commit()  # the challenge is spent even if what follows refuses
    if challenge.member_id != current_user.id:
        abort(403)
    add_passkey(db(), relying_party(), current_user, credential, expected_challenge=challenge.challenge,
                name=default_passkey_name())
    db().commit()
    return jsonify(redirect=url_for("account.passkeys"))


@bp.post("/organisatie")
@refusal_shows(lambda violation: _render_list(  # the refused text stays in the field, the message beside it
    422, organisation=request.form.get("organisation", ""), organisation_errors={"organisation": violation.message}))
def organisation():
    """Set the organisation a client sees beside my first name on the handover page."""
    begin_write(db())
    set_organisation(db(), db().get(Member, current_user.id), request.form.get("organisation"))
    db().commit()
    flash(_("Je organisatie is opgeslagen."), "info")
    return redirect(url_for("account.passkeys"), code=303)


#: a refused rename or removal shows the list again with the message beside that passkey
_list_refused = refusal_shows(lambda violation: _render_list(422, violation.message, g.passkey.id))


@bp.post("/<int:passkey_id>/naam")
@_list_refused
def rename():
    """Rename one passkey."""
    rename_passkey(db(), g.passkey, request.form.get("name"))
    return _after_change()


@bp.post("/<int:passkey_id>/verwijderen")
@_list_refused
def remove():
    """Remove one passkey, never the last."""
    remove_passkey(db(), g.passkey)
    return _after_change()


def _after_change():
    """The list for htmx, back to the page for a plain form (committed first, by `respond`)."""
    return respond(back=url_for("account.passkeys"), page="account/passkeys.html", part="account/_passkey_list.html",
                   context=lambda: {"passkeys": active_passkeys(db(), current_user.id), "error": None, "error_for": None})

