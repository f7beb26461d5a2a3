"""Mixed load: Intake's users all at once, with the outbox worker sending their mail; a web worker's memory.

Locust, headless in a process of its own on loopback (bench/mixed_users.py), drives users with no
pause between their flows, so req/s is the server's capacity under the mix. Users take the roles
rep, customer, partner, rep in turn: a rep saves a draft of a questionnaire section on a deal of its
own (POST, a 302, the section again) and one flow in four routes a deal ready to route (POST
/deals/<id>/route, a 302, the deal page); a customer opens a personal link as a first-time visitor,
answers it completely and reads the page it is sent back to; a partner opens a request by its link,
accepts it and reads the page it is sent back to. Every answer is checked (status, and where a 302
points). Meanwhile one outbox worker (`flask --app intake outbox work`, a process of its own, as
deployments run it) sends the queued mail, PDFs rendered, to a discarding SMTP server on loopback;
it starts once per database, and the load waits for its first message sent, so its start-up
(imports, fonts) is not counted in the first run's figures.

Intake is served as app servers serve it (intake.wsgi:app) by gunicorn with 2 and with 4 sync
workers, on SQLite (the embedded default, WAL) and, with --database-url, on PostgreSQL (a database
created for the run and dropped after). For each configuration: per request kind p50 and p99,
errors (an unexpected answer or a socket error), "database is locked" lines in the gunicorn log,
the mail sent meanwhile, and total req/s against bare Flask's "hello" (bench/baseline_apps.py)
under the same users and workers, measured in the same run. On SQLite with 4 workers the mix is
stepped through --mixed-steps users: the highest count with no "database is locked", and the first
with any. Memory: VmRSS of each web worker (/proc) after start-up and after 1,000 mixed requests
(SQLite, 2 workers), and whether WeasyPrint's native libraries are mapped into it. Every timed run
starts with --mixed-warmup seconds of load not counted (fresh workers compile templates and fill caches).

Data: `flask db upgrade`, `flask demo load`, then bench/mixed_data.py through the app's own
services: draft deals, deals awaiting the customer with their links, deals ready to route, and
routed deals with the partner's open request. Deals to route and requests to accept serve once
each, and making them is the slow part, so only what the users will consume is made: about one
request in 16 of the mix is a route and one in 12 an accept, so each run gets that share, with a
margin, of the requests it is expected to send at --mixed-rate req/s (of its 1,000 for the memory
run). A faster machine that uses a pool up is told so in the details (a rep then saves a draft
instead, a partner re-reads a request); a larger --mixed-rate makes more.

Summary rows: per configuration the req/s ratio to bare Flask (errors and lock errors in the note);
for the 4-worker configurations each request kind's p99 (p50 in the note); SQLite's lock-free
concurrency; the web worker's RSS after start-up and after 1,000 requests (target ≤ 70 MB).
"""

import json
import math
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.load import HOST, Browser, csrf_token
from bench.servers import (
    BENCH,
    ENGINES,
    INTAKE_APP,
    ROOT,
    Server,
    SmtpSink,
    crashes,
    database,
    engines,
    gunicorn,
    in_process,
    label,
    prepare_database,
    python_path,
    server_env,
    smtp_sink,
    stop,
)
from bench.summary import BenchError, PartResult, Row

PART = "mixed"
WORKER_COUNTS = (2, 4)
MEMORY_REQUESTS = 1000
MEMORY_GUARD_S = 120  # the memory run ends at its request count; this only bounds a stall
RSS_TARGET_MB = 70
LINKS = 60  # customers answer them in turn; one answered again is still a real change (its reason differs)
# Shares of the mix's requests that use up a single-use deal (bench/mixed_users.py: roles rep, customer,
# partner, rep; a rep's flow is 2 requests and routes one flow in 4, a partner's is 3 and accepts once).
ROUTE_SHARE, ACCEPT_SHARE = 1 / 16, 1 / 12
POOL_MARGIN = 1.25
LOCKED = "database is locked"
# The app logs each failure as one line (intake.failures): "<time> ERROR intake: <what> on <METHOD> <path> …: <cause>".
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (ERROR|CRITICAL|WARNING) (\S+): (.*)$")


