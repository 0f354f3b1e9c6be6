"""Storing bank statements (models/bank_statements.py): each line once, whole files or nothing, only team accounts."""
from datetime import date

import pytest
from sqlmodel import func, select

from models.audit import AuditEvent
from models.bank_statements import BankLine, BankStatement, import_statement_file, last_bank_balance
from models.db import begin_write
from models.rules import RuleViolation
from models.teams import District
from tests.unit.test_camt_reader import TEAM_IBAN, _entry, ing_statement
from tests.unit.test_mt940_reader import TEAM as MT940_TEAM

MT940_IBAN = "NL69INGB0123456789"


@pytest.fixture
def team(session, make_team):
    made = make_team("Team Bank")
    made.iban = TEAM_IBAN
    session.add(made)
    session.commit()
    return made


def _municipality(session, team):
    return session.get(District, team.district_id).municipality_id


def _import(session, data, team, name="ing.xml", *, municipality_id="team"):
    begin_write(session)
    if municipality_id == "team":
        municipality_id = _municipality(session, team)
    result = import_statement_file(session, data, name, municipality_id=municipality_id, actor_id=None)
    session.commit()
    return result


def _count(session, table):
    return session.exec(select(func.count()).select_from(table)).one()


def test_an_ing_statement_is_stored_with_its_lines(session, team):
    result = _import(session, ing_statement(), team)
    assert result.as_json() == {"file": "ing.xml", "format": "camt.053.001.02", "account": TEAM_IBAN,
                                "statements": 1, "lines": 3, "new": 3, "duplicates": 0,
                                "opening_cents": 0, "closing_cents": 105_500,
                                "matched": 0, "flagged": 3}  # team 12's references are not this team's
    [statement] = session.exec(select(BankStatement)).all()
    assert (statement.team_id, statement.statement_ref, statement.closing_date) == (
        team.id, "2026-03-02-NL20INGB0001234567", date(2026, 3, 2))
    lines = session.exec(select(BankLine).order_by(BankLine.id)).all()
    assert [line.amount_cents for line in lines] == [50_000, 60_000, -4_500]
    assert lines[0].entry_reference == "TB-12-OPW3" and lines[0].entry_id is None
    assert all(len(line.identity) == 64 for line in lines)
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "statement_imported")).all()
    assert event.team_id == team.id and (event.detail["new"], event.detail["duplicates"]) == (3, 0)
    assert last_bank_balance(session, team.id) == (105_500, date(2026, 3, 2))


def test_importing_the_same_file_again_adds_nothing(session, team):
    _import(session, ing_statement(), team)
    again = _import(session, ing_statement(), team)
    assert (again.lines, again.new, again.duplicates) == (3, 0, 3)
    assert (_count(session, BankStatement), _count(session, BankLine)) == (1, 3)


def test_an_overlapping_statement_adds_only_its_new_lines(session, team):
    _import(session, ing_statement(), team)
    overlapping = ing_statement(closing="1035.00", count="4", entries=(
        _entry("600.00", "CRDT", "ING-0002", "TB-12-OPW3", "Gemeente Voorbeeld", "NL86INGB0002445588")
        + _entry("45.00", "DBIT", "ING-0003", "TB-12-45", "Kaartrekening team 12", "NL69INGB0123456789")
        + _entry("500.00", "CRDT", "ING-0001", "TB-12-OPW3", "Gemeente Voorbeeld", "NL86INGB0002445588")
        + _entry("20.00", "DBIT", "ING-0005", "TB-12-46", "Kaartrekening team 12", "NL69INGB0123456789")))
    overlapping = overlapping.replace(b"<Id>2026-03-02-NL20INGB0001234567</Id>", b"<Id>2026-03-02-B</Id>")
    result = _import(session, overlapping, team, "overlap.xml")
    assert (result.lines, result.new, result.duplicates) == (4, 1, 3)
    assert _count(session, BankLine) == 4 and _count(session, BankStatement) == 2


