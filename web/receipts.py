"""Receipts of a team's granted requests: photos, amounts, "no receipt possible", and the missing list.

URL table (signed in, active member of the team; a request or receipt of another team is 404):
  GET  /teams/<team_id>/ontbrekende-bonnetjes                                        missing receipts (page)
  POST /teams/<team_id>/aanvragen/<request_id>/bonnetjes                             add photo(s) (requester)
  POST /teams/<team_id>/aanvragen/<request_id>/bonnetjes/<receipt_id>/bedrag         the amount on a receipt
  GET  /teams/<team_id>/aanvragen/<request_id>/bonnetjes/<receipt_id>/foto           the photo (JPEG)
  GET  /teams/<team_id>/aanvragen/<request_id>/bonnetjes/<receipt_id>/klein          its thumbnail (JPEG)
  POST /teams/<team_id>/aanvragen/<request_id>/geen-bonnetje                         no receipt possible (requester)

The request page includes templates/requests/_receipts.html; every POST answers through web/respond.py:
that partial for htmx and static/js/receipts.js, JSON for the outbox (which asks for it), or back to the
request page (303) for a plain form; a refusal shows its message beside the field.
Exactly once: every upload from the phone carries a UUID in the Teambudget-Operation header, whether
receipts.js sends it at once (and gets the partial back) or the outbox sends it later like every other item
(`client_operation`: the photos count in the body by their SHA-256; the answer is recorded with the
operation, and a replay, say of a direct send whose answer was lost, gets it and stores nothing).
An upload is checked and re-encoded completely before anything is written: its files are written
just before the one commit and removed again when the commit fails, so a refusal stores nothing.
"""
from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from models.db import begin_write
from models.receipt_images import ReceiptFiles, check_photo_count, clean_receipt_image, new_file_name
from models.receipts import (
    Receipt, add_receipt, check_may_add_receipts, missing_receipts, set_receipt_amount, state_no_receipt)
from models.request_page import display_names
from models.rules import RuleViolation
from models.teams import cost_categories_by_id
from web.access import load_request_of_team, load_team_of_member, signed_in_member
from web.database import db
from web.errors import render_error
from web.outbox import client_operation
from web.request_page import request_page
from web.respond import refusal_shows

bp = Blueprint("receipts", __name__, url_prefix="/teams/<int:team_id>")


@bp.url_value_preprocessor
def load_receipt(endpoint, values):
    """The team and membership, the request (in this team, posted) and receipt (of that request) in the URL."""
    signed_in_member()
    if endpoint == "receipts.upload":
        request.max_content_length = current_app.config["RECEIPT_MAX_BYTES"]  # before CSRF reads the form
    load_team_of_member(values)
    if "request_id" in values:
        load_request_of_team(values)
    if "receipt_id" in values:
        receipt = db().get(Receipt, values.pop("receipt_id"))
        if receipt is None or receipt.request_id != g.spend_request.id:
            abort(404)
        g.receipt = receipt


@bp.url_defaults
def keep_ids(_endpoint, values):
    """Links stay on the team (and request) of the page."""
    if "team" in g and "team_id" not in values:
        values["team_id"] = g.team.id


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error):
    """413 with a message the worker can act on, as the partial for htmx or as a page."""
    megabytes = current_app.config["RECEIPT_MAX_BYTES"] // (1024 * 1024)
    message = _("De foto is te groot (meer dan %(mb)s MB). Maak de foto opnieuw of kies een kleinere.", mb=megabytes)
    if "spend_request" in g:
        return _panel(413, photo=message)
    return render_error(413, _("Foto te groot"), message)


def _files() -> ReceiptFiles:
    return ReceiptFiles(current_app.config["RECEIPTS_PATH"])


def _panel(status=200, notice=None, **errors):
    """The receipts partial for htmx and receipts.js, JSON for the outbox; a plain form goes back to the page."""
    back = url_for("requests.show", request_id=g.spend_request.id, _anchor="receipts")
    if status < 400:
        json = {"redirect": back, "notice": notice and str(notice)}
    else:
        field, message = next(iter(errors.items()), ("photo", ""))
        json = {"error": str(message), "field": field}
    return request_page("requests/_receipts.html", status, json=json, back=back, receipt_errors=errors,
                        receipt_notice=notice)


