"""`make bench`: throughput, latency and server CPU per request of the pages every phone hits.

For each dataset size (by default ~1,000 and ~100,000 ledger entries) it builds a fresh database
(tests/bench/dataset.py), starts gunicorn with 2 sync workers on loopback, signs 20 clients in without
a passkey ceremony (a server-side login session plus a session cookie signed with the app's own
serializer) and measures, with all 20 clients at once:

  live 304     GET  /teams/<id>/live with a matching If-None-Match (every open phone, every second)
  inbox        GET  /teams/<id>, the team's home with the inbox of 20 open requests
  vote         POST /teams/<id>/aanvragen/<rid>/stem as the swipe card sends it (through the outbox:
               JSON answer, a new Teambudget-Operation UUID each time, so each is recorded once);
               each is a legal vote change that completes no quorum
  vote→grant   the same POST where the vote completes the quorum: the request is granted and the ledger
               gets its entry (a fixed number, each on its own prepared request)
  report       GET  /beheer/rapportage as the municipality's coordinator: the year's figures per district,
               the cross table, avoided costs and underspend over the whole history (issue 13: < 100 ms);
               its first view, which also reads every duration (models/reports.py), is timed apart

Every client is signed in more than the login session's touch interval before it is measured, as a phone
used all day is, so its first request also writes its session; and a last phase ("aged sessions") has
fresh such phones vote and poll at once and prints how many answers were a 5xx or none (it must be 0: on
SQLite that write once failed with "database is locked").

On the smallest dataset it also measures what a phone downloads to open the inbox, cold and warm,
and Lighthouse's mobile scores (tests/bench/pageweight.py). Last, on a small dataset of its own, a
worker's peak memory and the answers to hostile receipt uploads (tests/bench/hostile_uploads.py;
`--only hostile-uploads` runs just that).

It prints the figures and the 100k/1k ratios next to the targets of the issue, and never fails on
them: the exit status is non-zero only when the benchmark itself breaks.

Run: make bench [BENCH_ARGS="--seconds 10"]; or .venv/bin/python -m tests.bench.bench --help.
"""
import argparse
import math
import os
import secrets
import shutil
import sys
import tempfile
import time
import uuid
import warnings
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from flask import session
from flask_wtf.csrf import generate_csrf

from models import migrate
from models.sign_in import TOUCH_INTERVAL
from tests.bench import dataset, hostile_uploads, pageweight
from tests.bench.load import Client, DatabaseCpu, Server, run

#: endpoint -> (label, target CPU ms per request or None)
SCENARIOS = {
    "live": ("GET  /teams/<id>/live  (304)", None),
    "inbox": ("GET  /teams/<id>  (inbox)", 10.0),
    "vote": ("POST …/<rid>/stem  (vote)", 5.0),
    "grant": ("POST …/<rid>/stem  (vote→grant)", 5.0),
    "report": ("GET  /beheer/rapportage  (report)", 100.0),
}
RATIO_TARGET = 1.3
SIGNED_IN_AGO = TOUCH_INTERVAL + timedelta(seconds=30)
AGED_ROUNDS = 3


def parse_args(argv=None):
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000",
                        help="ledger entries per dataset, comma-separated (default: 1000,100000)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default: 20)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default: 2)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per endpoint (default: 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first (default: 1)")
    parser.add_argument("--grants-per-client", type=int, default=5,
                        help="deciding votes per client in the vote→grant run (default: 5)")
    parser.add_argument("--database-url",
                        help="PostgreSQL to use instead of a temporary SQLite file; ITS PUBLIC SCHEMA IS DROPPED")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, server logs)")
    parser.add_argument("--no-page-weight", action="store_true", help="skip the inbox's page weight and Lighthouse")
    parser.add_argument("--no-lighthouse", action="store_true", help="skip Lighthouse (page weight still measured)")
    parser.add_argument("--no-hostile-uploads", action="store_true", help="skip the hostile receipt uploads")
    parser.add_argument("--only", choices=["hostile-uploads"], help="run only this phase")
    return parser.parse_args(argv)


def label(size: int) -> str:
    """1000 -> '1k', 100000 -> '100k'."""
    return f"{size / 1000:g}k" if size >= 1000 else str(size)


