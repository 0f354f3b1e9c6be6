"""The parsers that bound every id, whole number, amount and text from outside (models/bounds.py, models/money.py)."""
import pytest

from models.bounds import MAX_ID, clean_text, has_forbidden_characters, parse_id, parse_whole_number
from models.money import MAX_AMOUNT_CENTS, parse_amount, parse_amount_or_zero
from models.rules import RuleViolation


@pytest.mark.parametrize("raw, expected", [
    ("1", 1), (" 42 ", 42), (7, 7), (str(MAX_ID), MAX_ID), (str(MAX_ID + 1), None), (str(2**63), None),
    ("0", None), ("-1", None), ("", None), (None, None), ("1_000", None), ("0x10", None), ("1e3", None),
    ("١٢", None), ("１２", None), ("9" * 5000, None), ("NaN", None), ("Infinity", None), ("1.0", None)])
def test_an_id_is_a_whole_number_any_id_column_holds(raw, expected):
    assert parse_id(raw) == expected


@pytest.mark.parametrize("raw", ["", " ", "twee", "1_000", "0x10", "1e3", "-1", "+1", "1.5", "١٢", "NaN", "Infinity"])
def test_a_whole_number_is_ascii_digits(raw):
    with pytest.raises(RuleViolation, match="heel getal") as refused:
        parse_whole_number(raw, field="quorum", minimum=1, maximum=15)
    assert refused.value.field == "quorum"


@pytest.mark.parametrize("raw", ["0", "16", str(2**31), str(2**63), str(2**64), "9" * 5000])
def test_a_whole_number_outside_its_range_names_the_range(raw):
    with pytest.raises(RuleViolation, match="van 1 tot en met 15"):
        parse_whole_number(raw, field="quorum", minimum=1, maximum=15)


@pytest.mark.parametrize("raw, expected", [("1", 1), (" 15 ", 15), ("007", 7)])
def test_a_whole_number_within_its_range_is_read(raw, expected):
    assert parse_whole_number(raw, field="quorum", minimum=1, maximum=15) == expected


@pytest.mark.parametrize("raw", ["100000,01", "100.000,01", "21474836,48", str(2**63), "9" * 40, "9" * 100_000])
def test_an_amount_above_the_maximum_is_refused(raw):
    for parse in (parse_amount, parse_amount_or_zero):
        with pytest.raises(RuleViolation, match="hoogstens € 100.000,00"):
            parse(raw, field="amount")


@pytest.mark.parametrize("raw", ["100000", "100.000,00", "€ 100.000,00", "0100000,00"])
def test_the_maximum_amount_itself_is_accepted(raw):
    assert parse_amount(raw) == MAX_AMOUNT_CENTS


@pytest.mark.parametrize("raw", ["١٢", "１２", "1e3", "NaN", "Infinity", "0x10", "1_000"])
def test_an_amount_is_ascii_digits(raw):
    with pytest.raises(RuleViolation, match="bijvoorbeeld 75"):
        parse_amount(raw)


def test_clean_text_removes_control_characters_but_tab_and_line_ends():
    assert clean_text("a\x00b\x01c\x08d\x0be\x0cf\x1fg\x7fh\ti\nj\rk") == "abcdefgh\ti\nj\rk"


@pytest.mark.parametrize("text, forbidden", [
    ("gewone tekst\t\r\n", False), ("\u200b\u202e", False), ("a\x00", True), ("\x1b[31m", True), ("\ud800", True)])
def test_forbidden_characters_are_controls_and_lone_surrogates(text, forbidden):
    assert has_forbidden_characters(text) is forbidden
