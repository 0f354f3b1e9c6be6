"""The app's one clock can be moved by tests, and runs on from where it was put."""
from datetime import datetime, timezone

from models import clock as app_clock


def test_the_clock_runs_on_from_where_a_test_put_it(clock):
    clock(datetime(2026, 12, 31, 23, 59, 59, tzinfo=timezone.utc))
    first = app_clock.utcnow()
    assert first.date().isoformat() == "2026-12-31" and first.tzinfo is not None
    assert app_clock.utcnow() >= first
    clock(datetime(2027, 1, 1, 0, 0, 1, tzinfo=timezone.utc))
    assert app_clock.today().isoformat() == "2027-01-01"


def test_without_the_fixture_the_clock_is_real():
    assert abs((app_clock.utcnow() - datetime.now(timezone.utc)).total_seconds()) < 5


def test_today_is_the_dutch_date(clock):
    """A budget year is a Dutch calendar year: 23:30 UTC on 31 December is already 1 January here."""
    clock(datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc))
    assert app_clock.today().isoformat() == "2027-01-01"
    clock(datetime(2027, 7, 1, 21, 59, tzinfo=timezone.utc))  # summer time: UTC+2
    assert app_clock.today().isoformat() == "2027-07-01"
    clock(datetime(2027, 7, 1, 22, 1, tzinfo=timezone.utc))
    assert app_clock.today().isoformat() == "2027-07-02"
