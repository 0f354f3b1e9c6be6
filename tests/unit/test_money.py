"""Amounts typed where nothing, or zero, is a valid answer: a top-up not wanted, nothing left on a card."""
import pytest

from models.money import parse_amount_or_zero
from models.rules import RuleViolation


@pytest.mark.parametrize("typed", ["", "  ", "0", "0,00", "0.00", "€ 0", "€\u00a00,0", "EUR 0"])
def test_empty_or_zero_is_zero(typed):
    assert parse_amount_or_zero(typed, field="remaining") == 0


@pytest.mark.parametrize("typed, cents", [("12,50", 1_250), ("€ 60", 6_000), ("0,01", 1), ("1.234,56", 123_456)])
def test_an_amount_is_read_as_parse_amount_reads_it(typed, cents):
    assert parse_amount_or_zero(typed) == cents


@pytest.mark.parametrize("typed", [",", "-5", "12,345", "twaalf", "0,001", "0,000"])
def test_anything_else_is_refused_with_the_field_named(typed):
    with pytest.raises(RuleViolation) as refused:
        parse_amount_or_zero(typed, field="top_up_3")
    assert refused.value.field == "top_up_3"
