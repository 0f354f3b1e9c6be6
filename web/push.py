"""Web Push: a member's devices opt in, and committed notices are sent to them (VAPID, pywebpush).

URL table (signed in; a subscription is only ever the member's own):
  GET  /meldingen/sleutel      the server's VAPID public key (applicationServerKey)
  POST /meldingen/aanmelden    store this device's PushSubscription (JSON from PushManager.subscribe)
  POST /meldingen/afmelden     forget this device ({"endpoint": …})

Command: `flask --app web send-reminders` reminds members of requests waiting for their vote (cron).

Invariants:
- Only what a commit handed on (models.push.take_committed) is sent, after the response's transaction
  ended, on a small thread pool: a vote never waits for a push service. Each send has a short timeout.
- A message names the team, the amount and the cost category and links to the request; never the
  situation, a household or anyone's name. Logs name the subscription's id and the status, nothing else.
- A push service that answers 404 or 410 has dropped the subscription: it is removed.
- Only an endpoint of an allowed push service (PUSH_ALLOWED_HOSTS) is stored or sent to, and a message
  goes only to a public address of it, checked in the connection itself (web/push_network.py). A
  subscription refused at sending (its host now resolves to a private address, or the allow-list
  changed) is kept, not removed: that is a fault of DNS or configuration, not of the device, and
  removing it would silently end a member's notifications; it is tried again with the next message.
- The VAPID key comes from VAPID_PRIVATE_KEY or is generated once into instance/vapid_private_key.pem
  (mode 0600) and reused, like the other secrets (web/config.py).
"""
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import click
from cryptography.hazmat.primitives import serialization
from flask import Blueprint, current_app, g, jsonify
from flask.cli import with_appcontext
from flask_babel import force_locale, gettext as _
from flask_login import current_user
from py_vapid import Vapid, b64urlencode
from pywebpush import WebPushException, webpush

from models.db import begin_write
from models.push import (
    DEFAULT_PUSH_HOSTS, NoticeKind, PushSubscription, is_push_service_endpoint, push_hosts, queue_due_reminders,
    remove_expired, subscribe, subscriptions_of, take_committed, unsubscribe)
from models.requests import RequestStatus, SpendRequest
from models.rules import RuleViolation
from models.teams import CostCategory, Team
from web.access import signed_in_member
from web.bounds import json_object
from web.database import db
from web.i18n import category_name, format_cents, select_locale
from web.push_network import AddressRefused, push_session

bp = Blueprint("push", __name__, url_prefix="/meldingen")
log = logging.getLogger("teambudget.push")

KEY_FILE = "vapid_private_key.pem"
EXPIRED = (404, 410)
TTL_SECONDS = 24 * 60 * 60  # a phone that is off for a day still hears about it; after that it is stale


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


def vapid(app) -> Vapid:
    """The server's VAPID key: from the environment, else generated once into the instance folder."""
    if "vapid" in app.extensions:
        return app.extensions["vapid"]
    configured = app.config.get("VAPID_PRIVATE_KEY")
    if configured:
        key = Vapid.from_pem(configured.encode()) if "-----BEGIN" in configured else Vapid.from_string(configured)
    else:
        path = os.path.join(app.instance_path, KEY_FILE)
        if not os.path.exists(path):
            os.makedirs(app.instance_path, exist_ok=True)
            generated = Vapid()
            generated.generate_keys()
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(generated.private_pem())
        key = Vapid.from_file(path)
    app.extensions["vapid"] = key
    return key


def public_key(app) -> str:
    """The VAPID public key as the browser's applicationServerKey wants it (base64url, uncompressed point)."""
    raw = vapid(app).public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64urlencode(raw)


def subject(app) -> str:
    """Who runs this server, for the push services: VAPID_SUBJECT, else the HTTPS origin."""
    origin = app.config["WEBAUTHN_ORIGIN"]
    return app.config.get("VAPID_SUBJECT") or (origin if origin.startswith("https://") else "mailto:beheer@localhost")


# --- sending ---

class Sender:
    """A small thread pool that sends committed notices, so no request waits for a push service."""

    def __init__(self, app):
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="push")
        self.futures = []
        self.lock = threading.Lock()  # requests of a threaded server submit at the same time

    def submit(self, notices):
        """Send `notices` in the background."""
        with self.lock:
            self.futures = [future for future in self.futures if not future.done()]
            self.futures.append(self.pool.submit(self.send, notices))

    def wait(self, timeout=10):
        """Wait until everything submitted so far was sent (tests, the reminder command)."""
        with self.lock:
            futures = list(self.futures)
        wait(futures, timeout=timeout)

    def close(self):
        """Finish what was submitted and stop the threads (before the app's engine is disposed)."""
        self.pool.shutdown(wait=True)

    def send(self, notices):
        """Write and send each notice to every device of its members; remove expired devices."""
        with self.app.app_context(), push_session(self.app.config["PUSH_ALLOWED_HOSTS"],
                                                  self.app.config["PUSH_ALLOW_PRIVATE_ADDRESSES"]) as http:
            try:
                for notice in notices:
                    for subscription, payload in messages(notice):
                        deliver(subscription, payload, http)
                db().commit()
            except Exception as error:  # a background thread has no one to report to but the log
                log.error("push: sending failed (%s)", type(error).__name__)


def send_committed(_exception=None):
    """After a request: hand what its transactions committed to the sender."""
    session = g.get("db_session")
    notices = take_committed(session) if session is not None else []
    if notices:
        current_app.extensions["push"].submit(notices)


