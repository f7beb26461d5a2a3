"""Benchmark: the rep's questionnaire, the customer's link, routing, the channel manager's pages and import.

What is measured (six parts; --only runs some of them)
    questionnaire
              Signed in as a rep (alice@example.com) on a draft deal:
                GET  /deals/<id>/need   the "need" questionnaire section (--section qualification also works)
                POST /deals/<id>/need   a draft save: the section's fields, action=save and a valid CSRF
                                        token, answered by a 302 back to the section
              Every save changes one answer (a counter in a text field), so Intake writes the deal and
              an audit event each time, as a real save does.

    customer  The customer's personal link, no sign-in (bench/setup_data.py issues the link for the
              first demo deal awaiting the customer, as the rep's "create link" does):
                GET  /p/<token>         the answer form, with the cookie of the customer's first visit
                POST /p/<token>         a complete answer (a partner of theirs with its strength, delivery
                                        through that partner, the partner as main contact, consent) with
                                        the CSRF token scraped from the page, answered by a 302 back to
                                        /p/<token>
              Every POST changes the free-text reason (a counter), so each one is a real change of the
              answer: the relationship rows are replaced and an audit event written. A repeated identical
              answer would be recognised and write nothing, which is not the cost worth knowing.

    routing   On a data set built in the benchmark's own database (bench/setup_data.py routing):
              10,000 partners, 100,000 accounts (companies of three subsidiaries sharing a normalised
              name), 1,000,000 account-partner relationships (ten per account) and 100,000 open deals,
              among them a pool of deals ready to route, each with the customer's answer, ten
              relationships on its account and three other open deals on its normalised name or domain
              (two in three repeat business that routes cleanly, one in three a conflict put on hold).
                in process  (bench/routing_bench.py) decisions.propose(deal) in its two halves,
                            timed apart on a fresh session each time (400 runs over 150 deals):
                            gather the facts (deals.facts.gather: the rows read, the engine's typed
                            input made), then decide (routing.decide(facts.input)); medians, and
                            each deal's decision checked against decisions.propose(deal).decision.
                            Also for a customer who asks us to recommend a partner (any_partner),
                            which reads every partner. Then the SQL the gathering issues, captured
                            by a before_cursor_execute listener, each statement EXPLAINed (EXPLAIN
                            QUERY PLAN on SQLite): SEARCH/index or SCAN; and the SQL of one whole
                            route request (Flask test client), with any statement repeated (an N+1)
                GET  /deals/<id>            the deal page with the engine's proposal (the same facts and
                                            decision, plus the page)
                POST /deals/<id>/route      the whole route request, by the signed-in rep, with a CSRF
                                            token: a 302 back to the deal's routing. Each request takes
                                            a fresh deal from the pool, so every one routes a deal
              On SQLite by default; --database-url postgresql://… runs this part on PostgreSQL too, in a
              database created for the run (intake_bench_<random>) and dropped after it.

              The route request only queues its mail (INTAKE_MAIL_WORKER=0: no worker runs): its
              latency includes no SMTP and no PDF rendering, which the outbox part measures.

    manager   The channel manager's pages at 100,000 deals, signed in as manager@example.com, on a data set
              built in the benchmark's own database (bench/manager_data.py, next to the demo data): two
              years of a channel programme, decided_at spread over 8 calendar quarters: 1,000 partners
              (each with a partner user), 40,000 accounts, 100,000 deals (two or three per account, one
              after the other), about 85% of them routed at some point: each decision version with the
              input, decision and snapshot the services store (the engine's own decide, or a channel
              manager's decide_as in place of a held one), the credit records credit.earned gives
              (ended when a partner declined or let its time pass, closed won, lost or withdrawn), the
              partner requests of each routed version (accepted, declined, lapsed, open or overdue), the
              customers' answers and the relationship rows of rep, customer and partner, and partners'
              registrations. --manager-deals and --manager-partners size it.
                in process  (bench/manager_bench.py, Flask test client) each page cold, then the median
                            of 5; the SQL of one request by a before_cursor_execute listener: statements
                            by kind, any run more than twice (an N+1), each distinct SELECT EXPLAINed
                            (as for routing) and timed alone on the driver, every scan named
                GET  /dashboard                         the whole pipeline (rep.dashboard_page)
                GET  /admin/ledger                      the reciprocity ledger, every partner
                GET  /admin/partners/<id>/scorecard     the busiest partner's scorecard (most credit rows)
              Under load with --manager-connections (default 2, one per worker: no request waits
              for a worker, so p50 is a page's own time with both workers busy) and a 60 s timeout per
              request, as pages may take seconds; a slow page is measured for longer (up to 30 s) to
              get about MANAGER_REQUESTS requests. A wrong answer or socket error does not stop this
              part: it is counted and reported with the workers that died (the gunicorn log's, with the
              faulthandler's innermost app frame). On SQLite by default; with --database-url
              postgresql://… on PostgreSQL too, in a database created for the run and dropped after it.

    import    Importing 100,000 accounts from CSV, in process (bench/import_bench.py), on SQLite and, with
              --database-url, on PostgreSQL: the first import (all created), the same file again (all
              unchanged) and with every vertical changed (all updated), in rows/s, against reading the
              file with the csv module and inserting its rows unchecked with executemany.

    outbox    The decision's mail, in process (bench/mail_bench.py) against a discarding aiosmtpd server on
              loopback in a process of its own (bench/smtp_sink.py): a demo deal is routed and its
              routed-vendor message (text and HTML) queued N times; the real worker
              (worker.run(once=True)) drains them, and raw Flask-Mail sends the same N messages over one
              connection, in the same run: messages/s and the ratio worker / raw (the mark: >= 0.8x).
              Three variants: no attachment; the PDF as the app queues it (a deal_summary recipe whose
              PDF is already stored, so rendering is left out); the same PDF bytes queued as stored
              bytes. Raw Flask-Mail attaches the same bytes. Then the median time to render the deal
              summary PDF beside a one-line WeasyPrint page.

    The same GET and POST go to yardsticks from bench/baseline_apps.py:
        bare flask  a "hello" view; its POST redirects
        bare form   the same WTForms form class in a bare template (no layout, no sign-in, no database);
                    its POST validates the form, CSRF included, and redirects. For the questionnaire the
                    section's form; for the customer part the customer's answer form, with fixed partner choices.

How
    Each app is served by `gunicorn -w 2` (sync workers) on its own 127.0.0.1 port; the apps of a part
    are up together (idle ones cost nothing) so the runs of a request follow each other closely, and
    all are stopped when the part ends. Intake runs with INTAKE_ENV=development (its in-process mail
    worker off) on SQLite databases in a temporary instance folder, deleted at the end.
    Load comes from wrk (bench/wrk.lua) or, when wrk is missing, a small threaded Python client: the
    same connections, warm-up and duration for every run. Every response must be the expected one
    (200, or a 302 to the expected page, not to /login); anything else, or any socket error, stops
    the run. Before measuring, a POST with a wrong CSRF token must be refused (400), so the measured
    POSTs really go through CSRF validation.

Output
    Tables on stdout and bench/results/latest.json: req/s, p50 and p99 latency, and the gunicorn
    workers' CPU time per request (read from /proc; steadier than req/s when other work shares the
    machine). The ratios are of req/s, ours / baseline: 1.0 means as fast as the baseline. For
    routing and the manager's pages also the in-process times and each statement's plan, with every
    SCAN named (those of tables of SMALL_TABLE rows or more called out). Nothing is asserted about
    speed, but a manager's page slower than MANAGER_SLOW_MS (p50) is said to be slow.

    Options (python bench/run.py --help): --only, --database-url, --section, --connections, --warmup,
    --duration, --client, --scale, --route-pool, --manager-deals, --manager-partners,
    --manager-connections, --messages, --rounds.
"""

