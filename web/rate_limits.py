"""Rate limits that count the right thing, for the right address, in one place for the whole machine.

Invariants:
- One count per machine: the default storage is a SQLite file in the instance folder, shared by every
  gunicorn worker; each hit is a single atomic UPSERT, so 20 allowed means 20 in total, not 20 per
  worker. Several servers need one storage for all of them (`redis://…`, README).
- The counted address is the client's: `X-Forwarded-For` is believed only from the `TRUSTED_PROXIES`
  proxies in front of the app (werkzeug's ProxyFix); with 0, a forged header changes nothing.
- Guessable links (invites, the client's card handover) and passkey assertions count failures (a 4xx
  answer), not visits: a genuine link opens however often it is reloaded. Once an address has used up
  its failures, it gets 429 for that kind of link, genuine or not, so the answer never tells a guesser
  whether a guess was right. Failures are counted before the answer is given, so concurrent guesses
  cannot overshoot the limit.
"""
import functools
import os
import sqlite3
import threading
import time
from pathlib import Path

from flask import abort, current_app, request
from limits import parse_many
from limits.storage import Storage
from werkzeug.middleware.proxy_fix import ProxyFix

from models.rules import RuleViolation
from web.extensions import limiter


def init_app(app):
    """Bind the limiter, and read the client's address through the configured number of proxies."""
    limiter.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"])


def counts_failures(setting: str, scope: str):
    """Decorator: a 4xx answer of the view counts against the address in `scope`, limited by config `setting`."""
    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            if not limiter.enabled:
                return view(*args, **kwargs)
            items = parse_many(current_app.config[setting])
            identifiers = ("failures", scope, request.remote_addr or "unknown")
            if not all(limiter.limiter.test(item, *identifiers) for item in items):
                abort(429)
            try:
                response = current_app.make_response(view(*args, **kwargs))
            except RuleViolation as violation:  # answered by the app's one handler, and counted here
                response = current_app.make_response(current_app.handle_user_exception(violation))
            if 400 <= response.status_code < 500:
                # hit every window (a list, not a short-circuiting all), then judge this very failure
                if not all([limiter.limiter.hit(item, *identifiers) for item in items]):
                    abort(429)
            return response
        return guarded
    return decorate


class SQLiteFileStorage(Storage):
    """Fixed-window counters in a SQLite file: exact across the processes of one machine, no server needed.

    URI: `sqlite:///relative/path` or `sqlite:////absolute/path` (as SQLAlchemy writes them).
    """

    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = Path(uri.removeprefix("sqlite:///"))
        self._local = threading.local()  # a connection per thread, closed when its thread ends

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        if getattr(self._local, "process", None) != os.getpid():  # new thread, or a forked worker
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")  # counters need no durability across a power cut
            connection.execute("CREATE TABLE IF NOT EXISTS counter (key TEXT PRIMARY KEY, "
                               "count INTEGER NOT NULL, expires_at REAL NOT NULL)")
            connection.execute("CREATE INDEX IF NOT EXISTS counter_expires_at ON counter (expires_at)")
            self._local.connection, self._local.process = connection, os.getpid()
        return self._local.connection

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` to the counter, starting a new window of `expiry` seconds when the old one is over."""
        now = time.time()
        # one statement, so one write lock: no other process can read the old count in between
        # (SET expressions see the row as it was, so both CASEs ask about the old window)
        (count,) = self._connection().execute(
            "INSERT INTO counter (key, count, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
            "count = CASE WHEN counter.expires_at <= ? THEN excluded.count ELSE counter.count + excluded.count END, "
            "expires_at = CASE WHEN counter.expires_at <= ? THEN excluded.expires_at ELSE counter.expires_at END "
            "RETURNING count", (key, amount, now + expiry, now, now)).fetchone()
        if count == amount:  # a new window: a good moment to forget windows that are over
            self._connection().execute("DELETE FROM counter WHERE expires_at <= ?", (now,))
        return count

    def get(self, key: str) -> int:
        """The count in the current window (0 when there is none)."""
        row = self._connection().execute(
            "SELECT count FROM counter WHERE key = ? AND expires_at > ?", (key, time.time())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        """When the current window ends (now, when there is none)."""
        row = self._connection().execute("SELECT expires_at FROM counter WHERE key = ?", (key,)).fetchone()
        return row[0] if row else time.time()

    def check(self) -> bool:
        """The file can be read."""
        self._connection().execute("SELECT 1").fetchone()
        return True

    def reset(self) -> int:
        """Forget every counter."""
        return self._connection().execute("DELETE FROM counter").rowcount

    def clear(self, key: str) -> None:
        """Forget one counter."""
        self._connection().execute("DELETE FROM counter WHERE key = ?", (key,))
