"""The coordinator's bank statements: the balances side by side (each team account's last bank balance beside
the ledger's, a difference with the lines that explain it; each card with money), the statements imported so
far, and an upload of one or more statement files (CAMT.053, CAMT.054, MT940).

URL table (signed in as coordinator):
  GET  /beheer/bank                                        balances side by side, recent statements, the upload form
  POST /beheer/bank/afschriften                            import the chosen file(s), each on its own

Each file goes through `models.bank_statements.import_statement_file` in its own savepoint: a refused file
saves nothing and is shown with its reason, the other files are kept; one commit at the end. The answer is
the page again with a result per file (422 when any file was refused). A request may be up to
UPLOAD_MAX_BYTES (several files); one file over MAX_FILE_BYTES is refused, a larger request gets a 413 page.
"""
from flask import Blueprint, g, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from models.bank_balances import card_balances, team_account_balances
from models.bank_formats import MAX_FILE_BYTES
from models.bank_statements import import_statement_file, recent_statements
from models.ledger import lock_municipality
from models.rules import RuleViolation
from models.teams import teams_of_municipality
from web.access import signed_in_coordinator
from web.database import db
from web.errors import render_error
from web.respond import refusal_shows

bp = Blueprint("bank", __name__, url_prefix="/beheer/bank")

#: the largest upload request (all files together); the app's own limit (MAX_CONTENT_LENGTH) is 1 MB
UPLOAD_MAX_BYTES = 25 * 1024 * 1024
#: how many of the most recent statements the page lists
RECENT_STATEMENTS = 20


@bp.url_value_preprocessor
def load_for_coordinator(endpoint, _values):
    """Only coordinators (and administrators, in the municipality they chose)."""
    signed_in_coordinator()
    if endpoint == "bank.upload":
        request.max_content_length = UPLOAD_MAX_BYTES  # before CSRF reads the form


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error):
    """413 with a message the coordinator can act on, never a 500."""
    return render_error(413, _("Bestanden te groot"), _(
        "Samen zijn de bestanden groter dan %(mb)s MB. Kies minder bestanden tegelijk; één bestand mag "
        "hoogstens %(file_mb)s MB zijn.", mb=UPLOAD_MAX_BYTES // (1024 * 1024),
        file_mb=MAX_FILE_BYTES // (1024 * 1024)))


def _render(status=200, results=None, errors=None):
    teams = [team for team in teams_of_municipality(db(), g.municipality_id) if team.archived_at is None]
    return render_template(
        "bank/index.html", accounts=team_account_balances(db(), g.municipality_id),
        without_iban=[team for team in teams if not team.iban], cards=card_balances(db(), g.municipality_id),
        statements=recent_statements(db(), g.municipality_id, RECENT_STATEMENTS),
        team_names={team.id: team.name for team in teams}, results=results or [], errors=errors or {},
        max_file_mb=MAX_FILE_BYTES // (1024 * 1024)), status


@bp.get("")
def index():
    """The balances side by side, the recent statements and the upload form."""
    return _render()


def _import_one(upload) -> dict:
    """One file in its own savepoint: its counts, or the reason it was refused (and nothing of it saved)."""
    name = upload.filename
    data = upload.stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        return {"file": name, "error": _(
            "Dit bestand is groter dan %(mb)s MB en is niet ingelezen.", mb=MAX_FILE_BYTES // (1024 * 1024))}
    try:
        with db().begin_nested():
            result = import_statement_file(db(), data, name, municipality_id=g.municipality_id,
                                           actor_id=g.current_member.id)
    except RuleViolation as violation:
        return {"file": name, "error": violation.message}
    return {"file": name, "result": result}


@bp.post("/afschriften")
@refusal_shows(lambda violation: _render(422, errors={violation.field or "statement": violation.message}))
def upload():
    """Import every chosen file separately; refused files are shown beside their name, the rest is kept."""
    uploads = [upload for upload in request.files.getlist("statement") if upload.filename]
    if not uploads:
        raise RuleViolation(_("Kies een of meer bankafschriften."), field="statement")
    lock_municipality(db(), g.municipality_id)
    results = [_import_one(upload) for upload in uploads]
    db().commit()
    return _render(422 if any("error" in result for result in results) else 200, results=results)

