"""One database session per request, closed at teardown; the engine lives on the app.

Invariant: every transaction of a writing request (POST, PUT, PATCH, DELETE) begins with the write lock on
SQLite, also after a view committed once and goes on, so no write of a request ever has to upgrade a read
transaction (models/db.py). Reading requests begin plain transactions; one that writes calls begin_write.
"""
from flask import current_app, g, has_request_context, request

from models.db import make_engine, make_session


def init_app(app):
    """Create the app's engine and close each request's session afterwards."""
    # under test every read-then-write on SQLite raises, so each tested path is checked (models/db.py)
    strict = app.config.get("SQLITE_STRICT_WRITES", app.testing)
    app.extensions["engine"] = engine = make_engine(app.config["DATABASE_URL"], strict_writes=strict)
    app.extensions["writing_engine"] = engine.execution_options(write_lock=True)  # the same pool
    app.teardown_appcontext(_close_session)


def db():
    """The current request's database session."""
    if "db_session" not in g:
        writes = has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")
        g.db_session = make_session(current_app.extensions["writing_engine" if writes else "engine"])
    return g.db_session


def rollback_request_session():
    """Undo whatever the request's session still holds (after a failed flush it refuses every query until
    rolled back), so an error page can read the signed-in member again. Nothing here was committed."""
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def _close_session(_exception):
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
