"""The migrations build exactly the schema the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from models.db import make_engine


def test_migrations_match_the_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def _old_database(tmp_path, revision: str):
    """A SQLite database migrated up to `revision` holding municipality 1, district 1 and team 1, as raw rows
    (the models describe the newest schema, not that one); returns (url, engine)."""
    from alembic import command
    from sqlalchemy import text

    from models.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    command.upgrade(alembic_config(url), revision)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO municipality (name) VALUES ('M')"))
        connection.execute(text("INSERT INTO district (municipality_id, name) VALUES (1, 'D')"))
        connection.execute(text(
            "INSERT INTO team (district_id, name, quorum, household_cap_cents, account_cap_cents, "
            "escalation_threshold_cents, request_expiry_hours, reminder_after_hours) VALUES (1, 'T', 3, 1, 1, 1, 1, 1)"))
    return url, engine


def test_running_balances_start_as_the_sums_of_existing_postings(tmp_path):
    """Migration 0003 fills the new running totals from the postings written before it."""
    from alembic import command
    from sqlalchemy import text

    from models.migrate import alembic_config

    url, engine = _old_database(tmp_path, "0002")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO budgetyear (municipality_id, year, starts_on, ends_on) "
                                "VALUES (1, 2026, '2026-01-01', '2026-12-31')"))
        connection.execute(text("INSERT INTO account (team_id, budget_year_id, kind) VALUES (1, 1, 'funding'), (1, 1, 'available')"))
        connection.execute(text("INSERT INTO entry (team_id, created_at, memo) VALUES (1, CURRENT_TIMESTAMP, 'x')"))
        connection.execute(text("INSERT INTO posting (entry_id, account_id, amount_cents) VALUES (1, 1, -700), (1, 2, 700)"))
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT balance_cents FROM account ORDER BY id")).scalars().all() == [-700, 700]
    engine.dispose()


def test_every_migration_steps_down_and_up_again(database_url):
    """Each downgrade undoes its upgrade: from head down to the start and back, the schema is the models'."""
    from alembic import command

    from models.migrate import alembic_config

    config = alembic_config(database_url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    test_migrations_match_the_models(database_url)


def test_setup_events_arrive_without_changing_the_chains_of_existing_events(tmp_path):
    """Migration 0018 rebuilds the audit table on SQLite: the events before it keep their rows, places and hashes
    (the chain verifies with the app's code), and afterwards an event needs a team or a municipality."""
    import pytest
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from models.audit import record_in_municipality
    from models.audit_chain import verify
    from models.db import make_session
    from models.migrate import alembic_config

    url, engine = _old_database(tmp_path, "0012")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO auditevent (team_id, action, detail, created_at) VALUES "
                                "(1, 'comment', '{\"text\": \"een\"}', '2026-11-30 10:00:00.000000'), "
                                "(1, 'setting_changed', '{\"old\": 3, \"new\": 2}', '2026-11-30 11:00:00.000000')"))
    command.upgrade(alembic_config(url), "0017")  # 0013 links them
    with engine.connect() as connection:
        before = connection.execute(text("SELECT id, team_id, chain_seq, chain_hash FROM auditevent ORDER BY id")).all()
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as connection:
        after = connection.execute(text("SELECT id, team_id, chain_seq, chain_hash FROM auditevent ORDER BY id")).all()
        assert connection.execute(text("SELECT municipality_id FROM auditevent")).scalars().all() == [None, None]
    assert after == before and [row.chain_seq for row in after] == [1, 2]
    with make_session(engine) as session:
        assert verify(session).ok
        record_in_municipality(session, municipality_id=1, action="district_added", name="Noord")
        session.commit()
        report = verify(session)
        assert report.ok and report.chains[0].head_seq == 3, report.lines()
        with pytest.raises(IntegrityError):
            session.execute(text("INSERT INTO auditevent (action, detail, created_at) "
                                 "VALUES ('comment', '{}', CURRENT_TIMESTAMP)"))
        session.rollback()
    engine.dispose()
