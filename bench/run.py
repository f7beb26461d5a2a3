"""Benchmark: a rep's questionnaire page and draft save, held against two bare Flask apps.

What is measured
    Requests per second, p50 and p99 latency of two requests, signed in as a rep
    (alice@example.com) on a draft deal:

        GET  /deals/<id>/need   the "need" questionnaire section (--section qualification also works)
        POST /deals/<id>/need   a draft save: the section's fields, action=save and a valid
                                CSRF token, answered by a 302 back to the section

    Every save changes one answer (a counter in a text field), so Intake writes the deal
    and an audit event each time, as a real save does.

    The same GET and POST go to two yardsticks from bench/baseline_apps.py:
        bare flask  a "hello" view; its POST redirects
        bare form   the same WTForms form class in a bare template (no layout, no sign-in,
                    no database); its POST validates the form, CSRF included, and redirects

How
    Each app is served by `gunicorn -w 2` (sync workers) on its own 127.0.0.1 port; all three
    are up together (idle ones cost nothing) so the three runs of a request follow each other
    closely, and all are stopped at the end. Intake runs with INTAKE_ENV=development on a
    SQLite database in a temporary instance folder (`flask db upgrade`, `flask demo load`),
    deleted at the end.
    Load comes from wrk (bench/wrk.lua) or, when wrk is missing, a small threaded Python
    client: the same connections, warm-up and duration for every run. Every response must be
    the expected one (200, or a 302 back to the same page, not to /login); anything else, or
    any socket error, stops the run. Before measuring, a save with a wrong CSRF token must be
    refused (400), so the measured saves really go through CSRF validation.

Output
    A table on stdout and bench/results/latest.json: req/s, p50 and p99 latency, and the
    gunicorn workers' CPU time per request (read from /proc; steadier than req/s when other
    work shares the machine). The ratios are of req/s, ours / baseline: 1.0 means as fast as
    the baseline. Nothing is asserted about speed.

    Options (python bench/run.py --help): --section, --connections, --warmup, --duration, --client.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results" / "latest.json"
HOST = "127.0.0.1"
WORKERS = 2
REP = {"email": "alice@example.com", "password": "intake-demo"}
FORM_TYPE = "application/x-www-form-urlencoded"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# What each save answers; "BENCH_N" becomes a per-request counter.
ANSWERS = {
    "need": {
        "pain_points": ["Slow or manual processes", "Rising infrastructure cost"],
        "pain_other": "",
        "business_impact": "Month-end close takes two weeks (save BENCH_N).",
        "incumbent": "Spreadsheets and an old ERP",
        "solutions": ["Cloud platform", "Data analytics"],
        "estimated_value": "48000.00",
        "currency": "EUR",
        "close_date": "2031-06-30",
    },
    "qualification": {
        "budget": "identified",
        "has_decision_maker": "yes",
        "decision_maker": "CFO",
        "decision_process": "The CFO signs above 20k.",
        "competitors": "",
        "next_step": "Technical workshop (save BENCH_N)",
        "next_step_date": "2031-06-30",
    },
}


class BenchError(Exception):
    """The benchmark could not measure what it set out to; the message says why."""


@dataclass(frozen=True)
class Probe:
    """One kind of request to put under load, and the answer it must get."""

    method: str
    path: str
    cookie: str = ""
    body: str = ""
    status: int = 200
    location: str = ""  # where a 302 must point


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # CPU time the gunicorn workers spent per request: steadier than req/s on a busy machine
    requests: int


@dataclass(frozen=True)
class Server:
    port: int
    process: subprocess.Popen

    def cpu_seconds(self) -> float:
        """CPU time used so far by the gunicorn workers (Linux /proc)."""
        pid = self.process.pid
        ticks = 0
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")


# --- Signing in and getting the requests to measure -------------------------------------


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
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
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


def csrf_token(page: str) -> str:
    match = CSRF.search(page)
    if not match:
        raise BenchError("no csrf_token field on the page")
    return match.group(1)


def save_form(section: str, token: str = "") -> dict:
    return {**ANSWERS[section], "action": "save", "csrf_token": token}


def save_probe(section: str, path: str, cookie: str = "", token: str = "") -> Probe:
    """A draft save, answered by a 302 back to the same page."""
    return Probe("POST", path, cookie, urlencode(save_form(section, token), doseq=True), 302, path)


def hello_probes(port: int, section: str) -> tuple[Probe, Probe]:
    return Probe("GET", "/"), save_probe(section, "/")


def form_probes(port: int, section: str) -> tuple[Probe, Probe]:
    browser = Browser(port)
    _, page = browser.expect(200, "GET", "/")
    browser.expect(400, "POST", "/", save_form(section, "not-a-token"))  # CSRF is really checked
    cookie = browser.cookie()
    return Probe("GET", "/", cookie), save_probe(section, "/", cookie, csrf_token(page))


def intake_probes(port: int, section: str) -> tuple[Probe, Probe]:
    """Sign in as the demo rep, start a draft deal and open its section."""
    browser = Browser(port)
    _, page = browser.expect(200, "GET", "/login")
    browser.expect(302, "POST", "/login", {**REP, "csrf_token": csrf_token(page)})
    _, page = browser.expect(200, "GET", "/deals")
    account_page, _ = browser.expect(302, "POST", "/deals/new", {"csrf_token": csrf_token(page)})
    path = account_page.rsplit("/", 1)[0] + "/" + section
    _, page = browser.expect(200, "GET", path)
    browser.expect(400, "POST", path, save_form(section, "not-a-token"))  # CSRF is really checked
    cookie = browser.cookie()
    return Probe("GET", path, cookie), save_probe(section, path, cookie, csrf_token(page))


TARGETS = (  # name, gunicorn app, how to get its two probes
    ("bare flask", "baseline_apps:create_hello()", hello_probes),
    ("bare form", "baseline_apps:create_form('{section}')", form_probes),
    ("intake", "intake:create_app()", intake_probes),
)


# --- Load generators: both return {requests, duration_us, p50_us, p99_us, unexpected, errors} --


def send(conn: http.client.HTTPConnection, probe: Probe, n: str) -> bool:
    """Send the probe once; whether the answer was the expected one."""
    headers = {"Cookie": probe.cookie} if probe.cookie else {}
    if probe.method == "POST":
        headers["Content-Type"] = FORM_TYPE
    conn.request(probe.method, probe.path, body=probe.body.replace("BENCH_N", n) or None, headers=headers)
    response = conn.getresponse()
    response.read()
    location = urlsplit(response.getheader("Location", "")).path
    return response.status == probe.status and (probe.status != 302 or location == probe.location)


def wrk_load(port: int, probe: Probe, connections: int, seconds: int) -> dict:
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(BENCH / "wrk.lua"),
        f"http://{HOST}:{port}{probe.path}",
        "--",
        probe.method,
        str(probe.status),
        probe.location,
        probe.cookie,
        probe.body,
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    raise BenchError(f"wrk gave no result:\n{out.stdout}{out.stderr}")


def python_load(port: int, probe: Probe, connections: int, seconds: int) -> dict:
    """One thread per connection, each sending the probe back to back until time is up."""
    latencies: list[float] = []
    counts = {"unexpected": 0, "errors": 0}
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=5)
        mine, unexpected, errors, n = [], 0, 0, 0
        while (sent := time.perf_counter()) < deadline:
            n += 1
            try:
                ok = send(conn, probe, f"{i}-{n}")
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

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
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


def measure(load, server: Server, probe: Probe, args) -> Result:
    """Check the probe once, warm up, then measure; any wrong answer or socket error fails."""
    conn = http.client.HTTPConnection(HOST, server.port, timeout=30)
    try:
        if not send(conn, probe, "check"):
            raise BenchError(f"{probe.method} {probe.path} did not get the expected answer")
    finally:
        conn.close()
    checked(probe, load(server.port, probe, args.connections, args.warmup))
    cpu_before = server.cpu_seconds()
    raw = checked(probe, load(server.port, probe, args.connections, args.duration))
    cpu_used = server.cpu_seconds() - cpu_before
    return Result(
        rps=round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        p50_ms=round(raw["p50_us"] / 1000, 2),
        p99_ms=round(raw["p99_us"] / 1000, 2),
        cpu_ms=round(cpu_used * 1000 / raw["requests"], 2),
        requests=raw["requests"],
    )


def checked(probe: Probe, raw: dict) -> dict:
    if raw["unexpected"] or raw["errors"] or not raw["requests"]:
        raise BenchError(
            f"{probe.method} {probe.path}: {raw['unexpected']} unexpected answers and "
            f"{raw['errors']} socket errors in {raw['requests']} requests"
        )
    return raw


# --- Servers ---------------------------------------------------------------------------


def server_env(instance: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(
        INTAKE_ENV="development",
        INTAKE_INSTANCE_PATH=instance,
        INTAKE_DATABASE_URL=f"sqlite:///{instance}/intake.sqlite",
        INTAKE_SECRET_KEY="bench-only-secret",
    )
    return env


def prepare_database(env: dict) -> None:
    for command in (["db", "upgrade"], ["demo", "load"]):
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "intake", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode:
            raise BenchError(f"flask {' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict, log: Path) -> Iterator[Server]:
    """Serve `app` with gunicorn on a free loopback port; stop it, workers and all, on exit."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(WORKERS),
        "-b",
        f"{HOST}:{port}",
        "--pythonpath",
        str(BENCH),
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
        app,
    ]
    with log.open("w") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until_serving(server, port)
        yield Server(port, server)
    except BaseException:
        if text := log.read_text().strip():
            sys.stderr.write(f"--- gunicorn log ({app}) ---\n{text[-3000:]}\n")
        raise
    finally:
        stop(server)


