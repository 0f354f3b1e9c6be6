"""Alembic environment: the URL comes from the caller (models.migrate) or DATABASE_URL."""
import os

from alembic import context
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table)
from models.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline():
    """Emit SQL without a connection (alembic upgrade --sql)."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Apply migrations over a real connection; SQLite gets batch mode for ALTERs."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or os.environ["DATABASE_URL"])
    # a migration takes SQLite's write lock at its start: a server still running waits instead of failing
    with engine.execution_options(write_lock=True).connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # batch mode rebuilds a table (copy, drop, rename): with foreign keys on, dropping a table that other
            # rows refer to fails. Switched off outside any transaction (SQLite ignores it inside one), and the
            # references are checked once at the end instead, as SQLite's documentation describes.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            _run(connection)
            if sqlite:
                broken = connection.connection.driver_connection.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"Migration left rows that refer to nothing: {broken[:5]}")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
    engine.dispose()


def _run(connection):
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
