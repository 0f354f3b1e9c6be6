"""Amounts of money: parsed once at the edge into integer cents, never a float.

Invariant: `parse_amount` returns a positive int of cents or raises RuleViolation with a message the
worker understands; "75", "75,50", "€ 75,50", "75.50" and "1.250,00" are accepted.

Invariant: no typed amount is above MAX_AMOUNT_CENTS (€ 100.000,00). An emergency grant is a few hundred
euros (the default household cap is € 500) and a team account or load batch a few thousand, so this is far
above anything real, and far below what an `integer` column holds (2^31 cents, € 21 million), even summed
over a year of a team's bookings.
"""
import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from models.rules import RuleViolation

_ALLOWED = re.compile(r"^[0-9.,]+$", re.ASCII)
#: the largest amount anyone may type: € 100.000,00 (see the module docstring)
MAX_AMOUNT_CENTS = 10_000_000


def parse_amount(raw: str | None, *, field: str = "amount") -> int:
    """The amount in euros typed by a person, as cents."""
    text = _typed(raw)
    if not text:
        raise RuleViolation(_l("Vul een bedrag in."), field=field)
    cents = _cents(text, field)
    if cents <= 0:
        raise RuleViolation(_l("Het bedrag moet groter zijn dan nul."), field=field)
    return cents


def parse_amount_or_zero(raw: str | None, *, field: str = "amount") -> int:
    """An amount that may be left empty or be zero (a top-up not wanted, nothing left on a card), as cents."""
    text = _typed(raw)
    return _cents(text, field) if text else 0


def _typed(raw: str | None) -> str:
    """What was typed, without the currency and the spaces around or inside it."""
    return (raw or "").replace("€", "").replace("EUR", "").replace("\u00a0", "").replace(" ", "").strip()


def _cents(text: str, field: str) -> int:
    """A typed amount (not empty) as cents, zero included; RuleViolation when it is no amount."""
    if text.startswith("-"):
        raise RuleViolation(_l("Het bedrag moet groter zijn dan nul."), field=field)
    if not _ALLOWED.match(text):
        raise RuleViolation(_l("Vul een bedrag in euro's in, bijvoorbeeld 75 of 75,50."), field=field)
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        text = text.replace(thousands, "")
    else:
        decimal_mark = "," if "," in text else "."
    whole, _mark, fraction = text.partition(decimal_mark)
    if len(whole.lstrip("0")) > len(str(MAX_AMOUNT_CENTS // 100)):  # before Decimal rounds 30 digits away
        raise _too_high(field)
    if decimal_mark in fraction or not whole and not fraction:
        raise RuleViolation(_l("Vul een bedrag in euro's in, bijvoorbeeld 75 of 75,50."), field=field)
    if len(fraction) > 2:
        raise RuleViolation(_l("Gebruik hoogstens twee cijfers achter de komma."), field=field)
    try:
        cents = int(Decimal(f"{whole or '0'}.{fraction or '0'}") * 100)
    except InvalidOperation as error:
        raise RuleViolation(_l("Vul een bedrag in euro's in, bijvoorbeeld 75 of 75,50."), field=field) from error
    if cents > MAX_AMOUNT_CENTS:
        raise _too_high(field)
    return cents


def _too_high(field: str) -> RuleViolation:
    return RuleViolation(_l("Het bedrag mag hoogstens € 100.000,00 zijn."), field=field)


def cents_to_input(amount_cents: int | None, *, decimal_mark: str = ",") -> str:
    """Cents as an input value ("75,50"; "75.50" with decimal_mark="."), for refilling a form field;
    without grouping, so `parse_amount` reads it back in either language."""
    if amount_cents is None:
        return ""
    return f"{amount_cents // 100}{decimal_mark}{amount_cents % 100:02d}"
