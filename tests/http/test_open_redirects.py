"""`next` after sign-in and a language switch never leads to another site, judged as a browser parses URLs.

The oracle is ada (the WHATWG URL parser of Node.js): whatever `safe_next` returns must resolve, against a
page of ours, to our own host.
"""
import html
import re

import pytest
from ada_url import URL

from web.security import safe_next

OUR_PAGE = "https://teambudget.example/inloggen"


def lands_on_our_site(location):
    """Where a browser goes when a page of ours sends it to `location`."""
    return URL(location, OUR_PAGE).host == "teambudget.example"


REFUSED = [
    None, "", 123, ["/"], {"path": "/"},
    "https://evil.example/", "http:evil.example", "https:evil.example", "//evil.example", "///evil.example",
    "/\\evil.example", "\\/evil.example", "\\\\evil.example", "/x\\..\\\\evil.example",
    "/\t/evil.example", "\t//evil.example", "/\n/evil.example", "/\r\n/evil.example", "\r\n//evil.example",
    "/\t\\evil.example", " //evil.example", "\x00//evil.example", "\x1f/\t/evil.example",
    "/\x00evil", "/\x0b/evil.example", "/\x7fevil", "/\x85evil",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "\tjava\nscript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "evil.example", "\uff0f\uff0fevil.example",
]


@pytest.mark.parametrize("target", REFUSED)
def test_a_target_that_is_not_a_path_here_gives_the_default(target):
    assert safe_next(target, "/") == "/"


ACCEPTED = [
    ("/", "/"),
    ("/teams/1?x=2", "/teams/1?x=2"),
    ("/teams/1/aanvragen?status=open#top", "/teams/1/aanvragen?status=open#top"),
    (" /teams/1 ", "/teams/1"),  # what the URL standard strips, stripped here too
    ("/te\tams/\n1", "/teams/1"),
    # percent-encoded forms are paths on this site: browsers do not decode them before resolving
    ("/%09/evil.example", "/%09/evil.example"),
    ("/%0d%0a/evil.example", "/%0d%0a/evil.example"),
    ("/%2F%2Fevil.example", "/%2F%2Fevil.example"),
    ("/%2F/evil.example", "/%2F/evil.example"),
    ("/%5Cevil.example", "/%5Cevil.example"),
    ("/\uff0f\uff0fevil.example", "/\uff0f\uff0fevil.example"),
    ("/inloggen?next=//evil.example", "/inloggen?next=//evil.example"),
]


@pytest.mark.parametrize("target, cleaned", ACCEPTED)
def test_a_path_here_is_kept(target, cleaned):
    assert safe_next(target, "/") == cleaned


@pytest.mark.parametrize("target", REFUSED + [target for target, _cleaned in ACCEPTED])
def test_every_answer_resolves_to_our_site_in_a_browser(target):
    assert lands_on_our_site(safe_next(target, "/"))


def test_the_oracle_sees_the_tricks():
    """The refused table is not vacuous: as a browser reads them, these lead away."""
    assert not lands_on_our_site("/\t/evil.example") and not lands_on_our_site("/\\evil.example")
    assert not lands_on_our_site("\x01//evil.example") and not lands_on_our_site("///evil.example")


def _data_next(page):
    return html.unescape(re.search(r'data-next="([^"]*)"', page).group(1))


@pytest.mark.parametrize("query", ["/%09/evil.example", "%09//evil.example", "/%0d%0a/evil.example",
                                   "/%5Cevil.example", "https://evil.example", "%20//evil.example"])
def test_the_sign_in_page_carries_no_dangerous_next(client, query):
    page = client.get(f"/inloggen?next={query}")
    assert page.status_code == 200 and _data_next(page.text) == ""


def test_the_sign_in_page_carries_a_path_here(client):
    assert _data_next(client.get("/inloggen?next=/teams/1%3Fx%3D2").text) == "/teams/1?x=2"


@pytest.fixture
def assertion_accepted(monkeypatch, session, make_team, make_member):
    """/inloggen/controle accepts any assertion as the member's (the ceremony is tested elsewhere)."""
    member = make_member(make_team(), "worker")
    monkeypatch.setattr("web.auth.posted_credential", lambda: {})
    monkeypatch.setattr("web.auth.consume_challenge", lambda *args, **kwargs: type("C", (), {"challenge": b""}))
    monkeypatch.setattr("web.auth.verify_sign_in", lambda *args, **kwargs: member)
    return member


@pytest.mark.parametrize("target", ["/\t/evil.example", "\t//evil.example", "/\r\n/evil.example",
                                    "/\\evil.example", " //evil.example", 7, {"a": 1}])
def test_sign_in_sends_a_dangerous_next_home(client, assertion_accepted, target):
    response = client.post("/inloggen/controle", json={"credential": {}, "next": target})
    assert response.status_code == 200 and response.get_json()["redirect"] == "/"


def test_sign_in_goes_on_to_a_path_here(client, assertion_accepted):
    response = client.post("/inloggen/controle", json={"credential": {}, "next": "/teams/1?x=2"})
    assert response.get_json()["redirect"] == "/teams/1?x=2"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\r\n/evil.example", "\r\n//evil.example",
                                    "https://evil.example/", "//evil.example/",
                                    "/\\evil.example", "\x00//evil.example"])
def test_a_language_switch_never_leaves_the_site(client, target):
    response = client.post("/taal", data={"lang": "en", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_a_language_switch_returns_to_the_page(client):
    response = client.post("/taal", data={"lang": "en", "next": "/%2F%2Fevil.example?x=%0d%0a"})
    assert response.status_code == 303 and response.headers["Location"] == "/%2F%2Fevil.example?x=%0d%0a"
    assert lands_on_our_site(response.headers["Location"])


def test_a_newline_in_next_is_dropped_as_a_browser_drops_it(client):
    response = client.post("/taal", data={"lang": "en", "next": "/\r\nSet-Cookie: x=1"})
    assert response.status_code == 303 and response.headers["Location"] == "/Set-Cookie:%20x=1"
    assert not any("x=1" in cookie for cookie in response.headers.getlist("Set-Cookie"))
