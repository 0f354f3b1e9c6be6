"""The versioned CSS and scripts every first visit downloads are brotli at its smallest, compressed once.

The cold inbox must stay within its page-weight budget (tests/bench/pageweight.py); Flask-Compress's fast
level is right for pages made per request, not for files that never change under their version.
"""
import re

import brotli
import pytest


def _versioned_urls(client, login_as, make_team, make_member):
    team = make_team("Team Oost")
    login_as(make_member(team, "worker"))
    page = client.get(f"/teams/{team.id}").text
    css = re.search(r'href="(/static/css/app\.css\?v=\w+)"', page).group(1)
    scripts = re.search(r'src="(/scripts\.js\?v=\w+)"', page).group(1)
    return css, scripts


@pytest.mark.parametrize("which", [0, 1])
def test_versioned_shell_files_are_brotli_at_its_smallest_and_compressed_once(
        which, app, client, login_as, make_team, make_member):
    url = _versioned_urls(client, login_as, make_team, make_member)[which]
    first = client.get(url, headers={"Accept-Encoding": "gzip, br"})
    second = client.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert first.headers["Content-Encoding"] == "br" and "Accept-Encoding" in first.headers["Vary"]
    plain = brotli.decompress(first.data)
    assert first.data == second.data == brotli.compress(plain, quality=11)
    assert len(first.data) < len(brotli.compress(plain, quality=4))
    if which == 0:  # a static file's ETag names the encoding, so a cache never mixes the two bodies
        assert first.headers["ETag"].endswith(':br"')
        again = client.get(url, headers={"Accept-Encoding": "gzip, br", "If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""  # a revalidation costs no body, as with gzip


def test_an_unversioned_or_gzip_request_is_left_to_flask_compress(app, client, login_as, make_team, make_member):
    css, _scripts = _versioned_urls(client, login_as, make_team, make_member)
    assert client.get(css, headers={"Accept-Encoding": "gzip"}).headers["Content-Encoding"] == "gzip"
    stale = client.get("/static/css/app.css?v=00000000", headers={"Accept-Encoding": "br"})
    assert "immutable" not in stale.headers["Cache-Control"]
    plain = brotli.decompress(stale.data)
    assert stale.data != brotli.compress(plain, quality=11)  # the per-request level, not the kept one