def log(message: str) -> None:
    print(f"[mixed] {message}", file=sys.stderr, flush=True)


def add_arguments(parser) -> None:
    parser.add_argument("--mixed-duration", type=int, default=20, help="mixed: seconds of load per configuration")
    parser.add_argument("--mixed-users", type=int, default=8, help="mixed: locust users per configuration")
    parser.add_argument(
        "--mixed-steps",
        type=lambda text: sorted({int(s) for s in text.split(",") if s.strip()}),
        default=[4, 8, 16, 32],
        help="mixed: users tried on SQLite with 4 workers for the lock-free concurrency (default: 4,8,16,32)",
    )
    parser.add_argument("--mixed-step-duration", type=int, default=12, help="mixed: seconds of load per step")
    parser.add_argument(
        "--mixed-warmup",
        type=int,
        default=5,
        help="mixed: seconds of load before each timed run's figures (fresh workers warm up; default: 5)",
    )
    parser.add_argument("--mixed-hello-duration", type=int, default=8, help="mixed: seconds of load on bare Flask")
    parser.add_argument(
        "--mixed-rate",
        type=float,
        default=240,
        help="mixed: req/s of the mix the single-use deals (to route, to accept) are made for (default: 240, about "
        "what SQLite serves on 2 cores, so that they last each run)",
    )


# --- Signing in, the outbox worker and its queue ------------------------------------------


def sign_in(port: int) -> tuple[dict[str, str], str]:
    """Sign in as the demo rep once; the session's cookies and a CSRF token of that session."""
    browser = Browser(port)
    browser.sign_in()
    _, page = browser.expect(200, "GET", "/deals")
    return dict(browser.cookies), csrf_token(page)


@contextmanager
def outbox_worker(env: dict, log_path: Path) -> Iterator[subprocess.Popen]:
    """`flask --app intake outbox work` in a process of its own, for as long as the block runs."""
    with log_path.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "intake", "outbox", "work"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield worker
    finally:
        stop(worker)


def outbox_counts(database_url: str) -> dict[str, int]:
    """Outbox messages by status, read straight from the database."""
    sql = "SELECT status, count(*) FROM outbox_messages GROUP BY status"
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(f"file:{database_url.removeprefix('sqlite:///')}?mode=ro", uri=True) as conn:
            return dict(conn.execute(sql).fetchall())
    import psycopg

    with psycopg.connect(database_url, connect_timeout=10) as conn:
        return dict(conn.execute(sql).fetchall())


# --- Memory -----------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise BenchError(f"no VmRSS for process {pid}")


def weasyprint_libraries(pid: int) -> list[str]:
    """WeasyPrint's native libraries mapped into the process (none when it was never imported)."""
    found = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        name = line.rsplit("/", 1)[-1] if "/" in line else ""
        if name.startswith(("libpango", "libharfbuzz")):
            found.add(name.split(".so")[0])
    return sorted(found)


def settled_workers(server: Server, workers: int, timeout: float = 20) -> list[int]:
    """The web workers' pids once all have booted and their RSS stopped growing."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        pids = server.worker_pids()
        if len(pids) == workers:
            now = [rss_mb(p) for p in pids]
            if last is not None and all(abs(a - b) < 0.5 for a, b in zip(now, last, strict=True)):
                return pids
            last = now
        time.sleep(0.5)
    raise BenchError(f"gunicorn did not settle with {workers} workers within {timeout:.0f} s")


def memory_of(pids: list[int]) -> list[dict]:
    return [{"pid": p, "rss_mb": rss_mb(p), "weasyprint_libraries": weasyprint_libraries(p)} for p in pids]


# --- Locust and the gunicorn log ----------------------------------------------------------


class Runs:
    """Numbers the part's locust runs, each with its data, results and log files in the workdir."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.n = 0

    def next_paths(self) -> tuple[Path, Path, Path]:
        self.n += 1
        stem = self.workdir / f"locust-{self.n}"
        return stem.with_suffix(".data.json"), stem.with_suffix(".out.json"), stem.with_suffix(".log")


