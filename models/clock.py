"""One source of the current time.

SQLModel stores `datetime` fields as UTC and hands them back timezone-aware (on SQLite as on
PostgreSQL), so every timestamp in the app is an aware UTC datetime.
"""
from datetime import datetime, timezone


def utcnow():
    """The current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)
