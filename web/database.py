"""One database session per request, closed at teardown; the engine lives on the app."""
from flask import current_app, g

from models.db import make_engine, make_session


def init_app(app):
    """Create the app's engine and close each request's session afterwards."""
    app.extensions["engine"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(_close_session)


def db():
    """The current request's database session."""
    if "db_session" not in g:
        g.db_session = make_session(current_app.extensions["engine"])
    return g.db_session


def _close_session(_exception):
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
