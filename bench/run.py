"""Benchmark Tessera's hot endpoints under gunicorn, over PostgreSQL and Redis.

    python bench/run.py [--requests N] [--duration S] [--concurrency C] [--workers W]
                        [--threads T] [--scenario NAME ...] [--overload-clients N]
                        [--queue-budget-ms MS] [--queue-max-depth N] [--json]

What one run does, start to finish (everything on 127.0.0.1):

1. Creates a throw-away PostgreSQL database `tessera_bench_<pid>` next to the one named by
   --database-url (default: $TESSERA_BENCH_DATABASE_URL, else $TESSERA_TEST_DATABASE_URL,
   else postgresql+psycopg://postgres@127.0.0.1:5432/test) and drops it at the end.
2. Through the `tessera` CLI and TESSERA_* variables: `db upgrade`, one user, and one
   confidential client (client_credentials + authorization_code + refresh_token,
   --skip-consent). Rate limits are off (TESSERA_RATELIMIT_ENABLED=false); Redis keys use a
   per-run prefix that is deleted at the end.
3. Starts `gunicorn -c config/gunicorn.conf.py wsgi:app` on a free port (TESSERA_WORKERS /
   TESSERA_THREADS from --workers / --threads), waits for /health, and always stops it
   (also on Ctrl-C or SIGTERM). Its access log goes to a temporary file, shown on failure.
4. Signs in once through the hosted login page (CSRF token + cookie), then runs the code
   flow with PKCE once per concurrency slot, so every load thread owns its own refresh
   token family and always presents the newest token (rotation).
5. For each scenario: a short warm-up, then --requests requests or --duration seconds,
   whichever comes first, from --concurrency threads, each with its own keep-alive
   httpx.Client. Non-2xx answers and transport errors count as errors and are printed.

Scenarios: discovery, jwks, client_credentials, refresh_token, userinfo. userinfo is
reported as "not available" when the server answers 404/405 there.

`--scenario overload` (run only when asked) drives password sign-ins (modernauth's
/v1/auth/login, an argon2id check each) from --overload-clients threads (default 200), far
more than the workers' threads, so requests queue. A 503 `overloaded` answer is counted as
shed, not as an error; the report gives the shed count and the p99 of all answers, of the
served ones and of the shed ones. --queue-budget-ms / --queue-max-depth set the server's
TESSERA_QUEUE_BUDGET_MS / TESSERA_QUEUE_MAX_DEPTH (0 switches shedding off, to compare).

The load generator runs on the same machine as the server and takes CPU from it; the table
shows how much CPU each side used, so rates can be read per server core.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
# Run as `python bench/run.py`: the repository root makes tests/support importable.
sys.path.insert(0, str(ROOT))

from tests.support.csrf import csrf_from  # noqa: E402
from tests.support.pkce import pkce_pair  # noqa: E402

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
REDIRECT_URI = "http://127.0.0.1/bench/callback"  # never contacted: the code is read from Location
USER_EMAIL = "loadtest@example.com"
SCENARIOS = ("discovery", "jwks", "client_credentials", "refresh_token", "userinfo")
OVERLOAD = "overload"  # run only when named with --scenario
REQUEST_TIMEOUT = 10.0  # seconds; bounds every request, so every loop ends by itself


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    """Set-up failed; the message says where."""


# --- the throw-away database -----------------------------------------------------------------

def _libpq_url(url: str) -> str:
    """postgresql+psycopg://... -> postgresql://... (psycopg does not know the dialect)."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


class BenchDatabase:
    def __init__(self, server_url: str) -> None:
        if not server_url.startswith("postgresql"):
            raise BenchError(f"--database-url must be a PostgreSQL URL, not {server_url!r}")
        self.server_url = server_url
        self.name = f"tessera_bench_{os.getpid()}_{secrets.token_hex(3)}"
        self.url = _with_database(server_url, self.name)
        self.created = False

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(_libpq_url(self.server_url), autocommit=True,
                             connect_timeout=10) as connection:
            connection.execute(sql)

    def create(self) -> None:
        self._execute(f'CREATE DATABASE "{self.name}"')
        self.created = True

    def drop(self) -> None:
        if self.created:
            self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.created = False