import argparse
import copy
import http.client
import json
import math
import os
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
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results" / "latest.json"
HOST = "127.0.0.1"
WORKERS = 2
REP = {"email": "alice@example.com", "password": "intake-demo"}
MANAGER = {"email": "manager@example.com", "password": "intake-demo"}
FORM_TYPE = "application/x-www-form-urlencoded"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PARTS = ("questionnaire", "customer", "routing", "manager", "import", "outbox")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
SMALL_TABLE = 1000  # rows: a scan of a table this small is what any planner does, and cheap
MANAGER_SLOW_MS = 200  # a manager's page whose p50 is above this at 100,000 deals is slow
MANAGER_TIMEOUT = 60  # seconds a manager's page may take under load before it counts as a socket error
MANAGER_REQUESTS = 20  # a slow page is measured for longer (up to 30 s) to get about this many requests

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

# The customer's complete answer (the fields of intake/web/link/forms.py); "BENCH_N" as above.
CUSTOMER_ANSWER = {
    "company_name": "Helvetia Privatbank AG",
    "contact_name": "Pat Customer",
    "contact_title": "Head of IT",
    "contact_email": "pat@helvetia-pb.example",
    "contact_phone": "+41 44 123 45 67",
    "works_with_partner": "yes",
    "rows-0-partner_id": "PARTNER_ID",
    "rows-0-partner_name": "",
    "rows-0-duration": "over_5",
    "rows-0-strength": "4",
    "rows-0-does_what": "Runs our servers and licences",
    "fulfilment": "partner",
    "fulfilment_reason": "They know our systems well (answer BENCH_N).",
    "contact_preference": "partner",
    "consent": "y",
    "action": "send",
}


class BenchError(Exception):
    """The benchmark could not measure what it set out to; the message says why."""


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


def answer_form(partner_id: int, token: str = "") -> dict:
    return {**CUSTOMER_ANSWER, "rows-0-partner_id": str(partner_id), "csrf_token": token}


def answer_probe(path: str, partner_id: int, cookie: str, token: str) -> Probe:
    """The customer's answer, answered by a 302 back to the same page."""
    return Probe("POST", path, cookie, urlencode(answer_form(partner_id, token)), 302, path)


def hello_probes(port: int, context: dict) -> tuple[Probe, Probe]:
    return Probe("GET", "/"), save_probe("need", "/")


def form_probes(port: int, context: dict) -> tuple[Probe, Probe]:
    section = context["section"]
    browser = Browser(port)
    _, page = browser.expect(200, "GET", "/")
    browser.expect(400, "POST", "/", save_form(section, "not-a-token"))  # CSRF is really checked
    cookie = browser.cookie()
    return Probe("GET", "/", cookie), save_probe(section, "/", cookie, csrf_token(page))


