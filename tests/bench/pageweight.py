"""Page weight and Lighthouse for `make bench`: what a phone downloads to open the inbox.

- Cold load: a fresh Pixel 7 context (empty HTTP cache, service worker blocked, so the page's own
  requests are counted and not the worker's precache), the inbox opened once; every request until the
  load event, with its bytes on the wire (CDP Network encodedDataLength: compressed body + headers).
  The live poll that starts after the load is not part of the load and is not counted.
- Warm navigation: the inbox opened again in the same context: the requests that reach the network.
- Lighthouse (npm, pinned in the Makefile) in mobile mode on Debian's Chromium against the signed-in
  inbox (the session cookie passed with --extra-headers), three runs, the median of each category.

Figures only: nothing here fails the benchmark; what cannot run says why.
"""
import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
LIGHTHOUSE = Path(os.environ.get("LIGHTHOUSE_BIN", PROJECT_ROOT / "build/lighthouse/node_modules/.bin/lighthouse"))
CATEGORIES = ("performance", "accessibility", "best-practices")
#: issue 14 tightened the cold load from 60 KB in 6 requests and Lighthouse performance from 95
TARGETS = {"cold_kb": 45, "cold_requests": 4, "warm_requests": 1,
           "performance": 100, "accessibility": 100, "best-practices": 100}
SETTLE_MS = 300


class NetworkLog:
    """The requests CDP reports for one page: url, bytes on the wire, whether a cache answered."""

    def __init__(self, cdp):
        self.requests = {}
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.requestServedFromCache", self._from_cache)
        cdp.on("Network.responseReceived", self._received)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.send("Network.enable")

    def clear(self):
        """Forget what was seen so far."""
        self.requests = {}

    def _entry(self, request_id):
        return self.requests.setdefault(request_id, {"url": "", "bytes": 0, "cached": False, "done": False})

    def _sent(self, event):
        self._entry(event["requestId"])["url"] = event["request"]["url"]

    def _from_cache(self, event):
        self._entry(event["requestId"])["cached"] = True

    def _received(self, event):
        response = event["response"]
        if response.get("fromDiskCache") or response.get("fromServiceWorker") or response.get("fromPrefetchCache"):
            self._entry(event["requestId"])["cached"] = True

    def _finished(self, event):
        entry = self._entry(event["requestId"])
        entry["bytes"], entry["done"] = event["encodedDataLength"], True

    def network(self):
        """The requests that went to the server (not answered by a cache), excluding data: URLs."""
        return [r for r in self.requests.values() if not r["cached"] and not r["url"].startswith("data:")]


def measure_transfer(origin: str, path: str, cookie: str) -> dict:
    """Cold load and warm navigation of `path`, signed in with `cookie` ("name=value")."""
    from playwright.sync_api import sync_playwright

    name, value = cookie.split("=", 1)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            device = {k: v for k, v in playwright.devices["Pixel 7"].items() if k != "default_browser_type"}
            context = browser.new_context(**device, service_workers="block")
            context.add_cookies([{"name": name, "value": value, "url": origin}])
            page = context.new_page()
            log = NetworkLog(context.new_cdp_session(page))
            page.goto(origin + path, wait_until="load")
            page.wait_for_timeout(SETTLE_MS)
            cold = [r for r in log.network() if "/live" not in r["url"]]
            log.clear()
            page.goto(origin + path, wait_until="load")
            page.wait_for_timeout(SETTLE_MS)
            warm = [r for r in log.network() if "/live" not in r["url"]]
        finally:
            browser.close()
    return {"cold": cold, "warm": warm}


