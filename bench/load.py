"""Putting one kind of request under load and reading off what it cost.

A Probe is one request (method, path, cookie, form body) and the answer it must get: a status and,
for a 302, where it points (a bounce to /login is a wrong answer). measure() checks the probe once,
warms up, then runs it for the measured seconds with one of two clients — wrk (bench/wrk.lua), or,
when wrk is missing, a small threaded Python client: the same connections, warm-up and duration —
and returns a Result: req/s, p50 and p99 latency and the CPU time the gunicorn workers spent per
request (read from /proc: steadier than req/s when other work shares the machine). Any wrong answer
or socket error fails the run, unless the caller asks for failures to be counted instead.

"BENCH_N" in a body becomes a per-request counter, so each save changes a value; with a Pool,
"BENCH_ID" in the path and Location is a fresh id per request (a deal is routed once).

Browser is just enough of a browser to sign in and get the cookie and CSRF token a probe carries.
Standard library only: the in-process helpers import csrf_token from here too.
"""

import http.client
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from bench.summary import BenchError

BENCH = Path(__file__).resolve().parent
HOST = "127.0.0.1"
FORM_TYPE = "application/x-www-form-urlencoded"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
REP = {"email": "alice@example.com", "password": "intake-demo"}
MANAGER = {"email": "manager@example.com", "password": "intake-demo"}


class Pool:
    """Ids of deals that each serve one request (a deal is routed once): BENCH_ID in a probe's path."""

    def __init__(self, first: int, count: int):
        self.next, self.end = first, first + count
        self.count = count
        self.lock = threading.Lock()

    def take(self) -> int | None:
        with self.lock:
            if self.next >= self.end:
                return None
            self.next += 1
            return self.next - 1

    def remaining(self) -> tuple[int, int]:
        return self.next, self.end - self.next

    def skip(self, n: int) -> None:
        with self.lock:
            self.next = min(self.end, self.next + n)


@dataclass(frozen=True)
class Probe:
    """One kind of request to put under load, and the answer it must get."""

    method: str
    path: str
    cookie: str = ""
    body: str = ""
    status: int = 200
    location: str = ""  # where a 302 must point
    pool: Pool | None = None  # with a pool, BENCH_ID in path and location is a fresh id per request


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # CPU time the gunicorn workers spent per request: steadier than req/s on a busy machine
    requests: int


def csrf_token(page: str) -> str:
    match = CSRF.search(page)
    if not match:
        raise BenchError("no csrf_token field on the page")
    return match.group(1)


