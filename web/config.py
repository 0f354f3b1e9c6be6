"""Configuration from the environment, with safe defaults.

Invariants: no secret is a constant in code. SECRET_KEY and HOUSEHOLD_KEY_SECRET come from the
environment or are generated once into files under the instance folder (mode 0600) and reused.
Cookies are Secure whenever the public origin is HTTPS.
"""
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def instance_secret(instance_path: Path, name: str) -> str:
    """Read the secret in instance/<name>, creating it with 32 random bytes when absent."""
    path = instance_path / name
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def _int(name, default):
    return int(os.environ.get(name, default))


def from_environment(instance_path: Path) -> dict:
    """The app's settings, read from environment variables."""
    origin = os.environ.get("WEBAUTHN_ORIGIN", "http://localhost:5000").rstrip("/")
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'teambudget.sqlite3'}"
    # Heroku-style URLs name the driver-less scheme; SQLAlchemy wants the psycopg 3 driver named.
    for prefix in ("postgres://", "postgresql://"):
        if database_url.startswith(prefix):
            database_url = "postgresql+psycopg://" + database_url[len(prefix):]
    https = origin.startswith("https://")
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or instance_secret(instance_path, "secret_key"),
        "HOUSEHOLD_KEY_SECRET": (os.environ.get("HOUSEHOLD_KEY_SECRET")
                                 or instance_secret(instance_path, "household_key_secret")),
        "DATABASE_URL": database_url,
        "WEBAUTHN_RP_ID": os.environ.get("WEBAUTHN_RP_ID", urlsplit(origin).hostname),
        "WEBAUTHN_RP_NAME": os.environ.get("WEBAUTHN_RP_NAME", "Teambudget"),
        "WEBAUTHN_ORIGIN": origin,
        # An installed phone app is opened a few times a day: stay signed in through a working day,
        # but never longer than a week without touching a passkey again.
        "SESSION_IDLE_TIMEOUT": timedelta(minutes=_int("SESSION_IDLE_MINUTES", 12 * 60)),
        "SESSION_ABSOLUTE_TIMEOUT": timedelta(hours=_int("SESSION_ABSOLUTE_HOURS", 7 * 24)),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("SESSION_ABSOLUTE_HOURS", 7 * 24)),
        # the cookie lives as long as the absolute timeout from sign-in; idleness is tracked on the server
        # (models/sign_in.py), so an unchanged session is not signed and sent again with every answer
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SESSION_COOKIE_NAME": "__Host-teambudget" if https else "teambudget",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        # one count for all the workers of this machine (web/rate_limits.py); redis://… for several servers
        "RATELIMIT_STORAGE_URI": (os.environ.get("RATELIMIT_STORAGE_URI")
                                  or f"sqlite:///{(instance_path / 'ratelimits.sqlite3').resolve()}"),
        # how many proxies in front of the app add to X-Forwarded-For; 0 believes no such header
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        "RATELIMIT_SIGN_IN": os.environ.get("RATELIMIT_SIGN_IN", "20 per minute;200 per day"),
        "RATELIMIT_INVITE": os.environ.get("RATELIMIT_INVITE", "20 per minute;200 per day"),
        "RATELIMIT_HANDOVER": os.environ.get("RATELIMIT_HANDOVER", "20 per minute;200 per day"),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # receipt photos: outside static/, served only to the team (web/receipts.py); uploads up to this size
        "RECEIPTS_PATH": os.environ.get("RECEIPTS_PATH") or str(instance_path / "receipts"),
        "RECEIPT_MAX_BYTES": _int("RECEIPT_MAX_MB", 15) * 1024 * 1024,
        "SMTP_HOST": os.environ.get("SMTP_HOST"),
        "SMTP_PORT": _int("SMTP_PORT", 587),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME"),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD"),
        "SMTP_SENDER": os.environ.get("SMTP_SENDER"),
        "SMTP_STARTTLS": os.environ.get("SMTP_STARTTLS", "1") == "1",
        "THEME_CSS": os.environ.get("THEME_CSS"),
        # the foundation's account that pays load batches, and the card bank's account it pays (models/sepa.py)
        **{name: os.environ.get(name) for name in (
            "SEPA_DEBTOR_NAME", "SEPA_DEBTOR_IBAN", "SEPA_DEBTOR_BIC",
            "SEPA_CREDITOR_NAME", "SEPA_CREDITOR_IBAN", "SEPA_CREDITOR_BIC")},
        "BABEL_DEFAULT_LOCALE": "nl",
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "web" / "translations"),
    }