def wait_until_serving(server: subprocess.Popen, port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited with status {server.returncode}")
        conn = http.client.HTTPConnection(HOST, port, timeout=5)
        try:
            conn.request("GET", "/")
            conn.getresponse().read()
            return
        except (OSError, http.client.HTTPException):
            time.sleep(0.1)
        finally:
            conn.close()
    raise BenchError(f"gunicorn did not answer on port {port} within {timeout:.0f} s")


def stop(server: subprocess.Popen) -> None:
    """SIGTERM the server's process group (master and workers), then make sure none is left."""
    with suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    with suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()


# --- Report ----------------------------------------------------------------------------


def report(results: dict[str, dict[str, Result]], setup: dict) -> dict:
    ours = results["intake"]
    ratios = {
        method: {
            f"ours / {base}": round(ours[method].rps / results[base][method].rps, 2)
            for base in ("bare flask", "bare form")
        }
        for method in ("GET", "POST")
    }
    targets = {name: {m: asdict(r) for m, r in by_method.items()} for name, by_method in results.items()}
    return {"setup": setup, "targets": targets, "ratios": ratios}


def print_table(data: dict) -> None:
    s = data["setup"]
    print(
        f"\ngunicorn -w {s['workers']} (sync) on {HOST}, {s['cpus']} CPUs; {s['client']}, "
        f"{s['connections']} connections, {s['duration_s']} s per run after {s['warmup_s']} s warm-up\n"
        f"GET {s['get']} (signed in) and POST {s['post']} (action=save, CSRF)\n"
    )
    header = (
        f"{'request':<8}{'target':<12}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'cpu ms/req':>12}"
        f"{'ours / bare flask':>19}{'ours / bare form':>18}"
    )
    print(header)
    print("-" * len(header))
    for method in ("GET", "POST"):
        for name, by_method in data["targets"].items():
            r = by_method[method]
            line = f"{method:<8}{name:<12}{r['rps']:>9.1f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['cpu_ms']:>12.2f}"
            if name == "intake":
                ratio = data["ratios"][method]
                line += f"{ratio['ours / bare flask']:>18.2f}x{ratio['ours / bare form']:>17.2f}x"
            print(line)
    before, after = s["load_average_before_after"]
    print(
        "\nRatios are of req/s (1.00x = as fast as the baseline); the mark is >= 0.80x of bare form."
        "\ncpu ms/req is the gunicorn workers' CPU time per request, less sensitive to other load"
        f" on the machine (load average {before} before, {after} after)."
        f"\nWritten to {RESULTS.relative_to(ROOT)}"
    )


# --- Main ------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--section", choices=sorted(ANSWERS), default="need")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before measuring")
    parser.add_argument("--duration", type=int, default=6, help="seconds measured per target and request")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
        if client == "python":
            print(
                "wrk not found (apt-get install -y wrk); using the Python client, "
                "which competes with the servers for CPU.",
                file=sys.stderr,
            )
    load = wrk_load if client == "wrk" else python_load

    instance = tempfile.mkdtemp(prefix="intake-bench-")
    results: dict[str, dict[str, Result]] = {name: {} for name, _, _ in TARGETS}
    load_before = os.getloadavg()
    try:
        env = server_env(instance)
        prepare_database(env)
        with ExitStack() as stack:
            # All three servers up at once (idle ones cost nothing), so the three runs of
            # each request follow each other closely in time.
            servers, probes = {}, {}
            for name, app, make_probes in TARGETS:
                log = Path(instance, f"gunicorn-{name.replace(' ', '-')}.log")
                servers[name] = stack.enter_context(gunicorn(app.format(section=args.section), env, log))
                probes[name] = make_probes(servers[name].port, args.section)
            for i, method in enumerate(("GET", "POST")):
                for name, server in servers.items():
                    probe = probes[name][i]
                    print(f"measuring {name}: {method} {probe.path}", file=sys.stderr, flush=True)
                    results[name][method] = measure(load, server, probe, args)
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(instance, ignore_errors=True)

    setup = {
        "workers": WORKERS,
        "client": client,
        "connections": args.connections,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "section": args.section,
        "get": probes["intake"][0].path,
        "post": probes["intake"][1].path,
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
    }
    data = report(results, setup)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print_table(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