def sign_in_clients(app, server, database_url, member_ids):
    """A signed-in client per member id, as `web.security.sign_in` would have left the cookie, signed in
    longer ago than the login session's touch interval: like a phone used all day, the first request of
    each writes its last-seen time beside everyone else's work (issue 9: that write once failed on SQLite)."""
    keys = dataset.sign_in(database_url, member_ids, ago=SIGNED_IN_AGO)
    serializer = app.session_interface.get_signing_serializer(app)
    clients = []
    for member_id, key in zip(member_ids, keys):
        with app.test_request_context():
            session["_user_id"] = str(member_id)
            session["_fresh"] = True
            session["login_key"] = key
            session.permanent = True
            token = generate_csrf()  # stores the raw token in the session, returns the signed one
            cookie = f"{app.config['SESSION_COOKIE_NAME']}={serializer.dumps(dict(session))}"
        clients.append(Client(server, cookie, token, member_id))
    return clients


def vote_body(client, choice):
    """The form the swipe card posts."""
    return urlencode({"choice": choice, "csrf_token": client.csrf_token})


def write_headers(client):
    """What the phone's outbox (static/js/outbox.js) sends with a swiped vote: a fresh operation UUID."""
    return {"X-CSRFToken": client.csrf_token, "Accept": "application/json", "Teambudget-Operation": str(uuid.uuid4()),
            "Origin": client.origin, "Sec-Fetch-Site": "same-origin"}