class Browser:
    """Just enough of a browser to sign in: keeps cookies, posts forms, checks statuses."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def cookie(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def expect(self, status: int, method: str, path: str, form: dict | None = None) -> tuple[str, str]:
        """Send a request; return (Location path, body) if it got `status`."""
        headers = {"Cookie": self.cookie()} if self.cookies else {}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = FORM_TYPE
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        if response.status != status:
            raise BenchError(f"{method} {path}: expected {status}, got {response.status}")
        return urlsplit(response.getheader("Location", "")).path, text

    def sign_in(self, account: dict = REP) -> None:
        _, page = self.expect(200, "GET", "/login")
        self.expect(302, "POST", "/login", {**account, "csrf_token": csrf_token(page)})


# --- The two clients: both return {requests, duration_us, p50_us, p99_us, unexpected, errors, exhausted} ---


def client(name: str) -> tuple[str, object]:
    """The load client to use ("auto": wrk if installed) and its function."""
    if name == "auto":
        name = "wrk" if shutil.which("wrk") else "python"
        if name == "python":
            print(
                "wrk not found (apt-get install -y wrk); using the Python client, "
                "which competes with the servers for CPU.",
                file=sys.stderr,
            )
    return name, wrk_load if name == "wrk" else python_load


def location_of(response: http.client.HTTPResponse) -> str:
    """The Location header without scheme and host (kept: path and fragment)."""
    return urlunsplit(urlsplit(response.getheader("Location", ""))._replace(scheme="", netloc="", query=""))


class PoolExhausted(Exception):
    pass


def send(conn: http.client.HTTPConnection, probe: Probe, n: str) -> bool:
    """Send the probe once; whether the answer was the expected one (a pool that ran out raises)."""
    headers = {"Cookie": probe.cookie} if probe.cookie else {}
    if probe.method == "POST":
        headers["Content-Type"] = FORM_TYPE
    path, location = probe.path, probe.location
    if probe.pool is not None:
        deal_id = probe.pool.take()
        if deal_id is None:
            raise PoolExhausted()
        path, location = path.replace("BENCH_ID", str(deal_id)), location.replace("BENCH_ID", str(deal_id))
    conn.request(probe.method, path, body=probe.body.replace("BENCH_N", n) or None, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status == probe.status and (probe.status != 302 or location_of(response) == location)


def wrk_load(port: int, probe: Probe, connections: int, seconds: int, timeout: float = 5) -> dict:
    threads = min(2, connections)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        f"{timeout:g}s",
        "-s",
        str(BENCH / "wrk.lua"),
        f"http://{HOST}:{port}{probe.path.replace('BENCH_ID', '0')}",
        "--",
        probe.method,
        str(probe.status),
        probe.location,
        probe.cookie,
        probe.body,
    ]
    if probe.pool is not None:
        first, count = probe.pool.remaining()
        command += [probe.path, str(first), str(count), str(threads)]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout + 60)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            raw = json.loads(line.removeprefix("BENCH_RESULT "))
            if probe.pool is not None:
                probe.pool.skip(raw["max_sent"] * threads)  # every id a thread may have sent
            return raw
    raise BenchError(f"wrk gave no result:\n{out.stdout}{out.stderr}")


def python_load(port: int, probe: Probe, connections: int, seconds: int, timeout: float = 5) -> dict:
    """One thread per connection, each sending the probe back to back until time is up."""
    latencies: list[float] = []
    counts = {"unexpected": 0, "errors": 0, "exhausted": 0}
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds

    def one_connection(i: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        mine, unexpected, errors, exhausted, n = [], 0, 0, 0, 0
        while (sent := time.perf_counter()) < deadline:
            n += 1
            try:
                ok = send(conn, probe, f"{i}-{n}")
            except PoolExhausted:
                exhausted = 1
                break
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                continue
            mine.append(time.perf_counter() - sent)
            unexpected += not ok
        conn.close()
        with lock:
            latencies.extend(mine)
            counts["unexpected"] += unexpected
            counts["errors"] += errors
            counts["exhausted"] += exhausted

    threads = [threading.Thread(target=one_connection, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    latencies.sort()

    def percentile(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1e6 if latencies else 0.0

    return {
        "requests": len(latencies),
        "duration_us": elapsed * 1e6,
        "p50_us": percentile(50),
        "p99_us": percentile(99),
        **counts,
    }


# --- Measuring -----------------------------------------------------------------------------------


def measure(
    load,
    server,
    probe: Probe,
    options,
    *,
    connections: int | None = None,
    duration: int | None = None,
    warmup: int | None = None,
    timeout: float = 5,
    failures: dict | None = None,
) -> Result:
    """Check the probe once, warm up, then measure; any wrong answer or socket error fails.

    `server` has a port and cpu_seconds() (bench.servers.Server). With `failures`, wrong answers and
    socket errors are counted there instead (the check is tried up to three times), so a page that
    sometimes fails is still measured, and the failures reported.
    """
    connections = connections or options.connections
    duration = duration or options.duration
    warmup = warmup if warmup is not None else options.warmup
    for _ in range(3 if failures is not None else 1):
        conn = http.client.HTTPConnection(HOST, server.port, timeout=60)
        try:
            if send(conn, probe, "check"):
                break
            problem = "did not get the expected answer"
        except PoolExhausted:
            raise BenchError(pool_message(probe)) from None
        except (OSError, http.client.HTTPException) as exc:
            if failures is None:
                raise
            problem = f"failed: {exc!r}"
        finally:
            conn.close()
        if failures is not None:
            failures["checks_failed"] = failures.get("checks_failed", 0) + 1
    else:
        raise BenchError(f"{probe.method} {probe.path} {problem}")
    lenient = checked if failures is None else (lambda probe, raw: raw if raw["requests"] else checked(probe, raw))
    if warmup:
        warmed = load(server.port, probe, connections, warmup, timeout)
        if failures is None:
            checked(probe, warmed)
    cpu_before = server.cpu_seconds()
    raw = lenient(probe, load(server.port, probe, connections, duration, timeout))
    cpu_used = server.cpu_seconds() - cpu_before
    if failures is not None:
        failures["unexpected"] = failures.get("unexpected", 0) + raw["unexpected"]
        failures["errors"] = failures.get("errors", 0) + raw["errors"]
    return Result(
        rps=round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        p50_ms=round(raw["p50_us"] / 1000, 2),
        p99_ms=round(raw["p99_us"] / 1000, 2),
        cpu_ms=round(cpu_used * 1000 / raw["requests"], 2),
        requests=raw["requests"],
    )


def pool_message(probe: Probe) -> str:
    return (
        f"{probe.method} {probe.path}: the pool of {probe.pool.count} deals ready to route ran out; "
        "give a larger --route-pool"
    )


def checked(probe: Probe, raw: dict) -> dict:
    if raw.get("exhausted"):
        raise BenchError(pool_message(probe))
    if raw["unexpected"] or raw["errors"] or not raw["requests"]:
        raise BenchError(
            f"{probe.method} {probe.path}: {raw['unexpected']} unexpected answers and "
            f"{raw['errors']} socket errors in {raw['requests']} requests"
        )
    return raw
