"""Bounds on every number and text that comes from outside, so no value can overflow a column or a date.

Invariants:
- `parse_id` returns an int between 1 and MAX_ID (PostgreSQL's `integer`, the narrowest id column of both
  databases) or None; nothing else from a form or a URL ever reaches `session.get` as an id.
- `parse_whole_number` accepts only ASCII digits ("1_000", "0x10", "١٢", "1e3" are refused) and returns a
  value within the bounds it is given, or raises RuleViolation with a message beside the field.
- `clean_text` removes the C0 control characters (NUL included) and DEL from typed text, but keeps TAB,
  LF and CR; `has_forbidden_characters` says whether a string holds one of them or a lone surrogate
  (which no database can store).
"""
import re

from flask_babel import lazy_gettext as _l

from models.rules import RuleViolation

#: the largest id of any table: PostgreSQL `integer` (SQLite's is 2^63 - 1, so this bound holds for both)
MAX_ID = 2**31 - 1

_DIGITS = re.compile(r"^[0-9]{1,18}$", re.ASCII)
_WHOLE = re.compile(r"^[0-9]+$", re.ASCII)
#: C0 controls but TAB, LF and CR, and DEL: invisible, never meant, and PostgreSQL refuses NUL
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def parse_id(raw) -> int | None:
    """The id in a form field or URL part, or None when it is no id any table could hold."""
    text = str(raw).strip() if raw is not None else ""
    if not _DIGITS.match(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def parse_whole_number(raw, *, field: str, minimum: int, maximum: int) -> int:
    """A whole number typed by a person, between `minimum` and `maximum` (both included)."""
    text = (raw or "").strip() if isinstance(raw, str) else str(raw if raw is not None else "")
    if not _WHOLE.match(text):
        raise RuleViolation(_l("Vul een heel getal in."), field=field)
    digits = text.lstrip("0") or "0"
    if len(digits) > 18 or not minimum <= int(digits) <= maximum:  # 18 digits: int() stays cheap
        raise RuleViolation(_l("Vul een getal van %(min)s tot en met %(max)s in.", min=minimum, max=maximum),
                            field=field)
    return int(digits)


def clean_text(value: str) -> str:
    """Typed text without the control characters a person never means (TAB, LF and CR stay)."""
    return _CONTROL.sub("", value)


def has_forbidden_characters(value: str) -> bool:
    """Whether the text holds a control character (but TAB, LF, CR) or a lone surrogate."""
    return _FORBIDDEN.search(value) is not None