def intake_probes(port: int, context: dict) -> tuple[Probe, Probe]:
    """Sign in as the demo rep, start a draft deal and open its section."""
    section = context["section"]
    browser = Browser(port)
    browser.sign_in()
    _, page = browser.expect(200, "GET", "/deals")
    account_page, _ = browser.expect(302, "POST", "/deals/new", {"csrf_token": csrf_token(page)})
    path = account_page.rsplit("/", 1)[0] + "/" + section
    _, page = browser.expect(200, "GET", path)
    browser.expect(400, "POST", path, save_form(section, "not-a-token"))  # CSRF is really checked
    cookie = browser.cookie()
    return Probe("GET", path, cookie), save_probe(section, path, cookie, csrf_token(page))


def answer_form_probes(port: int, context: dict) -> tuple[Probe, Probe]:
    partner_id = context["link"]["partner_id"]
    browser = Browser(port)
    _, page = browser.expect(200, "GET", "/")
    browser.expect(400, "POST", "/", answer_form(partner_id, "not-a-token"))  # CSRF is really checked
    browser.expect(302, "POST", "/", answer_form(partner_id, csrf_token(page)))  # and the answer is valid
    cookie = browser.cookie()
    return Probe("GET", "/", cookie), answer_probe("/", partner_id, cookie, csrf_token(page))


def customer_probes(port: int, context: dict) -> tuple[Probe, Probe]:
    """Open the customer's link as they would, keeping the cookie their first visit gets."""
    link = context["link"]
    path = f"/p/{link['token']}"
    browser = Browser(port)
    _, page = browser.expect(200, "GET", path)
    browser.expect(400, "POST", path, answer_form(link["partner_id"], "not-a-token"))  # CSRF is really checked
    cookie = browser.cookie()
    return Probe("GET", path, cookie), answer_probe(path, link["partner_id"], cookie, csrf_token(page))


def routing_probes(port: int, context: dict) -> tuple[Probe, Probe]:
    """Sign in as the rep who owns the pool; the deal page with its proposal, and routing pool deals."""
    data = context["data"]
    browser = Browser(port)
    browser.sign_in()
    page_path = f"/deals/{data['page_deal']}"
    _, page = browser.expect(200, "GET", page_path)
    if f'action="{page_path}/route"' not in page:
        raise BenchError(f"GET {page_path} shows no route form: the deal is not ready to route")
    token = csrf_token(page)
    browser.expect(400, "POST", page_path + "/route", {"csrf_token": "not-a-token"})  # CSRF is really checked
    cookie = browser.cookie()
    pool = Pool(data["pool_first"], data["pool_count"])
    route = Probe(
        "POST", "/deals/BENCH_ID/route", cookie, urlencode({"csrf_token": token}), 302, "/deals/BENCH_ID#routing", pool
    )
    return Probe("GET", page_path, cookie), route


def manager_probes(port: int, context: dict) -> dict[str, Probe]:
    """Sign in as the channel manager; the dashboard, the ledger and the busiest partner's scorecard."""
    browser = Browser(port)
    browser.sign_in(MANAGER)
    cookie = browser.cookie()
    probes = {}
    for name, page in context["pages"].items():
        browser.expect(200, "GET", page["path"])
        probes[name] = Probe("GET", page["path"], cookie)
    return probes


# --- Load generators: both return {requests, duration_us, p50_us, p99_us, unexpected, errors, exhausted} --


def location_of(response: http.client.HTTPResponse) -> str:
    """The Location header without scheme and host (kept: path and fragment)."""
    return urlunsplit(urlsplit(response.getheader("Location", ""))._replace(scheme="", netloc="", query=""))


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


class PoolExhausted(Exception):
    pass


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

    def client(i: int) -> None:
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


def measure(
    load,
    server: Server,
    probe: Probe,
    args,
    connections: int | None = None,
    timeout: float = 5,
    failures: dict | None = None,
) -> Result:
    """Check the probe once, warm up, then measure; any wrong answer or socket error fails.

    With `failures`, wrong answers and socket errors are counted there instead (the check is tried
    up to three times), so a page that sometimes fails is still measured, and the failures reported.
    """
    connections = connections or args.connections
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
    warmed = load(server.port, probe, connections, args.warmup, timeout)
    if failures is None:
        checked(probe, warmed)
    cpu_before = server.cpu_seconds()
    raw = lenient(probe, load(server.port, probe, connections, args.duration, timeout))
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


# --- Servers and databases ---------------------------------------------------------------