def locust(
    runs: Runs,
    port: int,
    user_class: str,
    users: int,
    seconds: int,
    *,
    warmup: int = 0,
    data: dict | None = None,
    max_requests: int = 0,
) -> dict:
    """One headless locust run against 127.0.0.1:port, `seconds` measured after `warmup`; its results
    (bench/mixed_users.py writes them)."""
    data_path, out_path, log_path = runs.next_paths()
    env = {**os.environ, "PYTHONPATH": python_path(), "MIXED_OUT": str(out_path)}
    env.update(MIXED_MAX_REQUESTS=str(max_requests), MIXED_WARMUP=str(warmup))
    if data is not None:
        data_path.write_text(json.dumps(data))
        env["MIXED_DATA"] = str(data_path)
    command = [sys.executable, "-m", "locust", "-f", str(BENCH / "mixed_users.py"), "--headless"]
    command += ["-u", str(users), "-r", str(users), "-t", f"{warmup + seconds}s", "-H", f"http://{HOST}:{port}"]
    command += ["--only-summary", "--reset-stats", "--stop-timeout", "10", "--loglevel", "WARNING", user_class]
    with log_path.open("w") as out:
        subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=warmup + seconds + 120)
    if not out_path.exists():
        raise BenchError(f"locust wrote no results; its log:\n{log_path.read_text()[-3000:]}")
    return json.loads(out_path.read_text())


def log_findings(text: str) -> dict:
    """The app's failure lines in a stretch of gunicorn log: "database is locked" counted, every
    cause counted by request, each cause's first traceback kept (its app frames and last line)."""
    lines = text.splitlines()
    causes: Counter = Counter()
    tracebacks: dict[str, list[str]] = {}
    locked = 0
    for i, line in enumerate(lines):
        match = LOG_LINE.match(line)
        if not match:
            continue
        message = match.group(3)
        locked += LOCKED in message
        what, _, cause = message.partition("]: ") if "[request " in message else ("", "", message)
        what = re.sub(r" \[request \S+$", "", what)
        what = re.sub(r"/(p|r)/[A-Za-z0-9_-]{20,}", r"/\1/<token>", what)
        what = re.sub(r"/\d+", "/<id>", what)
        cause = re.sub(r" \(traceback .*\)$", "", cause)
        key = f"{what}: {cause}" if what else cause
        causes[key] += 1
        if i + 1 < len(lines) and lines[i + 1].startswith("Traceback") and key not in tracebacks:
            block = []
            for follow in lines[i + 1 :]:
                if LOG_LINE.match(follow):
                    break
                block.append(follow)
            frames = [f.strip() for f in block if f.strip().startswith("File ") and "/intake/" in f]
            tracebacks[key] = frames[-4:] + [block[-1].strip()]
    return {"locked": locked, "causes": dict(causes.most_common()), "tracebacks": tracebacks}


class LogTail:
    """Read what a log gained since the last read."""

    def __init__(self, path: Path):
        self.path, self.offset = path, 0

    def read(self) -> str:
        with self.path.open() as f:
            f.seek(self.offset)
            text = f.read()
            self.offset = f.tell()
        return text


# --- The runs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """One locust run of the mix on a server: what it is for, its users, and how long it lasts."""

    purpose: str  # "memory" (until MEMORY_REQUESTS), "config" (the configuration's figures) or "step"
    users: int
    seconds: int
    warmup: int = 0  # seconds of load before the figures start

    def pools(self, rate: float) -> tuple[int, int]:
        """Deals to route and requests to accept it may use: its share of the requests it is expected to send."""
        expected = MEMORY_REQUESTS if self.purpose == "memory" else rate * (self.warmup + self.seconds)
        return math.ceil(expected * ROUTE_SHARE * POOL_MARGIN), math.ceil(expected * ACCEPT_SHARE * POOL_MARGIN)


