"""One entry for every statement file: CAMT or MT940 is told by the content, never by the file name, and what
is neither is refused before any reader runs."""
import pytest

from models.bank_formats import MAX_FILE_BYTES, StatementRefused, read_statement_file
from tests.unit.test_camt_reader import ing_statement
from tests.unit.test_mt940_reader import TEAM


@pytest.mark.parametrize("name", ["afschrift.940", "afschrift.xml", ""])
def test_the_format_is_told_by_the_content_not_the_name(name):
    camt, = read_statement_file(b"\xef\xbb\xbf" + ing_statement(), name)  # a byte order mark, as Windows writes
    assert camt.format.startswith("camt.053.") and camt.lines
    mt940, = read_statement_file(TEAM.encode("utf-8"), name)
    assert mt940.format == "mt940" and mt940.lines


@pytest.mark.parametrize("data, fragment", [
    (b"PK\x03\x04" + b"\0" * 100, "zip-bestand"),
    (b":20:x\n" + b"x" * MAX_FILE_BYTES, "groter dan 5 MB"),
    (b"Geachte heer, hierbij het afschrift.", ""),
])
def test_what_is_no_statement_is_refused(data, fragment):
    with pytest.raises(StatementRefused) as refused:
        read_statement_file(data, "x")
    assert fragment in str(refused.value)


def test_a_refusal_is_dutch_without_an_app_and_english_in_an_english_request(app):
    with pytest.raises(StatementRefused) as refused:
        read_statement_file(ing_statement(closing="1055.01"), "ing.xml")
    dutch = ("ing.xml: afschrift 2026-03-02-NL20INGB0001234567: de saldi kloppen niet: beginsaldo EUR 0.00 + 3 regels "
             "EUR 1055.00 = EUR 1055.00, maar het eindsaldo is EUR 1055.01")
    assert str(refused.value) == dutch  # no app, no request: Dutch, the figures kept
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert str(refused.value) == (
            "ing.xml: statement 2026-03-02-NL20INGB0001234567: the balances do not add up: opening EUR 0.00 + 3 lines "
            "EUR 1055.00 = EUR 1055.00, but the closing balance is EUR 1055.01")
    with app.test_request_context():
        assert str(refused.value) == dutch


def test_an_mt940_refusal_in_english_keeps_its_figures(app):
    with pytest.raises(StatementRefused) as refused:
        read_statement_file(TEAM.replace("/SUM/3/1/", "/SUM/2/1/").encode(), "team.940")
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        english = str(refused.value)
    assert english.startswith("team.940: refused, nothing imported: statement :20:P261201000000001 :28C:00001: the "
                              "file declares 2 debit and 1 credit lines totalling EUR ")
    assert "afschrift" not in english and "afschrift" in str(refused.value)
