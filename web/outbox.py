"""The outbox: the page that lists what this phone still has to send, and exactly-once replays.

URL table:
  GET /uitbak            the outbox page (public: the worker keeps it in the shell, so it opens offline;
                         it holds nothing of a member, the list is drawn from the phone's IndexedDB)
  GET /uitbak/sleutel    a fresh CSRF token for a replay and the member's owner tag (signed in; 401 as JSON
                         when signed out)

Whose items: a shared phone may hold items of several members. Every item carries the owner tag of the
member who queued it (`owner_tag`, an HMAC of the member id with SECRET_KEY: it names nobody, and is the
same in every session of that member), read from the layout's <meta name="outbox-owner">. The phone sends
only the items whose tag is the one /uitbak/sleutel answers; the rest wait for their member.

Exactly once: a POST that carries OPERATION_HEADER (a UUID the phone generated before its first
attempt) goes through `client_operation`. The same UUID with the same body gets the stored answer
again without being applied; with a different body a 409. A view applies it with `applied` (through
web/respond.py `respond`), which records the operation in the same transaction as the effect; a refusal
(`RuleViolation`, answered by web/respond.py) records nothing (models/outbox.py). A receipt upload is an
operation like any other: its photos count in the body by their SHA-256, so a replay stores no second photo.
"""
import hashlib
import hmac
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy.exc import IntegrityError

from models.outbox import ReusedOperation, body_digest, canonical_uuid, earlier_operation, record_operation
from models.requests import household_key
from web.database import db

bp = Blueprint("outbox", __name__, url_prefix="/uitbak")

OPERATION_HEADER = "Teambudget-Operation"
REPLAYED_HEADER = "Teambudget-Operation-Replayed"
#: form fields that say nothing about the operation itself
IGNORED_FIELDS = {"csrf_token"}


@bp.app_context_processor
def outbox_owner_helper():
    """The layout's owner tag for the signed-in member's outbox items."""
    return {"outbox_owner": lambda: owner_tag(current_user.id) if current_user.is_authenticated else ""}


def owner_tag(member_id: int) -> str:
    """An opaque, stable tag of a member for the phone's outbox: never the id or the name in clear."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"outbox-owner:" + str(member_id).encode(), hashlib.sha256).hexdigest()[:32]


@bp.get("")
def page():
    """The outbox page; outbox.js fills it from IndexedDB, so it needs no signed-in member."""
    response = current_app.make_response(render_template("outbox/page.html", shell_only=True))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sleutel")
def token():
    """A fresh CSRF token and the member's owner tag for replaying the outbox, or 401 when signed out."""
    if not current_user.is_authenticated:
        return jsonify(error=str(_l("Log opnieuw in om dit te versturen.")), signed_out=True), 401
    return jsonify(csrf_token=generate_csrf(), owner=owner_tag(current_user.id))


def _operation_fields() -> dict[str, list[str]]:
    """The posted fields, each posted file as its SHA-256 (a receipt photo), and a household reference
    replaced by its keyed hash before hashing."""
    fields = {key: values for key, values in request.form.lists() if key not in IGNORED_FIELDS}
    for key, files in request.files.lists():
        fields[f"{key}:sha256"] = [_file_digest(file) for file in files]
    references = [value for value in fields.pop("household_reference", []) if value.strip()]
    if references:
        fields["household_key"] = [household_key(current_app.config["HOUSEHOLD_KEY_SECRET"], value)
                                   for value in references]
    return fields


def _file_digest(file) -> str:
    """The SHA-256 of a posted file, read from its start and rewound for the view."""
    file.stream.seek(0)
    digest = hashlib.sha256(file.stream.read()).hexdigest()
    file.stream.seek(0)
    return digest


def _earlier_answer(client_uuid: str, digest: str):
    """The stored answer of an operation already applied, a 409 for a reused UUID, else None."""
    try:
        done = earlier_operation(db(), current_user.id, client_uuid, digest)
    except ReusedOperation as reused:
        db().rollback()
        return jsonify(error=str(reused.message), conflict="reused"), 409
    if done is None:
        return None
    db().rollback()  # nothing to write: let go of the write lock at once
    return current_app.response_class(done.response_body, status=done.status_code, mimetype="application/json",
                                      headers={REPLAYED_HEADER: "true"})


def client_operation(kind: str):
    """Make a POST view idempotent on OPERATION_HEADER; without the header the view runs as before."""
    def decorate(view):
        @wraps(view)
        def wrapper(**values):
            raw = request.headers.get(OPERATION_HEADER)
            if raw is None:
                return view(**values)
            client_uuid = canonical_uuid(raw)
            if client_uuid is None:
                return jsonify(error=str(_l("Dit bericht heeft geen geldige code."))), 400
            digest = body_digest(kind, _operation_fields())
            answer = _earlier_answer(client_uuid, digest)
            if answer is not None:
                return answer
            g.client_operation = (client_uuid, kind, digest)
            try:
                return view(**values)
            except IntegrityError:
                # Another attempt with this UUID committed first: answer as it was answered.
                db().rollback()
                answer = _earlier_answer(client_uuid, digest)
                if answer is None:
                    raise
                return answer
        return wrapper
    return decorate


def in_operation() -> bool:
    """Whether this request replays an outbox item (and wants JSON back)."""
    return "client_operation" in g


def applied(body: dict, status: int = 200):
    """Record the operation with its answer, commit it together with the effect, and answer."""
    client_uuid, kind, digest = g.client_operation
    record_operation(db(), current_user.id, client_uuid, kind, digest, status, body)
    db().commit()
    return jsonify(body), status
