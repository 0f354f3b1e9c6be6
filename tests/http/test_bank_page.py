"""The coordinator's bank statement page (web/bank.py, issue 12 §1): uploading one or more statement files,
each read whole or refused whole on its own, the counts per file, a re-upload adding nothing twice, hostile
files and oversize requests refused with a message and nothing saved, and one municipality's statements
never shown to another's coordinator."""
import io

import pytest
from sqlmodel import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from models.bank_statements import BankLine, BankStatement
from tests.unit.test_camt_reader import BILLION_LAUGHS, TEAM_IBAN, _zip, ing_statement

PAGE = "/beheer/bank"
UPLOAD = "/beheer/bank/afschriften"


@pytest.fixture
def bank_world(session, make_team, make_member):
    """Team Oost with the ING test statement's account, its coordinator and a worker."""
    team = make_team("Team Oost")
    team.iban = TEAM_IBAN
    session.add(team)
    session.commit()
    return {"team": team, "coordinator": make_member(team, "coordinator", name="Cora"),
            "worker": make_member(team, "worker", name="Wim")}


def _post(client, *files):
    """POST the (name, bytes) files as the form does. Encoded in memory: the test client spools a large body
    to a temporary file that nothing closes when the app refuses the body unread."""
    boundary, body = encode_multipart(MultiDict([("statement", FileStorage(io.BytesIO(data), name))
                                                 for name, data in files]))
    return client.post(UPLOAD, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _count(session, model):
    session.expire_all()
    return session.exec(select(func.count(model.id))).one()


def test_the_page_lists_the_team_accounts_and_the_form(client, bank_world, login_as):
    login_as(bank_world["coordinator"])
    html = client.get(PAGE).text
    assert "Team Oost" in html and "NL20 INGB 0001 2345 67" in html and "nog geen afschrift" in html
    assert 'type="file"' in html and 'name="statement"' in html and "multiple" in html
    assert "CAMT.053, CAMT.054 of MT940" in html


def test_a_good_statement_shows_its_counts_and_again_only_duplicates(client, session, bank_world, login_as):
    login_as(bank_world["coordinator"])
    response = _post(client, ("ing.xml", ing_statement()))
    assert response.status_code == 200, response.text
    assert "Bestand ing.xml: 3 regels, 3 nieuw, 0 dubbel" in response.text
    assert _count(session, BankStatement) == 1 and _count(session, BankLine) == 3
    html = client.get(PAGE).text
    assert "€\xa01.055,00" in html and "nog geen afschrift" not in html  # the last bank balance

    again = _post(client, ("ing-again.xml", ing_statement()))
    assert again.status_code == 200
    assert "Bestand ing-again.xml: 3 regels, 0 nieuw, 3 dubbel" in again.text
    assert _count(session, BankLine) == 3


def test_a_good_and_a_bad_file_keep_the_good_one_and_name_the_bad_ones_reason(client, session, bank_world, login_as):
    login_as(bank_world["coordinator"])
    response = _post(client, ("goed.xml", ing_statement()), ("fout.xml", ing_statement(closing="1055.01")))
    assert response.status_code == 422
    assert "Bestand goed.xml: 3 regels, 3 nieuw, 0 dubbel" in response.text
    assert "Bestand fout.xml: Dit bestand is geweigerd" in response.text
    assert _count(session, BankLine) == 3


@pytest.mark.parametrize("name, data", [
    ("afschriften.zip", None),
    ("lach.xml", BILLION_LAUGHS),
    ("kapot.xml", b"<?xml version='1.0'?><Document><BkToCstmrStmt>"),
])
def test_hostile_files_are_refused_and_nothing_is_saved(client, session, bank_world, login_as, name, data):
    login_as(bank_world["coordinator"])
    response = _post(client, (name, _zip() if data is None else data))
    assert response.status_code == 422
    assert f"Bestand {name}: Dit bestand is geweigerd" in response.text
    assert _count(session, BankStatement) == 0 and _count(session, BankLine) == 0


def test_a_file_over_5_mb_is_refused_with_a_message(client, session, bank_world, login_as):
    login_as(bank_world["coordinator"])
    response = _post(client, ("groot.xml", b"<a>" + b" " * (6 * 1024 * 1024) + b"</a>"))
    assert response.status_code == 422 and "Bestand groot.xml: Dit bestand is groter dan 5 MB" in response.text
    assert _count(session, BankStatement) == 0


def test_a_50_mb_upload_gets_a_413_page(client, session, bank_world, login_as):
    login_as(bank_world["coordinator"])
    response = _post(client, ("enorm.xml", b" " * (50 * 1024 * 1024)))
    assert response.status_code == 413
    assert "groter dan 25 MB" in response.text
    assert _count(session, BankStatement) == 0


def test_no_file_chosen_is_refused_beside_the_field(client, session, bank_world, login_as):
    login_as(bank_world["coordinator"])
    response = _post(client)
    assert response.status_code == 422
    assert 'id="statement-error"' in response.text and "Kies een of meer bankafschriften." in response.text


def test_another_municipalitys_coordinator_sees_none_of_our_statements(client, session, bank_world, make_team,
                                                                       make_member, login_as):
    login_as(bank_world["coordinator"])
    assert _post(client, ("ing.xml", ing_statement())).status_code == 200
    elsewhere = make_team("Team Elders")  # a municipality of its own
    login_as(make_member(elsewhere, "coordinator", name="Otto"))
    html = client.get(PAGE).text
    assert "Team Elders" in html and "Team Oost" not in html
    assert "NL20 INGB" not in html and "Er is nog geen afschrift ingelezen." in html


@pytest.mark.parametrize("role", ["worker", "income_consultant", "client_manager"])
def test_team_roles_may_not_open_or_upload(client, session, bank_world, make_member, login_as, role):
    login_as(make_member(bank_world["team"], role))
    assert client.get(PAGE).status_code == 403
    assert _post(client, ("ing.xml", ing_statement())).status_code == 403
    assert _count(session, BankStatement) == 0


# --- balances side by side (issue 12 §4, models/bank_balances.py) ------------------------------------

def test_a_difference_is_shown_in_red_in_words_with_the_lines_that_explain_it(client, bank_world, login_as):
    login_as(bank_world["coordinator"])
    assert _post(client, ("ing.xml", ing_statement())).status_code == 200
    html = client.get(PAGE).text
    # the ledger knows none of the statement's three lines: it has 1.055,00 less than the bank
    assert 'class="balances__off">€\xa01.055,00 minder in de boekhouding</span>' in html
    assert "verklaard" in html and "niet verklaard" not in html
    assert "<summary>3 regels achter het verschil</summary>" in html
    assert html.count("bij de bank, niet in de boekhouding") == 3 and "Kaartrekening team 12" in html


def test_a_difference_nothing_explains_shows_the_rest(client, session, bank_world, login_as):
    from models.bank_statements import BankStatement as Stored
    from tests.card_world import municipality_id

    team = bank_world["team"]
    session.add(Stored(municipality_id=municipality_id(session, team), team_id=team.id, account_iban=TEAM_IBAN,
                       format="mt940", statement_ref="1", currency="EUR", opening_cents=1_000, closing_cents=1_000,
                       file_name="oud.sta"))
    session.commit()
    login_as(bank_world["coordinator"])
    html = client.get(PAGE).text
    assert "€\xa010,00 minder in de boekhouding" in html and "€\xa010,00 niet verklaard" in html
    assert "regels achter het verschil" not in html


def test_equal_balances_show_no_difference_and_the_cards_table(client, session, bank_world, make_member, login_as):
    from tests.card_world import card_on, granted_request, loaded

    team, coordinator = bank_world["team"], bank_world["coordinator"]
    request = granted_request(session, team, bank_world["worker"], make_member(team, "worker", name="Vera"), 4_500)
    loaded(session, team, [card_on(session, team, request, coordinator, last_four="4321")], coordinator)
    login_as(coordinator)
    html = client.get(PAGE).text
    assert "geen verschil" not in html.split('id="cards-title"')[0]  # no statement yet: no difference either
    assert "nog geen afschrift" in html
    cards = html.split('id="cards-title"')[1]
    assert "Kaart eindigend op 4321" in cards and "€\xa045,00" in cards and "geen verschil" in cards


def test_the_balances_in_english(client, bank_world, login_as):
    login_as(bank_world["coordinator"])
    assert _post(client, ("ing.xml", ing_statement())).status_code == 200
    client.set_cookie("lang", "en")
    html = client.get(PAGE).text
    assert "€1,055.00 less in the books" in html and "3 lines behind the difference" in html


def test_a_refused_files_reason_is_shown_in_english_with_english_chosen(client, bank_world, login_as):
    login_as(bank_world["coordinator"])
    client.set_cookie("lang", "en")
    response = _post(client, ("fout.xml", ing_statement(closing="1055.01")))
    assert response.status_code == 422
    assert ("fout.xml: statement 2026-03-02-NL20INGB0001234567: the balances do not add up: opening EUR 0.00 + 3 "
            "lines EUR 1055.00 = EUR 1055.00, but the closing balance is EUR 1055.01") in response.text
    assert "afschrift" not in response.text.split('class="bank-results__refused"')[1].split("</li>")[0]
