"""Browser fixtures: Debian's Chromium, a live server per test, Pixel 7 phones, virtual passkeys, axe.

See ../shared/browser-testing.md for why each piece is done this way.
"""
import json
import logging
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request lines in test output
AXE_SOURCE = (Path(__file__).parent / "axe-core-4.14.1.min.js").read_text()


#: browser tests that also run against PostgreSQL: those whose phones write at the same time or replay a queue,
#: and the money journeys end to end. The others test what the browser shows and does; what they ask of the
#: database, the HTTP and unit tests check on both databases. (About 8 minutes less on the PostgreSQL run.)
ON_BOTH_DATABASES = {"test_team_decisions.py", "test_offline_sync.py", "test_card_journey.py",
                     "test_coordinators_december.py", "test_live_regions.py"}


def pytest_collection_modifyitems(config, items):
    """Everything under tests/browser is a browser test; on PostgreSQL only those in ON_BOTH_DATABASES run."""
    on_postgresql = bool(os.environ.get("TEST_DATABASE_URL"))
    deselected = []
    for item in items:
        path = str(item.fspath).replace(os.sep, "/")
        if "tests/browser/" in path:
            item.add_marker(pytest.mark.browser)
            if on_postgresql and os.path.basename(path) not in ON_BOTH_DATABASES:
                deselected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, without the background traffic this closed network refuses."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync"]}


#: how long a request still running at the end of a test may take (a live poll: milliseconds); a thread
#: kept by a browser context the test left open is not waited for longer
REQUEST_THREAD_GRACE_SECONDS = 10


@pytest.fixture
def live_server(make_app):
    """The app served on a free loopback port; WebAuthn's origin is that URL on localhost."""
    server = make_server("127.0.0.1", 0, None, threaded=True)
    # Request threads are tracked (werkzeug makes them daemons, which socketserver never joins): a request
    # still running when the test ends (a live poll) must finish before make_app disposes the engine, or
    # its database connection outlives the pool and is collected, unclosed, during a later test.
    server.daemon_threads = False
    origin = f"http://localhost:{server.server_port}"
    app = make_app(WEBAUTHN_ORIGIN=origin, WEBAUTHN_RP_ID="localhost", WTF_CSRF_ENABLED=True)
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, origin
    server.shutdown()
    thread.join()
    server.socket.close()
    for request_thread in list(vars(server).get("_threads", [])):  # socketserver's list, once a request came
        request_thread.join(timeout=REQUEST_THREAD_GRACE_SECONDS)


@pytest.fixture
def server_url(live_server):
    """The live server's origin."""
    return live_server[1]


@pytest.fixture(scope="session")
def pixel_7(playwright):
    """Context options of a Pixel 7 phone."""
    return playwright.devices["Pixel 7"]


@pytest.fixture
def phone(browser, pixel_7, server_url):
    """Open a new phone (context) with its own virtual passkey authenticator; returns (page, authenticator)."""
    contexts = []

    def open_phone(passkey_autofill=False, **context_options):
        context = browser.new_context(**{**pixel_7, "base_url": server_url, **context_options})
        contexts.append(context)
        if not passkey_autofill:
            # The virtual authenticator answers an autofill request at once, which would sign in
            # before a test can press the button; a browser without conditional UI behaves like this.
            context.add_init_script("PublicKeyCredential.isConditionalMediationAvailable = async () => false;")
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        return page, VirtualAuthenticator(cdp)

    yield open_phone
    for context in contexts:
        context.close()


class VirtualAuthenticator:
    """The passkeys stored on one phone: a platform authenticator with user verification."""

    OPTIONS = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
               "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True}

    def __init__(self, cdp):
        self.cdp = cdp
        self.id = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": self.OPTIONS})["authenticatorId"]

    def replace_device(self):
        """Swap in another device: a new authenticator without this one's passkeys."""
        self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.id})
        self.id = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": self.OPTIONS})["authenticatorId"]

    def credentials(self):
        """The credentials this authenticator holds."""
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})["credentials"]

    def clear(self):
        """Forget every credential (the phone is lost)."""
        self.cdp.send("WebAuthn.clearCredentials", {"authenticatorId": self.id})


def axe_violations(page):
    """axe-core's violations on the current page (WCAG 2.0/2.1 A and AA, best practices)."""
    page.evaluate(AXE_SOURCE)
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})""")
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]]


def format_violations(violations):
    """Readable failure text."""
    return json.dumps(violations, indent=1, ensure_ascii=False)


@pytest.fixture
def signed_in_phone(phone, live_server, session):
    """A phone already signed in as `member`, by a server-side session cookie (no ceremony).

    The passkey journeys run the real ceremonies; tests about other things start signed in.
    """
    from models.sign_in import start_login_session

    app, origin = live_server

    def open_as(member, **options):
        page, authenticator = phone(**options)
        login = start_login_session(session, member.id)
        session.commit()
        cookie = app.session_interface.get_signing_serializer(app).dumps(
            {"_user_id": str(member.id), "_fresh": True, "login_key": login.key})
        page.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": origin}])
        return page
    return open_as


def swipe(page, locator, distance):
    """A real touch swipe across `locator` (CDP touch events), `distance` pixels to the right (negative: left)."""
    locator.scroll_into_view_if_needed()  # a touch outside the viewport lands nowhere
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 9):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x + distance * step / 8, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()
