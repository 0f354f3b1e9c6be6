"""One database session per request, closed at teardown; the engine lives on the app."""
from flask import current_app, g

from models.db import make_engine, make_session


def init_app(app):
    """Create the app's engine and close each request's session afterwards."""
    # under test every read-then-write on SQLite raises, so each tested path is checked (models/db.py)
    strict = app.config.get("SQLITE_STRICT_WRITES", app.testing)
    app.extensions["engine"] = make_engine(app.config["DATABASE_URL"], strict_writes=strict)
    app.teardown_appcontext(_close_session)


def db():
    """The current request's database session."""
    if "db_session" not in g:
        g.db_session = make_session(current_app.extensions["engine"])
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