def lighthouse_scores(url: str, cookie: str, runs: int = 3) -> tuple[dict | None, str | None]:
    """Median Lighthouse mobile scores (0–100) per category over `runs`, or (None, why not)."""
    if not LIGHTHOUSE.exists():
        return None, f"Lighthouse is not installed at {LIGHTHOUSE} (make bench installs it with npm; is npm there?)"
    if not Path(CHROMIUM).exists():
        return None, f"no Chromium at {CHROMIUM}"
    scores = {category: [] for category in CATEGORIES}
    with tempfile.TemporaryDirectory(prefix="teambudget-lighthouse-") as folder:
        headers = Path(folder) / "headers.json"
        headers.write_text(json.dumps({"Cookie": cookie}))
        failures = []
        # a run sometimes fails to record its trace (NO_NAVSTART): such a run is tried again, twice at most
        while len(scores[CATEGORIES[0]]) < runs and len(failures) < 3:
            command = [str(LIGHTHOUSE), url, "--form-factor=mobile", "--output=json", "--quiet",
                       f"--only-categories={','.join(CATEGORIES)}", f"--extra-headers={headers}",
                       "--chrome-flags=--headless=new --no-sandbox --disable-gpu"]
            env = {**os.environ, "CHROME_PATH": CHROMIUM, "TMPDIR": folder}
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=180, env=env)
            except subprocess.TimeoutExpired:
                return None, "a Lighthouse run took longer than 3 minutes"
            report = json.loads(done.stdout) if done.returncode == 0 else {}
            if done.returncode != 0 or report.get("runtimeError"):
                failures.append(f"Lighthouse exited with {done.returncode}: {done.stderr.strip()[-300:]}"
                                if done.returncode != 0 else f"Lighthouse: {report['runtimeError'].get('message')}")
                continue
            for category in CATEGORIES:
                score = report["categories"][category]["score"]
                scores[category].append(None if score is None else round(score * 100))
        if len(scores[CATEGORIES[0]]) < runs:
            return None, f"{len(failures)} Lighthouse runs failed; the last: {failures[-1]}"
    return {c: statistics.median(v) if None not in v else None for c, v in scores.items()}, None


def measure(origin: str, path: str, cookie: str, lighthouse: bool = True) -> dict:
    """Everything this module measures; each part records why it could not run instead of failing."""
    result = {}
    try:
        result["transfer"] = measure_transfer(origin, path, cookie)
    except Exception as error:  # the benchmark prints figures; a missing browser is a note, not a crash
        result["transfer_error"] = f"{type(error).__name__}: {error}"
    if lighthouse:
        result["lighthouse"], result["lighthouse_error"] = lighthouse_scores(origin + path, cookie)
    else:
        result["lighthouse_error"] = "skipped (--no-lighthouse)"
    return result


def _verdict(ok: bool) -> str:
    return "ok" if ok else "OVER"


def print_page_weight(result: dict, origin: str) -> None:
    """The figures against the issue's targets."""
    print("\n── inbox page weight (Pixel 7, Debian Chromium) " + "─" * 60)
    if "transfer" in result:
        cold, warm = result["transfer"]["cold"], result["transfer"]["warm"]
        cold_kb = sum(r["bytes"] for r in cold) / 1024
        warm_kb = sum(r["bytes"] for r in warm) / 1024
        print(f"   cold load (empty cache, no worker)  {len(cold):>3} requests {cold_kb:>8.1f} KB   target ≤ "
              f"{TARGETS['cold_requests']} requests {_verdict(len(cold) <= TARGETS['cold_requests'])}, ≤ "
              f"{TARGETS['cold_kb']} KB {_verdict(cold_kb <= TARGETS['cold_kb'])}")
        for request in sorted(cold, key=lambda r: -r["bytes"]):
            print(f"      {request['bytes'] / 1024:>7.1f} KB  {request['url'].replace(origin, '')}")
        print(f"   warm navigation                     {len(warm):>3} requests {warm_kb:>8.1f} KB   target "
              f"{TARGETS['warm_requests']} request {_verdict(len(warm) <= TARGETS['warm_requests'])}")
        for request in warm:
            print(f"      {request['bytes'] / 1024:>7.1f} KB  {request['url'].replace(origin, '')}")
    else:
        print(f"   page weight not measured: {result['transfer_error']}")
    scores = result.get("lighthouse")
    if scores:
        line = ", ".join(f"{c} {'—' if s is None else f'{s:g}'} (≥ {TARGETS[c]} "
                         f"{'—' if s is None else _verdict(s >= TARGETS[c])})" for c, s in scores.items())
        print(f"   Lighthouse mobile, median of 3: {line}")
    else:
        print(f"   Lighthouse not run: {result['lighthouse_error']}")