def bench_size(size, args, workdir, env_base):
    """Build one dataset, serve it, measure every scenario; returns (results, info)."""
    from web import create_app

    folder = workdir / label(size)
    (folder / "instance").mkdir(parents=True)
    database_url = args.database_url or f"sqlite:///{folder / 'teambudget.sqlite3'}"
    if args.database_url:
        dataset.reset_database(database_url)
    migrate.upgrade(database_url)
    started = time.perf_counter()
    world = dataset.build(database_url, size, env_base["HOUSEHOLD_KEY_SECRET"])
    info = {"build_seconds": time.perf_counter() - started, "counts": world.counts, "load_before": os.getloadavg()}

    env = {**env_base, "DATABASE_URL": database_url, "INSTANCE_PATH": str(folder / "instance")}
    server = Server(env, args.workers, folder / "gunicorn.log")
    os.environ.update(env, WEBAUTHN_ORIGIN=server.origin)
    app = create_app()
    clients = []
    database = DatabaseCpu(database_url) if args.database_url else None
    if database and not database.visible():
        database.close()
        database = None  # a server on another machine: its CPU cannot be read from here
    try:
        server.start()
        team = f"/teams/{world.team_id}"
        members = world.member_ids
        readers = sign_in_clients(app, server, database_url, [members[i % len(members)] for i in range(args.clients)])
        clients += readers

        # Sanity: signed in, the inbox shows the open requests, and each reader knows its live ETag.
        status, _headers, body = readers[0].request("GET", team)
        if status != 200 or body.count(b'id="request-card-') != len(world.open_request_ids):
            raise RuntimeError(f"the inbox did not render as expected (status {status}); see {server.log_path}")
        for client in readers:
            status, headers, _body = client.request("GET", f"{team}/live", headers={"HX-Request": "true"})
            client.etag = headers.get("ETag")
            if status != 200 or not client.etag:
                raise RuntimeError(f"GET {team}/live answered {status} without an ETag")

        results = {}
        results["live"] = run("live", server, readers, lambda c, _n: c.request(
            "GET", f"{team}/live", headers={"If-None-Match": c.etag, "HX-Request": "true"}), 304,
            warmup=args.warmup, seconds=args.seconds, database=database)
        results["inbox"] = run("inbox", server, readers, lambda c, _n: c.request("GET", team), 200,
                               warmup=args.warmup, seconds=args.seconds, database=database)

        # Votes: two phones per voting member, each cycling through the member's planned votes.
        voter_ids = [world.voter_ids[i % len(world.voter_ids)] for i in range(args.clients)]
        voters = sign_in_clients(app, server, database_url, voter_ids)
        clients += voters
        plans = [world.vote_plan[client.member_id] for client in voters]
        offsets = [(i // len(world.voter_ids)) * 3 for i in range(len(voters))]
        by_client = {id(client): (plan, offset) for client, plan, offset in zip(voters, plans, offsets)}

        def vote(client, n):
            plan, offset = by_client[id(client)]
            request_id, choice = plan[(n + offset) % len(plan)]
            return client.request("POST", f"{team}/aanvragen/{request_id}/stem", vote_body(client, choice),
                                  write_headers(client))
        results["vote"] = run("vote", server, voters, vote, 200, warmup=args.warmup, seconds=args.seconds,
                              database=database)
        info["open_after_votes"] = dataset.still_open(database_url, world.open_request_ids)

        # Deciding votes: requests with two approvals; the third approval grants each one.
        deciders_pool = world.voter_ids[2:]  # the first two voters are the prepared approvals
        deciders = sign_in_clients(app, server, database_url,
                                   [deciders_pool[i % len(deciders_pool)] for i in range(args.clients)])
        clients += deciders
        grant_ids = dataset.prepare_grants(database_url, world, args.clients * args.grants_per_client,
                                           env_base["HOUSEHOLD_KEY_SECRET"])
        work = [grant_ids[i::args.clients] for i in range(args.clients)]
        results["grant"] = run("grant", server, deciders, lambda c, request_id: c.request(
            "POST", f"{team}/aanvragen/{request_id}/stem", vote_body(c, "approve"), write_headers(c)), 200, work=work,
            database=database)
        info["granted"] = len(grant_ids) - dataset.still_open(database_url, grant_ids)

        # The report page, every client the coordinator on a phone of its own; the first view apart.
        coordinators = sign_in_clients(app, server, database_url, [world.coordinator_id] * args.clients)
        clients += coordinators
        started = time.perf_counter()
        status, _headers, _body = coordinators[0].request("GET", "/beheer/rapportage")
        info["report_first_ms"] = (time.perf_counter() - started) * 1000
        if status != 200:
            raise RuntimeError(f"GET /beheer/rapportage answered {status}; see {server.log_path}")
        results["report"] = run("report", server, coordinators, lambda c, _n: c.request("GET", "/beheer/rapportage"),
                                200, warmup=args.warmup, seconds=args.seconds, database=database)
        info["grant_requests"] = len(grant_ids)
        info["aged"] = aged_sessions(app, server, database_url, world, team, args)
        if size == min(int(n.replace("_", "")) for n in args.sizes.split(",")) and not args.no_page_weight:
            print("   measuring the inbox's page weight and Lighthouse scores …", flush=True)
            info["page_weight"] = pageweight.measure(server.origin, team, readers[0].cookie,
                                                     lighthouse=not args.no_lighthouse)
            info["origin"] = server.origin
        info["server_log"] = server.log_path.read_text().strip()
        return results, info
    finally:
        for client in clients:
            client.close()
        server.stop()
        app.extensions["engine"].dispose()
        if database:
            database.close()


def aged_sessions(app, server, database_url, world, team, args):
    """Votes and live polls at once from phones all signed in more than a touch interval ago, so every
    first request also writes its session; every answer counts, none is a warm-up. Returns (requests,
    unexpected answers)."""
    requests, errors = 0, {}
    for _round in range(AGED_ROUNDS):  # each round signs in anew: every client's first request touches again
        voters = sign_in_clients(app, server, database_url,
                                 [world.voter_ids[i % len(world.voter_ids)] for i in range(args.clients)])
        pollers = sign_in_clients(app, server, database_url,
                                  [world.member_ids[i % len(world.member_ids)] for i in range(args.clients)])
        try:
            plans = {id(c): world.vote_plan[c.member_id] for c in voters}

            def vote_or_poll(client, n):
                if id(client) in plans:
                    request_id, choice = plans[id(client)][n % len(plans[id(client)])]
                    return client.request("POST", f"{team}/aanvragen/{request_id}/stem", vote_body(client, choice),
                                          write_headers(client))
                return client.request("GET", f"{team}/live", headers={"HX-Request": "true"})
            result = run("aged", server, voters + pollers, vote_or_poll, 200,
                         work=[list(range(4))] * (len(voters) + len(pollers)))
        finally:
            for client in voters + pollers:
                client.close()
        requests += result.count
        for status, count in result.errors.items():
            errors[status] = errors.get(status, 0) + count
    return requests, errors


def server_errors(errors: dict) -> int:
    """How many answers were a 5xx or no answer at all (a refused vote, 4xx, is the app speaking)."""
    return sum(count for status, count in errors.items() if not isinstance(status, int) or status >= 500)


def fmt(value, digits=1):
    """A number for the table, or — when there is none."""
    return "—" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _with_db(results) -> bool:
    return any(result.db_cpu_ms is not None for result in results.values())


def print_size(size, results, info):
    """The table of one dataset."""
    with_db = _with_db(results)
    print(f"\n── ~{size:,} ledger entries ({label(size)}) " + "─" * 60)
    print("   " + ", ".join(f"{count:,} {name}" for name, count in info["counts"].items())
          + f"; built in {info['build_seconds']:.1f} s; load average before: {info['load_before'][0]:.2f}")
    print(f"   {'endpoint':<34}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'CPU ms/req':>12}"
          + (f"{'DB CPU ms/req':>15}" if with_db else "") + "  target (CPU)")
    for key, (name, target) in SCENARIOS.items():
        result = results[key]
        cpu = result.cpu_per_request
        verdict = "" if target is None else f"≤ {target:g} ms " + ("ok" if cpu <= target else "OVER")
        print(f"   {name:<34}{result.count:>9,}{fmt(result.per_second):>8}{fmt(result.percentile(0.5)):>9}"
              f"{fmt(result.percentile(0.95)):>9}{fmt(cpu, 2):>12}"
              + (f"{fmt(result.db_cpu_per_request, 2):>15}" if with_db else "") + f"  {verdict}")
    for key, result in results.items():
        if result.errors:
            print(f"   ! {key}: unexpected answers {dict(result.errors)} of {result.count}")
        if result.workers_restarted:
            print(f"   ! {key}: a gunicorn worker was replaced during the run; its CPU time is missing")
    print(f"   report: the first view (every duration read, one worker) answered in {info['report_first_ms']:,.0f} ms; "
          "the views after it read the durations kept by their worker")
    aged_requests, aged_errors = info["aged"]
    print(f"   aged sessions: {aged_requests:,} votes and live polls at once, every phone signed in more than "
          f"{TOUCH_INTERVAL.seconds} s ago: {server_errors(aged_errors)} errors (5xx or none)"
          + (f"; all answers other than 200: {aged_errors}" if aged_errors else ""))
    open_after = info["open_after_votes"]
    if open_after != dataset.OPEN_REQUESTS:
        print(f"   ! the vote run decided {dataset.OPEN_REQUESTS - open_after} request(s): it should decide none")
    if info["granted"] != info["grant_requests"]:
        print(f"   ! vote→grant granted {info['granted']} of {info['grant_requests']} requests")
    if info["server_log"]:
        print("   server log:\n      " + info["server_log"].replace("\n", "\n      "))


def _ratio(large, small):
    return large / small if small and large is not None else None


def print_ratios(sizes, by_size):
    """Per endpoint: the largest dataset against the smallest."""
    small, large = sizes[0], sizes[-1]
    a_label, b_label = label(small), label(large)
    with_db = _with_db(by_size[small][0]) and _with_db(by_size[large][0])
    print(f"\n── {a_label} → {b_label}: ratio {b_label}/{a_label} (target for CPU: ≤ {RATIO_TARGET}) " + "─" * 40)
    print(f"   {'':<34}{'CPU ms/req':^24}{'CPU':>12}" + (f"{'app+DB':>10}" if with_db else "")
          + f"{'p50 ms':^22}{'req/s':^18}")
    print(f"   {'endpoint':<34}{a_label:>12}{b_label:>12}{'ratio':>12}" + (f"{'ratio':>10}" if with_db else "")
          + f"{a_label:>11}{b_label:>11}{a_label:>9}{b_label:>9}")
    for key, (name, _target) in SCENARIOS.items():
        a, b = by_size[small][0][key], by_size[large][0][key]
        ratio = _ratio(b.cpu_per_request, a.cpu_per_request)
        cell = "—" if ratio is None else f"{ratio:.2f} " + (
            "" if key == "report" else "ok" if ratio <= RATIO_TARGET else "OVER")  # the report grows with the year
        line = f"   {name:<34}{fmt(a.cpu_per_request, 2):>12}{fmt(b.cpu_per_request, 2):>12}{cell:>12}"
        if with_db:
            total = _ratio(b.cpu_per_request + (b.db_cpu_per_request or 0), a.cpu_per_request + (a.db_cpu_per_request or 0))
            line += f"{fmt(total, 2):>10}"
        print(line + f"{fmt(a.percentile(0.5)):>11}{fmt(b.percentile(0.5)):>11}{fmt(a.per_second):>9}"
              f"{fmt(b.per_second):>9}")


def main(argv=None):
    """Run the benchmark and print its figures; exit 0 whatever they are."""
    args = parse_args(argv)
    warnings.filterwarnings("ignore", message="Using the in-memory storage")  # the app in this process signs cookies only
    if args.database_url:  # as web.config does: SQLAlchemy needs the psycopg 3 driver named
        for prefix in ("postgres://", "postgresql://"):
            if args.database_url.startswith(prefix):
                args.database_url = "postgresql+psycopg://" + args.database_url[len(prefix):]
    sizes = sorted(int(size.replace("_", "")) for size in args.sizes.split(","))
    engine = "PostgreSQL (" + args.database_url.split("@")[-1] + ")" if args.database_url else "SQLite file (WAL)"
    print(f"Teambudget benchmark: gunicorn {args.workers} sync workers on 127.0.0.1, {args.clients} concurrent "
          f"clients, {engine}, {os.cpu_count()} CPUs")
    print(f"   {args.warmup:g} s warm-up then {args.seconds:g} s per endpoint; vote→grant: "
          f"{args.clients * args.grants_per_client} deciding votes. CPU = user+system time of the gunicorn master "
          "and workers (/proc)" + ("; PostgreSQL's own CPU is not included" if args.database_url else "") + ".")
    print("   Latency is measured at the client: it includes waiting for a free worker "
          f"({args.clients} clients, {args.workers} workers).")
    busy = os.getloadavg()[0]
    if busy > (os.cpu_count() or 1) * 0.5:
        print(f"   note: the machine is already busy (load average {busy:.2f} on {os.cpu_count()} CPUs): "
              "req/s and latency suffer most; CPU per request less so.")
    if args.database_url and not dataset.schema_is_empty(args.database_url):
        print(f"   note: {engine} already has tables; they are dropped.")
    workdir = Path(tempfile.mkdtemp(prefix="teambudget-bench-"))
    env_base = {"SECRET_KEY": secrets.token_hex(32), "HOUSEHOLD_KEY_SECRET": secrets.token_hex(32),
                "RATELIMIT_SIGN_IN": "1000000 per minute", "RATELIMIT_INVITE": "1000000 per minute"}
    by_size = {}
    try:
        for size in sizes if not args.only else []:
            print(f"\n   building ~{size:,} ledger entries and measuring …", flush=True)
            by_size[size] = bench_size(size, args, workdir, env_base)
            print_size(size, *by_size[size])
            if "page_weight" in by_size[size][1]:
                pageweight.print_page_weight(by_size[size][1]["page_weight"], by_size[size][1]["origin"])
        if len(sizes) > 1 and not args.only:
            print_ratios(sizes, by_size)
        if not args.no_hostile_uploads:  # tests/bench/hostile_uploads.py
            print("\n   measuring hostile receipt uploads …", flush=True)
            hostile_uploads.print_result(hostile_uploads.measure(args, workdir, env_base, sign_in_clients))
        print("\n   Targets (from the issue): inbox ≤ 10 ms CPU/request, vote ≤ 5 ms, report page < 100 ms at 100k, "
              "100k/1k ratio ≤ 1.3; inbox "
              "cold load ≤ 45 KB in ≤ 4 requests, warm navigation 1 request; Lighthouse mobile performance 100, "
              "accessibility 100, best practices 100. Figures only: this never fails on them.")
    finally:
        if args.keep:
            print(f"   kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
