"""The parts the scale benchmarks share: the machine, gunicorn, a bounded load generator on
loopback, and the RSS of gunicorn's workers sampled while it runs.

The load generator is plain threads and ``http.client``: each virtual user signs in through the
login form (GET for the CSRF token, POST with it), keeps its cookies and loops until a fixed
deadline. gunicorn's sync workers close every connection, so each request opens its own.
"""

import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
STATIC_ROOT = Path(os.environ.get("BENCH_STATIC_ROOT", "/tmp/cadreval-bench-static"))
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
REQUEST_TIMEOUT = 120  # seconds; a request slower than this counts as an error


def setup_django(*, static: bool = False) -> None:
    """Django in this process, for looking up ids and counting queries (DATABASE_URL as set),
    with the settings gunicorn gets; ``static`` runs collectstatic, which pages need."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_bench")
    os.environ.setdefault("BENCH_STATIC_ROOT", str(STATIC_ROOT))
    import django

    django.setup()
    if static:
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)


# --- The machine ---------------------------------------------------------------------------------


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "free -h": memory}


def load() -> str:
    """The load averages over 1, 5 and 15 minutes, as `uptime` prints them."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def print_machine() -> None:
    info = machine()
    print(f"machine: nproc {info['nproc']}, CPU {info['cpu']}")
    print(info["free -h"])
    print(f"load average before: {load()}")


class QueryLog(list):
    """(seconds, sql, params) of every query run under ``connection.execute_wrapper(log)``."""

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.append((time.perf_counter() - started, sql, params))


# --- gunicorn and the RSS of its workers ----------------------------------------------------------


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


class Gunicorn:
    """``gunicorn config.wsgi:application --bind 127.0.0.1:PORT --workers N`` as the issue asks,
    with DEBUG=0, SECRET_KEY=bench, ALLOWED_HOSTS=127.0.0.1 and the benchmark's database.

    The other settings are STATIC_ROOT (bench/settings_bench.py), so that collectstatic
    writes its manifest outside the source tree, and DB_CONN_MAX_AGE=3600 (``CpuMeter``).
    ``app_role`` runs the server as production does, as the application's database role with
    row-level security on (``DATABASE_APP_ROLE``; ``manage.py create_app_role`` makes the
    role); the benchmark's own process stays the owner.
    """

    def __init__(
        self, database_url: str, *, port: int = 8077, workers: int = 4, app_role: str = ""
    ):
        self.url = f"http://127.0.0.1:{port}"
        self.port, self.workers = port, workers
        self.env = {
            **os.environ,
            "DATABASE_APP_ROLE": app_role,
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "SECRET_KEY": "bench",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SETTINGS_MODULE": "bench.settings_bench",
            # Connections kept for the whole run: a connection ended mid-page would take its
            # PostgreSQL CPU time with it (CpuMeter); production keeps them 60 s.
            "DB_CONN_MAX_AGE": "3600",
            "BENCH_STATIC_ROOT": str(STATIC_ROOT),
            "PYTHONPATH": str(ROOT),
        }
        self.process = None

    def __enter__(self):
        # setup_django(static=True) has run collectstatic with the same settings.
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--timeout",
                "300",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _headers, _body = raw_request(self.url, "GET", "/accounts/login/")
                if status == 200 and len(children(self.process.pid)) >= self.workers:
                    return self
            except OSError:
                pass
            time.sleep(0.5)
        self.__exit__(None, None, None)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def __exit__(self, *exc):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def worker_pids(self) -> list[int]:
        return children(self.process.pid) if self.process else []


class MemorySampler:
    """The RSS of every worker of a gunicorn master, sampled every ``interval`` seconds."""

    def __init__(self, master_pid: int | None, interval: float = 0.25):
        self.master, self.interval = master_pid, interval
        self.peak: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for pid in children(self.master) if self.master else []:
                value = rss_mb(pid)
                if value is not None and value > self.peak.get(pid, 0):
                    self.peak[pid] = value
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def max_mb(self) -> float:
        return max(self.peak.values(), default=0.0)


def _is_connection(command: bytes) -> bool:
    """A PostgreSQL process serving a client ("postgres: user db 127.0.0.1(port) idle"), not
    autovacuum or the checkpointer, whose work no page asked for."""
    return command.startswith(b"postgres: ") and (b"127.0.0.1(" in command or b"[local]" in command)


