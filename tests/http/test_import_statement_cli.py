"""`flask --app web import-statement PATH...`: one JSON line per file, exit 1 when any file was refused."""
import json

from sqlmodel import func, select

from models.bank_statements import BankLine, BankStatement
from tests.unit.test_camt_reader import TEAM_IBAN, ing_statement
from tests.unit.test_mt940_reader import TEAM as MT940_TEAM

KEYS = {"file", "format", "account", "statements", "lines", "new", "duplicates", "opening_cents", "closing_cents",
        "matched", "flagged"}


def test_two_good_files_and_a_bad_one(app, session, make_team, tmp_path):
    camt_team, mt940_team = make_team("Team Camt"), make_team("Team Mt")
    camt_team.iban, mt940_team.iban = TEAM_IBAN, "NL69INGB0123456789"
    session.add_all([camt_team, mt940_team])
    session.commit()
    good, bad, other = tmp_path / "ing.xml", tmp_path / "off.xml", tmp_path / "team.940"
    good.write_bytes(ing_statement())
    bad.write_bytes(ing_statement(closing="1055.01"))
    other.write_bytes(MT940_TEAM.encode())
    missing = tmp_path / "nowhere.xml"

    result = app.test_cli_runner().invoke(args=["import-statement", str(good), str(bad), str(other), str(missing)])
    assert result.exit_code == 1, result.output
    first, refused, second, unreadable = [json.loads(line) for line in result.stdout.splitlines()]
    assert set(first) == KEYS and set(second) == KEYS
    assert (first["file"], first["account"], first["lines"], first["new"]) == (str(good), TEAM_IBAN, 3, 3)
    assert (second["format"], second["new"], second["closing_cents"]) == ("mt940", 4, 12180)
    assert set(refused) == {"file", "error"} and refused["file"] == str(bad)
    assert refused["error"].startswith("Dit bestand is geweigerd") and "1055.01" in refused["error"]
    assert unreadable["file"] == str(missing) and unreadable["error"]

    session.expire_all()
    assert session.exec(select(func.count()).select_from(BankStatement)).one() == 2
    assert session.exec(select(func.count()).select_from(BankLine)).one() == 7

    again = app.test_cli_runner().invoke(args=["import-statement", str(good)])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["duplicates"] == 3


def test_matched_and_flagged_lines_are_counted(app, session, make_team, make_member, tmp_path):
    from tests.card_world import card_on, granted_request, loaded
    from tests.unit.test_reconciliation import statement_file

    team = make_team("Team Kaart")
    team.iban = TEAM_IBAN
    session.add(team)
    session.commit()
    worker, voter, coordinator = make_member(team, "worker"), make_member(team, "worker"), make_member(team, "coordinator")
    request = granted_request(session, team, worker, voter, 4000)
    batch = loaded(session, team, [card_on(session, team, request, coordinator)], coordinator)
    path = tmp_path / "team.xml"
    path.write_bytes(statement_file("team_account.camt053.xml", team=team.id, batch=batch.id, request=request.id,
                                    team_iban=TEAM_IBAN, card_iban="NL69INGB0123456789"))

    result = app.test_cli_runner().invoke(args=["import-statement", str(path)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert set(printed) == KEYS and (printed["new"], printed["matched"], printed["flagged"]) == (3, 2, 1)
    again = json.loads(app.test_cli_runner().invoke(args=["import-statement", str(path)]).stdout)
    assert (again["new"], again["matched"], again["flagged"]) == (0, 0, 0)