def plan(engine: str, workers: int, options) -> list[Load]:
    """The runs on one server: the memory run first (SQLite, fewest workers), the configuration's own,
    then on SQLite with the most workers the other steps of users."""
    loads = []
    if engine == "sqlite" and workers == min(WORKER_COUNTS):
        loads.append(Load("memory", options.mixed_users, MEMORY_GUARD_S))
    loads.append(Load("config", options.mixed_users, options.mixed_duration, options.mixed_warmup))
    if engine == "sqlite" and workers == max(WORKER_COUNTS):
        steps = [users for users in options.mixed_steps if users != options.mixed_users]
        loads += [Load("step", users, options.mixed_step_duration, options.mixed_warmup) for users in steps]
    return loads


def measured_run(server: Server, load: Load, data: dict, context: dict) -> dict:
    """One run of the mix, with what the gunicorn log and the outbox said meanwhile."""
    tail, sink, database_url = context["tail"], context["sink"], context["database_url"]
    tail.read()
    sent, queued = sink.messages(), outbox_counts(database_url)
    limit = MEMORY_REQUESTS if load.purpose == "memory" else 0
    result = locust(
        context["runs"],
        server.port,
        "MixedUser",
        load.users,
        load.seconds,
        warmup=load.warmup,
        data=data,
        max_requests=limit,
    )
    mail = {"sent": sink.messages() - sent, "queue_before": queued, "queue_after": outbox_counts(database_url)}
    mail["per_s"] = round(mail["sent"] / max(load.warmup + result["seconds"], 1e-9), 1)
    return {**result, "users": load.users, "log": log_findings(tail.read()), "mail": mail}


def run_engine(engine: str, options, runs: Runs, sink: SmtpSink, workdir: Path) -> dict:
    """Every configuration on one database: 2 and 4 workers; on SQLite also the memory run and the steps."""
    workdir.mkdir()
    with database(engine, options, workdir, "mixed") as database_url:
        env = server_env(workdir, database_url, INTAKE_MAIL_SERVER=HOST, INTAKE_MAIL_PORT=str(sink.port))
        log(f"{ENGINES[engine]}: migrating, demo data")
        prepare_database(env)
        plans = {workers: plan(engine, workers, options) for workers in WORKER_COUNTS}
        pools = [load.pools(options.mixed_rate) for loads in plans.values() for load in loads]
        ready, requests = sum(r for r, _ in pools), sum(q for _, q in pools)
        drafts = max(options.mixed_users, *options.mixed_steps)  # a draft of its own for every rep
        log(f"{ENGINES[engine]}: the users' data ({ready} deals to route, {requests} requests to accept)")
        arguments = ["--drafts", str(drafts), "--links", str(LINKS), "--ready", str(ready), "--requests", str(requests)]
        data = in_process("mixed_data", env, *arguments, timeout=900)
        found: dict = {"database": label(engine, database_url), "build_s": data["build_s"], "configs": {}}
        found.update(steps={}, memory=None)
        context = {"sink": sink, "database_url": database_url, "runs": runs, "data": data, "taken": [0, 0]}
        outbox_log = workdir / "outbox.log"
        with outbox_worker(env, outbox_log) as worker:
            # Its start (imports, fonts, the first PDFs) is not to land in the first run's figures.
            until_sending(sink, worker)
            for workers, loads in plans.items():
                run_server(engine, workers, loads, env, options, context, found, workdir)
            found["outbox"] = {"alive": worker.poll() is None}
        found["outbox"]["log"] = log_findings(outbox_log.read_text())
    return found


def until_sending(sink: SmtpSink, worker: subprocess.Popen, timeout: float = 60) -> None:
    """Wait for the outbox worker's first message to arrive at the sink."""
    first, deadline = sink.messages(), time.monotonic() + timeout
    while sink.messages() == first:
        if worker.poll() is not None or time.monotonic() > deadline:
            raise BenchError(f"the outbox worker sent nothing within {timeout:.0f} s (exit status {worker.poll()})")
        time.sleep(0.2)