def server_env(instance: str, database_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(
        INTAKE_ENV="development",
        INTAKE_INSTANCE_PATH=instance,
        INTAKE_DATABASE_URL=database_url,
        INTAKE_SECRET_KEY="bench-only-secret",
        # The outbox worker thread `make run` starts in the app process would poll the database
        # every few seconds during the measurements; deployments run it as its own process.
        INTAKE_MAIL_WORKER="0",
        INTAKE_PARTNER_SWEEP="0",
        PYTHONDONTWRITEBYTECODE="1",  # leave no __pycache__ behind in bench/
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


def bench_script(script: str, env: dict, *arguments: str, timeout: int = 60) -> dict:
    """Run bench/<script> with the app's environment; its JSON answer (progress and errors go to stderr)."""
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *arguments],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=sys.stderr,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        raise BenchError(f"bench/{script} {' '.join(arguments)} failed (status {done.returncode}; its error is above)")
    return json.loads(done.stdout)


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A database of our own on the PostgreSQL server, dropped on exit."""
    import psycopg

    parts = urlsplit(server_url)
    if parts.scheme not in ("postgresql", "postgres") or (parts.hostname or "127.0.0.1") not in LOOPBACK:
        raise BenchError(f"--database-url must be a postgresql:// URL on this machine ({', '.join(LOOPBACK)})")
    name = f"intake_bench_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        raise BenchError(f"cannot create a database at {server_url}: {exc}") from None
    try:
        yield urlunsplit(parts._replace(path="/" + name))
    finally:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


# --- Running a part: its servers up together, each request measured on each target in turn ---


def run_targets(targets, env: dict, instance: str, context: dict, load, args, reuse: dict | None = None) -> dict:
    """targets: (name, gunicorn app, probe maker). Returns {"results": {name: {"GET": Result, "POST": Result}},
    "paths": {name: (GET path, POST path)}}.

    Targets named in `reuse` (already measured in this run, same requests) are not served again.
    """
    results: dict[str, dict[str, Result]] = {name: dict((reuse or {}).get(name, {})) for name, _, _ in targets}
    paths: dict[str, tuple[str, str]] = {}
    with ExitStack() as stack:
        servers, probes = {}, {}
        for name, app, make_probes in targets:
            if results[name]:
                continue
            log = Path(instance, f"gunicorn-{name.replace(' ', '-')}.log")
            servers[name] = stack.enter_context(gunicorn(app, env, log))
            probes[name] = make_probes(servers[name].port, context)
            paths[name] = (probes[name][0].path, probes[name][1].path)
        for i, method in enumerate(("GET", "POST")):
            for name, server in servers.items():
                probe = probes[name][i]
                print(f"measuring {name}: {method} {probe.path}", file=sys.stderr, flush=True)
                results[name][method] = measure(load, server, probe, args)
    return {"results": results, "paths": paths}


def ratios(results: dict[str, dict[str, Result]], baselines: tuple[str, ...]) -> dict:
    ours = results["intake"]
    return {
        method: {f"ours / {base}": round(ours[method].rps / results[base][method].rps, 2) for base in baselines}
        for method in ("GET", "POST")
    }


def part_data(run: dict, baselines: tuple[str, ...], **extra) -> dict:
    results = run["results"]
    return {
        **extra,
        "targets": {name: {m: asdict(r) for m, r in by_method.items()} for name, by_method in results.items()},
        "ratios": ratios(results, baselines),
    }


def run_questionnaire(env, instance, load, args) -> tuple[dict, dict]:
    targets = (
        ("bare flask", "baseline_apps:create_hello()", hello_probes),
        ("bare form", f"baseline_apps:create_form('{args.section}')", form_probes),
        ("intake", "intake:create_app()", intake_probes),
    )
    run = run_targets(targets, env, instance, {"section": args.section}, load, args)
    get, post = run["paths"]["intake"]
    data = part_data(run, ("bare flask", "bare form"), section=args.section, get=get, post=post)
    return data, run["results"]["bare flask"]


def run_customer(env, instance, load, args, bare_flask: dict | None) -> dict:
    link = bench_script("setup_data.py", env, "customer-link")
    targets = (
        ("bare flask", "baseline_apps:create_hello()", hello_probes),
        ("bare form", "baseline_apps:create_answer_form()", answer_form_probes),
        ("intake", "intake:create_app()", customer_probes),
    )
    reuse = {"bare flask": bare_flask} if bare_flask else None
    run = run_targets(targets, env, instance, {"link": link}, load, args, reuse)
    return part_data(
        run,
        ("bare flask", "bare form"),
        deal_id=link["deal_id"],
        get="/p/<token>",
        post="/p/<token>",
        bare_flask_reused=bool(bare_flask),
    )


def run_routing(database: str, env: dict, instance: str, load, args) -> dict:
    print(f"routing on {database}: migrating, demo data, building the data set", file=sys.stderr, flush=True)
    started = time.perf_counter()
    prepare_database(env)
    arguments = ["routing", "--scale", str(args.scale), "--pool", str(args.route_pool)]
    data = bench_script("setup_data.py", env, *arguments, timeout=900)
    ids = {name: data[name] for name in ("pool_first", "pool_count", "page_deal", "any_partner_deal", "route_deal")}
    arguments = [f"--{name.replace('_', '-')}={value}" for name, value in ids.items()]
    data.update(bench_script("routing_bench.py", env, *arguments, timeout=600))
    data["setup_s"] = round(time.perf_counter() - started, 1)
    targets = (
        ("bare flask", "baseline_apps:create_hello()", hello_probes),
        ("intake", "intake:create_app()", routing_probes),
    )
    run = run_targets(targets, env, instance, {"data": data}, load, args)
    return part_data(
        run,
        ("bare flask",),
        database=database,
        get=run["paths"]["intake"][0] + " (deal page with the proposal)",
        post="/deals/<id>/route (a fresh deal from the pool each time)",
        **data,
    )


def run_manager(database: str, env: dict, instance: str, load, args) -> dict:
    print(f"manager on {database}: migrating, demo data, building the data set", file=sys.stderr, flush=True)
    started = time.perf_counter()
    prepare_database(env)
    arguments = ["--deals", str(args.manager_deals), "--partners", str(args.manager_partners)]
    data = bench_script("manager_data.py", env, *arguments, timeout=1800)
    data["prepare_s"] = round(time.perf_counter() - started, 1)
    pages = bench_script("manager_bench.py", env, "--partner", str(data["scorecard_partner"]), timeout=900)
    results = {}
    log = Path(instance, "gunicorn-manager.log")
    with gunicorn("intake:create_app()", env, log) as server:
        probes = manager_probes(server.port, {"pages": pages})
        for name, probe in probes.items():
            # A page of seconds gets a longer run, so p50 and p99 rest on more than a couple of requests.
            seconds = MANAGER_REQUESTS * pages[name]["median_ms"] / 1000 / args.manager_connections
            longer = copy.copy(args)
            longer.duration = max(args.duration, min(30, math.ceil(seconds)))
            longer.warmup = max(args.warmup, min(10, math.ceil(2 * pages[name]["median_ms"] / 1000)))
            print(f"measuring the manager's {name}: GET {probe.path}", file=sys.stderr, flush=True)
            # A failing request is counted, not fatal: a page that fails under load is a finding to report.
            failures: dict = {}
            deaths = worker_deaths(log)
            result = measure(load, server, probe, longer, args.manager_connections, MANAGER_TIMEOUT, failures)
            failures["workers_died"] = worker_deaths(log) - deaths
            results[name] = {**asdict(result), "duration_s": longer.duration, "warmup_s": longer.warmup}
            results[name]["failures"] = failures
            if any(failures.values()):
                print(f"  GET {probe.path} failed under load: {failures}", file=sys.stderr, flush=True)
        died = crashes(log)
    for name, page in pages.items():
        page["http"] = results[name]
    return {
        "database": database,
        "connections": args.manager_connections,
        **data,
        "pages": pages,
        "worker_log": died[:20],
    }


def crashes(log: Path) -> list[str]:
    """The log's worker deaths, each fatal error with the app's innermost frame (PYTHONFAULTHANDLER is on)."""
    found, lines = [], log.read_text().splitlines()
    for i, line in enumerate(lines):
        if "was sent SIG" in line:
            found.append(line.strip())
        elif line.startswith("Fatal Python error"):
            frames = [f.strip() for f in lines[i + 1 : i + 40] if "/intake/" in f or f.strip() == "Garbage-collecting"]
            found.append(f"{line.strip()} — " + " < ".join(frames[:3]))
    return found


def worker_deaths(log: Path) -> int:
    """How many gunicorn workers the log says were killed by a signal (a crash, or a timeout's SIGKILL)."""
    return sum("was sent SIG" in line for line in log.read_text().splitlines()) if log.exists() else 0


def run_import(database: str, env: dict) -> dict:
    print(f"import on {database}: migrating, demo data, then 100,000 accounts from CSV", file=sys.stderr, flush=True)
    prepare_database(env)
    return {"database": database, **bench_script("import_bench.py", env, "--rows", "100000", timeout=1200)}


def run_outbox(env: dict, args) -> dict:
    print("outbox: migrating, demo data, then the worker against raw Flask-Mail", file=sys.stderr, flush=True)
    prepare_database(env)
    arguments = ["--messages", str(args.messages), "--rounds", str(args.rounds)]
    return bench_script("mail_bench.py", env, *arguments, timeout=600)


# --- Report ----------------------------------------------------------------------------


def print_setup(s: dict) -> None:
    print(
        f"\ngunicorn -w {s['workers']} (sync) on {HOST}, {s['cpus']} CPUs; {s['client']}, "
        f"{s['connections']} connections, {s['duration_s']} s per run after {s['warmup_s']} s warm-up"
    )


def print_table(title: str, part: dict, baselines: tuple[str, ...]) -> None:
    print(f"\n{title}\n")
    header = f"{'request':<8}{'target':<12}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'cpu ms/req':>12}"
    header += "".join(f"{'ours / ' + base:>19}" for base in baselines)
    print(header)
    print("-" * len(header))
    for method in ("GET", "POST"):
        for name, by_method in part["targets"].items():
            r = by_method[method]
            line = f"{method:<8}{name:<12}{r['rps']:>9.1f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['cpu_ms']:>12.2f}"
            if name == "intake":
                line += "".join(f"{part['ratios'][method]['ours / ' + base]:>18.2f}x" for base in baselines)
            print(line)


def short_sql(sql: str) -> str:
    """The statement without its column list, with ? for every parameter and … for lists of them."""
    sql = re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", sql)
    sql = re.sub(r"%\(\w+\)s(::\w+(\(\d+\))?)?", "?", sql)  # psycopg's %(name)s::TYPE
    sql = re.sub(r"\?(, \?)+", "…", sql)
    return sql if len(sql) <= 240 else sql[:237] + "..."


def scans_of(plans: list[dict]) -> list[dict]:
    return [scan for plan in plans for scan in plan["scans"]]


def print_plans(plans: list[dict], title: str) -> None:
    print(f"  {title}")
    for i, plan in enumerate(plans, 1):
        print(f"   {i:>2}. {short_sql(plan['sql'])}")
        print(f"       {' | '.join(plan['plan'])}")


def print_routing(part: dict) -> None:
    c, p, a = part["counts"], part["propose"], part["propose_any_partner"]
    print(
        f"\nRouting on {part['database']} — {c['partners']:,} partners, {c['accounts']:,} accounts, "
        f"{c['relationships']:,} relationships, {c['open_deals']:,} open deals ({c['decisions']:,} with a decision, "
        f"{c['customer_links']:,} with a customer link); "
        f"inserted in {part['build_s']} s, {part['setup_s']} s with migration, demo data and the runs below"
    )
    print(
        f"\n  In process, decisions.propose(deal) in its two halves on a fresh session, {p['repetitions']} runs over"
        f" {p['deals']} deals"
        f" (each: {p['inputs']['relationships']} relationships, {p['inputs']['partners']} partners, "
        f"{p['inputs']['open_deals']} other open deals on its name or domain; proposals: "
        + ", ".join(f"{n} {decision}" for decision, n in p["decisions"].items())
        + "):\n"
        f"    facts.gather {p['gather_ms']:.2f} ms + routing.decide {p['decide_ms']:.2f} ms = {p['total_ms']:.2f} ms"
        f" median (p90 {p['total_p90_ms']:.2f} ms)\n"
        f"  The customer asks us to recommend a partner (any_partner: all {a['inputs']['partners']:,} partners "
        f"are read, by design), {a['repetitions']} runs:\n"
        f"    facts.gather {a['gather_ms']:.2f} ms + routing.decide {a['decide_ms']:.2f} ms = {a['total_ms']:.2f} ms"
        " median"
    )
    print()
    print_plans(part["plans"], f"Queries of one propose() (deal {part['page_deal']}, with its own lookup) and plans:")
    named = {plan["sql"] for plan in part["plans"]}
    extra = [plan for plan in part["plans_any_partner"] if plan["sql"] not in named]
    if extra:
        print_plans(extra, "With any_partner, instead of the partners by id:")
    route = part["route_request"]
    shown = named | {plan["sql"] for plan in extra}
    more = [plan for plan in route["plans"] if plan["sql"] not in shown]
    print(
        f"  The whole route request, in process (test client, deal {part['route_deal']}): "
        + ", ".join(f"{n} {kind}" for kind, n in route["statements"].items())
        + ("" if route["repeated"] else "; no statement run more than twice (no N+1)")
    )
    for sql, n in route["repeated"].items():
        print(f"    run {n} times (an N+1?): {short_sql(sql)}")
    if more:
        print_plans(more, "Its other SELECTs and plans:")
    found = [(scan, "") for scan in scans_of(part["plans"])] + [(s, ", any_partner only") for s in scans_of(extra)]
    found += [(scan, ", route request") for scan in scans_of(more)]
    large = [scan for scan, _ in found if scan["rows"] >= SMALL_TABLE]
    print(
        "  Scans: "
        + ("; ".join(f"{s['table']} ({s['rows']:,} rows{where})" for s, where in found) or "none")
        + f"; of tables of {SMALL_TABLE:,} rows or more: "
        + (", ".join(s["table"] for s in large) or "none")
    )
    print_table(
        f"  Over HTTP: GET {part['get']}; POST {part['post']}, signed in, CSRF",
        part,
        ("bare flask",),
    )
    print(
        "  (the route request records the decision and queues its mail in the outbox; no worker runs"
        " (INTAKE_MAIL_WORKER=0), so its latency includes no SMTP and no PDF rendering)"
    )


def print_manager(part: dict, setup: dict) -> None:
    c = part["counts"]
    by_status = ", ".join(f"{n:,} {status}" for status, n in part["deals_by_status"].items())
    routes = ", ".join(f"{n:,} {route}" for route, n in part["routes_in_force"].items())
    print(
        f"\nThe channel manager's pages on {part['database']} — {c['deals']:,} deals on {c['accounts']:,} accounts "
        f"({by_status}), {c['partners']:,} partners; {c['decisions']:,} decisions, {c['credits']:,} credits, "
        f"{c['partner_requests']:,} partner requests, {c['relationships']:,} relationships, "
        f"{c['customer_answers']:,} customer answers, {c['registrations']:,} registrations; decided from "
        f"{part['quarters_from']} (8 quarters); routes in force (lead/fulfil): {routes}.\n"
        f"  Inserted in {part['build_s']} s ({part['settle_s']} s more to settle), {part['prepare_s']} s with "
        f"migration and demo data. The scorecard is partner {part['scorecard_partner']}'s, the busiest "
        f"({part['scorecard_partner_credits']:,} credit rows)."
    )
    n = part["connections"]
    header = (
        f"  {'page':<44}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'cpu ms/req':>12}{'requests':>10}{'in s':>6}"
        f"{'alone ms':>10}{'SQL ms':>8}{'stmts':>7}{'KB':>7}"
    )
    print(
        f"\n  Over HTTP ({setup['client']}), {n} connection{'s' if n != 1 else ''} on {WORKERS} gunicorn sync workers,"
        f" {MANAGER_TIMEOUT} s timeout, "
        f"a slow page measured for longer (up to 30 s, for about {MANAGER_REQUESTS} requests); alone: in process, "
        "median of 5 (test client); SQL: its statements run alone, rows fetched\n"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for page in part["pages"].values():
        h = page["http"]
        sql = sum(plan["alone_ms"] for plan in page["plans"])
        print(
            f"  GET {page['path']:<40}{h['rps']:>8.1f}{h['p50_ms']:>9.0f}{h['p99_ms']:>9.0f}{h['cpu_ms']:>12.1f}"
            f"{h['requests']:>10}{h['duration_s']:>6}{page['median_ms']:>10.0f}{sql:>8.0f}{page['statements']:>7}"
            f"{page['bytes'] / 1024:>7.0f}"
        )
    for name, page in part["pages"].items():
        kinds = ", ".join(f"{n} {kind}" for kind, n in page["by_kind"].items())
        print(
            f"\n  {name}: GET {page['path']} — {kinds}"
            + ("" if page["repeated"] else "; no statement run more than twice (no N+1)")
        )
        for sql, times in page["repeated"].items():
            print(f"    run {times} times (an N+1?): {short_sql(sql)}")
        for i, plan in enumerate(page["plans"], 1):
            print(f"   {i:>2}. {short_sql(plan['sql'])}")
            print(
                f"       {plan['alone_ms']:.1f} ms alone, {plan['rows_returned']:,} rows | {' | '.join(plan['plan'])}"
            )
        big = {(s["table"], s["step"]): s for s in scans_of(page["plans"]) if s["rows"] >= SMALL_TABLE}
        print(
            f"  Scans of tables of {SMALL_TABLE:,} rows or more: "
            + ("; ".join(f"{s['table']} ({s['rows']:,} rows: {s['step']})" for s in big.values()) or "none")
        )
        heavy = sorted(page["plans"], key=lambda plan: -plan["alone_ms"])[:3]
        print(
            "  Heaviest alone: "
            + "; ".join(
                f"{p['alone_ms']:.0f} ms, {p['rows_returned']:,} rows: {short_sql(p['sql'])[:90]}" for p in heavy
            )
        )
    for page in part["pages"].values():
        if failures := {k: v for k, v in page["http"].get("failures", {}).items() if v}:
            print(
                f"  GET {page['path']} FAILED under load: "
                + ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in failures.items())
                + " (p50/p99 are of the requests answered; cpu ms/req misses the CPU of workers that died)"
            )
    for line in part.get("worker_log", []):
        print(f"    gunicorn: {line.strip()}")
    pages = part["pages"].values()
    slow = [f"{p['path']} (p50 {p['http']['p50_ms']:.0f} ms)" for p in pages if p["http"]["p50_ms"] > MANAGER_SLOW_MS]
    print(f"  Slower than {MANAGER_SLOW_MS} ms (p50): " + (", ".join(slow) or "none"))


def print_import(part: dict) -> None:
    print(
        f"\nImport on {part['database']}: {part['rows']:,} accounts from a {part['file_bytes'] / 1e6:.1f} MB CSV "
        f"(intake.imports.run, in process, one transaction), against reading it with the csv module and "
        f"inserting its rows unchecked"
    )
    header = f"  {'run':<46}{'seconds':>9}{'rows/s':>10}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for key, label in (
        ("first", "first import (every account created)"),
        ("again", "the same file again (every row unchanged)"),
        ("changed", "every vertical changed (every row updated)"),
        ("yardstick", "yardstick: csv.DictReader + executemany"),
    ):
        r = part[key]
        print(f"  {label:<46}{r['seconds']:>9.2f}{r['rows_per_s']:>10,}")
    print(f"  first import / yardstick: {part['ratio']:.2f}x")


def print_outbox(part: dict) -> None:
    m = part["message"]
    print(
        f"\nMail: the outbox worker to a local SMTP server (aiosmtpd on {HOST}, its own process) against raw "
        f"Flask-Mail over one connection; {part['messages']} messages per run, median of {part['rounds']} runs, "
        f"worker batches of {part['batch']}"
    )
    print(
        f"  The routed-vendor message of deal {part['deal_id']}: {m['text_bytes']:,} B text + "
        f"{m['html_bytes']:,} B HTML, {m['recipients']} recipient(s); the PDF {m['pdf_bytes']:,} B\n"
    )
    header = f"  {'message':<34}{'worker msg/s':>14}{'raw msg/s':>11}{'worker / raw':>14}{'queue ms/msg':>14}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    labels = (
        ("plain", "text + HTML"),
        ("pdf", "+ PDF, as queued (stored recipe)"),
        ("pdf_stored", "+ PDF, queued as bytes"),
    )
    for key, label in labels:
        r = part[key]
        print(
            f"  {label:<34}{r['worker_msg_s']:>14.1f}{r['raw_flask_mail_msg_s']:>11.1f}{r['ratio']:>13.2f}x"
            f"{r['queue_ms_per_message']:>14.2f}"
        )
    print(
        '  (the mark is >= 0.80x. "As queued": each message carries the app\'s deal_summary recipe for one'
        " decision whose PDF is already rendered and stored, so the worker looks it up, stores it on the"
        " message and commits, as for every message after the first of a decision and copy; raw Flask-Mail"
        " attaches the same bytes, already in memory. Rendering is not in these runs: see below.)"
    )
    r = part["render"]
    print(
        f"  PDF rendering, median of {r['repetitions']}: the deal summary (template + WeasyPrint) "
        f"{r['summary_ms']:.0f} ms, a one-line page (render_pdf('<p>hello</p>')) {r['hello_ms']:.0f} ms: "
        f"{r['ratio']:.1f}x"
    )
    print(
        f"  The routing request's mail is queued, not sent: its first drain ({part['first_drain']['messages']} "
        f"messages, PDFs rendered) took {part['first_drain']['seconds']:.2f} s in the worker, outside the request."
    )


