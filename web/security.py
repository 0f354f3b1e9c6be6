"""Sessions, cross-site protection and response headers.

Invariants:
- Signing in opens a new server-side login session; the cookie holds only its random key. A request
  whose login session is ended or timed out is anonymous.
- Every state-changing request carries a valid CSRF token (form field or X-CSRFToken header) and,
  where the browser says where it comes from, comes from our own origin: a cross-site Origin or
  Sec-Fetch-Site is refused even over plain HTTP, where the token check alone does not look at Referer.
- Every response carries the security headers; pages for signed-in members are never stored in the
  browser's HTTP cache (the service worker keeps its own copies, per member: web/pwa.py).
"""
import re
import unicodedata
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, make_response, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from models.clock import utcnow
from models.db import begin_write
from models.members import Member
from models.sign_in import (
    end_login_session, keep_up_login_session, member_of_login_session, new_session_key, start_login_session, upkeep_of)
from web.database import db
from web.extensions import login_manager

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def init_app(app):
    """Wire the login manager, the origin check and the response headers into `app`."""
    login_manager.init_app(app)
    login_manager.session_protection = None  # phones change IP all day; the server-side session rules
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = _l("Log in om verder te gaan.")
    login_manager.login_message_category = "info"
    app.before_request(refuse_cross_site_writes)
    app.after_request(add_security_headers)


@login_manager.user_loader
def load_member(member_id):
    """The signed-in member, if the login session in the cookie is still open."""
    found = member_of_login_session(db(), session.get("login_key"), int(member_id))
    if found is None:
        return None
    login, member = found
    now, config = utcnow(), current_app.config
    upkeep = upkeep_of(login, now=now, idle=config["SESSION_IDLE_TIMEOUT"], absolute=config["SESSION_ABSOLUTE_TIMEOUT"])
    if upkeep is not None:
        # Its own short transaction that starts with the write lock and waits for it: on SQLite the read
        # above cannot become a write once another process has committed since (the view starts afresh).
        begin_write(db())
        keep_up_login_session(db(), login, upkeep, now=now)
        db().commit()
    return None if upkeep == "end" else member


@login_manager.unauthorized_handler
def send_to_sign_in():
    """Redirect to the sign-in page (htmx follows HX-Redirect instead of swapping it in)."""
    flash(login_manager.login_message, "info")
    target = url_for("auth.sign_in", next=request.full_path.rstrip("?") if request.method == "GET" else None)
    if request.headers.get("HX-Request") == "true":
        return make_response("", 204, {"HX-Redirect": target})
    return redirect(target)


def sign_in(member: Member) -> None:
    """Start a fresh session for `member`: nothing from before the sign-in carries over, but a new CSRF
    token is in it at once (`_fresh_csrf_token`)."""
    session.clear()
    login = start_login_session(db(), member.id)
    session["login_key"] = login.key
    session.permanent = True
    login_user(member)
    _fresh_csrf_token()


def sign_out() -> None:
    """End the login session on the server and forget the cookie's contents (a new CSRF token in it)."""
    end_login_session(db(), session.get("login_key"))
    logout_user()
    session.clear()
    _fresh_csrf_token()


def _fresh_csrf_token() -> None:
    """Put the CSRF token of the new session in the cookie that starts it. Otherwise the first pages loaded
    with that cookie (the page the phone goes to, a service worker's fetch beside it) each made a token of
    their own and set it, the last cookie to arrive won, and a form of the page on screen then failed as
    "Pagina verlopen" (seen in CI: signing out right after signing in)."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.pop(field, None)
    g.pop(field, None)  # generate_csrf keeps a request's token in g, and then would not store a new one
    generate_csrf()


def ceremony_key() -> str:
    """The random key that binds WebAuthn challenges to this browser session."""
    if "ceremony_key" not in session:
        session["ceremony_key"] = new_session_key()
    return session["ceremony_key"]


def refuse_cross_site_writes():
    """403 for a state-changing request that the browser says comes from another site."""
    if request.method in SAFE_METHODS:
        return
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        abort(403)
    origin = request.headers.get("Origin")
    if origin is not None and origin not in (current_app.config["WEBAUTHN_ORIGIN"], request.host_url.rstrip("/")):
        abort(403)


def add_security_headers(response):
    """Set CSP, nosniff, referrer and caching headers on every response."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # same-origin: Flask-WTF checks the Referer of HTTPS form posts; other sites never see our URLs
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(self), geolocation=(), microphone=()"
    if request.endpoint == "static" or (request.endpoint or "").startswith("pwa."):
        return response  # the same for everyone, caching set by the view; no need to load the member
    if current_user.is_authenticated or request.endpoint in ("auth.invite", "auth.sign_in"):
        response.headers["Cache-Control"] = "no-store"
    return response


#: what the URL standard strips before parsing: C0 controls and space at both ends, tab and newlines anywhere
_URL_STRIPPED_AT_ENDS = "".join(map(chr, range(0x21)))
_URL_STRIPPED_ANYWHERE = re.compile("[\t\n\r]")


def safe_next(target: str | None, default: str) -> str:
    """`target` as a path on this site, else `default` (no open redirects).

    It is judged as a browser reads it, after the URL standard's stripping: `/<TAB>/evil.example` is
    `//evil.example` to a browser, another site; a backslash counts as a slash. Percent-encoded forms
    stay as they are (`/%2F%2Fevil` is a path here, and werkzeug sends it unchanged).
    """
    if not isinstance(target, str):
        return default  # absent, or JSON that is not a string
    cleaned = _URL_STRIPPED_ANYWHERE.sub("", target.strip(_URL_STRIPPED_AT_ENDS))
    if (not cleaned.startswith("/") or cleaned[1:2] == "/" or "\\" in cleaned
            or any(unicodedata.category(character) == "Cc" for character in cleaned)):
        return default
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc:
        return default
    return cleaned
