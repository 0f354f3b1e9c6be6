"""The hash chain over audit events and ledger entries (models/audit_chain.py): rows are linked at commit,
and `verify` catches every row edited, inserted or deleted by hand — on SQLite and on PostgreSQL, where a
deferred trigger also refuses an unbalanced entry at COMMIT (migration 0013)."""
import importlib
import traceback

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import func, select

from models.audit import AuditEvent, record
from models.audit_chain import ChainHead, record_verification, verify
from models.db import begin_snapshot, begin_write, make_engine, make_session
from models.ledger import AccountKind, Entry, Posting, account, lock_for_money, post_entry, reverse_entry
from models.teams import BudgetYear, District, Municipality, Team


def _year_id(session, team):
    municipality_id = session.get(District, team.district_id).municipality_id
    return session.exec(select(BudgetYear.id).where(BudgetYear.municipality_id == municipality_id)).first()


def _move(session, team, cents, memo="Overboeking"):
    year = _year_id(session, team)
    return post_entry(session, team.id, [(account(session, team.id, year, AccountKind.AVAILABLE), -cents),
                                         (account(session, team.id, year, AccountKind.RESERVED), cents)], memo=memo)


@pytest.fixture
def world(session, make_team):
    """Two municipalities; in the first, two teams with audit events and entries over several commits, the
    newest row an entry."""
    oost = make_team("Team Oost")
    west = make_team("Team West", municipality=_municipality(session, oost))
    make_team("Team Elders")
    for number in range(3):
        record(session, team_id=oost.id, action="comment", number=number, text="Een bericht")
        record(session, team_id=west.id, action="setting_changed", setting="quorum", old=3, new=2)
        session.commit()
    moved = _move(session, oost, 1_000)
    session.commit()
    reverse_entry(session, moved, memo="Correctie")
    _move(session, west, 2_500)
    session.commit()
    return {"oost": oost, "west": west}


def _municipality(session, team):
    return session.get(Municipality, session.get(District, team.district_id).municipality_id)