def report(data: dict) -> None:
    s = data["setup"]
    if set(s["parts"]) - {"outbox", "manager"}:  # the outbox part serves nothing over HTTP; the manager's says its own
        print_setup(s)
    if "questionnaire" in data:
        part = data["questionnaire"]
        print_table(
            f"The questionnaire: GET {part['get']} (signed in) and POST {part['post']} (action=save, CSRF)",
            part,
            ("bare flask", "bare form"),
        )
        print("  (the mark is >= 0.80x of bare form)")
    if "customer" in data:
        part = data["customer"]
        print_table(
            "The customer's link: GET /p/<token> (their cookie) and POST /p/<token> "
            "(a complete answer, CSRF; each POST changes the answer, so each one writes)",
            part,
            ("bare flask", "bare form"),
        )
        print(
            "  (bare form: the customer's answer form, rendered and validated without layout or database"
            + ("; bare flask: the runs of the questionnaire above)" if part["bare_flask_reused"] else ")")
        )
    for part in data.get("routing", {}).values():
        print_routing(part)
    for part in data.get("manager", {}).values():
        print_manager(part, s)
    for part in data.get("import", {}).values():
        print_import(part)
    if "outbox" in data:
        print_outbox(data["outbox"])
    before, after = s["load_average_before_after"]
    print(
        "\nRatios are of req/s (1.00x = as fast as the baseline)."
        "\ncpu ms/req is the gunicorn workers' CPU time per request, less sensitive to other load"
        f" on the machine (load average {before} before, {after} after; {s['elapsed_s']:.0f} s in all)."
        f"\nWritten to {RESULTS.relative_to(ROOT)}"
    )


