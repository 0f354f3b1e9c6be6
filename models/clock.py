"""One source of the current time.

SQLModel stores `datetime` fields as UTC and hands them back timezone-aware (on SQLite as on
PostgreSQL), so every timestamp in the app is an aware UTC datetime.

Every part of the app asks this module for the time (never `datetime.now` or `date.today`), so tests can
move it: `travel_to(moment)` makes the clock run on from `moment` (the `clock` fixture of tests/conftest.py),
e.g. across 31 December; the running app always uses the real time.
"""
from datetime import date, datetime, timedelta, timezone

#: how far tests moved the clock (None: the real time)
_offset: timedelta | None = None


def utcnow():
    """The current time, timezone-aware, in UTC."""
    now = datetime.now(timezone.utc)
    return now + _offset if _offset is not None else now


def today() -> date:
    """Today's date (UTC)."""
    return utcnow().date()


def travel_to(moment: datetime | None) -> None:
    """Tests only: let the clock run on from `moment` (aware; None goes back to the real time)."""
    global _offset
    _offset = None if moment is None else moment - datetime.now(timezone.utc)
