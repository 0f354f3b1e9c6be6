"""The one place that decides whether a request wants a whole page or just a partial."""
from flask import render_template, request


def wants_partial() -> bool:
    """True for an htmx request that swaps part of a page (not a boosted navigation)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Request-Type") == "partial"


def render_page_or_partial(page: str, partial: str, status: int = 200, **context):
    """Render the page, or only the partial that the page includes, for an htmx swap."""
    return render_template(partial if wants_partial() else page, **context), status
