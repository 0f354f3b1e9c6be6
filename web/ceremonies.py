"""Glue between the passkey scripts in the browser and the WebAuthn rules in models/passkeys.

The browser asks for options (JSON), runs the ceremony and posts the credential back as JSON
(`PublicKeyCredential.toJSON()`); refusals come back as `{"error": "..."}` with a 4xx status.
"""
import re

from flask import current_app, jsonify, request
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from models.clock import utcnow
from models.invites import InviteUnusable
from models.passkeys import RelyingParty
from models.rules import RuleViolation


def relying_party() -> RelyingParty:
    """The relying party as configured: exact id and origin."""
    config = current_app.config
    return RelyingParty(id=config["WEBAUTHN_RP_ID"], name=config["WEBAUTHN_RP_NAME"],
                        origin=config["WEBAUTHN_ORIGIN"])


def posted_credential() -> dict:
    """The credential JSON the browser posted, or RuleViolation when it is not a JSON object."""
    body = request.get_json(silent=True)
    credential = body.get("credential") if isinstance(body, dict) else None
    if not isinstance(credential, dict):
        raise RuleViolation(_l("Dit antwoord van de passkey is niet leesbaar."))
    return credential


def refusal(violation: RuleViolation, status: int = 400):
    """A refused ceremony as JSON, naming the field when there is one; a link that cannot be used is 410.
    Views declare it with `@refusal_shows(refusal)` (web/respond.py)."""
    return jsonify(error=str(violation.message), field=violation.field), 410 if isinstance(violation, InviteUnusable) else status


_DEVICE_HINTS = [("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Macintosh", "Mac"),
                 ("Windows", "Windows"), ("CrOS", "Chromebook"), ("Linux", "Linux")]


def default_passkey_name() -> str:
    """A name the member will recognise: the kind of device and today's date."""
    agent = request.headers.get("User-Agent", "")
    device = next((label for hint, label in _DEVICE_HINTS if re.search(hint, agent)), "Passkey")
    return f"{device} · {format_date(utcnow(), 'short')}"
