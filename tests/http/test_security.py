"""CSRF and cross-site refusal, rate limits, security headers, sessions and friendly errors."""
import os
import re
import stat
from datetime import timedelta

import pytest
from sqlmodel import select

from models.clock import utcnow
from models.sign_in import LoginSession
from web.config import instance_secret


@pytest.fixture
def csrf_client(make_app):
    return make_app(WTF_CSRF_ENABLED=True, WEBAUTHN_ORIGIN="http://localhost").test_client()


def _csrf_token(client, path="/inloggen"):
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).text).group(1)


def test_post_without_csrf_token_is_refused(csrf_client):
    response = csrf_client.post("/taal", data={"lang": "en"})
    assert response.status_code == 400
    assert "Laad de pagina opnieuw" in response.text
    assert "lang=en" not in response.headers.get("Set-Cookie", "")


def test_post_with_csrf_token_in_form_or_htmx_header_passes(csrf_client):
    token = _csrf_token(csrf_client)
    assert csrf_client.post("/taal", data={"lang": "en", "csrf_token": token}).status_code == 303
    response = csrf_client.post("/taal", data={"lang": "nl"}, headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 303


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
])
def test_cross_site_post_is_refused_even_with_a_valid_token(csrf_client, headers):
    token = _csrf_token(csrf_client)
    response = csrf_client.post("/taal", data={"lang": "en", "csrf_token": token}, headers=headers)
    assert response.status_code == 403
    assert "lang=en" not in response.headers.get("Set-Cookie", "")


def test_same_origin_post_passes_the_origin_check(csrf_client):
    token = _csrf_token(csrf_client)
    response = csrf_client.post("/taal", data={"lang": "en", "csrf_token": token},
                                headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303


@pytest.mark.parametrize("url", ["/inloggen/opties", "/inloggen/controle"])
def test_sign_in_is_rate_limited(make_app, url):
    client = make_app(RATELIMIT_SIGN_IN="3 per minute").test_client()
    statuses = [client.post(url, json={}).status_code for _ in range(4)]
    assert 429 not in statuses[:3] and statuses[3] == 429
    response = client.post(url, headers={"Accept": "text/html"})
    assert response.status_code == 429
    assert "te vaak geprobeerd" in response.text


def test_invite_links_are_rate_limited(make_app):
    client = make_app(RATELIMIT_INVITE="2 per minute").test_client()
    assert [client.get(f"/uitnodiging/guess{i}").status_code for i in range(3)] == [410, 410, 429]


def test_security_headers_on_every_kind_of_response(client, make_team, make_member, login_as):
    team = make_team()
    login_as(make_member(team, "worker"))
    for url in ["/inloggen", f"/teams/{team.id}", "/does-not-exist", "/static/css/app.css"]:
        with client.get(url) as response:
            headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
    assert client.get(f"/teams/{team.id}").headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(make_app):
    plain = make_app().test_client().get("/inloggen").headers["Set-Cookie"]
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    https_app = make_app(SESSION_COOKIE_SECURE=True)
    assert "Secure" in https_app.test_client().get("/inloggen").headers["Set-Cookie"]


def test_sign_out_ends_the_session_on_the_server(client, session, make_team, make_member, login_as):
    team = make_team()
    login_as(make_member(team, "worker"))
    assert client.get(f"/teams/{team.id}").status_code == 200
    with client.session_transaction() as cookie:
        stolen = dict(cookie)
    response = client.post("/uitloggen")
    assert response.status_code == 303 and response.headers["Clear-Site-Data"] == '"cache", "storage"'
    with client.session_transaction() as cookie:
        cookie.update(stolen)  # replaying the old cookie does not bring the session back
    assert client.get(f"/teams/{team.id}").status_code == 302
    assert session.exec(select(LoginSession)).one().ended_at is not None


@pytest.mark.parametrize("field, age", [("last_seen_at", timedelta(hours=13)), ("created_at", timedelta(days=8))])
def test_idle_and_absolute_timeouts_end_the_session(client, session, make_team, make_member, login_as, field, age):
    team = make_team()
    login_as(make_member(team, "worker"))
    login = session.exec(select(LoginSession)).one()
    setattr(login, field, utcnow() - age)
    session.add(login)
    session.commit()
    assert client.get(f"/teams/{team.id}").status_code == 302
    session.expire_all()
    assert session.get(LoginSession, login.id).ended_at is not None


def test_active_session_stays_open(client, session, make_team, make_member, login_as):
    team = make_team()
    login_as(make_member(team, "worker"))
    login = session.exec(select(LoginSession)).one()
    login.last_seen_at = utcnow() - timedelta(hours=11)
    session.add(login)
    session.commit()
    assert client.get(f"/teams/{team.id}").status_code == 200
    session.expire_all()
    assert session.get(LoginSession, login.id).last_seen_at > utcnow() - timedelta(minutes=1)


def test_friendly_error_pages_never_show_a_traceback(make_app):
    app = make_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    client = app.test_client()
    response = client.get("/boom")
    assert response.status_code == 500
    assert "Er ging bij ons iets mis" in response.text and "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert client.get("/nergens").status_code == 404
    assert "Pagina niet gevonden" in client.get("/nergens").text
    assert client.delete("/inloggen").status_code == 405


def test_error_pages_speak_english_when_chosen(client):
    client.set_cookie("lang", "en")
    response = client.get("/nergens")
    assert response.status_code == 404 and "Page not found" in response.text and 'lang="en-GB"' in response.text


def test_open_redirects_are_refused(client):
    for target in ["https://evil.example/", "//evil.example/", "/\\evil.example"]:
        response = client.post("/taal", data={"lang": "en", "next": target})
        assert response.headers["Location"] == "/"


def test_instance_secret_is_generated_once_and_private(tmp_path):
    first = instance_secret(tmp_path, "secret_key")
    assert len(first) == 64 and instance_secret(tmp_path, "secret_key") == first
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_a_municipality_theme_is_loaded_after_the_base_styles(make_app):
    html = make_app(THEME_CSS="voorbeeld.css").test_client().get("/inloggen").text
    assert html.index("css/app.css") < html.index("themes/voorbeeld.css")
    assert "themes/" not in make_app().test_client().get("/inloggen").text


def test_an_unchanged_session_is_not_sent_again(client, session, make_team, make_member, login_as):
    """The cookie is set when the session changes (sign-in, its CSRF token), not with every answer: it
    expires with the absolute timeout, and idleness is tracked on the server (the test above)."""
    team = make_team()
    login_as(make_member(team, "worker"))
    with client.session_transaction() as cookie:
        cookie.permanent = True  # as web.security.sign_in leaves it
    client.get(f"/teams/{team.id}")  # the first page stores the CSRF token in the session
    again = client.get(f"/teams/{team.id}")
    assert again.status_code == 200 and "Set-Cookie" not in again.headers


def _cookie_after(response) -> str | None:
    """The session cookie a response sets, or None."""
    found = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("teambudget=")]
    return found[0].split(";")[0] if found else None


