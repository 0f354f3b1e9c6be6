"""The installable, offline-first shell: the manifest, the service worker, the offline page and
content-versioned static files.

URL table (public: a phone fetches these before, during and after a sign-in):
  GET /manifest.webmanifest    the web app manifest
  GET /sw.js                   the service worker (static/sw.js with the precache list filled in)
  GET /offline                 the page the worker shows for a page it has no copy of
  GET /scripts.js?v=<hash>     PAGE_SCRIPTS joined into one file (no build step: joined when first asked)

Invariants:
- Every url_for('static', ...) carries `v`, the first 8 hex of the file's SHA-256, computed once per
  file per app. Only a request whose `v` is the file's current version is cached as immutable, so an
  old URL never pins new bytes in a browser for a year.
- The worker's bytes name every file of the shell with its version: changing any of them changes
  /sw.js, which is what makes the browser install a new worker.
- A page for a signed-in member carries PAGE_CACHE_HEADER, an id derived from the login session; the
  worker keeps copies of pages only under that id and drops them when the id changes or disappears.
  /offline and the manifest hold nothing of a member, so any worker may keep them.
"""
import hashlib
import hmac
import json

from flask import Blueprint, current_app, render_template, request, session, url_for
from flask_login import current_user

bp = Blueprint("pwa", __name__)

PAGE_CACHE_HEADER = "Teambudget-Page-Cache"
IMMUTABLE = "public, max-age=31536000, immutable"
#: the files every page needs; with the page scripts, the offline page and the outbox page they make the
#: shell the worker keeps (js/outbox.js also on its own: the worker imports it to send on Background Sync)
SHELL_FILES = ["css/app.css", "vendor/htmx-4.0.1.min.js", "js/outbox.js",
               "icons/icon-192.png", "icons/icon-512.png", "icons/apple-touch-icon.png"]
#: our scripts, sent to pages as one file (/scripts.js), so a first visit costs 4 requests instead of 12.
#: Each runs once, in this order, and uses only what the ones before it define: outbox.js (the store and the
#: sending it shares with the worker) defines window.teambudgetOutbox, outbox-page.js adds the page's part
#: (queue, confirmSignOut), app.js defines window.teambudget (CSRF, postJSON, base64url, pausing the polls).
PAGE_SCRIPTS = ["js/outbox.js", "js/outbox-page.js", "js/app.js", "js/votes.js", "js/passkeys.js", "js/updates.js",
                "js/signout.js", "js/receipts.js", "js/next-step.js", "js/push.js"]
WORKER_PLACEHOLDERS = ("/* VERSION */ \"dev\"", "/* PRECACHE_URLS */ []")
THEME_COLOR = "#154273"       # --teambudget-color-primary
BACKGROUND_COLOR = "#ffffff"  # --teambudget-color-background


def init_app(app):
    """Version static URLs and give versioned static files a year of immutable caching."""
    app.extensions["static_versions"] = {}
    app.url_defaults(add_static_version)
    app.after_request(compress_shell_once)  # registered first, so it runs after cache_versioned_static
    app.after_request(cache_versioned_static)
    app.jinja_env.globals["page_scripts_url"] = page_scripts_url


def page_scripts() -> tuple[str, str]:
    """PAGE_SCRIPTS joined into one script, and the first 8 hex of its SHA-256; read once per app."""
    joined = current_app.extensions.get("page_scripts")
    if joined is None:
        parts = []
        for name in PAGE_SCRIPTS:
            with open(f"{current_app.static_folder}/{name}", encoding="utf-8") as handle:
                parts.append(f"/* static/{name} */\n{handle.read()}\n;")
        source = "\n".join(parts)
        joined = current_app.extensions["page_scripts"] = (source, hashlib.sha256(source.encode()).hexdigest()[:8])
    return joined


def page_scripts_url() -> str:
    """The versioned URL of the joined page scripts (the layout's one script besides htmx)."""
    return url_for("pwa.page_scripts_file", v=page_scripts()[1])


def static_version(filename: str) -> str:
    """The first 8 hex of the SHA-256 of a static file, read once per app."""
    versions = current_app.extensions["static_versions"]
    if filename not in versions:
        path = current_app.static_folder + "/" + filename
        with open(path, "rb") as handle:
            versions[filename] = hashlib.file_digest(handle, "sha256").hexdigest()[:8]
    return versions[filename]


def add_static_version(endpoint, values):
    """Add `v` to every static URL, so a changed file gets a new URL."""
    if endpoint == "static" and "v" not in values:
        values["v"] = static_version(values["filename"])


def _read_and_close(response):
    """Read a (small) static file now and close it.

    Flask-Compress would otherwise stream a text file and never close it, and a phone that drops the
    connection mid-request (going offline) makes the development server skip the response's close().
    """
    opened = response.response
    if response.status_code == 200:
        response.direct_passthrough = False
        response.make_sequence()
    elif response.status_code == 304:
        response.response = []  # no body: nothing to read
    else:
        return
    if hasattr(opened, "close"):
        opened.close()