class CpuMeter:
    """CPU time spent while it is open, per request, by who spent it: gunicorn's workers, the
    PostgreSQL processes, this load generator. On shared cores a page's p95 mostly measures the
    queue; its CPU per request does not, so it is the steadier figure to compare pages by."""

    TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")

    def __init__(self, master_pid: int | None):
        self.master = master_pid
        self.spent: dict[str, float] = {}

    def _ticks(self) -> dict[str, dict[int, int]]:
        workers = set(children(self.master)) if self.master else set()
        found = {"app": {}, "database": {}}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes().split(b"\0", 1)[0]
            except OSError:
                continue
            kind = "app" if pid in workers else "database" if _is_connection(command) else None
            if kind:
                fields = stat.rsplit(")", 1)[1].split()
                found[kind][pid] = int(fields[11]) + int(fields[12])  # utime + stime
        return found

    def __enter__(self):
        self._before, self._own = self._ticks(), time.process_time()
        return self

    def __exit__(self, *exc):
        after, own = self._ticks(), time.process_time() - self._own
        for kind, ticks in after.items():
            spent = sum(t - self._before[kind].get(pid, 0) for pid, t in ticks.items())
            self.spent[kind] = spent * self.TICK_MS
        self.spent["load generator"] = own * 1000

    def per_request(self, requests: int) -> dict[str, float]:
        """Milliseconds of CPU a request, by who spent it (``app`` only with a known master)."""
        spent = {k: v for k, v in self.spent.items() if k != "app" or self.master}
        return {k: round(v / requests, 2) for k, v in spent.items()} if requests else {}


# --- HTTP -----------------------------------------------------------------------------------------


def raw_request(base: str, method: str, path: str, body: bytes | None = None, headers=None):
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, response.getheaders(), data
    finally:
        connection.close()


class Session:
    """One browser: its cookies, signed in through the login form with the CSRF token."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}
        self.token: str | None = None

    def _store(self, headers) -> None:
        for name, value in headers:
            if name.lower() == "set-cookie":
                cookie = SimpleCookie()
                cookie.load(value)
                for key, morsel in cookie.items():
                    self.cookies[key] = morsel.value

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        status, response_headers, data = raw_request(self.base, method, path, body, headers)
        self._store(response_headers)
        return status, data

    def sign_in(self, username: str, password: str) -> None:
        status, page = self.request("GET", "/accounts/login/")
        match = CSRF_FIELD.search(page)
        if status != 200 or not match:
            raise RuntimeError(f"no login form ({status})")
        body = urlencode(
            {
                "csrfmiddlewaretoken": match.group(1).decode(),
                "username": username,
                "password": password,
            }
        ).encode()
        status, _page = self.request(
            "POST",
            "/accounts/login/",
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"{self.base}/accounts/login/",
            },
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"signing in as {username} failed ({status})")

    def json(self, method: str, path: str, payload) -> tuple[int, bytes]:
        return self.request(
            method,
            path,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", "Accept": "application/json"},
        )


# --- Load -----------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0–100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Sample:
    kind: str
    started: float
    seconds: float
    ok: bool
    status: int


@dataclass
class Result:
    samples: list[Sample] = field(default_factory=list)
    wall: float = 0.0
    errors: list[str] = field(default_factory=list)

    def of(self, kind: str | None = None) -> list[Sample]:
        return [s for s in self.samples if kind is None or s.kind == kind]

    def stats(self, kind: str | None = None) -> dict:
        samples = self.of(kind)
        times = [s.seconds * 1000 for s in samples]
        if not times:
            return {"requests": 0, "errors": 0}
        return {
            "requests": len(samples),
            "errors": sum(not s.ok for s in samples),
            "p50_ms": round(percentile(times, 50), 1),
            "p95_ms": round(percentile(times, 95), 1),
            "p99_ms": round(percentile(times, 99), 1),
            "mean_ms": round(statistics.fmean(times), 1),
            "per_second": round(len(samples) / self.wall, 1) if self.wall else 0.0,
        }


def run_users(users: int, duration: float, body, *, warmup: float = 0.0) -> Result:
    """Run ``body(user_index, record)`` in ``users`` threads until the deadline.

    ``body`` makes one or more requests and calls ``record(kind, seconds, ok, status)`` for
    each; samples started during the warm-up are dropped. Requests in flight at the deadline
    finish and count; none starts after it.
    """
    result = Result()
    lock = threading.Lock()
    start = time.perf_counter()
    measure_from = start + warmup
    deadline = measure_from + duration

    def record(kind, began, seconds, ok, status):
        if began >= measure_from:
            with lock:
                result.samples.append(Sample(kind, began, seconds, ok, status))

    def loop(index):
        while time.perf_counter() < deadline:
            try:
                if body(index, record, deadline) is False:
                    return
            except Exception as exc:  # a broken connection is an error, not a crash
                with lock:
                    result.errors.append(repr(exc))
                    result.samples.append(Sample("error", time.perf_counter(), 0, False, 0))

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall = time.perf_counter() - measure_from
    return result


def timed(session: Session, method: str, path: str, *, payload=None, expect=(200,)):
    """One request: (started, seconds, ok, status, body)."""
    began = time.perf_counter()
    try:
        if payload is None:
            status, data = session.request(method, path)
        else:
            status, data = session.json(method, path, payload)
    except OSError as exc:
        return began, time.perf_counter() - began, False, 0, repr(exc).encode()
    return began, time.perf_counter() - began, status in expect, status, data
