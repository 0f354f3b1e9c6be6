"""The installable shell over HTTP: manifest, service worker, versioned static files, compression."""
import gzip
import json
import re

import brotli
import pytest

from web.pwa import IMMUTABLE, PAGE_CACHE_HEADER, PAGE_SCRIPTS, page_scripts, page_scripts_url, static_version


def get(client, url, **kwargs):
    """GET `url`, read the body and close the response (static files are streamed from an open file)."""
    with client.get(url, **kwargs) as response:
        response.get_data()
    return response


def test_manifest_makes_the_app_installable(client):
    response = get(client, "/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    assert manifest["name"] == manifest["short_name"] == "Teambudget" and manifest["description"]
    assert (manifest["start_url"], manifest["scope"], manifest["id"]) == ("/", "/", "/")
    assert (manifest["display"], manifest["lang"]) == ("standalone", "nl")
    assert (manifest["theme_color"], manifest["background_color"]) == ("#154273", "#ffffff")
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert sizes == {(size, purpose) for size in ("192x192", "512x512") for purpose in ("any", "maskable")}
    for icon in manifest["icons"]:
        image = get(client, icon["src"])
        assert image.status_code == 200 and image.mimetype == "image/png"
        width, height = int.from_bytes(image.data[16:20], "big"), int.from_bytes(image.data[20:24], "big")
        assert f"{width}x{height}" == icon["sizes"]


def test_theme_color_matches_the_css_token(client):
    css = get(client, "/static/css/app.css").text
    assert "--teambudget-color-primary: #154273;" in css
    assert '<meta name="theme-color" content="#154273">' in get(client, "/inloggen").text


def test_layout_links_manifest_icons_and_worker(client):
    page = get(client, "/inloggen").text
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert 'rel="apple-touch-icon"' in page and 'name="apple-mobile-web-app-capable"' in page
    assert 'data-worker-url="/sw.js"' in page


def test_worker_is_served_at_the_root_with_the_versioned_shell(app, client):
    response = get(client, "/sw.js")
    assert response.status_code == 200 and response.mimetype == "application/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    source = response.text
    urls = json.loads(re.search(r"const PRECACHE_URLS = (\[.*\]);", source).group(1))
    with app.test_request_context():
        expected = {f"/static/{name}?v={static_version(name)}"
                    for name in ("css/app.css", "js/outbox.js", "vendor/htmx-4.0.1.min.js", "icons/icon-192.png")}
        expected.add(page_scripts_url())
    assert expected <= set(urls) and "/offline" in urls
    assert all(get(client, url).status_code == 200 for url in urls)


def test_worker_changes_when_a_static_file_changes(app, client):
    before = get(client, "/sw.js").text
    app.extensions["static_versions"]["css/app.css"] = "0badf00d"
    after = get(client, "/sw.js").text
    assert before != after and "/static/css/app.css?v=0badf00d" in after


def test_pages_load_our_scripts_as_one_versioned_file(app, client):
    page = get(client, "/inloggen").text
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert len(scripts) == 2 and scripts[0].startswith("/static/vendor/htmx-4.0.1.min.js?v=")
    assert re.fullmatch(r"/scripts\.js\?v=[0-9a-f]{8}", scripts[1])
    response = get(client, scripts[1])
    assert response.status_code == 200 and response.mimetype == "application/javascript"
    assert response.headers["Cache-Control"] == IMMUTABLE
    for name in PAGE_SCRIPTS:  # every script, whole, in the order that lets outbox.js define what the others use
        with open(f"{app.static_folder}/{name}", encoding="utf-8") as handle:
            assert handle.read() in response.text
    positions = [response.text.index(f"/* static/{name} */") for name in PAGE_SCRIPTS]
    assert positions == sorted(positions) and PAGE_SCRIPTS[0] == "js/outbox.js"
    assert "immutable" not in get(client, "/scripts.js?v=00000000").headers["Cache-Control"]


def test_worker_changes_when_a_page_script_changes(app, client):
    before = get(client, "/sw.js").text
    with app.app_context():
        source, _version = page_scripts()
    app.extensions["page_scripts"] = (source + "\n// changed", "0badf00d")
    after = get(client, "/sw.js").text
    assert before != after and "/scripts.js?v=0badf00d" in after


def test_every_static_url_in_a_page_is_versioned(client):
    page = get(client, "/inloggen").text
    static_urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert static_urls and all(re.search(r"\?v=[0-9a-f]{8}$", url) for url in static_urls)


@pytest.mark.parametrize("name", ["css/app.css", "js/app.js", "icons/icon-512.png"])
def test_only_current_versions_are_cached_as_immutable(app, client, name):
    with app.app_context():
        version = static_version(name)
    assert get(client, f"/static/{name}?v={version}").headers["Cache-Control"] == IMMUTABLE
    assert "immutable" not in get(client, f"/static/{name}").headers.get("Cache-Control", "")
    assert "immutable" not in get(client, f"/static/{name}?v=00000000").headers.get("Cache-Control", "")


def test_offline_page_shows_nothing_of_the_member(client, make_team, make_member, login_as):
    team = make_team("Team Geheim")
    login_as(make_member(team, "worker", name="Noor"))
    response = get(client, "/offline")
    assert response.status_code == 200 and "Geen verbinding" in response.text
    assert "Noor" not in response.text and "Team Geheim" not in response.text
    assert response.headers["Cache-Control"] == "no-cache"


def test_pages_name_the_member_cache_and_public_pages_do_not(client, make_team, make_member, login_as):
    team = make_team()
    assert PAGE_CACHE_HEADER not in get(client, "/inloggen").headers
    login_as(make_member(team, "worker"))
    first = get(client, f"/teams/{team.id}").headers[PAGE_CACHE_HEADER]
    assert re.fullmatch(r"[0-9a-f]{16}", first)
    assert get(client, f"/teams/{team.id}").headers[PAGE_CACHE_HEADER] == first
    login_as(make_member(team, "worker", name="Ander"))
    assert get(client, f"/teams/{team.id}").headers[PAGE_CACHE_HEADER] != first


@pytest.mark.parametrize("encoding, decompress", [("br", brotli.decompress), ("gzip", gzip.decompress)])
@pytest.mark.parametrize("url", ["/inloggen", "/static/css/app.css", "/static/vendor/htmx-4.0.1.min.js", "/sw.js"])
def test_text_is_compressed_when_the_browser_accepts_it(client, encoding, decompress, url):
    plain = get(client, url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    compressed = get(client, url, headers={"Accept-Encoding": encoding})
    assert compressed.headers["Content-Encoding"] == encoding and "Accept-Encoding" in compressed.headers["Vary"]
    if url == "/inloggen":  # the CSRF token differs per request
        assert b"Inloggen" in decompress(compressed.data)
    else:
        assert decompress(compressed.data) == plain.data


def test_images_are_not_compressed(client):
    assert "Content-Encoding" not in get(client, "/static/icons/icon-512.png", headers={"Accept-Encoding": "br"}).headers
