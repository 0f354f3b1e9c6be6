"""Live pages by conditional polling: a region asks every second, and the server answers 304 until the
team's version (its newest audit event) moves on.

Why polling and not server-sent events: the version is one indexed MAX() query, so a 304 costs
almost nothing; it works across any number of server processes without a message bus, through proxies
that buffer streams, and on phones that drop long-lived connections when the screen turns off.
The ETag also names the member and the language, because the region is personal (my votes, reminders).
"""
from flask import make_response, request
from flask_babel import get_locale
from flask_login import current_user

POLL_INTERVAL = "1s"


def etag_for(version: int) -> str:
    """The ETag of a live region at `version`, for this member and language."""
    return f'"v{version}-m{current_user.id}-{get_locale()}"'


def not_modified(version: int) -> bool:
    """Whether the browser already shows this version."""
    return request.headers.get("If-None-Match") == etag_for(version)


def with_etag(body, version: int):
    """A response carrying the region's ETag."""
    response = make_response(body)
    response.headers["ETag"] = etag_for(version)
    return response
