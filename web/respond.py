"""The one way a POST answers, and the one place a refused rule is answered.

A POST runs: its blueprint's preprocessor (sign-in, load, access, the locks) → one verb from models/ →
commit → `respond(...)`. When the verb raises `RuleViolation`, the view does not catch it: the app's one
handler (`answer_refusal`, registered by web/errors.py) rolls back and answers it —
  - an outbox item (web/outbox.py `in_operation`) that wants JSON: `{"error", "field"}` with 422, nothing
    recorded (one sent by a page that wants its part back, receipts.js, is shown as below);
  - otherwise what the view declared with `@refusal_shows(render)`: `render(violation)` draws the form or
    the part of the page again with the message beside its field, usually through `respond(422, …)`;
  - a view that declared nothing: `{"error", "field"}` with 422 for a script that wants JSON, else the
    error page with the message.
Invariant: the rollback comes first, so whatever the refusal shows is read from committed state only (a
view that committed part of its work before the verb refused, like a spent passkey challenge or a saved
draft, keeps that part).
"""
from functools import wraps

from flask import g, jsonify, redirect, render_template, request

from web.database import db, rollback_request_session
from web.htmx import render_page_or_partial, wants_partial


def wants_json() -> bool:
    """A script (the swipe card, the passkey ceremonies, receipts.js) that reads the outcome as JSON."""
    return request.accept_mimetypes.best == "application/json" or request.is_json


def respond(status: int = 200, *, json: dict | None = None, back: str | None = None, page: str | None = None,
            part: str | None = None, context=None, **extra):
    """The answer of a POST, for whoever asked; a success (`status` below 400) is committed first:
    - an operation (Teambudget-Operation): `json` is recorded with it, and a replay gets that answer;
      the first answer is `json` too, or the part for a page that sent it itself (receipts.js);
    - a script that wants JSON: `json`;
    - a plain form that succeeded: 303 to `back`;
    - htmx: `part` with `status`; a plain form that was refused (or a view without `back`): `page`.
    `context()` gives what the page and its part show; `extra` (messages beside fields) goes in too."""
    from web.outbox import applied, in_operation

    if status < 400:  # the verb took effect: commit it (with the outbox's record of the operation)
        if in_operation():
            answer = applied(json or {}, status)
            if not wants_partial():
                return answer
        else:
            db().commit()
    if (in_operation() and not wants_partial()) or wants_json():
        return jsonify(json or {}), status
    if status < 400 and back and not wants_partial():
        return redirect(back, code=303)
    values = {**(context() if context else {}), **extra}
    if part is None:
        return render_template(page, **values), status
    return render_page_or_partial(page, part, status, **values)


def refusal_json(violation, **more) -> dict:
    """What a script is told of a refusal: the message and the field it belongs beside; for personal data,
    every finding with where it stands (models.privacy.PersonalDataFound), so the page can mark them all."""
    findings = violation.as_json() if hasattr(violation, "as_json") else None
    return {"error": str(violation.message), "field": violation.field, **({"findings": findings} if findings else {}),
            **more}


def refusal_shows(render):
    """Declare how the view's refusals are shown: `render(violation)` answers after the rollback."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **values):
            g.refusal_view = render
            return view(*args, **values)
        return wrapper
    return decorate


def answer_refusal(violation):
    """The app's one handler of `RuleViolation` (see the module docstring)."""
    from web.errors import render_error
    from web.outbox import in_operation

    rollback_request_session()
    if in_operation() and not wants_partial():  # nothing recorded: the item may be edited and sent again
        return jsonify(refusal_json(violation)), 422
    render = g.get("refusal_view")
    if render is not None:
        return render(violation)
    if wants_json():
        return jsonify(refusal_json(violation)), 422
    return render_error(422, message=violation.message)