def messages(notice):
    """(subscription, JSON payload) for each device that should hear about `notice`."""
    devices = subscriptions_of(db(), notice.member_ids)
    spend_request = db().get(SpendRequest, notice.request_id) if devices else None
    if spend_request is None:  # most members have no device that wants pushes: nothing more to read
        return []
    team = db().get(Team, spend_request.team_id)
    category = db().get(CostCategory, spend_request.cost_category_id) if spend_request.cost_category_id else None
    # a path: the worker opens it on its own origin (there is no request to build a full URL from)
    url = current_app.url_map.bind("localhost").build("requests.show", {"team_id": team.id,
                                                                       "request_id": spend_request.id})
    out = []
    for subscription in devices:
        with force_locale(subscription.locale):
            title, body = _text(notice.kind, spend_request, team, category)
        out.append((subscription, json.dumps({"title": title, "body": body, "url": url,
                                              "tag": f"request-{spend_request.id}"}, ensure_ascii=False)))
    return out


def _text(kind, spend_request, team, category):
    """Title and body in the device's language: team, amount, cost category; nothing about people."""
    what = category_name(category).lower()
    if kind == NoticeKind.POSTED:
        return (_("Nieuwe aanvraag in %(team)s", team=team.name),
                _("%(amount)s voor %(category)s. Tik om te stemmen.", amount=format_cents(spend_request.amount_cents),
                  category=what))
    if kind == NoticeKind.REMINDER:
        return (_("Een aanvraag wacht op je stem"),
                _("%(team)s: %(amount)s voor %(category)s.", team=team.name,
                  amount=format_cents(spend_request.amount_cents), category=what))
    titles = {RequestStatus.GRANTED: _("Je aanvraag is toegekend"), RequestStatus.REJECTED: _("Je aanvraag is afgewezen"),
              RequestStatus.SOLVED: _("Je aanvraag is opgelost met een andere voorziening"),
              RequestStatus.EXPIRED: _("Je aanvraag is verlopen")}
    amount = spend_request.granted_amount_cents or spend_request.amount_cents
    return (titles.get(spend_request.status, _("Er is besloten over je aanvraag")),
            _("%(team)s: %(amount)s voor %(category)s.", team=team.name, amount=format_cents(amount), category=what))


def deliver(subscription: PushSubscription, payload: str, http) -> None:
    """Encrypt and send one message over `http` (web.push_network.push_session); a subscription the
    push service no longer knows is removed, one that is not a push service's is not contacted."""
    app = current_app._get_current_object()
    # again here: a row stored before the allow-list existed, or since taken off it, is never contacted
    if not is_push_service_endpoint(subscription.endpoint, app.config["PUSH_ALLOWED_HOSTS"],
                                    allow_insecure=app.config["PUSH_ALLOW_INSECURE_ENDPOINTS"]):
        log.warning("push: subscription %s not sent (not a push service)", subscription.id)
        return
    info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
    try:
        webpush(info, payload, vapid_private_key=vapid(app), vapid_claims={"sub": subject(app)},
                ttl=TTL_SECONDS, timeout=app.config["PUSH_TIMEOUT_SECONDS"], requests_session=http)
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in EXPIRED:
            begin_write(db())  # this thread's transaction read the devices; SQLite cannot upgrade it
            remove_expired(db(), subscription.id)
            log.info("push: subscription %s expired (%s), removed", subscription.id, status)
        else:
            log.warning("push: subscription %s refused (%s)", subscription.id, status)
    except AddressRefused:
        log.warning("push: subscription %s not sent (address refused)", subscription.id)
    except Exception as error:  # timeouts, refused connections, a key the service cannot use
        log.warning("push: subscription %s not reached (%s)", subscription.id, type(error).__name__)


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
    begin_write(db())
    try:
        subscribe(db(), current_user.id, json_object(), locale=select_locale(),
                  allow_insecure=current_app.config["PUSH_ALLOW_INSECURE_ENDPOINTS"],
                  allowed_hosts=current_app.config["PUSH_ALLOWED_HOSTS"])
    except RuleViolation as violation:
        db().rollback()
        return jsonify(error=str(violation.message)), 422
    db().commit()
    return jsonify(subscribed=True)


@bp.post("/afmelden")
def remove():
    """Forget this device (the browser unsubscribes itself too)."""
    begin_write(db())
    endpoint = json_object().get("endpoint")
    removed = unsubscribe(db(), current_user.id, endpoint if isinstance(endpoint, str) else "")
    db().commit()
    return jsonify(subscribed=False, removed=removed)


@click.command("send-reminders")
@with_appcontext
def send_reminders_command():
    """Remind members of open requests still waiting for their vote (each member and request once)."""
    failed_teams = {}
    begin_write(db())  # cron runs it beside the app: on SQLite it writes under the write lock from the start
    count = queue_due_reminders(db(), failed_teams=failed_teams)
    db().commit()
    sender = current_app.extensions["push"]
    sender.submit(take_committed(db()))
    sender.wait(timeout=60)
    click.echo(f"{count} reminder(s) sent.")
    for team_id, error in sorted(failed_teams.items()):  # ids only: the log holds no names
        log.error("send-reminders: the reminders of team %s failed (%s)", team_id, error)
        click.echo(f"The reminders of team {team_id} failed ({error}); the other teams were reminded.", err=True)
    if failed_teams:
        raise SystemExit(1)  # so cron reports it
