"""Friendly error pages: every error gets a page in the member's language, never a traceback."""
from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from models.rules import RuleViolation
from web.database import rollback_request_session
from web.respond import answer_refusal, wants_json

MESSAGES = {
    400: (_l("Er ging iets mis"), _l("Het verzoek klopte niet. Ga terug en probeer het opnieuw.")),
    403: (_l("Geen toegang"), _l("Je hebt geen toegang tot deze pagina.")),
    404: (_l("Pagina niet gevonden"), _l("Deze pagina bestaat niet, of je hebt er geen toegang toe.")),
    405: (_l("Er ging iets mis"), _l("Dit kan op deze pagina niet.")),
    410: (_l("Link niet meer geldig"), _l("Deze link werkt niet meer.")),
    413: (_l("Te groot"), _l("Wat je stuurde is te groot.")),
    429: (_l("Even wachten"), _l("Je hebt het te vaak geprobeerd. Wacht een minuut en probeer het dan opnieuw.")),
    500: (_l("Er ging iets mis"), _l("Er ging bij ons iets mis. Probeer het later opnieuw.")),
}


def init_app(app):
    """Register one handler for HTTP errors and one for anything unexpected."""
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(RuleViolation, answer_refusal)  # the one handler of a refused rule
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)


def render_error(status: int, title=None, message=None):
    """The error as a page, or as JSON for the passkey scripts that ask for JSON; the request's unfinished
    database work is rolled back first (a view that failed never committed it, and the page reads again)."""
    rollback_request_session()
    default_title, default_message = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    title, message = title or default_title, message or default_message
    if wants_json():
        return jsonify(error=str(message)), status
    return render_template("errors/error.html", title=title, message=message, status=status), status


def handle_csrf_error(_error):
    """A missing or stale CSRF token: usually an old open page, so say to reload."""
    return render_error(400, _l("Pagina verlopen"),
                        _l("Deze pagina was te lang open. Laad de pagina opnieuw en probeer het nog eens."))


def handle_http_error(error: HTTPException):
    """Any HTTP error (404, 403, 429 …) as a friendly page with the same status."""
    return render_error(error.code or 500)


def handle_unexpected_error(error: Exception):
    """A bug: log it (without request data) and show a calm page."""
    from flask import current_app

    current_app.logger.exception("Unhandled error on %s %s", request.method, request.url_rule)
    return render_error(InternalServerError.code)
