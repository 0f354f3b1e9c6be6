"""Engine and session factory.

Invariants: SQLite runs in WAL mode with foreign keys enforced, so it behaves like PostgreSQL on the
things the rules rely on (referential integrity, readers never blocking the writer). SQLAlchemy, not
the sqlite3 module, starts SQLite transactions, so a money-changing transaction can take the write lock
at its start (`begin_write`: BEGIN IMMEDIATE) instead of failing to upgrade a read lock later.
Sessions never expire objects on commit, so a view can render what it just saved without another query.
"""
from sqlalchemy import event
from sqlmodel import Session, create_engine


def make_engine(database_url):
    """Create the engine for `database_url`, with SQLite's pragmas set on every new connection."""
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):
            immediate = connection.get_execution_options().get("write_lock")
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(database_url, pool_pre_ping=True)


def make_session(engine):
    """A new session that keeps loaded objects usable after commit."""
    return Session(engine, expire_on_commit=False)


def begin_write(session):
    """End any read transaction and start one that holds SQLite's write lock from its first statement.

    On PostgreSQL the transaction simply goes on: at READ COMMITTED every statement sees what was
    committed before it, and the rows to serialise on are locked explicitly (models.ledger
    .lock_for_money), so ending it would only cost a COMMIT and a BEGIN.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={"write_lock": True})