def _refused_beside(field: str):
    """A refusal is shown in the receipts part, beside the field it names (or `field`)."""
    return refusal_shows(lambda violation: _panel(422, **{violation.field or field: violation.message}))


@bp.post("/aanvragen/<int:request_id>/bonnetjes")
@client_operation("receipt")
@_refused_beside("photo")
def upload():
    """Check, clean and store the photo(s); all of them or none."""
    photos = [photo for photo in request.files.getlist("photo") if photo.filename]
    check_may_add_receipts(db(), g.spend_request, current_user.id)  # before any decoding work
    if not photos:
        raise RuleViolation(_("Kies een foto van het bonnetje."), field="photo")
    check_photo_count(len(photos))
    # Decoding takes up to a second a photo: not while holding SQLite's write lock, which every POST
    # begins with (web/database.py) and every other writer waits for. Nothing is written yet.
    db().commit()
    cleaned = [clean_receipt_image(photo.read()) for photo in photos]
    begin_write(db())
    db().refresh(g.spend_request)
    return _store(cleaned)


def _store(cleaned: list[bytes]):
    """Write the files just before the one commit (in `_panel`); a refusal or a failed commit removes them."""
    names, files = [], _files()
    try:
        for image in cleaned:
            names.append(new_file_name())
            add_receipt(db(), g.spend_request, current_user.id, image, names[-1])
            files.write(names[-1], image)
        return _panel(notice=_("Bonnetje opgeslagen. Vul het bedrag in dat erop staat."))
    except Exception:  # a racing attempt of the same operation that committed first is answered by web/outbox.py
        _forget(files, names)
        raise


def _forget(files: ReceiptFiles, names: list[str]) -> None:
    db().rollback()
    for name in names:
        files.remove(name)


@bp.post("/aanvragen/<int:request_id>/bonnetjes/<int:receipt_id>/bedrag")
@refusal_shows(lambda violation: _panel(422, **{violation.field or f"amount-{g.receipt.id}": violation.message}))
def amount():
    """The worker types the total on the receipt."""
    begin_write(db())
    set_receipt_amount(db(), g.receipt, g.spend_request, current_user.id, request.form.get("amount", ""))
    return _panel(notice=_("Bedrag opgeslagen."))


@bp.post("/aanvragen/<int:request_id>/geen-bonnetje")
@_refused_beside("no_receipt_reason")
def no_receipt():
    """The requester states that no receipt is possible, with the reason."""
    begin_write(db())
    state_no_receipt(db(), g.spend_request, current_user.id, request.form.get("no_receipt_reason", ""))
    return _panel(notice=_("Opgeslagen: er is geen bonnetje."))


def _send(thumbnail: bool):
    path = _files().path(g.receipt.file_name, thumbnail)
    if not path.is_file():
        abort(404)
    # read whole (at most a few hundred KB): a streamed file is left open when a client stops reading
    response = current_app.response_class(path.read_bytes(), mimetype="image/jpeg")
    response.headers["Content-Disposition"] = 'inline; filename="bonnetje.jpg"'  # never a name from the phone
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/aanvragen/<int:request_id>/bonnetjes/<int:receipt_id>/foto")
def photo():
    """The receipt photo, for members of the team only."""
    return _send(thumbnail=False)


@bp.get("/aanvragen/<int:request_id>/bonnetjes/<int:receipt_id>/klein")
def thumbnail():
    """The receipt's thumbnail, for members of the team only."""
    return _send(thumbnail=True)


@bp.get("/ontbrekende-bonnetjes")
def missing():
    """Requests whose card was handed over a week ago or more, with no receipt and no statement."""
    rows = missing_receipts(db(), g.team.id)
    names = display_names(db(), {r.requester_id for r, _at in rows})
    categories = cost_categories_by_id(db(), {r.cost_category_id for r, _at in rows})
    return render_template("receipts/missing.html", team=g.team, rows=rows, names=names, categories=categories)