def test_two_identical_lines_in_one_statement_stay_two(session, team):
    coffee = _entry("2.50", "CRDT", "", "koffie", "Koffiepot", "NL02ABNA0123456789")  # paid back twice
    data = ing_statement(closing="5.00", count="2", entries=coffee + coffee)
    result = _import(session, data, team)
    assert (result.new, result.duplicates) == (2, 0)
    assert len({line.identity for line in session.exec(select(BankLine))}) == 2
    assert _import(session, data, team).new == 0


def _refused(session, data, team, municipality_id="team", match=None):
    with pytest.raises(RuleViolation, match=match):
        _import(session, data, team, municipality_id=municipality_id)
    session.rollback()
    assert (_count(session, BankStatement), _count(session, BankLine)) == (0, 0)


def test_an_unknown_account_is_refused_and_nothing_saved(session, team):
    team.iban = "NL91ABNA0417164300"
    session.add(team)
    session.commit()
    _refused(session, ing_statement(), team, match="NL20INGB0001234567 is geen teamrekening van deze gemeente")


def test_another_municipalitys_team_account_is_refused(session, team, make_team):
    elsewhere = make_team("Team Elders")
    _refused(session, ing_statement(), team, municipality_id=_municipality(session, elsewhere),
             match="geen teamrekening")
    assert _import(session, ing_statement(), team, municipality_id=None).new == 3  # the command line: any


def test_an_archived_teams_account_still_imports(session, team):
    from models.clock import utcnow

    team.archived_at = utcnow()
    session.add(team)
    session.commit()
    assert _import(session, ing_statement(), team).new == 3


def test_a_file_one_cent_off_is_refused_whole(session, team):
    _refused(session, ing_statement(closing="1055.01"), team, match="Dit bestand is geweigerd: .*1055.01")


def test_a_file_naming_two_accounts_is_refused(session, team):
    second = ing_statement().replace(TEAM_IBAN.encode(), b"NL91ABNA0417164300")
    statement = second[second.index(b"<Stmt>"):second.index(b"</BkToCstmrStmt>")]
    both = ing_statement().replace(b"</BkToCstmrStmt>", statement + b"</BkToCstmrStmt>")
    _refused(session, both, team, match="meer dan één rekening")


def test_an_mt940_statement_imports_once(session, team):
    team.iban = MT940_IBAN
    session.add(team)
    session.commit()
    result = _import(session, MT940_TEAM.encode(), team, "team.940")
    assert (result.format, result.account, result.lines, result.new) == ("mt940", MT940_IBAN, 4, 4)
    assert (result.opening_cents, result.closing_cents) == (0, 12180)
    cash = session.exec(select(BankLine).where(BankLine.transaction_code == "cash")).one()
    assert (cash.amount_cents, cash.card_reference) == (-5000, "012")
    assert _import(session, MT940_TEAM.encode(), team, "team.940").duplicates == 4
    assert _count(session, BankLine) == 4


def import_share(database_url, data, start, results):
    """One process: the command's import of one file (begin_write, import, commit)."""
    import traceback

    from models.db import make_engine, make_session

    errors, engine = [], make_engine(database_url)
    start.wait()
    with make_session(engine) as session:
        try:
            begin_write(session)
            import_statement_file(session, data, "race.xml", municipality_id=None, actor_id=None)
            session.commit()
        except Exception:  # noqa: BLE001 -- any kind counts: a unique violation or a deadlock fails too
            session.rollback()
            errors.append(traceback.format_exc())
    engine.dispose()
    results.put(errors)


def test_racing_imports_of_one_file_store_it_once(session, team, database_url):
    from tests.racing import race

    errors, exit_codes = race(import_share, [(database_url, ing_statement())] * 4)
    assert errors == [] and exit_codes == [0] * 4
    session.expire_all()
    assert (_count(session, BankStatement), _count(session, BankLine)) == (1, 3)
    assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "statement_imported")).all()) == 1