def cache_versioned_static(response):
    """Let browsers keep a static file for a year when its URL names its current version."""
    if request.endpoint != "static":
        return response
    _read_and_close(response)
    if response.status_code != 200:
        return response
    filename = (request.view_args or {}).get("filename", "")
    try:
        current = static_version(filename)
    except OSError:
        return response
    if request.args.get("v") == current:
        response.headers["Cache-Control"] = IMMUTABLE
    return response


#: the versioned files every first visit downloads; they are compressed once, as small as brotli makes them
#: (Flask-Compress's fast level suits pages made per request, not files that never change)
SHELL_MIMETYPES = {"text/css", "application/javascript", "text/javascript"}


def compress_shell_once(response):
    """A versioned CSS or script file in brotli's smallest form, compressed once per app and version."""
    if (response.status_code != 200 or response.headers.get("Cache-Control") != IMMUTABLE
            or response.mimetype not in SHELL_MIMETYPES or "Content-Encoding" in response.headers
            or not request.accept_encodings.quality("br")):
        return response
    import brotli

    kept = current_app.extensions.setdefault("shell_brotli", {})
    key = (request.path, request.args.get("v"))  # immutable only for the current version: one entry per file
    response.direct_passthrough = False
    if key not in kept:  # two first requests at once may both compress: the same bytes land, no lock needed
        kept[key] = brotli.compress(response.get_data(), quality=11)
    response.set_data(kept[key])
    response.headers["Content-Encoding"] = "br"
    response.vary.add("Accept-Encoding")
    etag, weak = response.get_etag()
    if etag:  # Flask-Compress, which this response now skips, would do the same: name the encoding, answer 304
        response.set_etag(f"{etag}:br", weak=weak)
        response.make_conditional(request)
    return response


def page_cache_id() -> str | None:
    """The id under which the worker may keep this member's pages; None when signed out."""
    login_key = session.get("login_key")
    if not current_user.is_authenticated or not login_key:
        return None
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"page-cache:" + login_key.encode(), hashlib.sha256).hexdigest()[:16]


@bp.after_app_request
def name_page_cache(response):
    """Tell the worker whose page this is (no header: keep no pages at all)."""
    if request.endpoint != "static" and response.mimetype == "text/html":
        cache_id = page_cache_id()
        if cache_id:
            response.headers[PAGE_CACHE_HEADER] = cache_id
    return response


def precache_urls() -> list[str]:
    """The versioned shell the worker keeps at install: the files every page needs, the offline page and the
    outbox page (web/outbox.py: it holds nothing of a member, so it opens offline for anyone)."""
    files = SHELL_FILES + ([f"themes/{current_app.config['THEME_CSS']}"] if current_app.config["THEME_CSS"] else [])
    return ([url_for("static", filename=name) for name in files]
            + [page_scripts_url(), url_for("pwa.offline"), url_for("outbox.page")])


@bp.get("/scripts.js")
def page_scripts_file():
    """Our page scripts as one file; a year of immutable caching when `v` names the current version."""
    source, version = page_scripts()
    cache = IMMUTABLE if request.args.get("v") == version else "no-cache"
    return current_app.response_class(source, mimetype="application/javascript", headers={"Cache-Control": cache})


@bp.get("/sw.js")
def service_worker():
    """The worker, with the versioned precache list written into it."""
    with open(current_app.static_folder + "/sw.js", encoding="utf-8") as handle:
        source = handle.read()
    urls = precache_urls()
    version = hashlib.sha256(json.dumps(urls).encode()).hexdigest()[:8]
    source = source.replace(WORKER_PLACEHOLDERS[0], json.dumps(version)).replace(WORKER_PLACEHOLDERS[1], json.dumps(urls))
    # no-cache: the browser asks every time, so a new shell is noticed on the next page load
    return current_app.response_class(source, mimetype="application/javascript",
                                      headers={"Cache-Control": "no-cache"})


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest: Dutch name, icons (also maskable), standalone from /."""
    icons = [{"src": url_for("static", filename=f"icons/icon-{size}.png"), "sizes": f"{size}x{size}",
              "type": "image/png", "purpose": "any"} for size in (192, 512)]
    icons += [{"src": url_for("static", filename=f"icons/icon-maskable-{size}.png"), "sizes": f"{size}x{size}",
               "type": "image/png", "purpose": "maskable"} for size in (192, 512)]
    body = {
        "id": "/", "name": "Teambudget", "short_name": "Teambudget", "lang": "nl", "dir": "ltr",
        "description": "Samen met je team snel beslissen over kleine noodbudgetten voor huishoudens.",
        "start_url": "/", "scope": "/", "display": "standalone",
        "theme_color": THEME_COLOR, "background_color": BACKGROUND_COLOR, "icons": icons,
    }
    return current_app.response_class(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json",
                                      headers={"Cache-Control": "no-cache"})


@bp.get("/offline")
def offline():
    """The page shown offline for a page this phone has no copy of; nothing of a member on it."""
    response = current_app.make_response(render_template("offline.html", shell_only=True))
    response.headers["Cache-Control"] = "no-cache"
    return response
