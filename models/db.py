"""Engine and session factory.

Invariants: SQLite runs in WAL mode with foreign keys enforced, so it behaves like PostgreSQL on the
things the rules rely on (referential integrity, readers never blocking the writer). SQLAlchemy, not
the sqlite3 module, starts SQLite transactions, so a money-changing transaction can take the write lock
at its start (`begin_write`: BEGIN IMMEDIATE) instead of failing to upgrade a read lock later.
- On SQLite no transaction reads and then writes unless it began with the write lock. In WAL mode such an
  upgrade fails at once ("database is locked", SQLITE_BUSY_SNAPSHOT: busy_timeout cannot wait it out) when
  another process committed after the read, so it is a defect even when it happens to pass. The engine
  watches every statement: with `strict_writes` (the test suite) an upgrade raises ReadThenWrite, so every
  tested path is checked; otherwise it is logged. A transaction whose first statement writes is fine: the
  write lock is then taken before any snapshot, and SQLite waits for it.
Sessions never expire objects on commit, so a view can render what it just saved without another query.
Every session links new audit events and ledger entries into their municipality's hash chain when it
commits (a listener on the Session class in models/audit_chain.py, registered by importing `models`).
"""
import logging

from sqlalchemy import event
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)
WRITING_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class ReadThenWrite(RuntimeError):
    """A SQLite transaction that read without the write lock tried to write (see the module docstring)."""


def make_engine(database_url, *, strict_writes: bool = False):
    """Create the engine for `database_url`, with SQLite's pragmas set on every new connection.

    `strict_writes`: raise ReadThenWrite when a SQLite transaction turns from reading to writing."""
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
            connection.info["transaction"] = "writing" if immediate else "new"

        @event.listens_for(engine, "before_cursor_execute")
        def _refuse_read_then_write(connection, _cursor, statement, _parameters, _context, _executemany):
            state = connection.info.get("transaction")
            if state in (None, "writing") or not connection.in_transaction():
                return
            writes = statement.lstrip()[:7].upper().startswith(WRITING_STATEMENTS)
            if not writes:
                connection.info["transaction"] = "reading"
            elif state == "new":
                connection.info["transaction"] = "writing"
            else:
                first_line = statement.strip().splitlines()[0][:80]  # the SQL only: values are bound apart
                if strict_writes:
                    raise ReadThenWrite(f"SQLite transaction read, then wrote without the write lock: {first_line}")
                log.error("SQLite transaction read, then wrote without the write lock "
                          "(use models.db.begin_write): %s", first_line)
                connection.info["transaction"] = "writing"

        return engine
    return create_engine(database_url, pool_pre_ping=True)


def make_session(engine):
    """A new session that keeps loaded objects usable after commit."""
    return Session(engine, expire_on_commit=False)


def begin_write(session):
    """End any read transaction and start one that holds SQLite's write lock from its first statement
    (a transaction that already holds it, as every one of a writing request does, simply goes on).

    On PostgreSQL the transaction simply goes on: at READ COMMITTED every statement sees what was
    committed before it, and the rows to serialise on are locked explicitly (models.ledger
    .lock_for_money), so ending it would only cost a COMMIT and a BEGIN.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        if session.connection().info.get("transaction") == "writing":
            return
        session.commit()
    session.connection(execution_options={"write_lock": True})


def begin_snapshot(session):
    """End any transaction and start one that reads a single consistent snapshot of the database, for a
    check that reads much and must not see half of a concurrent commit (models.audit_chain.verify).

    PostgreSQL: REPEATABLE READ. SQLite in WAL mode: every transaction reads one snapshot already.
    """
    if session.in_transaction():
        session.commit()
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        session.connection()