# --- Main ------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", choices=PARTS, action="append", help="run this part (repeatable); default: all six")
    parser.add_argument(
        "--database-url",
        help="run the routing, manager and import parts on this PostgreSQL server too (a database is created there and "
        "dropped)",
    )
    parser.add_argument("--section", choices=sorted(ANSWERS), default="need")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before measuring")
    parser.add_argument("--duration", type=int, default=6, help="seconds measured per target and request")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="size of the routing data set (1: 10,000 partners, 100,000 accounts)"
    )
    parser.add_argument("--route-pool", type=int, default=4000, help="deals ready to route, one per route request")
    parser.add_argument("--manager-deals", type=int, default=100_000, help="manager part: deals in its data set")
    parser.add_argument("--manager-partners", type=int, default=1000, help="manager part: partners in its data set")
    parser.add_argument(
        "--manager-connections", type=int, default=WORKERS, help="manager part: connections of the load (default: 2)"
    )
    parser.add_argument("--messages", type=int, default=300, help="outbox part: messages per run")
    parser.add_argument("--rounds", type=int, default=3, help="outbox part: runs per variant (the median is shown)")
    args = parser.parse_args()
    if args.database_url and args.only and not {"routing", "manager", "import"} & set(args.only):
        parser.error("--database-url is for the routing, manager and import parts: add one of them to --only")
    return args