def clear_redis(url: str, prefix: str) -> None:
    if not url:
        return
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        batch = []
        for key in client.scan_iter(match=f"{prefix}:*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)
    finally:
        client.close()


# --- the server ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """Linux: SIGTERM the gunicorn master if this script dies without its finally blocks."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def tessera_cli(env: dict, *args: str) -> str:
    command = ([shutil.which("tessera")] if shutil.which("tessera")
               else [sys.executable, "-m", "app.cli"])
    result = subprocess.run([*command, *args], cwd=ROOT, env=env, capture_output=True,  # noqa: S603
                            text=True, timeout=120)
    if result.returncode != 0:
        raise BenchError(f"tessera {' '.join(args[:2])} failed: "
                         f"{(result.stderr or result.stdout).strip()[-800:]}")
    return result.stdout


class Server:
    def __init__(self, env: dict, log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self._log = None

    def start(self, base_url: str, deadline_s: float = 30.0) -> None:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + deadline_s
        with httpx.Client(base_url=base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise BenchError(f"gunicorn exited with {self.process.returncode}:\n"
                                     + self.log_tail())
                try:
                    if client.get("/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        raise BenchError(f"gunicorn did not answer /health within {deadline_s:.0f} s:\n"
                         + self.log_tail())

    def pids(self) -> list[int]:
        """The master and its workers (read from /proc; empty where that is unavailable)."""
        if self.process is None:
            return []
        found = [self.process.pid]
        for tid_dir in Path(f"/proc/{self.process.pid}/task").glob("*"):
            try:
                found += [int(pid) for pid in (tid_dir / "children").read_text().split()]
            except OSError:
                pass
        return found

    def cpu_seconds(self) -> float | None:
        pids = self.pids()
        if not pids:
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        return total

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # gunicorn: graceful shutdown on SIGTERM
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None


# --- a user session through the hosted pages -----------------------------------------------

def sign_in(browser: httpx.Client, email: str, password: str) -> None:
    page = browser.get("/login")
    if page.status_code != 200:
        raise BenchError(f"GET /login answered {page.status_code}")
    try:
        token = csrf_from(page.text)
    except LookupError as error:
        raise BenchError(f"GET /login: {error}") from None
    response = browser.post("/login", data={"csrf_token": token,
                                            "email": email, "password": password})
    if response.status_code != 302:
        raise BenchError(f"POST /login answered {response.status_code}, not a redirect")


def authorization_code(browser: httpx.Client, client_id: str, scope: str) -> tuple[str, str]:
    """Run /oauth2/authorize with the signed-in browser; returns (code, verifier)."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(8)
    response = browser.get("/oauth2/authorize", params={
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI,
        "scope": scope, "state": state, "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge, "code_challenge_method": "S256",
    })
    for _ in range(6):
        location = response.headers.get("location", "")
        if location.startswith(REDIRECT_URI):
            params = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
            if "code" not in params:
                raise BenchError(f"authorize returned an error: {params}")
            if params.get("state") != state:
                raise BenchError("authorize returned another state")
            return params["code"], verifier
        if response.status_code not in (302, 303) or not location:
            raise BenchError(f"authorize stopped at {response.status_code} "
                             f"{response.request.url.path}: {response.text[:300]}")
        if urlsplit(location).path in ("/login", "/consent"):
            raise BenchError(f"authorize asked for {urlsplit(location).path}; the session or "
                             "--skip-consent did not take")
        response = browser.get(location)
    raise BenchError("no callback after six redirects")


def exchange_code(base_url: str, client: dict, code: str, verifier: str) -> dict:
    response = httpx.post(f"{base_url}/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier}, auth=(client["client_id"], client["client_secret"]),
        timeout=REQUEST_TIMEOUT)
    if response.status_code != 200:
        raise BenchError(f"code exchange answered {response.status_code}: {response.text[:300]}")
    body = response.json()
    if "refresh_token" not in body:
        raise BenchError(f"code exchange issued no refresh token: {sorted(body)}")
    return body


# --- load ------------------------------------------------------------------------------------

@dataclass
class Result:
    name: str
    available: bool = True
    note: str = ""
    requests: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    # Answers refused by load shedding (503 `overloaded`) in a scenario that expects them.
    shed_latencies: list[float] = field(default_factory=list)
    served_latencies: list[float] = field(default_factory=list)
    error_samples: Counter = field(default_factory=Counter)
    client_cpu: float | None = None
    server_cpu: float | None = None

    def percentile(self, fraction: float, latencies: list[float] | None = None) -> float | None:
        latencies = self.latencies if latencies is None else latencies
        if not latencies:
            return None
        ordered = sorted(latencies)
        index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
        return ordered[index] * 1000

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    def as_dict(self) -> dict:
        data = {"scenario": self.name, "available": self.available}
        if not self.available:
            return data | {"note": self.note}
        return data | {
            "requests": self.requests, "errors": self.errors,
            "seconds": round(self.elapsed, 3), "requests_per_s": round(self.rate, 1),
            "p50_ms": _round(self.percentile(0.50)), "p99_ms": _round(self.percentile(0.99)),
            "client_cpu_cores": _round(self.client_cpu), "server_cpu_cores":
                _round(self.server_cpu), "requests_per_server_core_s": _round(
                self.rate / self.server_cpu if self.server_cpu else None, 1),
            "error_samples": dict(self.error_samples.most_common(5)),
        } | ({"shed": len(self.shed_latencies),
              "served_p99_ms": _round(self.percentile(0.99, self.served_latencies)),
              "shed_p99_ms": _round(self.percentile(0.99, self.shed_latencies))}
             if self.name == OVERLOAD else {})


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


class Scenario:
    """One kind of request; slot_state(i) gives thread i whatever it needs (e.g. its token)."""

    def __init__(self, name: str, send, slots: list | None = None,
                 sheddable: bool = False) -> None:
        self.name = name
        self.send = send  # send(http_client, slot_index) -> httpx.Response
        self.slots = slots
        # A 503 `overloaded` answer is what this scenario measures, not an error.
        self.sheddable = sheddable


def open_clients(base_url: str, count: int) -> list[httpx.Client]:
    """One keep-alive client per load thread, made before any clock starts (making an
    httpx.Client builds an SSL context, which costs milliseconds)."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return [httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT, limits=limits)
            for _ in range(count)]


def drive(scenario: Scenario, *, clients: list[httpx.Client], requests: int, duration: float,
          stop: threading.Event, server: Server | None = None) -> Result:
    """Send at most `requests` requests within at most `duration` seconds, one thread per
    client."""
    result = Result(scenario.name)
    concurrency = len(clients)
    ready = threading.Barrier(concurrency + 1)
    lock = threading.Lock()
    issued = 0
    deadline = 0.0

    def take_ticket() -> bool:
        nonlocal issued
        with lock:
            if issued >= requests or time.monotonic() >= deadline or stop.is_set():
                return False
            issued += 1
            return True

    def worker(slot: int) -> tuple[list[float], int, Counter, list[float], list[float]]:
        latencies, errors, samples, shed, served = [], 0, Counter(), [], []
        http = clients[slot]
        ready.wait(timeout=60)
        while take_ticket():
            started = time.perf_counter()
            try:
                response = scenario.send(http, slot)
                status = response.status_code
            except httpx.HTTPError as error:
                response, status = None, type(error).__name__
            latencies.append(time.perf_counter() - started)
            if response is not None and 200 <= status < 300:
                served.append(latencies[-1])
            elif scenario.sheddable and status == 503 and "Retry-After" in response.headers:
                shed.append(latencies[-1])
            else:
                errors += 1
                body = response.text[:160].replace("\n", " ") if response is not None else ""
                samples[f"{status} {body}".strip()] += 1
        return latencies, errors, samples, shed, served

    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(worker, slot) for slot in range(concurrency)]
        # Every thread is up before the clock starts; the deadline is set before they go.
        server_before = server.cpu_seconds() if server else None
        cpu_before = time.process_time()
        started = time.monotonic()
        deadline = started + duration
        ready.wait(timeout=60)
        for future in futures:
            latencies, errors, samples, shed, served = future.result()
            result.latencies += latencies
            result.errors += errors
            result.error_samples.update(samples)
            result.shed_latencies += shed
            result.served_latencies += served
    result.elapsed = time.monotonic() - started
    result.requests = len(result.latencies)
    if result.elapsed > 0:
        result.client_cpu = (time.process_time() - cpu_before) / result.elapsed
        server_after = server.cpu_seconds() if server else None
        if server_before is not None and server_after is not None:
            result.server_cpu = (server_after - server_before) / result.elapsed
    return result


def build_scenarios(base_url: str, client: dict, families: list[dict]) -> list[Scenario]:
    auth = (client["client_id"], client["client_secret"])
    refresh_tokens = [family["refresh_token"] for family in families]
    access_tokens = [family["access_token"] for family in families]

    def discovery(http, _slot):
        return http.get("/.well-known/openid-configuration")

    def jwks(http, _slot):
        return http.get("/.well-known/jwks.json")

    def client_credentials(http, _slot):
        return http.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=auth)

    def refresh_token(http, slot):
        # Each thread owns one token family and always presents its newest token.
        response = http.post("/oauth2/token", data={"grant_type": "refresh_token",
                                                    "refresh_token": refresh_tokens[slot]},
                             auth=auth)
        if response.status_code == 200:
            body = response.json()
            refresh_tokens[slot] = body["refresh_token"]
            access_tokens[slot] = body["access_token"]
        return response

    def userinfo(http, slot):
        return http.get("/oauth2/userinfo",
                        headers={"Authorization": f"Bearer {access_tokens[slot]}"})

    return [Scenario("discovery", discovery), Scenario("jwks", jwks),
            Scenario("client_credentials", client_credentials),
            Scenario("refresh_token", refresh_token), Scenario("userinfo", userinfo)]


