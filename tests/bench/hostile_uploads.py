"""`make bench`, phase "hostile uploads": what receipt uploads meant to hurt cost a gunicorn worker (issue 9 §5).

A small dataset (a granted request whose card the client received, so its requester may add receipts)
is served by gunicorn as in the other phases. Two signed-in phones of the requester send, at once and
ROUNDS times each, every upload of HOSTILE (each must be refused with a 4xx) and of AT_THE_LIMITS (the
largest images still accepted: they are decoded, so they show what decoding may cost; each is stored).

Printed: the answers by status, the slowest answer, and each worker's peak RSS: the most of VmHWM
(/proc/<pid>/status) when the phase ends and of VmRSS sampled every 20 ms during it (a worker that gunicorn
replaced keeps only its samples). Targets (issue 9): every hostile answer a 4xx within 5 s, every worker
under 300 MB. Like the rest of `make bench` this never fails on the figures.
"""
import http.client
import io
import os
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import timedelta

from PIL import Image
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from models import migrate
from tests.bench import dataset
from tests.bench.load import Server

ROUNDS = 2
TARGET_SECONDS = 5.0
TARGET_BYTES = 300_000_000
MIB = 1024 * 1024


# ── the uploads ──────────────────────────────────────────────────────────────────────────────────────

def _png(width: int, height: int, mode: int = 0, bits: int = 1, rows: int | None = None, palette=False) -> bytes:
    """A PNG of width × height zero pixels, zlib-compressed: a few KB for many megapixels.
    `rows` limits the rows actually present (a header-only bomb); None gives them all."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    channels = {0: 1, 2: 3, 3: 1}[mode]
    row = b"\x00" * (1 + (width * channels * bits + 7) // 8)
    compressor = zlib.compressobj(9)
    left = height if rows is None else rows
    per_batch = max(1, 4 * MIB // len(row))
    parts = []
    while left:
        parts.append(compressor.compress(row * min(left, per_batch)))
        left -= min(left, per_batch)
    body = b"".join(parts) + compressor.flush()
    extra = chunk(b"PLTE", b"\x00\x00\x00\xff\xff\xff") if palette else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bits, mode, 0, 0, 0))
            + extra + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def _encoded(fmt: str, size: tuple[int, int], plain: bool = False, **options) -> bytes:
    """A real image in `fmt`: a gradient (so it does not compress to nothing), or one grey (`plain`)."""
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener
        register_heif_opener()
    if plain:
        image = Image.new("RGB", size, (200, 200, 200))
    else:
        grey = Image.linear_gradient("L").resize(size)
        image = Image.merge("RGB", (grey, grey.transpose(Image.Transpose.ROTATE_180), grey))
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _declaring(fmt: str, width: int, height: int) -> bytes:
    """A 64 × 64 JPEG, WebP or HEIC whose header is rewritten to declare width × height."""
    data = _encoded(fmt, (64, 64))
    if fmt == "JPEG":  # baseline frame header: FFC0, length, precision, height, width
        at = data.index(b"\xff\xc0") + 5
        return data[:at] + struct.pack(">HH", height, width) + data[at + 4:]
    if fmt == "WEBP":  # lossy frame header: tag, start code, width, height
        at = data.index(b"VP8 ") + 14
        return data[:at] + struct.pack("<HH", width, height) + data[at + 4:]
    at = data.index(b"ispe") + 8  # HEIC: the image's spatial extent
    return data[:at] + struct.pack(">II", width, height) + data[at + 8:]


@dataclass
class Upload:
    """One hostile or limit-testing upload: its name, its photos (file name, bytes) and the expected status."""

    name: str
    photos: list[tuple[str, bytes]]
    expected: str  # "4xx" or "stored"
    body: bytes = b""
    content_type: str = ""


def _photos_49mpx(one: bytes, max_bytes: int) -> list[tuple[str, bytes]]:
    """The issue's attack: as many real 49 Mpx JPEGs (up to 80) as fit in one request."""
    return [(f"IMG_{n:04d}.jpg", one) for n in range(min(80, max(1, max_bytes // (len(one) + 300))))]


def uploads(max_bytes: int) -> list[Upload]:
    """Every upload of the phase, built once (a few seconds: the HEIC and the 49 Mpx JPEG are encoded)."""
    small = _encoded("JPEG", (64, 48))
    photo_49mpx = _encoded("JPEG", (7000, 7000), plain=True, quality=30, optimize=True)  # 290 KB
    many = _photos_49mpx(photo_49mpx, max_bytes - 64 * 1024)
    hostile = [
        Upload(f"{len(many)} photos of 49 Mpx (all that fit in the body)", many, "4xx"),
        Upload("11 small photos", [(f"{n}.jpg", small) for n in range(11)], "4xx"),
        Upload("PNG 1 × 49,000,000 px, every row (the issue's)", [("bom.png", _png(1, 49_000_000))], "4xx"),
        Upload("PNG 20,000 × 20,000 px, 1-bit zeros", [("bom.png", _png(20_000, 20_000))], "4xx"),
        Upload("PNG 5,000 × 5,000 palette zeros", [("bom.png", _png(5_000, 5_000, 3, 8, palette=True))], "4xx"),
        Upload("JPEG 49 Mpx (real)", [("groot.jpg", photo_49mpx)], "4xx"),
        Upload("JPEG header 10,000 × 5,000", [("groot.jpg", _declaring("JPEG", 10_000, 5_000))], "4xx"),
        Upload("JPEG header 65,000 × 65,000", [("groot.jpg", _declaring("JPEG", 65_000, 65_000))], "4xx"),
        Upload("WebP header 16,000 × 16,000", [("groot.webp", _declaring("WEBP", 16_000, 16_000))], "4xx"),
        Upload("WebP header 3,000 × 3,000 (over its budget)", [("groot.webp", _declaring("WEBP", 3_000, 3_000))],
               "4xx"),
        Upload("HEIC header 10,000 × 8,000", [("groot.heic", _declaring("HEIF", 10_000, 8_000))], "4xx"),
        Upload("HEIC header 5,712 × 4,284 (over its budget)", [("IMG.HEIC", _declaring("HEIF", 5_712, 4_284))],
               "4xx"),
        Upload("GIF header 60,000 × 60,000", [("groot.gif", b"GIF89a" + struct.pack("<HH", 60_000, 60_000)
                                               + b"\x00" * 64)], "4xx"),
        Upload("body over the size limit", [("groot.jpg", b"\xff\xd8\xff" + b"\x00" * (max_bytes + MIB))], "4xx"),
    ]
    at_the_limits = [
        Upload("JPEG 5,000 × 5,000 progressive (25 Mpx)",
               [("IMG.jpg", _encoded("JPEG", (5_000, 5_000), quality=40, progressive=True))], "stored"),
        Upload("PNG 4,000 × 4,000 palette zeros (16 Mpx)",
               [("bom.png", _png(4_000, 4_000, 3, 8, palette=True))], "stored"),
        Upload("PNG 4,000 × 4,000 RGB", [("foto.png", _encoded("PNG", (4_000, 4_000), compress_level=1))], "stored"),
        Upload("WebP 2,600 × 2,600", [("foto.webp", _encoded("WEBP", (2_600, 2_600), quality=40))], "stored"),
        Upload("HEIC 4,032 × 3,024 (a phone's 12 Mpx)",
               [("IMG.HEIC", _encoded("HEIF", (4_032, 3_024), quality=40))], "stored"),
    ]
    everything = hostile + at_the_limits
    for upload in everything:
        files = MultiDict([("photo", FileStorage(io.BytesIO(data), name)) for name, data in upload.photos])
        boundary, upload.body = encode_multipart(files)
        upload.content_type = f"multipart/form-data; boundary={boundary}"
    return everything


# ── the world and the measurement ────────────────────────────────────────────────────────────────────

def _granted_request_with_card(database_url: str, world, secret: str) -> tuple[int, int]:
    """A request granted by the models' own votes, whose card the client received; (request id, requester id)."""
    from models.cards import Card, CardState
    from models.clock import utcnow
    from models.decisions import decide
    from models.db import make_session
    from models.members import active_membership
    from models.requests import RequestStatus, SpendRequest
    from models.teams import Team
    from models.votes import cast_vote

    [request_id] = dataset.prepare_grants(database_url, world, 1, secret)
    engine = dataset.make_engine(database_url)  # the server is serving: write under SQLite's write lock
    try:
        with make_session(engine) as session:
            request = session.get(SpendRequest, request_id)
            cast_vote(session, request, active_membership(session, world.voter_ids[2], world.team_id), "approve")
            decide(session, request, session.get(Team, world.team_id), actor_id=world.voter_ids[2])
            session.flush()
            if request.status != RequestStatus.GRANTED:
                raise RuntimeError(f"the receipts' request was not granted ({request.status})")
            now = utcnow()
            session.add(Card(team_id=world.team_id, reference="BENCH-RECEIPTS", last_four="0000", request_id=request_id,
                             state=CardState.HANDED_OVER, loaded_amount_cents=request.granted_amount_cents,
                             budget_year_id=request.budget_year_id, loaded_at=now - timedelta(hours=1),
                             handed_over_at=now))
            session.commit()
            return request_id, request.requester_id
    finally:
        engine.dispose()


def _status_value(pid: int, key: str) -> int | None:
    """A kB figure of /proc/<pid>/status (VmHWM, VmRSS) in bytes, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class RssSampler(threading.Thread):
    """Samples every worker's VmRSS until stopped; remembers the largest per pid."""

    def __init__(self, server: Server, every: float = 0.02):
        super().__init__(daemon=True)
        self.server, self.every = server, every
        self.peaks: dict[int, int] = {}
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            for pid in self.server.worker_pids():
                rss = _status_value(pid, "VmRSS")
                if rss is not None and rss > self.peaks.get(pid, 0):
                    self.peaks[pid] = rss
            self.done.wait(self.every)

    def stop(self) -> dict[int, int]:
        """Stop; per worker pid (also those replaced meanwhile) its peak RSS in bytes."""
        self.done.set()
        self.join()
        for pid in self.server.worker_pids():
            hwm = _status_value(pid, "VmHWM")
            if hwm is not None:
                self.peaks[pid] = max(self.peaks.get(pid, 0), hwm)
        return self.peaks


@dataclass
class HostileResult:
    """What the phase measured."""

    #: upload name -> statuses of its answers
    statuses: dict[str, list] = field(default_factory=dict)
    #: upload name -> slowest answer in seconds
    slowest: dict[str, float] = field(default_factory=dict)
    expected: dict[str, str] = field(default_factory=dict)
    rss_before: dict[int, int] = field(default_factory=dict)
    #: "4xx" (the hostile set) or "stored" (the largest accepted, sent after it) -> worker pid -> peak RSS bytes
    rss_peak: dict[str, dict[int, int]] = field(default_factory=dict)
    workers_replaced: bool = False
    stored_files: int = 0
    #: upload name -> the start of an unexpected answer
    samples: dict[str, bytes] = field(default_factory=dict)
    server_log: str = ""


def measure(args, workdir, env_base, sign_in_clients) -> HostileResult:
    """Build a small world, serve it, send every upload ROUNDS times from two phones at once."""
    from web import create_app

    folder = workdir / "hostile-uploads"
    (folder / "instance").mkdir(parents=True)
    database_url = args.database_url or f"sqlite:///{folder / 'teambudget.sqlite3'}"
    if args.database_url:
        dataset.reset_database(database_url)
    migrate.upgrade(database_url)
    world = dataset.build(database_url, 200, env_base["HOUSEHOLD_KEY_SECRET"])
    request_id, requester_id = _granted_request_with_card(database_url, world, env_base["HOUSEHOLD_KEY_SECRET"])
    receipts = folder / "receipts"
    env = {**env_base, "DATABASE_URL": database_url, "INSTANCE_PATH": str(folder / "instance"),
           "RECEIPTS_PATH": str(receipts)}
    server = Server(env, args.workers, folder / "gunicorn.log")
    app = None
    phones = []
    try:
        os.environ.update(env, WEBAUTHN_ORIGIN=server.origin)
        app = create_app()
        max_bytes = app.config["RECEIPT_MAX_BYTES"]
        print("   building the hostile uploads …", flush=True)
        everything = uploads(max_bytes)
        server.start()
        phones = sign_in_clients(app, server, database_url, [requester_id, requester_id])
        url = f"/teams/{world.team_id}/aanvragen/{request_id}/bonnetjes"
        result = HostileResult(expected={u.name: u.expected for u in everything})
        for pid in server.worker_pids():
            result.rss_before[pid] = _status_value(pid, "VmHWM") or 0
        pids_before = tuple(sorted(server.worker_pids()))
        lock = threading.Lock()

        def send_all(phone, batch):
            for _round in range(ROUNDS):
                for upload in batch:
                    headers = {"X-CSRFToken": phone.csrf_token, "HX-Request": "true", "HX-Request-Type": "partial",
                               "Origin": phone.origin, "Sec-Fetch-Site": "same-origin",
                               "Content-Type": upload.content_type}
                    started = time.perf_counter()
                    status, body = _post(phone, url, upload.body, headers)
                    seconds = time.perf_counter() - started
                    with lock:
                        if not _answered_as_expected(upload.expected, status):
                            result.samples.setdefault(upload.name, body[:300])
                        result.statuses.setdefault(upload.name, []).append(status)
                        result.slowest[upload.name] = max(result.slowest.get(upload.name, 0.0), seconds)

        for expected in ("4xx", "stored"):  # the hostile set first: its peak is its own
            sampler = RssSampler(server)
            sampler.start()
            batch = [upload for upload in everything if upload.expected == expected]
            threads = [threading.Thread(target=send_all, args=(phone, batch)) for phone in phones]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            result.rss_peak[expected] = sampler.stop()
        result.workers_replaced = tuple(sorted(server.worker_pids())) != pids_before
        result.stored_files = len(list(receipts.glob("*.jpg"))) if receipts.exists() else 0
        result.server_log = server.log_path.read_text().strip()
        return result
    finally:
        for phone in phones:
            phone.close()
        server.stop()
        if app is not None:
            app.extensions["engine"].dispose()


def _post(phone, url: str, body: bytes, headers: dict):
    """POST on a new connection; (status or error name, body). The server may answer (413) and close
    before the body is sent: the answer is then read after the broken pipe, as a browser does."""
    connection = http.client.HTTPConnection("127.0.0.1", phone.port, timeout=120)
    headers = {"Host": phone.host, "Cookie": phone.cookie, "Accept-Language": "nl", **headers}
    try:
        try:
            connection.request("POST", url, body=body, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the answer may be there already
        response = connection.getresponse()
        return response.status, response.read()
    except Exception as error:  # a worker killed mid-answer is a result, not a crash of the bench
        return type(error).__name__, b""
    finally:
        connection.close()


def _answered_as_expected(expected: str, status) -> bool:
    if expected == "4xx":
        return isinstance(status, int) and 400 <= status < 500
    return status in (200, 303)


def print_result(result: HostileResult) -> None:
    """The phase's table and its verdicts."""
    print("\n── hostile uploads (issue 9 §5) " + "─" * 70)
    print(f"   {'upload':<52}{'answers':>16}{'slowest s':>11}  expected")
    for name, statuses in result.statuses.items():
        counts = ", ".join(f"{statuses.count(s)}× {s}" for s in sorted(set(statuses), key=str))
        expected = result.expected[name]
        ok = all(_answered_as_expected(expected, s) for s in statuses)
        print(f"   {name:<52}{counts:>16}{result.slowest[name]:>11.2f}  {expected}" + ("" if ok else "  UNEXPECTED"))
    hostile = [n for n, e in result.expected.items() if e == "4xx" and n in result.statuses]
    by_status = {}
    for name in hostile:
        for status in result.statuses[name]:
            by_status[status] = by_status.get(status, 0) + 1
    slowest_hostile = max((result.slowest[n] for n in hostile), default=0.0)
    all_4xx = all(_answered_as_expected("4xx", s) for n in hostile for s in result.statuses[n])
    print(f"   hostile answers by status: {dict(sorted(by_status.items(), key=lambda item: str(item[0])))}; "
          f"slowest {slowest_hostile:.2f} s — target: every one a 4xx within {TARGET_SECONDS:g} s: "
          + ("ok" if all_4xx and slowest_hostile <= TARGET_SECONDS else "MISSED"))
    before = ", ".join(f"{rss / MIB:.0f}" for rss in result.rss_before.values())
    print(f"   worker RSS before the phase: {before} MiB")
    for expected, label in (("4xx", "the hostile set"), ("stored", "the largest accepted images (after it)")):
        peaks = result.rss_peak.get(expected, {})
        peak = max(peaks.values(), default=0)
        print(f"   worker peak RSS during {label}: {', '.join(f'{rss / MIB:.0f}' for rss in peaks.values())} MiB; "
              f"highest {peak / MIB:.0f} MiB = {peak / 1e6:.0f} MB — target < {TARGET_BYTES / 1e6:.0f} MB: "
              + ("ok" if peak < TARGET_BYTES else "OVER"))
    print(f"   photos stored (files, photo + thumbnail each): {result.stored_files}")
    for name, sample in result.samples.items():
        print(f"   ! {name}: {sample!r}")
    if result.workers_replaced:
        print("   ! a gunicorn worker was replaced during the phase (killed or crashed)")
    if result.server_log:
        print("   server log:\n      " + result.server_log.replace("\n", "\n      "))