def run_server(
    engine: str, workers: int, loads: list[Load], env: dict, options, context: dict, found: dict, workdir: Path
):
    """The loads on one gunicorn with `workers` workers, each with its slice of the single-use deals."""
    name = f"{engine}-{workers}w"
    data, taken = context["data"], context["taken"]
    log_path = workdir / f"gunicorn-{name}.log"
    with gunicorn(INTAKE_APP, env, log_path, workers) as server:
        started = memory_of(settled_workers(server, workers))
        cookies, token = sign_in(server.port)
        context = {**context, "tail": LogTail(log_path)}
        for load in loads:
            bound = f"{MEMORY_REQUESTS:,} requests" if load.purpose == "memory" else f"{load.seconds} s"
            log(f"{name}: {load.purpose}, {load.users} users for {bound}")
            n_ready, n_requests = load.pools(options.mixed_rate)
            data_of_run = {
                "drafts": data["drafts"],
                "links": data["links"],
                "ready": data["ready"][taken[0] : taken[0] + n_ready],
                "requests": data["requests"][taken[1] : taken[1] + n_requests],
                "rep_cookies": cookies,
                "rep_csrf": token,
            }
            taken[0], taken[1] = taken[0] + n_ready, taken[1] + n_requests
            result = measured_run(server, load, data_of_run, context)
            if load.purpose == "memory":
                after = memory_of(server.worker_pids())
                found["memory"] = {**result, "workers": workers, "after_start": started, "after_requests": after}
            elif load.purpose == "config":
                found["configs"][name] = result
            if engine == "sqlite" and workers == max(WORKER_COUNTS) and load.users in options.mixed_steps:
                found["steps"][load.users] = result
        found["configs"][name]["crashes"] = crashes(log_path)


def run_hello(options, runs: Runs, workdir: Path) -> dict:
    """Bare Flask's "hello" under the same users, with each worker count."""
    found = {}
    env = server_env(workdir, f"sqlite:///{workdir}/unused.sqlite")
    for workers in WORKER_COUNTS:
        users, seconds = options.mixed_users, options.mixed_hello_duration
        log(f"bare flask, {workers} workers: {users} users for {seconds} s")
        app, log_path = "bench.baseline_apps:create_hello()", workdir / f"gunicorn-hello-{workers}w.log"
        with gunicorn(app, env, log_path, workers) as server:
            found[workers] = locust(runs, server.port, "HelloUser", users, seconds, warmup=options.mixed_warmup)
    return found


