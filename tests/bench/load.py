"""The server under test and the clients that load it.

Server: gunicorn as in the Procfile (sync workers) on a free loopback port. Its CPU time is read from
/proc/<pid>/stat (utime + stime of the master and of every worker), so CPU per request is what the
server spent, whatever the load generator costs.

Clients: one thread per client, each with its own http.client connection. Gunicorn's sync workers
answer `Connection: close`, so http.client opens a new loopback connection for the next request, as a
phone behind a proxy would not, but as this deployment does.
"""
import http.client
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as handle:
        raw = handle.read()
    return raw[raw.rindex(")") + 2:].split()  # fields after the command name, which may hold spaces


class Server:
    """gunicorn with `workers` sync workers, started and stopped by the benchmark."""

    def __init__(self, env: dict, workers: int, log_path: Path):
        self.port = free_port()
        self.workers = workers
        self.log_path = log_path
        self.env = {**os.environ, **env, "WEBAUTHN_ORIGIN": f"http://localhost:{self.port}"}
        self.process = None

    @property
    def origin(self):
        """The origin a browser would use, and the Host header it would send."""
        return f"http://localhost:{self.port}"

    def start(self, timeout: float = 60) -> None:
        """Start gunicorn and wait until every worker answers."""
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [str(gunicorn), "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
             "--log-level", "warning", "web:create_app()"],
            cwd=PROJECT_ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_path.read_text()}")
            if len(self.worker_pids()) == self.workers:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                    connection.request("GET", "/inloggen", headers={"Host": f"localhost:{self.port}"})
                    if connection.getresponse().status == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{self.log_path.read_text()}")

    def worker_pids(self) -> list[int]:
        """The master's children (its workers)."""
        master = self.process.pid
        try:
            with open(f"/proc/{master}/task/{master}/children") as handle:
                return [int(pid) for pid in handle.read().split()]
        except OSError:
            children = []
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        if int(_stat_fields(int(entry))[1]) == master:
                            children.append(int(entry))
                    except (OSError, IndexError, ValueError):
                        pass
            return children

    def cpu(self) -> tuple[float, tuple[int, ...]]:
        """CPU milliseconds (user + system) of master and workers so far, and the worker pids."""
        pids = self.worker_pids()
        return sum(process_cpu_ms(pid) or 0.0 for pid in [self.process.pid, *pids]), tuple(sorted(pids))

    def stop(self) -> None:
        """Stop gunicorn gracefully (it waits for its workers)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self._log.close()


def process_cpu_ms(pid: int) -> float | None:
    """User + system CPU milliseconds of a process so far, or None when it is not visible here."""
    try:
        fields = _stat_fields(pid)
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / CLOCK_TICKS  # utime, stime: fields 14, 15 of stat(5)


class DatabaseCpu:
    """CPU of the PostgreSQL backends serving the benchmark's database, when they run on this machine."""

    def __init__(self, database_url: str):
        from models.db import make_engine

        self.engine = make_engine(database_url)
        self.connection = self.engine.connect()

    def snapshot(self) -> dict[int, float]:
        """Backend pid -> CPU ms so far, for every backend of this database except our own."""
        pids = [pid for (pid,) in self.connection.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
        self.connection.commit()  # pg_stat_activity is a snapshot per transaction
        found = {pid: process_cpu_ms(pid) for pid in pids}
        return {pid: ms for pid, ms in found.items() if ms is not None}

    def visible(self) -> bool:
        """Whether the server's processes can be read here (a local server)."""
        backend = self.connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        self.connection.commit()
        return process_cpu_ms(backend) is not None

    def close(self):
        """Close our connection."""
        self.connection.close()
        self.engine.dispose()


class Client:
    """One phone: a session cookie, its CSRF token and a connection of its own."""

    def __init__(self, server: Server, cookie: str, csrf_token: str, member_id: int):
        self.port, self.host, self.origin = server.port, f"localhost:{server.port}", server.origin
        self.cookie, self.csrf_token, self.member_id = cookie, csrf_token, member_id
        self.connection = None
        self.etag = None

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        """Send one request; returns (status, response headers, body bytes)."""
        headers = {"Host": self.host, "Cookie": self.cookie, "Accept-Language": "nl", **(headers or {})}
        if body is not None:
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                if response.will_close:
                    self.connection.close()
                return response.status, response.headers, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise

    def close(self):
        """Close the connection, if one is open."""
        if self.connection is not None:
            self.connection.close()


@dataclass
class Result:
    """What one scenario measured."""

    name: str
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    cpu_ms: float = 0.0
    #: CPU of the PostgreSQL backends, when measured
    db_cpu_ms: float | None = None
    workers_restarted: bool = False

    @property
    def count(self):
        """Requests measured."""
        return len(self.latencies_ms)

    @property
    def per_second(self):
        """Requests per second over the measured window."""
        return self.count / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_request(self):
        """Server CPU milliseconds per request."""
        return self.cpu_ms / self.count if self.count else float("nan")

    @property
    def db_cpu_per_request(self):
        """Database CPU milliseconds per request, when measured."""
        return self.db_cpu_ms / self.count if self.count and self.db_cpu_ms is not None else None

    def percentile(self, share: float) -> float:
        """The latency below which `share` of the requests finished (nearest rank)."""
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def run(name: str, server: Server, clients: list[Client], action, expected: int, *, warmup: float = 0.0,
        seconds: float | None = None, work: list[list] | None = None, database: DatabaseCpu | None = None) -> Result:
    """Load the server with every client at once.

    Timed (`seconds`): each client calls `action(client, n)` in a loop; requests that finish after the
    warm-up count, and CPU is read when the warm-up ends and after the last request.
    Fixed (`work`): client i calls `action(client, item)` once per item of work[i]; all of it counts.
    """
    result = Result(name)
    lock = threading.Lock()
    start = time.perf_counter()
    boundary = start + warmup
    end = boundary + (seconds or 0)
    cpu_before = {}
    done_times = []

    def measure_from_boundary():
        delay = boundary - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        cpu_before["at"] = server.cpu()
        cpu_before["db"] = database.snapshot() if database else None

    def one(client, item):
        started = time.perf_counter()
        try:
            status, _headers, _body = action(client, item)
        except Exception as error:  # a crashed request is reported, not fatal
            status = type(error).__name__
        finished = time.perf_counter()
        with lock:
            if status != expected:  # during the warm-up too: an error is never part of warming up
                result.errors[status] += 1
            if finished >= boundary:
                result.latencies_ms.append((finished - started) * 1000)
                result.statuses[status] += 1
                done_times.append(finished)

    def timed_loop(client):
        n = 0
        while time.perf_counter() < end:
            one(client, n)
            n += 1

    def fixed_loop(client, items):
        for item in items:
            one(client, item)

    if work is None:
        threads = [threading.Thread(target=timed_loop, args=(client,)) for client in clients]
        marker = threading.Thread(target=measure_from_boundary)
    else:
        cpu_before["at"] = server.cpu()
        cpu_before["db"] = database.snapshot() if database else None
        threads = [threading.Thread(target=fixed_loop, args=(client, items)) for client, items in zip(clients, work)]
        marker = None
    for thread in threads:
        thread.start()
    if marker:
        marker.start()
        marker.join()
    for thread in threads:
        thread.join()
    cpu_after, pids_after = server.cpu()
    if database:
        db_before, db_after = cpu_before["db"], database.snapshot()
        result.db_cpu_ms = sum(ms - db_before.get(pid, 0.0) for pid, ms in db_after.items())
    cpu_start, pids_start = cpu_before["at"]
    result.cpu_ms = cpu_after - cpu_start
    result.workers_restarted = pids_start != pids_after
    first = boundary if work is None else start
    result.seconds = (max(done_times) - first) if done_times else 0.0
    return result
