"""One source of the current time.

SQLModel stores `datetime` fields as UTC and hands them back timezone-aware (on SQLite as on
PostgreSQL), so every timestamp in the app is an aware UTC datetime.

The date, though, is the Dutch one (`today`): a budget year is a Dutch calendar year, and a worker who posts at
00:30 on 1 January posts into the new year.

Every part of the app asks this module for the time (never `datetime.now` or `date.today`), so tests can
move it: `travel_to(moment)` makes the clock run on from `moment` (the `clock` fixture of tests/conftest.py),
e.g. across 31 December; the running app always uses the real time.
"""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

#: where the teams work: dates (budget years, due dates, "today") are Dutch dates
LOCAL_ZONE = ZoneInfo("Europe/Amsterdam")

#: how far tests moved the clock (None: the real time)
_offset: timedelta | None = None


def utcnow():
    """The current time, timezone-aware, in UTC."""
    now = datetime.now(timezone.utc)
    return now + _offset if _offset is not None else now


def today() -> date:
    """Today's date in the Netherlands."""
    return utcnow().astimezone(LOCAL_ZONE).date()


def local_date(moment: datetime) -> date:
    """The Dutch date of an aware moment (a posting's time, in the accountant's journal)."""
    return moment.astimezone(LOCAL_ZONE).date()


def travel_to(moment: datetime | None) -> None:
    """Tests only: let the clock run on from `moment` (aware; None goes back to the real time)."""
    global _offset
    _offset = None if moment is None else moment - datetime.now(timezone.utc)
