"""Shared fixtures: an app per test on its own database, factories, and direct sign-in for HTTP tests.

SQLite (default): the migrated schema is built once per run and copied for every test.
PostgreSQL (TEST_DATABASE_URL): the schema is migrated once, and every test starts from empty tables.
Under pytest-xdist (`make test` runs `-n 2`) each worker is its own process with its own databases: SQLite
copies its own template; on PostgreSQL a worker uses TEST_DATABASE_URL's database name + "_" + its id
(created here, dropped when the worker ends), so no two workers ever empty each other's tables.
"""
import os
import shutil
import tempfile
from datetime import date

import pytest
from sqlalchemy import make_url, text
from sqlmodel import SQLModel, create_engine, select

os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="teambudget-instance-"))


def _worker_database_url(url: str, worker: str) -> str:
    """The URL of this xdist worker's own database on the same server, created when missing."""
    import psycopg

    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
    return parsed.set(database=name).render_as_string(hide_password=False)


_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if os.environ.get("TEST_DATABASE_URL") and _XDIST_WORKER:
    # before any test module reads it: modules and the processes tests start see this worker's database
    os.environ["TEST_DATABASE_URL"] = _worker_database_url(os.environ["TEST_DATABASE_URL"], _XDIST_WORKER)


def pytest_unconfigure(config):
    """A worker drops its own PostgreSQL database when it ends (the run's main database is the caller's)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not (url and _XDIST_WORKER):
        return
    import psycopg

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    except psycopg.Error:
        pass  # a database left behind costs disk, not correctness: the next run drops and rebuilds its schema

import models  # noqa: E402,F401
from models import migrate  # noqa: E402
from models.db import make_engine, make_session  # noqa: E402
from models.members import add_membership, create_member  # noqa: E402
from models.sign_in import start_login_session  # noqa: E402
from models.ledger import allocate_annual_budget  # noqa: E402
from models.teams import BudgetYear, District, Team, create_municipality  # noqa: E402
from web import create_app  # noqa: E402
from web.extensions import limiter  # noqa: E402

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """The database URL (PostgreSQL) or template file (SQLite) with every migration applied."""
    if TEST_DATABASE_URL:
        engine = make_engine(TEST_DATABASE_URL)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            # tests need no durability: commits return without waiting for the disk (new connections)
            connection.execute(text("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET synchronous_commit = off', "
                                    "current_database()); END $$"))
        engine.dispose()
        migrate.upgrade(TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    template = tmp_path_factory.mktemp("template") / "template.sqlite3"
    migrate.upgrade(f"sqlite:///{template}")
    return template


@pytest.fixture
def database_url(migrated_database, tmp_path):
    """A fresh, migrated database for one test."""
    if TEST_DATABASE_URL:
        engine = make_engine(TEST_DATABASE_URL)
        with engine.begin() as connection:
            _empty_postgresql_tables(connection)
        engine.dispose()
        return TEST_DATABASE_URL
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(migrated_database, path)
    return f"sqlite:///{path}"


def _empty_postgresql_tables(connection):
    """Every table empty and every id counting from 1 again.

    DELETE (children first) and setval, not TRUNCATE: a TRUNCATE of every table gives each a new file,
    ~0.19 s a test against ~0.03 s for deleting the few rows a test leaves (the PostgreSQL run is ~1,000 tests).
    """
    for table in reversed(SQLModel.metadata.sorted_tables):
        connection.execute(text(f'DELETE FROM "{table.name}"'))
    connection.execute(text(
        "SELECT setval(pg_get_serial_sequence(format('%I', table_name), column_name), 1, false) "
        "FROM information_schema.columns WHERE table_schema = current_schema() AND column_default LIKE 'nextval%'"))


@pytest.fixture
def app_config(database_url, tmp_path):
    """Settings for the test app; tests may change them before the app is made.

    Each test counts rate limits in a file of its own: the default file lies in INSTANCE_PATH, which the
    xdist workers inherit from the controller, and `make_app` resets the limiter, so one worker's reset
    emptied another worker's counts mid-test (a guesser got 410 where 429 was due).
    """
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "HOUSEHOLD_KEY_SECRET": "test-household-secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": f"sqlite:///{tmp_path / 'ratelimits.sqlite3'}",
    }


@pytest.fixture
def make_app(app_config):
    """Make an app with settings changed from `app_config`; its engine is closed after the test."""
    made = []

    def factory(**overrides):
        application = create_app({**app_config, **overrides})
        with application.app_context():
            limiter.reset()
        made.append(application)
        return application

    yield factory
    for application in made:
        application.extensions["push"].close()  # its threads may still hold a connection
        application.extensions["engine"].dispose()


@pytest.fixture
def app(make_app):
    """The app for one test."""
    return make_app()


@pytest.fixture
def client(app):
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def session(app, database_url):
    """A database session outside any request; commit what a test sets up.

    On SQLite it uses the driver's own transaction handling (a SELECT opens no transaction), so reads
    after a request see what the app committed instead of an older snapshot.
    """
    engine = create_engine(database_url) if database_url.startswith("sqlite") else app.extensions["engine"]
    with make_session(engine) as db_session:
        yield db_session
    if engine is not app.extensions["engine"]:
        engine.dispose()


@pytest.fixture
def make_team(session):
    """Create a team (with its municipality, district and this year's budget) and return it."""
    def factory(name="Team Oost", municipality=None, annual_budget_cents=250_000):
        if municipality is None:  # the tests add cost categories where they need them
            municipality, _budget_year = create_municipality(session, f"Gemeente {name}", year=date.today().year,
                                                             cost_categories=False)
        district = District(municipality_id=municipality.id, name=f"Stadsdeel {name}")
        session.add(district)
        session.flush()
        team = Team(district_id=district.id, name=name)
        session.add(team)
        year = date.today().year
        budget_year = session.exec(select(BudgetYear).where(
            BudgetYear.municipality_id == municipality.id, BudgetYear.year == year)).first()
        if budget_year is None:
            budget_year = BudgetYear(municipality_id=municipality.id, year=year,
                                     starts_on=date(year, 1, 1), ends_on=date(year, 12, 31))
            session.add(budget_year)
        session.flush()
        allocate_annual_budget(session, team, budget_year.id, annual_budget_cents)
        session.commit()
        return team
    return factory


@pytest.fixture
def make_member(session):
    """Create a member with a role in `team`, or a coordinator of the team's municipality."""
    def factory(team, role="worker", name=None):
        district = session.get(District, team.district_id)
        member = create_member(session, municipality_id=district.municipality_id,
                               display_name=name or f"{role} of {team.name}",
                               is_coordinator=role == "coordinator")
        if role != "coordinator":
            add_membership(session, member, team, role)
        session.commit()
        return member
    return factory


@pytest.fixture
def login_as(client, session):
    """Sign `member` in on the test client without a passkey ceremony (HTTP tests only)."""
    def sign_in(member):
        login = start_login_session(session, member.id)
        session.commit()
        with client.session_transaction() as cookie_session:
            cookie_session.clear()
            cookie_session["_user_id"] = str(member.id)
            cookie_session["_fresh"] = True
            cookie_session["login_key"] = login.key
        return member
    return sign_in


@pytest.fixture
def clock():
    """Move the app's clock (models/clock.py): `clock(datetime(2027, 1, 1, 8, tzinfo=timezone.utc))` makes it run
    on from that moment, in this process (the live server of browser tests too); back to real time afterwards."""
    from models import clock as app_clock

    yield app_clock.travel_to
    app_clock.travel_to(None)
