"""Bounds at the edge of the app: what a URL, a form or a JSON body may bring in, for every view at once.

Invariants:
- An `<int:…>` part of a URL above MAX_ID (what a PostgreSQL `integer` id holds) matches no route: 404.
- Every form field and query parameter reaches the views without C0 control characters (NUL included)
  and DEL; TAB, LF and CR stay. They are removed rather than refused: a person never means them (they
  come with pasted text), and refusing would keep a worker's outbox draft failing for good.
- A JSON body that is too deep, or holds such a character or a lone surrogate anywhere, does not parse:
  `get_json(silent=True)` gives None and `get_json()` a 400. Our scripts never send one.
- `json_object()` is a JSON object, or the request ends with 400.
"""
import json

from flask import Request, abort, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter
from werkzeug.utils import cached_property

from models.bounds import MAX_ID, clean_text, has_forbidden_characters


def init_app(app):
    """Bound ids in URLs, clean form fields and query parameters, and parse JSON safely (before any route)."""
    app.url_map.converters["int"] = IdConverter
    app.request_class = CleanRequest
    app.json = BoundedJSONProvider(app)


class IdConverter(IntegerConverter):
    """`<int:…>` with an upper bound, so a URL never asks the database for an id no column holds."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _cleaned(values: ImmutableMultiDict) -> ImmutableMultiDict:
    if not any(clean_text(key) != key or clean_text(value) != value for key, value in values.items(multi=True)):
        return values  # the usual case: nothing to copy
    return ImmutableMultiDict([(clean_text(key), clean_text(value)) for key, value in values.items(multi=True)])


class CleanRequest(Request):
    """Flask's request, with control characters removed from the form and the query string."""

    @cached_property
    def args(self):
        """The query parameters, cleaned."""
        return _cleaned(super().args)

    def _load_form_data(self):
        super()._load_form_data()
        self.__dict__["form"] = _cleaned(self.__dict__["form"])


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing bodies that are too deep or hold characters no text field may hold."""

    def loads(self, s, **kwargs):
        """Parse JSON; ValueError (so a 400, or None when silent) for what no view should see."""
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:  # thousands of nested brackets
            raise ValueError("JSON nested too deeply") from None
        if _any_forbidden_string(value):
            raise ValueError("JSON text with control characters or lone surrogates")
        return value


def _any_forbidden_string(value) -> bool:
    """Whether a parsed JSON value holds a bad key or string anywhere; a loop, not recursion."""
    waiting = [value]
    while waiting:
        item = waiting.pop()
        if isinstance(item, str):
            if has_forbidden_characters(item):
                return True
        elif isinstance(item, dict):
            waiting.extend(item.keys())
            waiting.extend(item.values())
        elif isinstance(item, list):
            waiting.extend(item)
    return False


def json_object() -> dict:
    """The request's JSON body as an object (a dict); 400 for anything else."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400)
    return body