def _tamper(session, *statements, **values):
    """Change the database by hand, around the application (and, on PostgreSQL, around its triggers)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL session_replication_role = replica"))
    for statement in statements:
        session.execute(text(statement), values)
    session.commit()
    session.expire_all()


def _ids(session, table, *where):
    return session.exec(select(table.id).where(*where).order_by(table.id)).all()


def _problems(session):
    return [(problem.row_kind, problem.row_id, problem.what) for problem in verify(session).problems]


def test_every_row_is_linked_at_commit_and_a_clean_world_verifies(session, world):
    rows = session.exec(select(AuditEvent.chain_seq)).all() + session.exec(select(Entry.chain_seq)).all()
    assert None not in rows
    report = verify(session)
    assert report.ok, report.lines()
    first, second = report.chains
    # the first municipality: 6 audit events, 2 budgets + 3 entries; places 1 … 11, without gaps
    assert (first.audit_events, first.entries, first.head_seq) == (6, 5, 11)
    assert (second.audit_events, second.entries, second.head_seq) == (0, 1, 1)
    assert report.lines()[-1] == "Checked 2 municipalities: no problems."


def test_the_seqs_run_without_gaps_in_commit_order(session, world):
    municipality_id = session.get(District, world["oost"].district_id).municipality_id
    head = session.get(ChainHead, municipality_id)
    seqs = sorted(session.exec(select(AuditEvent.chain_seq)).all()
                  + session.exec(select(Entry.chain_seq).where(Entry.team_id.in_(
                      [world["oost"].id, world["west"].id]))).all())
    assert seqs == list(range(1, head.seq + 1))


def test_an_edited_audit_detail_is_caught(session, world):
    target = _ids(session, AuditEvent)[2]
    _tamper(session, "UPDATE auditevent SET detail = :detail WHERE id = :id", detail='{"number": 9}', id=target)
    assert [p[:2] for p in _problems(session)] == [("audit", target)]
    assert "does not match" in _problems(session)[0][2]


def test_an_edited_entry_memo_is_caught(session, world):
    target = _ids(session, Entry)[-2]
    _tamper(session, "UPDATE entry SET memo = 'Iets anders' WHERE id = :id", id=target)
    assert [p[:2] for p in _problems(session)] == [("entry", target)]


def test_edited_posting_amounts_are_caught_also_when_they_still_balance(session, world):
    entry_id = _ids(session, Entry)[-1]
    low, high = _ids(session, Posting, Posting.entry_id == entry_id)
    # +100 on one side and -100 on the other: the entry still sums to zero, so PostgreSQL's trigger lets it be
    session.execute(text("UPDATE posting SET amount_cents = amount_cents - 100 WHERE id = :id"), {"id": low})
    session.execute(text("UPDATE posting SET amount_cents = amount_cents + 100 WHERE id = :id"), {"id": high})
    session.commit()
    problems = _problems(session)
    assert ("entry", entry_id) in [p[:2] for p in problems]
    assert sorted(p[0] for p in problems) == ["account", "account", "entry"]  # the running totals differ too


def test_an_audit_row_inserted_by_hand_is_caught(session, world):
    _tamper(session, "INSERT INTO auditevent (team_id, action, detail, created_at) "
                     "VALUES (:team, 'comment', '{}', CURRENT_TIMESTAMP)", team=world["oost"].id)
    inserted = _ids(session, AuditEvent)[-1]
    assert [p[:2] for p in _problems(session)] == [("audit", inserted)]
    assert "not in the chain" in _problems(session)[0][2]


def test_an_audit_row_inserted_by_hand_with_a_forged_place_is_caught(session, world):
    place, forged = session.exec(select(AuditEvent.chain_seq, AuditEvent.chain_hash).order_by(AuditEvent.id)).first()
    _tamper(session, "INSERT INTO auditevent (team_id, action, detail, created_at, chain_seq, chain_hash) "
                     "VALUES (:team, 'comment', '{}', CURRENT_TIMESTAMP, :seq, :hash)",
            team=world["oost"].id, seq=place, hash=forged)
    inserted = _ids(session, AuditEvent)[-1]
    assert ("audit", inserted) in [p[:2] for p in _problems(session)]


def test_an_entry_inserted_by_hand_is_caught(session, world):
    oost = world["oost"]
    available, reserved = (account(session, oost.id, _year_id(session, oost), kind).id
                           for kind in (AccountKind.AVAILABLE, AccountKind.RESERVED))
    session.commit()
    session.execute(text("INSERT INTO entry (team_id, created_at, memo) VALUES (:team, CURRENT_TIMESTAMP, 'x')"),
                    {"team": oost.id})
    entry_id = _ids(session, Entry)[-1]
    session.execute(text("INSERT INTO posting (entry_id, account_id, amount_cents) VALUES (:e, :a, -5), (:e, :r, 5)"),
                    {"e": entry_id, "a": available, "r": reserved})
    session.execute(text("UPDATE account SET balance_cents = balance_cents + 5 WHERE id = :r"), {"r": reserved})
    session.execute(text("UPDATE account SET balance_cents = balance_cents - 5 WHERE id = :a"), {"a": available})
    session.commit()
    assert [p[:2] for p in _problems(session)] == [("entry", entry_id)]


def test_an_audit_event_deleted_in_the_middle_is_caught(session, world):
    target = _ids(session, AuditEvent)[3]
    place = session.get(AuditEvent, target).chain_seq
    _tamper(session, "DELETE FROM auditevent WHERE id = :id", id=target)
    problems = _problems(session)
    assert problems == [("chain", None, f"place {place} is missing (deleted?)")]


def test_the_newest_entry_deleted_is_caught(session, world):
    newest = session.exec(select(Entry).order_by(Entry.chain_seq.desc())).first()
    head = session.get(ChainHead, session.get(District, world["oost"].district_id).municipality_id)
    assert newest.chain_seq == head.seq  # the world's newest row is an entry
    _tamper(session, "DELETE FROM posting WHERE entry_id = :id", "DELETE FROM entry WHERE id = :id", id=newest.id)
    problems = _problems(session)
    assert ("chain", None, f"the newest row, place {head.seq}, is missing (deleted?)") in problems


def test_a_deleted_posting_is_caught(session, world):
    entry_id = _ids(session, Entry)[-3]
    _tamper(session, "DELETE FROM posting WHERE id = :id", id=_ids(session, Posting, Posting.entry_id == entry_id)[0])
    problems = [p[:2] for p in _problems(session)]
    assert problems.count(("entry", entry_id)) == 2  # its link, and its balance (one posting left)
    assert ("account", None) not in problems and any(kind == "account" for kind, _id in problems)


def test_a_deleted_chain_head_is_caught(session, world):
    _tamper(session, "DELETE FROM chainhead")
    assert ("chain", None, "the chain head is missing") in _problems(session)


def test_the_outcome_is_recorded_on_the_chain_heads(session, world):
    report = verify(session)
    begin_write(session)
    record_verification(session, report)
    session.commit()
    heads = session.exec(select(ChainHead).order_by(ChainHead.municipality_id)).all()
    assert [(head.last_verified_ok, head.last_verified_at is not None) for head in heads] == [(True, True)] * 2


def test_rows_of_savepoints_are_linked_at_commit_unless_rolled_back(session, world, database_url):
    oost = world["oost"]
    engine = make_engine(database_url)  # SQLite savepoints need the app's transaction handling (models/db.py)
    with make_session(engine) as own:
        begin_write(own)
        record(own, team_id=oost.id, action="comment")
        with pytest.raises(RuntimeError), own.begin_nested():
            record(own, team_id=oost.id, action="comment")
            own.flush()
            raise RuntimeError("undo")
        with own.begin_nested():  # released: its row is linked at the commit, not before
            kept = record(own, team_id=oost.id, action="comment")
        assert kept.chain_seq is None
        own.commit()
        assert kept.chain_seq == 13
    engine.dispose()
    report = verify(session)
    assert report.ok, report.lines()
    assert report.chains[0].audit_events == 8


def test_a_new_municipality_gets_its_chain_head_at_its_first_commit(session, make_team):
    team = make_team("Team Nieuw")
    head = session.get(ChainHead, session.get(District, team.district_id).municipality_id)
    assert (head.seq, len(head.hash)) == (1, 64)  # its annual budget's entry


def test_rows_linked_by_the_migration_verify_with_the_apps_code(session, world):
    """Migration 0013 links the rows written before the chain with its own copy of the hashing rule."""
    _tamper(session, "UPDATE auditevent SET chain_seq = NULL, chain_hash = NULL",
            "UPDATE entry SET chain_seq = NULL, chain_hash = NULL", "DELETE FROM chainhead")
    assert not verify(session).ok
    migration = importlib.import_module("models.migrations.versions.0013_chain_backfill_and_balanced_trigger")
    migration.backfill(session.connection())
    session.commit()
    report = verify(session)
    assert report.ok, report.lines()
    assert [chain.head_seq for chain in report.chains] == [11, 1]
    # and the app goes on from there
    record(session, team_id=world["oost"].id, action="comment")
    session.commit()
    assert verify(session).ok


def test_the_demo_municipality_verifies(session):
    """The demo seed dates its entries after posting them: the chain hashes what is committed."""
    from models.seed import seed_demo

    seed_demo(session)
    session.commit()
    report = verify(session)
    assert report.ok, report.lines()
    assert report.chains[0].entries > 50 and report.chains[0].audit_events > 10


@pytest.fixture
def postgresql(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the balanced-entry trigger is PostgreSQL's (migration 0013)")


def _raw_entry(session, team, *amounts):
    year = _year_id(session, team)
    accounts = [account(session, team.id, year, kind).id
                for kind in (AccountKind.AVAILABLE, AccountKind.RESERVED, AccountKind.BANK)]
    session.commit()
    entry_id = session.execute(text("INSERT INTO entry (team_id, created_at, memo) "
                                    "VALUES (:team, CURRENT_TIMESTAMP, 'x') RETURNING id"), {"team": team.id}).scalar()
    for account_id, amount in zip(accounts, amounts):
        session.execute(text("INSERT INTO posting (entry_id, account_id, amount_cents) VALUES (:e, :a, :c)"),
                        {"e": entry_id, "a": account_id, "c": amount})
    return entry_id


@pytest.mark.parametrize("amounts", [(-500, 400), (700,), (-500, 300, 100)])
def test_postgresql_refuses_an_unbalanced_entry_at_commit(session, make_team, postgresql, amounts):
    team = make_team()
    _raw_entry(session, team, *amounts)  # each statement is let through: the check waits for COMMIT
    with pytest.raises(DBAPIError, match="does not balance"):
        session.commit()
    session.rollback()
    assert session.exec(select(func.count()).select_from(Entry)).one() == 1  # the annual budget's only


def test_postgresql_lets_a_balanced_entry_through_and_refuses_unbalancing_it_later(session, make_team, postgresql):
    team = make_team()
    entry_id = _raw_entry(session, team, -500, 200, 300)
    session.commit()
    posting_id = _ids(session, Posting, Posting.entry_id == entry_id)[0]
    session.execute(text("UPDATE posting SET amount_cents = -400 WHERE id = :id"), {"id": posting_id})
    with pytest.raises(DBAPIError, match="does not balance"):
        session.commit()
    session.rollback()
    session.execute(text("DELETE FROM posting WHERE id = :id"), {"id": posting_id})
    with pytest.raises(DBAPIError, match="does not balance"):
        session.commit()
    session.rollback()


# several processes writing one municipality's chain at once

def write_share(database_url, team_ids, number, start, results):
    """One process: transactions that book money (money lock, then the chain head at commit) and ones that only
    record an event (the chain head alone), alternating, on the teams of one municipality; or (number None)
    verifying the chains meanwhile, which must find nothing wrong in a half-seen commit."""
    errors, engine = [], make_engine(database_url)
    start.wait()
    if number is None:  # the verifier: `flask --app web verify`'s snapshot, while the others write
        for _turn in range(6):
            with make_session(engine) as session:
                begin_snapshot(session)
                report = verify(session)
                session.commit()
                if not report.ok:
                    errors.append("\n".join(report.lines()))
        engine.dispose()
        results.put(errors)
        return
    for turn in range(8):
        team_id = team_ids[(number + turn) % len(team_ids)]
        with make_session(engine) as session:
            try:
                begin_write(session)
                if turn % 2:
                    lock_for_money(session, team_id)
                    _move(session, session.get(Team, team_id), 10 + number, memo=f"Race {number}")
                record(session, team_id=team_id, action="comment", process=number, turn=turn)
                session.commit()
            except Exception:  # noqa: BLE001 -- any kind counts: a deadlock or a busy database fails too
                session.rollback()
                errors.append(traceback.format_exc())
    engine.dispose()
    results.put(errors)


def test_processes_writing_one_municipality_at_once_leave_a_chain_that_verifies(session, world, database_url):
    from tests.racing import race

    teams = [world["oost"].id, world["west"].id]
    shares = [(database_url, teams, number) for number in range(4)] + [(database_url, teams, None)]
    errors, exit_codes = race(write_share, shares)
    assert errors == [] and exit_codes == [0] * 5
    session.expire_all()
    report = verify(session)
    assert report.ok, report.lines()
    assert report.chains[0].head_seq == 11 + 4 * 8 + 4 * 4  # every event and entry of every process