def overload_scenario(password: str) -> Scenario:
    """Password sign-ins: each costs an argon2id check, so a few hundred clients queue."""

    def sign_in_json(http, _slot):
        return http.post("/v1/auth/login", json={"email": USER_EMAIL, "password": password})

    return Scenario(OVERLOAD, sign_in_json, sheddable=True)


# --- output ----------------------------------------------------------------------------------

def render_table(report: dict) -> str:
    machine, gunicorn = report["machine"], report["gunicorn"]
    lines = [
        f"machine: {machine['cores']} cores, {machine['cpu']}, Python {machine['python']}, "
        f"load average {machine['load_average_before']} before / "
        f"{machine['load_average_after']} after",
        f"gunicorn: {gunicorn['workers']} workers x {gunicorn['threads']} threads "
        f"({gunicorn['worker_class']}), PostgreSQL {report['database']}, "
        f"Redis {'on' if report['redis'] else 'off'}",
        f"load: {report['concurrency']} keep-alive clients on the same machine, "
        f"per scenario up to {report['requests']} requests or {report['duration']} s "
        f"after {report['warmup']} warm-up requests",
        "",
        f"{'scenario':<20}{'requests':>9}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'server CPU':>12}{'req/s/core':>12}{'client CPU':>12}",
    ]

    def num(value, fmt):
        return "-" if value is None else format(value, fmt)

    for row in report["scenarios"]:
        if not row["available"]:
            lines.append(f"{row['scenario']:<20}not available ({row['note']})")
            continue
        lines.append(
            f"{row['scenario']:<20}{row['requests']:>9}{row['errors']:>8}"
            f"{row['requests_per_s']:>9.1f}{num(row['p50_ms'], '.1f'):>9}"
            f"{num(row['p99_ms'], '.1f'):>9}{num(row['server_cpu_cores'], '.2f'):>12}"
            f"{num(row['requests_per_server_core_s'], '.0f'):>12}"
            f"{num(row['client_cpu_cores'], '.2f'):>12}")
    lines.append("(server/client CPU: cores the gunicorn processes / this load generator kept "
                 "busy on average; req/s/core = req/s per gunicorn core, PostgreSQL and Redis "
                 "CPU not counted)")
    for row in report["scenarios"]:
        if "shed" in row:
            lines.append(
                f"{row['scenario']}: {report['overload_clients']} clients, "
                f"queue budget {report['queue_budget_ms']} ms, max depth "
                f"{report['queue_max_depth']}: {row['requests']} answers, {row['shed']} shed "
                f"(503 + Retry-After), {row['errors']} errors; p99 all "
                f"{num(row['p99_ms'], '.0f')} ms, served {num(row['served_p99_ms'], '.0f')} ms, "
                f"shed {num(row['shed_p99_ms'], '.0f')} ms")
    for row in report["scenarios"]:
        for sample, count in (row.get("error_samples") or {}).items():
            lines.append(f"  {row['scenario']} error x{count}: {sample}")
    return "\n".join(lines)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# --- the run ---------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000,
                        help="most requests per scenario (default 2000)")
    parser.add_argument("--duration", type=float, default=15.0,
                        help="most seconds per scenario (default 15)")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="load threads, each with its own keep-alive connection (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=4,
                        help="gunicorn threads per worker (default 4)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="warm-up requests per scenario (default min(100, requests))")
    parser.add_argument("--scenario", action="append", choices=(*SCENARIOS, OVERLOAD),
                        help="run only these scenarios (repeatable; default all but "
                             "overload)")
    parser.add_argument("--overload-clients", type=int, default=200,
                        help="load threads of the overload scenario (default 200)")
    parser.add_argument("--queue-budget-ms", type=int, default=None,
                        help="server's TESSERA_QUEUE_BUDGET_MS (default: its own, 5000; "
                             "0: no shedding by wait)")
    parser.add_argument("--queue-max-depth", type=int, default=None,
                        help="server's TESSERA_QUEUE_MAX_DEPTH (default: its own, 0: off)")
    parser.add_argument("--database-url", default=os.environ.get("TESSERA_BENCH_DATABASE_URL")
                        or os.environ.get("TESSERA_TEST_DATABASE_URL") or DEFAULT_DATABASE_URL,
                        help="PostgreSQL server to create the throw-away database on")
    parser.add_argument("--redis-url", default=os.environ.get("TESSERA_BENCH_REDIS_URL",
                                                              DEFAULT_REDIS_URL),
                        help="Redis URL ('' for in-process state)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    for name in ("requests", "concurrency", "workers", "threads", "overload_clients"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.overload_clients > 1000:
        parser.error("--overload-clients must be at most 1000 (gunicorn's worker_connections)")
    for name in ("queue_budget_ms", "queue_max_depth"):
        if getattr(args, name) is not None and getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be 0 or more")
    if not 0 < args.duration <= 600:
        parser.error("--duration must be in (0, 600]")
    if args.warmup is None:
        args.warmup = min(100, args.requests)
    return args


def _on_sigterm(_signum, _frame):
    raise KeyboardInterrupt("SIGTERM")


@dataclass
class BenchRun:
    """What one run owns from set-up to tear-down: the settings it starts the server with, the
    throw-away database, the server, and the load clients to close at the end."""

    args: argparse.Namespace
    base_url: str
    prefix: str  # Redis key prefix of this run, deleted at the end
    password: str  # the bench user's, made up for this run
    env: dict  # shared with `server`: the database URL is added once the database exists
    database: BenchDatabase
    workdir: Path
    server: Server
    stop: threading.Event = field(default_factory=threading.Event)
    load_clients: list[httpx.Client] = field(default_factory=list)


def server_env(args: argparse.Namespace, port: int, prefix: str) -> dict:
    """The environment gunicorn and the CLI run with: the caller's, minus any TESSERA_* it
    had, plus this run's settings (rate limits off, so they do not shape the figures)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")},
        "TESSERA_ENV": "development",
        "TESSERA_SECRET_KEY": secrets.token_urlsafe(48),
        "TESSERA_ISSUER": f"http://127.0.0.1:{port}",
        "TESSERA_REDIS_URL": args.redis_url,
        "TESSERA_KEY_PREFIX": prefix,
        "TESSERA_RATELIMIT_ENABLED": "false",
        "TESSERA_LOG_LEVEL": "warning",
        "TESSERA_BIND": f"127.0.0.1:{port}",
        "TESSERA_WORKERS": str(args.workers),
        "TESSERA_THREADS": str(args.threads),
    } | {f"TESSERA_{name.upper()}": str(getattr(args, name))
         for name in ("queue_budget_ms", "queue_max_depth") if getattr(args, name) is not None}


def plan_run(args: argparse.Namespace) -> BenchRun:
    """Choose the port, names and secrets of this run; nothing is started yet."""
    port = free_port()
    prefix = f"tessera-bench-{os.getpid()}-{secrets.token_hex(3)}"
    password = "load " + secrets.token_urlsafe(18)
    env = server_env(args, port, prefix)
    database = BenchDatabase(args.database_url)
    workdir = Path(tempfile.mkdtemp(prefix="tessera-bench-"))
    return BenchRun(args=args, base_url=f"http://127.0.0.1:{port}", prefix=prefix,
                    password=password, env=env, database=database, workdir=workdir,
                    server=Server(env, workdir / "gunicorn.log"))


def seed_database(bench: BenchRun) -> dict:
    """Create and migrate the throw-away database, then its user and client; returns the
    client as the CLI printed it (with its secret)."""
    log(f"creating database {bench.database.name}")
    bench.database.create()
    bench.env["TESSERA_DATABASE_URL"] = bench.database.url
    tessera_cli(bench.env, "db", "upgrade")
    # Independent of each other: run both commands at once (each start-up costs seconds).
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        user_made = pool.submit(tessera_cli, bench.env, "users", "create", "--email", USER_EMAIL,
                                "--password", bench.password, "--verified")
        client_made = pool.submit(
            tessera_cli, bench.env, "clients", "create", "--name", "Tessera bench",
            "--redirect-uri", REDIRECT_URI, "--grant-type", "client_credentials",
            "--grant-type", "authorization_code", "--grant-type", "refresh_token",
            "--skip-consent", "--json")
        user_made.result()
        return json.loads(client_made.result())


def start_server(bench: BenchRun) -> None:
    args = bench.args
    log(f"starting gunicorn on {bench.base_url} ({args.workers} workers x {args.threads} threads)")
    bench.server.start(bench.base_url)
    httpx.get(f"{bench.base_url}/.well-known/jwks.json", timeout=REQUEST_TIMEOUT)  # creates keys


def open_token_families(bench: BenchRun, client: dict) -> list[dict]:
    """Sign in once, then run the code flow once per load thread: one refresh token family
    per thread."""
    log(f"signing in and running the code flow {bench.args.concurrency} times")
    with httpx.Client(base_url=bench.base_url, timeout=REQUEST_TIMEOUT) as browser:
        sign_in(browser, USER_EMAIL, bench.password)
        return [exchange_code(bench.base_url, client, *authorization_code(
            browser, client["client_id"], "openid profile email offline_access"))
            for _ in range(bench.args.concurrency)]


def set_up(bench: BenchRun) -> tuple[dict, list[dict]]:
    """Database, server and tokens: everything the load needs; returns (client, families)."""
    client = seed_database(bench)
    start_server(bench)
    return client, open_token_families(bench, client)


def userinfo_status(bench: BenchRun, access_token: str) -> int:
    """The status /oauth2/userinfo answers a valid token with (404/405: not served)."""
    return httpx.get(f"{bench.base_url}/oauth2/userinfo", timeout=REQUEST_TIMEOUT,
                     headers={"Authorization": f"Bearer {access_token}"}).status_code


def measure(bench: BenchRun, scenario: Scenario) -> Result:
    """A short warm-up, then the measured load, both over the run's keep-alive clients."""
    args = bench.args
    log(f"{scenario.name}: warm-up")
    drive(scenario, clients=bench.load_clients, requests=args.warmup,
          duration=min(3.0, args.duration), stop=bench.stop)
    log(f"{scenario.name}: measuring")
    return drive(scenario, clients=bench.load_clients, requests=args.requests,
                 duration=args.duration, stop=bench.stop, server=bench.server)


def drive_scenarios(bench: BenchRun, client: dict, families: list[dict]) -> list[Result]:
    """Every chosen scenario in turn; userinfo is reported, not run, where it is not served."""
    probe_status = userinfo_status(bench, families[0]["access_token"])
    userinfo_missing = probe_status in (404, 405)
    bench.load_clients = open_clients(bench.base_url, bench.args.concurrency)
    results = []
    for scenario in build_scenarios(bench.base_url, client, families):
        if bench.args.scenario and scenario.name not in bench.args.scenario:
            continue
        if scenario.name == "userinfo" and userinfo_missing:
            results.append(Result("userinfo", available=False,
                                  note=f"/oauth2/userinfo answered {probe_status}"))
            log("userinfo: not available")
            continue
        results.append(measure(bench, scenario))
    if bench.args.scenario and OVERLOAD in bench.args.scenario:
        results.append(measure_overload(bench))
    return results


def measure_overload(bench: BenchRun) -> Result:
    """Sign-ins from --overload-clients threads at once, each with its own connection."""
    args = bench.args
    log(f"{OVERLOAD}: opening {args.overload_clients} connections")
    clients = open_clients(bench.base_url, args.overload_clients)
    bench.load_clients += clients
    scenario = overload_scenario(bench.password)
    log(f"{OVERLOAD}: warm-up")
    drive(scenario, clients=clients[:args.concurrency], requests=args.warmup,
          duration=min(3.0, args.duration), stop=bench.stop)
    log(f"{OVERLOAD}: measuring")
    return drive(scenario, clients=clients, requests=args.requests, duration=args.duration,
                 stop=bench.stop, server=bench.server)


def build_report(bench: BenchRun, results: list[Result], load_before: float | None) -> dict:
    """The run as data: the machine, the server set-up, the load, one row per scenario."""
    args = bench.args
    return {
        "machine": {"cores": os.cpu_count(), "cpu": cpu_model(),
                    "python": platform.python_version(),
                    "load_average_before": load_before, "load_average_after": _loadavg()},
        "gunicorn": {"workers": args.workers, "threads": args.threads,
                     "worker_class": "gthread", "config": "config/gunicorn.conf.py"},
        "database": database_version(bench.database.url), "redis": bool(args.redis_url),
        "concurrency": args.concurrency, "requests": args.requests,
        "duration": args.duration, "warmup": args.warmup,
        "overload_clients": args.overload_clients,
        "queue_budget_ms": bench.env.get("TESSERA_QUEUE_BUDGET_MS", "default"),
        "queue_max_depth": bench.env.get("TESSERA_QUEUE_MAX_DEPTH", "default"),
        "scenarios": [result.as_dict() for result in results],
    }


def tear_down(bench: BenchRun, failed: bool) -> None:
    """Stop the load and the server, drop the database and the Redis keys, remove the
    working directory. Runs whatever happened before; a failed step does not stop the rest."""
    bench.stop.set()
    for http in bench.load_clients:
        http.close()
    if failed and bench.server.process is not None:
        log("gunicorn log (last lines):\n" + bench.server.log_tail())
    bench.server.stop()
    for cleanup in (bench.database.drop,
                    lambda: clear_redis(bench.args.redis_url, bench.prefix)):
        try:
            cleanup()
        except Exception as error:  # noqa: BLE001 - report, keep cleaning up
            log(f"cleanup failed: {error}")
    shutil.rmtree(bench.workdir, ignore_errors=True)


def run(args: argparse.Namespace) -> dict:
    """Set up, drive every scenario, report; tear down whatever happens."""
    bench = plan_run(args)
    failed = True
    load_before = _loadavg()
    try:
        client, families = set_up(bench)
        results = drive_scenarios(bench, client, families)
        failed = False
        return build_report(bench, results, load_before)
    finally:
        tear_down(bench, failed)


def _loadavg() -> float | None:
    """1-minute load average: other work on the machine skews the figures."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def database_version(url: str) -> str:
    import psycopg

    try:
        with psycopg.connect(_libpq_url(url), connect_timeout=5) as connection:
            return str(connection.execute("SHOW server_version").fetchone()[0]).split()[0]
    except psycopg.Error:
        return "?"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        report = run(args)
    except BenchError as error:
        log(f"error: {error}")
        return 1
    except KeyboardInterrupt:
        log("interrupted; server stopped and database dropped")
        return 130
    print(json.dumps(report, indent=2) if args.json else render_table(report))
    return 1 if any(row.get("errors") for row in report["scenarios"]) else 0


if __name__ == "__main__":
    sys.exit(main())
