"""How the request page answers, for every blueprint that acts on a request (requests, cards, receipts).

Invariant: the page and each of its parts are drawn from one read model (models/request_page.py), read
for the team and membership the blueprint's preprocessor put on `g`; a blueprint never imports another's views.
"""
from flask import g

from models.request_page import request_page as read_request_page
from web.database import db
from web.respond import respond


def request_page_context(spend_request) -> dict:
    """What templates/requests/detail.html and its parts show of a request."""
    return read_request_page(db(), g.team, spend_request, g.membership).context()


def request_page(part: str, status: int = 200, *, json=None, back=None, **extra):
    """A request page's answer through `respond`: the page, or `part` of it for htmx, with `extra`."""
    return respond(status, json=json, back=back, page="requests/detail.html", part=part,
                   context=lambda: request_page_context(g.spend_request), **extra)
