"""Signing in and out with a passkey, and redeeming an invite.

URL table (public: no sign-in needed):
  GET  /inloggen                         sign-in page (button and passkey autofill)
  POST /inloggen/opties                  request options for a discoverable passkey
  POST /inloggen/controle                verify the assertion, start a session
  POST /uitloggen                        end the session on the server
  GET  /uitnodiging/<token>              invite page: name (new member) and "create passkey"
  POST /uitnodiging/<token>/opties       creation options for this invite
  POST /uitnodiging/<token>/afronden     verify the new passkey, redeem the invite, sign in

Rate limits per address (web/rate_limits.py): what issues a challenge counts every call; what checks a
token or an assertion counts only its failures, so a genuine link or passkey is never refused for visits.
"""
from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from models.invites import InviteKind, InviteUnusable, redeem_invite, usable_invite
from models.members import Member, clean_display_name, new_user_handle
from models.passkeys import add_passkey, registration_options, sign_in_options, verify_sign_in
from models.rules import RuleViolation
from models.sign_in import consume_challenge, issue_challenge
from web.ceremonies import default_passkey_name, posted_credential, refusal, relying_party
from web.database import db
from web.extensions import limiter
from web.rate_limits import counts_failures
from web.respond import refusal_shows
from web.security import ceremony_key, safe_next, sign_in as start_session, sign_out as end_session

bp = Blueprint("auth", __name__)


def _sign_in_limit():
    return current_app.config["RATELIMIT_SIGN_IN"]


def _invite_limit():
    return current_app.config["RATELIMIT_INVITE"]


@bp.get("/inloggen")
def sign_in():
    """The sign-in page; a signed-in member goes straight home."""
    if current_user.is_authenticated:
        return redirect(url_for("shell.home"))
    return render_template("auth/sign_in.html", next=safe_next(request.args.get("next"), ""))


@bp.post("/inloggen/opties")
@limiter.limit(_sign_in_limit)
def sign_in_begin():
    """Options for signing in with any passkey of this site (no username typed)."""
    challenge = issue_challenge(db(), session_key=ceremony_key(), purpose="authenticate")
    options = sign_in_options(relying_party(), challenge=challenge.challenge)
    db().commit()
    return current_app.response_class(options, mimetype="application/json")


@bp.post("/inloggen/controle")
@counts_failures("RATELIMIT_SIGN_IN", "sign-in")
@refusal_shows(refusal)
def sign_in_finish():
    """Check the assertion and sign the member in."""
    credential = posted_credential()
    challenge = consume_challenge(db(), session_key=ceremony_key(), purpose="authenticate",
                                  credential=credential)
    db().commit()  # the challenge is spent even if the assertion turns out to be wrong
    member = verify_sign_in(db(), relying_party(), credential, expected_challenge=challenge.challenge)
    start_session(member)
    db().commit()
    next_page = safe_next((request.get_json(silent=True) or {}).get("next"), url_for("shell.home"))
    return jsonify(redirect=next_page)


@bp.post("/uitloggen")
def sign_out():
    """End the session here and on the server."""
    end_session()
    db().commit()
    response = redirect(url_for("auth.sign_in"), code=303)
    # The service worker's copies of team pages live in "storage": a shared phone keeps nothing of the team.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.get("/uitnodiging/<token>")
@counts_failures("RATELIMIT_INVITE", "invite")
def invite(token):
    """The invite page, or a clear explanation why the link no longer works."""
    try:
        found = usable_invite(db(), token)
    except InviteUnusable as unusable:
        return render_template("auth/invite_unusable.html", message=unusable.message), 410
    member = db().get(Member, found.member_id) if found.member_id else None
    return render_template("auth/invite.html", invite=found, member=member, token=token,
                           is_recovery=found.kind == InviteKind.RECOVERY)


@bp.post("/uitnodiging/<token>/opties")
@limiter.limit(_invite_limit)
@refusal_shows(lambda violation: refusal(violation, 422))
def invite_begin(token):
    """Creation options for the passkey this invite lets someone make."""
    found = usable_invite(db(), token)
    if found.kind == InviteKind.RECOVERY:
        member = db().get(Member, found.member_id)
        user_handle, display_name = member.user_handle, member.display_name
        binding = {"member_id": member.id}
    else:
        display_name = clean_display_name(request.form.get("display_name"))
        user_handle = new_user_handle()
        binding = {"user_handle": user_handle, "display_name": display_name}
    challenge = issue_challenge(db(), session_key=ceremony_key(), purpose="register",
                                invite_id=found.id, **binding)
    options = registration_options(relying_party(), user_handle=user_handle, display_name=display_name,
                                   challenge=challenge.challenge, exclude=[])
    db().commit()
    return current_app.response_class(options, mimetype="application/json")


@bp.post("/uitnodiging/<token>/afronden")
@counts_failures("RATELIMIT_INVITE", "invite")
@refusal_shows(refusal)
def invite_finish(token):
    """Verify the new passkey, redeem the invite and sign the member in, all in one transaction."""
    found = usable_invite(db(), token)
    credential = posted_credential()
    challenge = consume_challenge(db(), session_key=ceremony_key(), purpose="register", credential=credential)
    db().commit()  # spent even if what follows fails; the invite itself stays usable then
    if challenge.invite_id != found.id:
        raise RuleViolation(_l("Deze poging hoort bij een andere uitnodiging. Open de link opnieuw."))
    member = redeem_invite(db(), found, display_name=challenge.display_name, user_handle=challenge.user_handle)
    add_passkey(db(), relying_party(), member, credential, expected_challenge=challenge.challenge,
                name=default_passkey_name())
    start_session(member)
    db().commit()
    return jsonify(redirect=url_for("shell.home"))