def run(options, workdir: Path) -> PartResult:
    """Measure every configuration; the summary rows and the details report() prints."""
    runs = Runs(workdir)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    details: dict = {
        "settings": {
            "duration_s": options.mixed_duration,
            "warmup_s": options.mixed_warmup,
            "users": options.mixed_users,
            "steps": options.mixed_steps,
            "step_duration_s": options.mixed_step_duration,
            "hello_duration_s": options.mixed_hello_duration,
            "rate": options.mixed_rate,
            "workers": list(WORKER_COUNTS),
            "cpus": os.cpu_count(),
        },
        "engines": {},
    }
    with smtp_sink() as sink:
        details["hello"] = run_hello(options, runs, workdir)
        for engine in engines(options):
            details["engines"][engine] = run_engine(engine, options, runs, sink, workdir / engine)
    details["settings"]["elapsed_s"] = round(time.perf_counter() - started, 1)
    details["settings"]["load_average_before_after"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return PartResult(rows(details), details)


# --- Rows -------------------------------------------------------------------------------


def lock_free(steps: dict) -> tuple[int | None, int | None]:
    """The highest user count below the first with "database is locked", and that first one."""
    free = first = None
    for users in sorted(steps):
        if steps[users]["log"]["locked"]:
            first = users
            break
        free = users
    return free, first


def rows(details: dict) -> list[Row]:
    found = []
    hello = details["hello"]
    for engine, runs in details["engines"].items():
        for name, result in runs["configs"].items():
            workers = int(name.rsplit("-", 1)[1].removesuffix("w"))
            base = hello[workers]["rps"]
            where = f"{ENGINES[engine]}, {workers} workers, {result['users']} users"
            note = f"{result['rps']:g} vs {base:g} req/s; {result['failures']} errors, "
            note += f'{result["log"]["locked"]} "{LOCKED}"'
            ratio = round(result["rps"] / base, 3) if base else None
            found.append(Row(PART, f"mixed load req/s vs bare Flask ({where})", ratio, "×", "", None, note))
        for name, result in runs["configs"].items():
            if not name.endswith(f"-{max(WORKER_COUNTS)}w"):
                continue
            for kind, k in sorted(result["kinds"].items()):
                where = f"{ENGINES[engine]}, {max(WORKER_COUNTS)} workers"
                note = f"p50 {k['p50_ms']:g} ms" + (
                    f"; {k['failures']} of {k['requests']} failed" if k["failures"] else ""
                )
                found.append(Row(PART, f"{kind} p99 ({where})", k["p99_ms"], "ms", "", None, note))
    sqlite = details["engines"].get("sqlite")
    if sqlite and sqlite["steps"]:
        free, first = lock_free(sqlite["steps"])
        tried = ", ".join(f"{u}: {r['log']['locked']}" for u, r in sorted(sqlite["steps"].items()))
        note = f"first with any: {first or 'none up to ' + str(max(sqlite['steps']))}; by users {tried}"
        found.append(
            Row(PART, f'users with no "{LOCKED}" (SQLite, {max(WORKER_COUNTS)} workers)', free, "users", "", None, note)
        )
    memory = sqlite and sqlite["memory"]
    if memory:
        libraries = sorted({lib for w in memory["after_requests"] for lib in w["weasyprint_libraries"]})
        loaded = f"weasyprint {'loaded (' + ', '.join(libraries) + ')' if libraries else 'absent'}"
        where = f"SQLite, {memory['workers']} workers"

        def rss(workers: list[dict]) -> tuple[float, str]:
            values = [w["rss_mb"] for w in workers]
            return max(values), f"max of {len(values)} workers ({', '.join(f'{v:g}' for v in values)} MB); {loaded}"

        value, note = rss(memory["after_start"])
        found.append(Row(PART, f"web worker RSS after start-up ({where})", value, "MB", "", None, note))
        value, note = rss(memory["after_requests"])
        note += f"; {memory['requests']:,} requests sent, {memory['failures']} failed"
        measure = f"web worker RSS after {MEMORY_REQUESTS:,} mixed requests ({where})"
        found.append(Row(PART, measure, value, "MB", f"≤ {RSS_TARGET_MB} MB", value <= RSS_TARGET_MB, note))
    return found


# --- Report -----------------------------------------------------------------------------


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return text == ""


def table(headers: list[str], lines: list[list]) -> None:
    """Columns aligned, numbers to the right."""
    cells = [[str(c) for c in headers]] + [["" if c is None else str(c) for c in line] for line in lines]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [all(_number(r[i]) for r in cells[1:]) for i in range(len(headers))]
    for n, r in enumerate(cells):
        line = "  ".join(
            c.rjust(w) if numeric[i] else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        print("  " + line.rstrip())
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


def report(details: dict) -> None:
    """Print the part's detail tables."""
    s = details["settings"]
    before, after = s["load_average_before_after"]
    print("\nMixed load: reps, customers and partners at once, with the outbox worker sending")
    print(
        f"  gunicorn sync workers {s['workers']} serving {INTAKE_APP}, {s['users']} locust users (roles rep, "
        f"customer, partner, rep), {s['duration_s']} s per configuration and {s['step_duration_s']} s per step, "
        f"after {s['warmup_s']} s of warm-up; bare Flask {s['hello_duration_s']} s; "
        f"data made for {s['rate']:g} req/s; {s['cpus']} CPUs, load average {before} before, {after} after; "
        f"{s['elapsed_s']} s in all\n"
    )
    hello = details["hello"]
    table(
        ["bare flask", "users", "req/s", "p50 ms", "p99 ms", "errors"],
        [
            [
                f"{w} workers",
                s["users"],
                h["rps"],
                h["kinds"]["hello (GET)"]["p50_ms"],
                h["kinds"]["hello (GET)"]["p99_ms"],
            ]
            + [h["failures"]]
            for w, h in hello.items()
        ],
    )
    for found in details["engines"].values():
        print(f"\n-- {found['database']} (users' data made in {found['build_s']} s) --")
        for name, r in found["configs"].items():
            base = hello[int(name.rsplit("-", 1)[1].removesuffix("w"))]["rps"]
            print(
                f"\n  {name}: {r['rps']} req/s ({round(r['rps'] / base, 3) if base else '—'} × bare Flask's {base}), "
                f"{r['requests']} requests in {r['seconds']} s, {r['failures']} errors, "
                f'"{LOCKED}" in the log: {r["log"]["locked"]}'
            )
            table(
                ["request", "requests", "p50 ms", "p99 ms", "mean ms", "errors"],
                [
                    [k, v["requests"], v["p50_ms"], v["p99_ms"], v["mean_ms"], v["failures"]]
                    for k, v in sorted(r["kinds"].items())
                ],
            )
            print_run_extras(r)
            if r["crashes"]:
                print("  web workers that died: " + "; ".join(r["crashes"]))
        if found["steps"]:
            print(f"\n  SQLite, {max(WORKER_COUNTS)} workers, by users:")
            table(
                ["users", "req/s", "requests", "errors", f'"{LOCKED}"', "route p99 ms", "save p99 ms"],
                [
                    [u, r["rps"], r["requests"], r["failures"], r["log"]["locked"]]
                    + [r["kinds"].get("rep: route deal (POST route)", {}).get("p99_ms")]
                    + [r["kinds"].get("rep: save draft (POST section)", {}).get("p99_ms")]
                    for u, r in sorted(found["steps"].items())
                ],
            )
            free, first = lock_free(found["steps"])
            print(f"  lock-free up to {free} users; first with lock errors: {first or 'none'}")
            for u, r in sorted(found["steps"].items()):
                if r is not found["configs"].get(f"sqlite-{max(WORKER_COUNTS)}w"):
                    print_run_extras(r, f"step {u} users")
        outbox = found["outbox"]
        said = "; ".join(f"{n} {c}" for c, n in outbox["log"]["causes"].items()) or "no failures"
        state = "ran to the end" if outbox["alive"] else "DIED"
        print(f"\n  Outbox worker (one for all the runs on this database): {state}; its log: {said}")
        if m := found["memory"]:
            print(
                f"\n  Memory: web workers' VmRSS, {m['workers']} workers, SQLite "
                f"({m['requests']} requests, {m['failures']} failed)"
            )
            table(
                [
                    "worker pid",
                    "after start-up MB",
                    f"after {m['requests']} requests MB",
                    "weasyprint libraries mapped",
                ],
                [
                    [a["pid"], a["rss_mb"], b["rss_mb"], ", ".join(b["weasyprint_libraries"]) or "none"]
                    for a, b in zip(m["after_start"], m["after_requests"], strict=False)
                ],
            )
            print_run_extras(m)


def print_run_extras(r: dict, label: str = "") -> None:
    prefix = f"  {label}: " if label else "  "
    mail = r["mail"]
    print(
        f"{prefix}mail sent meanwhile: {mail['sent']} ({mail['per_s']}/s); outbox before {mail['queue_before']}, "
        f"after {mail['queue_after']}"
    )
    for name, p in r["pools"].items():
        if "ran_out_after_s" in p:
            print(f"{prefix}pool {name} ran out after {p['ran_out_after_s']} s ({p['used']} of {p['given']} used)")
    if r["errors"]:
        print(f"{prefix}unexpected answers:")
        for e in r["errors"]:
            print(f"    {e['occurrences']:>5}  {e['method']} {e['name']}: {e['error']}")
    findings = r["log"]
    if findings["causes"]:
        print(f"{prefix}gunicorn log, failures by request and cause:")
        for cause, n in findings["causes"].items():
            print(f"    {n:>5}  {cause}")
        for cause, lines in findings["tracebacks"].items():
            print(f"    first traceback of: {cause}")
            for line in lines:
                print(f"      {line}")