def main() -> int:
    args = parse_args()
    parts = args.only or PARTS
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

    started = time.perf_counter()
    instance = tempfile.mkdtemp(prefix="intake-bench-")
    data: dict = {}
    load_before = os.getloadavg()
    try:
        bare_flask = None
        if "questionnaire" in parts or "customer" in parts:
            env = server_env(instance, f"sqlite:///{instance}/intake.sqlite")
            prepare_database(env)
            if "questionnaire" in parts:
                data["questionnaire"], bare_flask = run_questionnaire(env, instance, load, args)
            if "customer" in parts:
                data["customer"] = run_customer(env, instance, load, args, bare_flask)
        if "routing" in parts:
            data["routing"] = {}
            env = server_env(instance, f"sqlite:///{instance}/routing.sqlite")
            data["routing"]["sqlite"] = run_routing("SQLite", env, instance, load, args)
            if args.database_url:
                with postgres_database(args.database_url) as url:
                    env = server_env(instance, url)
                    label = f"PostgreSQL (database {urlsplit(url).path[1:]}, dropped after)"
                    data["routing"]["postgresql"] = run_routing(label, env, instance, load, args)
        if "manager" in parts:
            data["manager"] = {}
            # A worker that crashes says where, in the gunicorn log.
            env = {**server_env(instance, f"sqlite:///{instance}/manager.sqlite"), "PYTHONFAULTHANDLER": "1"}
            data["manager"]["sqlite"] = run_manager("SQLite", env, instance, load, args)
            if args.database_url:
                with postgres_database(args.database_url) as url:
                    env = {**server_env(instance, url), "PYTHONFAULTHANDLER": "1"}
                    label = f"PostgreSQL (database {urlsplit(url).path[1:]}, dropped after)"
                    data["manager"]["postgresql"] = run_manager(label, env, instance, load, args)
        if "import" in parts:
            data["import"] = {
                "sqlite": run_import("SQLite", server_env(instance, f"sqlite:///{instance}/import.sqlite"))
            }
            if args.database_url:
                with postgres_database(args.database_url) as url:
                    label = f"PostgreSQL (database {urlsplit(url).path[1:]}, dropped after)"
                    data["import"]["postgresql"] = run_import(label, server_env(instance, url))
        if "outbox" in parts:
            data["outbox"] = run_outbox(server_env(instance, f"sqlite:///{instance}/outbox.sqlite"), args)
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(instance, ignore_errors=True)

    data = {
        "setup": {
            "parts": list(parts),
            "workers": WORKERS,
            "client": client,
            "connections": args.connections,
            "warmup_s": args.warmup,
            "duration_s": args.duration,
            "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
            "cpus": os.cpu_count(),
            "elapsed_s": round(time.perf_counter() - started, 1),
        },
        **data,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    report(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
