"""Web Push: a member's devices opt in, and committed notices are sent to them (VAPID, pywebpush).

URL table (signed in; a subscription is only ever the member's own):
  GET  /meldingen/sleutel      the server's VAPID public key (applicationServerKey)
  POST /meldingen/aanmelden    store this device's PushSubscription (JSON from PushManager.subscribe)
  POST /meldingen/afmelden     forget this device ({"endpoint": …})

Command: `flask --app web send-reminders` reminds members of requests waiting for their vote, and asks
requesters how a grant went 30 days on (models.outcome_reviews; cron).

The module's parts: web/push_keys.py (the VAPID key file), web/push_sender.py (the thread pool that
sends), web/push_texts.py (who is told what), web/push_network.py (connections to public addresses only).

Invariants:
- Only what a commit handed on (models.events.take_committed) is sent, after the response's transaction
  ended (the `send_committed` teardown), by the sender's threads: a vote never waits for a push service.
- A subscription is only ever the signed-in member's own, and only an endpoint of an allowed push
  service (PUSH_ALLOWED_HOSTS) is stored (models.subscriptions).
"""
import logging
import os

import click
from flask import Blueprint, current_app, g, jsonify
from flask.cli import with_appcontext
from flask_login import current_user

from models.db import begin_write
from models.clock import utcnow
from models.events import take_committed
from models.outcome_reviews import ask_due_reviews
from models.subscriptions import DEFAULT_PUSH_HOSTS, push_hosts, remind_waiting_voters, subscribe, unsubscribe
from web.access import signed_in_member
from web.bounds import json_object
from web.database import db
from web.i18n import language
from web.push_keys import public_key
from web.push_sender import Sender
from web.respond import respond

bp = Blueprint("push", __name__, url_prefix="/meldingen")
log = logging.getLogger("teambudget.push")


def init_app(app):
    """Read the push settings, start the sender's thread pool, send what each request committed."""
    app.config.setdefault("VAPID_PRIVATE_KEY", os.environ.get("VAPID_PRIVATE_KEY"))
    app.config.setdefault("VAPID_SUBJECT", os.environ.get("VAPID_SUBJECT"))
    app.config.setdefault("PUSH_TIMEOUT_SECONDS", float(os.environ.get("PUSH_TIMEOUT_SECONDS", 5)))
    #: tests push to a stub on loopback over plain HTTP; real push services are HTTPS
    app.config.setdefault("PUSH_ALLOW_INSECURE_ENDPOINTS", False)
    app.config.setdefault("PUSH_ALLOWED_HOSTS", os.environ.get("PUSH_ALLOWED_HOSTS") or DEFAULT_PUSH_HOSTS)
    app.config["PUSH_ALLOWED_HOSTS"] = push_hosts(app.config["PUSH_ALLOWED_HOSTS"])
    #: tests only (the stub listens on loopback): skip the check that a push host's address is public
    app.config.setdefault("PUSH_ALLOW_PRIVATE_ADDRESSES", False)
    app.extensions["push"] = Sender(app)
    app.teardown_request(send_committed)
    app.cli.add_command(send_reminders_command)


def send_committed(_exception=None):
    """After a request: hand what its transactions committed to the sender."""
    session = g.get("db_session")
    outcomes = take_committed(session) if session is not None else []
    if outcomes:
        current_app.extensions["push"].submit(outcomes)


# --- the member's devices ---

@bp.before_request
def members_only():
    """Signed-in members only."""
    signed_in_member()


@bp.get("/sleutel")
def key():
    """The public key that the browser's PushManager.subscribe needs."""
    return jsonify(publicKey=public_key(current_app))


@bp.post("/aanmelden")
def add():
    """Store this device's subscription for the signed-in member."""
    subscribe(db(), current_user.id, json_object(), locale=language(),  # "nl" or "en": the language, not its formats
              allow_insecure=current_app.config["PUSH_ALLOW_INSECURE_ENDPOINTS"],
              allowed_hosts=current_app.config["PUSH_ALLOWED_HOSTS"])  # a refusal: web/respond.py, JSON 422
    return respond(json={"subscribed": True})


@bp.post("/afmelden")
def remove():
    """Forget this device (the browser unsubscribes itself too)."""
    endpoint = json_object().get("endpoint")
    removed = unsubscribe(db(), current_user.id, endpoint if isinstance(endpoint, str) else "")
    db().commit()
    return jsonify(subscribed=False, removed=removed)


@click.command("send-reminders")
@with_appcontext
def send_reminders_command():
    """Remind members of open requests still waiting for their vote (each member and request once), and ask
    about grants 30 days old (each once)."""
    failed_teams = {}
    begin_write(db())  # cron runs it beside the app: on SQLite it writes under the write lock from the start
    count = remind_waiting_voters(db(), failed_teams=failed_teams)
    db().commit()
    begin_write(db())
    reviews = len(ask_due_reviews(db(), utcnow()))  # outcome reviews: 30 days after a grant
    db().commit()
    sender = current_app.extensions["push"]
    sender.submit(take_committed(db()))
    sender.wait(timeout=60)
    click.echo(f"{count} reminder(s) sent.")
    click.echo(f"{reviews} outcome review(s) asked.")
    for team_id, error in sorted(failed_teams.items()):  # ids only: the log holds no names
        log.error("send-reminders: the reminders of team %s failed (%s)", team_id, error)
        click.echo(f"The reminders of team {team_id} failed ({error}); the other teams were reminded.", err=True)
    if failed_teams:
        raise SystemExit(1)  # so cron reports it