def test_pages_fetched_at_once_after_signing_in_share_one_csrf_token(make_app, monkeypatch, make_team, make_member):
    """Right after the sign-in the phone loads the member's page while its service worker may fetch the shell
    pages (offline, outbox) with the same cookie. When the sign-in left the session without a CSRF token,
    each of those answers made one of its own and set it: the last cookie to arrive won, and the page's sign-out
    form then failed with "Pagina verlopen" (seen in CI). The sign-in's own cookie carries the token."""
    team = make_team()
    member = make_member(team, "worker")
    monkeypatch.setattr("web.auth.posted_credential", lambda: {})
    monkeypatch.setattr("web.auth.consume_challenge", lambda *args, **kwargs: type("C", (), {"challenge": b""}))
    monkeypatch.setattr("web.auth.verify_sign_in", lambda *args, **kwargs: member)
    app = make_app(WTF_CSRF_ENABLED=True, WEBAUTHN_ORIGIN="http://localhost")
    phone = app.test_client()
    signed_in = phone.post("/inloggen/controle", json={"credential": {}},
                           headers={"X-CSRFToken": _csrf_token(phone), "Origin": "http://localhost"})
    assert signed_in.status_code == 200
    cookie = _cookie_after(signed_in)
    # the page and the shell pages, each sent with the cookie of the sign-in, none after another's answer
    answers = []
    for path in (f"/teams/{team.id}", "/offline", "/uitbak"):
        one_request = app.test_client()
        one_request.set_cookie("teambudget", cookie.split("=", 1)[1], domain="localhost")
        answers.append(one_request.get(path))
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [_cookie_after(answer) for answer in answers] == [None, None, None]  # nobody changes the session
    # so the page's sign-out form works with the sign-in's cookie, whichever answer came last
    token = re.search(r'name="csrf_token" value="([^"]+)"', answers[0].text).group(1)
    phone.set_cookie("teambudget", cookie.split("=", 1)[1], domain="localhost")
    signed_out = phone.post("/uitloggen", data={"csrf_token": token}, headers={"Origin": "http://localhost"})
    assert signed_out.status_code in (302, 303) and "verlopen" not in signed_out.text
