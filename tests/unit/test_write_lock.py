"""On SQLite no transaction reads and then writes without the write lock (models/db.py, web/database.py).

In WAL mode such an upgrade fails at once once another connection committed after the read, whatever
busy_timeout says; these tests pin down the guard that makes every tested path prove it never does that,
and the rule that every transaction of a writing request starts with the lock.
"""
import logging

import pytest
from flask import jsonify
from sqlalchemy import text

from models.db import ReadThenWrite, begin_write, make_engine, make_session
from web.database import db

pytestmark = pytest.mark.usefixtures("sqlite_only")


@pytest.fixture
def sqlite_only(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the write lock and its guard are SQLite's (PostgreSQL locks rows: models.ledger)")


@pytest.fixture
def strict_session(database_url):
    engine = make_engine(database_url, strict_writes=True)
    with make_session(engine) as session:
        yield session
    engine.dispose()


def test_a_read_then_a_write_without_the_lock_is_refused(strict_session):
    strict_session.execute(text("SELECT count(*) FROM member"))
    with pytest.raises(ReadThenWrite, match="INSERT INTO municipality"):
        strict_session.execute(text("INSERT INTO municipality (name) VALUES ('Gemeente A')"))


def test_a_write_first_or_under_the_lock_is_fine(strict_session):
    strict_session.execute(text("INSERT INTO municipality (name) VALUES ('Gemeente A')"))  # takes the lock at once
    strict_session.execute(text("SELECT count(*) FROM municipality"))
    strict_session.execute(text("INSERT INTO municipality (name) VALUES ('Gemeente B')"))
    strict_session.commit()
    strict_session.execute(text("SELECT count(*) FROM municipality"))
    begin_write(strict_session)  # ends the read transaction, starts one with the lock
    strict_session.execute(text("SELECT count(*) FROM municipality"))
    strict_session.execute(text("INSERT INTO municipality (name) VALUES ('Gemeente C')"))
    strict_session.commit()
    assert strict_session.execute(text("SELECT count(*) FROM municipality")).scalar() == 3


def test_begin_write_keeps_a_transaction_that_already_holds_the_lock(strict_session):
    begin_write(strict_session)
    strict_session.execute(text("INSERT INTO municipality (name) VALUES ('Gemeente A')"))
    begin_write(strict_session)  # nothing committed in between: the same transaction goes on
    strict_session.rollback()
    assert strict_session.execute(text("SELECT count(*) FROM municipality")).scalar() == 0


def test_outside_tests_an_upgrade_is_logged_not_raised(database_url, caplog):
    engine = make_engine(database_url)
    with make_session(engine) as session, caplog.at_level(logging.ERROR, logger="models.db"):
        session.execute(text("SELECT count(*) FROM member"))
        session.execute(text("INSERT INTO municipality (name) VALUES (:name)"), {"name": "Gemeente A"})
    engine.dispose()
    assert "read, then wrote without the write lock" in caplog.text and "Gemeente A" not in caplog.text  # SQL only


def test_every_transaction_of_a_writing_request_starts_with_the_lock(app, client, caplog):
    """A view that commits once and goes on reading and writing (as posting a draft does) needs no begin_write."""
    @app.post("/test-twice")
    def twice():
        db().execute(text("SELECT count(*) FROM municipality"))
        db().execute(text("INSERT INTO municipality (name) VALUES ('Gemeente A')"))
        db().commit()
        db().execute(text("SELECT count(*) FROM municipality"))
        db().execute(text("INSERT INTO municipality (name) VALUES ('Gemeente B')"))
        db().commit()
        return jsonify(count=db().execute(text("SELECT count(*) FROM municipality")).scalar())

    @app.get("/test-read-then-write")
    def read_then_write():
        db().execute(text("SELECT count(*) FROM municipality"))
        db().execute(text("INSERT INTO municipality (name) VALUES ('Gemeente C')"))
        return jsonify()

    assert client.post("/test-twice").json == {"count": 2}
    # a reading request that writes must say so (begin_write): under test it fails
    assert client.get("/test-read-then-write").status_code == 500
    assert "ReadThenWrite" in caplog.text
