"""Unit tests of models/ get their database session without a Flask app: the rules need none
(tests/unit/test_models_without_flask.py checks models/ imports nothing of one). A test that needs the
app (the language of a page, the write lock of a request) asks for `app` itself."""
import pytest
from sqlmodel import create_engine

from models.db import make_engine, make_session


@pytest.fixture
def session(database_url):
    """A database session outside any app (tests/conftest.py's, without creating the app); commit what
    a test sets up. On SQLite the driver handles transactions itself, as in tests/conftest.py."""
    engine = create_engine(database_url) if database_url.startswith("sqlite") else make_engine(database_url)
    with make_session(engine) as db_session:
        yield db_session
    engine.dispose()
