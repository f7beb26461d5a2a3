"""The channel manager's pages at 100,000 deals: dashboard (also filtered by a partner), ledger, a scorecard.

Signed in as manager@example.com, on a data set built in the part's own database
(bench/manager_data.py, next to the demo data): two years of a channel programme, decided_at spread
over 8 calendar quarters: 1,000 partners (each with a partner user), 40,000 accounts, 100,000 deals
(two or three per account, one after the other), about 85% of them routed at some point, with the
decisions, credit records, partner requests, customers' answers, relationship rows and registrations
the services write. --manager-deals and --manager-partners size it.

    in process  (bench/manager_pages_in_process.py, Flask test client) each page cold, then the median
                of 5; the SQL of one request: statements by kind, any run more than twice (an N+1),
                each distinct SELECT EXPLAINed and timed alone on the driver, every scan named. Run
                also on a programme of SMALL_DEALS deals (SMALL_PARTNERS partners) in a database of its own,
                for the statement counts to compare
    GET  /dashboard                         the whole pipeline (rep.dashboard_page)
    GET  /dashboard?partner=<id>            the same, filtered by the busiest partner (found or holds credit)
    GET  /admin/ledger                      the reciprocity ledger, every partner
    GET  /admin/partners/<id>/scorecard     the busiest partner's scorecard (most credit rows)
Under load with --manager-connections (default 2, one per worker: no request waits for a worker, so
p50 is a page's own time with both workers busy) and a 60 s timeout per request, as pages may take
seconds; a slow page is measured for longer (up to 30 s) to get about MANAGER_REQUESTS requests. A
wrong answer or socket error does not stop this part: it is counted and reported with the workers
that died (the gunicorn log's, with the faulthandler's innermost app frame). On SQLite; with
--database-url on PostgreSQL too, in a database created for the run and dropped after it.

Targets, per engine: the dashboard's and the ledger's p50 under load < 200 ms, and their statements
per request the same at 100,000 deals as at 1,000 (the demo data alone would not do: its empty lists
skip the statements that read what a list shows).
"""

import math
import sys
import time
from dataclasses import asdict
from pathlib import Path

from bench.load import MANAGER, Browser, Probe, measure
from bench.servers import (
    ENGINES,
    INTAKE_APP,
    WORKERS,
    crashes,
    database,
    engines,
    gunicorn,
    in_process,
    label,
    prepare_database,
    server_env,
    worker_deaths,
)
from bench.sql import SMALL_TABLE, scans_of, short_sql
from bench.summary import PartResult, Row, below

SLOW_MS = 200  # a manager's page whose p50 is above this at 100,000 deals is slow
TIMEOUT = 60  # seconds a manager's page may take under load before it counts as a socket error
REQUESTS = 20  # a slow page is measured for longer (up to 30 s) to get about this many requests
TARGETED = ("dashboard", "ledger")
SMALL_DEALS, SMALL_PARTNERS = 1000, 10  # the small programme whose statement counts the large one's must equal


def add_arguments(parser) -> None:
    parser.add_argument("--manager-deals", type=int, default=100_000, help="manager: deals in its data set")
    parser.add_argument("--manager-partners", type=int, default=1000, help="manager: partners in its data set")
    parser.add_argument(
        "--manager-connections", type=int, default=WORKERS, help="manager: connections of the load (default: 2)"
    )


def manager_probes(port: int, pages: dict) -> dict[str, Probe]:
    """Sign in as the channel manager; a probe of each page measured in process (`pages`)."""
    browser = Browser(port)
    browser.sign_in(MANAGER)
    cookie = browser.cookie()
    probes = {}
    for name, page in pages.items():
        browser.expect(200, "GET", page["path"])
        probes[name] = Probe("GET", page["path"], cookie)
    return probes


def measure_engine(engine: str, options, workdir: Path) -> dict:
    with database(engine, options, workdir, "manager") as url:
        where = label(engine, url)
        print(f"manager on {where}: migrating, demo data, building the data set", file=sys.stderr, flush=True)
        started = time.perf_counter()
        # A worker that crashes says where, in the gunicorn log.
        env = server_env(workdir, url, PYTHONFAULTHANDLER="1")
        prepare_database(env)
        arguments = ["--deals", str(options.manager_deals), "--partners", str(options.manager_partners)]
        data = in_process("manager_data", env, *arguments, timeout=1800)
        data["prepare_s"] = round(time.perf_counter() - started, 1)
        pages = in_process("manager_pages_in_process", env, "--partner", str(data["scorecard_partner"]), timeout=900)
        small = small_programme(engine, options, workdir)
        for name, page in pages.items():
            page["statements_small"] = small[name]["statements"]
        results = {}
        log = Path(workdir, f"gunicorn-manager-{engine}.log")
        with gunicorn(INTAKE_APP, env, log) as server:
            for name, probe in manager_probes(server.port, pages).items():
                # A page of seconds gets a longer run, so p50 and p99 rest on more than a couple of requests.
                seconds = REQUESTS * pages[name]["median_ms"] / 1000 / options.manager_connections
                duration = max(options.duration, min(30, math.ceil(seconds)))
                warmup = max(options.warmup, min(10, math.ceil(2 * pages[name]["median_ms"] / 1000)))
                print(f"measuring the manager's {name}: GET {probe.path}", file=sys.stderr, flush=True)
                # A failing request is counted, not fatal: a page that fails under load is a finding to report.
                failures: dict = {}
                deaths = worker_deaths(log)
                result = measure(
                    options.load,
                    server,
                    probe,
                    options,
                    connections=options.manager_connections,
                    duration=duration,
                    warmup=warmup,
                    timeout=TIMEOUT,
                    failures=failures,
                )
                failures["workers_died"] = worker_deaths(log) - deaths
                results[name] = {**asdict(result), "duration_s": duration, "warmup_s": warmup, "failures": failures}
                if any(failures.values()):
                    print(f"  GET {probe.path} failed under load: {failures}", file=sys.stderr, flush=True)
            died = crashes(log)
    for name, page in pages.items():
        page["http"] = results[name]
    return {
        "engine": engine,
        "database": where,
        "connections": options.manager_connections,
        "client": options.client_name,
        **data,
        "pages": pages,
        "worker_log": died[:20],
    }


def small_programme(engine: str, options, workdir: Path) -> dict:
    """The pages' statements on a programme of SMALL_DEALS deals, built the same way in a database of its own."""
    with database(engine, options, workdir, "manager-small") as url:
        env = server_env(workdir, url)
        prepare_database(env)
        arguments = ["--deals", str(SMALL_DEALS), "--partners", str(SMALL_PARTNERS)]
        data = in_process("manager_data", env, *arguments, timeout=300)
        partner = str(data["scorecard_partner"])
        return in_process("manager_pages_in_process", env, "--partner", partner, "--repetitions", "1", timeout=300)


def rows(details: dict) -> list[Row]:
    engine = ENGINES[details["engine"]]
    deals = f"{details['counts']['deals']:,} deals"
    found = []
    for name in TARGETED:
        page = details["pages"][name]
        failed = {k: v for k, v in page["http"]["failures"].items() if v}
        note = f"in process {page['median_ms']:.0f} ms" + (f"; FAILED under load: {failed}" if failed else "")
        found.append(
            below("manager", f"{name} at {deals}, p50 ({engine})", page["http"]["p50_ms"], SLOW_MS, "ms", note=note)
        )
    for name in TARGETED:
        page = details["pages"][name]
        at_scale, small = page["statements"], page["statements_small"]
        found.append(
            Row(
                "manager",
                f"{name} statements per request at {deals} ({engine})",
                at_scale,
                "statements",
                f"= at {SMALL_DEALS:,} deals ({small})",
                at_scale == small,
            )
        )
    return found


def run(options, workdir: Path) -> PartResult:
    details = {engine: measure_engine(engine, options, workdir) for engine in engines(options)}
    return PartResult([row for part in details.values() for row in rows(part)], details)


def report(details: dict) -> None:
    for part in details.values():
        print_engine(part)


def print_engine(part: dict) -> None:
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
        f"{'alone ms':>10}{'SQL ms':>8}{'stmts':>7}{'small':>7}{'KB':>7}"
    )
    print(
        f"\n  Over HTTP ({part['client']}), {n} connection{'s' if n != 1 else ''} on {WORKERS} gunicorn sync workers,"
        f" {TIMEOUT} s timeout, "
        f"a slow page measured for longer (up to 30 s, for about {REQUESTS} requests); alone: in process, "
        "median of 5 (test client); SQL: its statements run alone, rows fetched; small: its statements at"
        f" {SMALL_DEALS:,} deals\n"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for page in part["pages"].values():
        h = page["http"]
        sql = sum(plan["alone_ms"] for plan in page["plans"])
        print(
            f"  GET {page['path']:<40}{h['rps']:>8.1f}{h['p50_ms']:>9.0f}{h['p99_ms']:>9.0f}{h['cpu_ms']:>12.1f}"
            f"{h['requests']:>10}{h['duration_s']:>6}{page['median_ms']:>10.0f}{sql:>8.0f}{page['statements']:>7}"
            f"{page['statements_small']:>7}{page['bytes'] / 1024:>7.0f}"
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
    slow = [f"{p['path']} (p50 {p['http']['p50_ms']:.0f} ms)" for p in pages if p["http"]["p50_ms"] > SLOW_MS]
    print(f"  Slower than {SLOW_MS} ms (p50): " + (", ".join(slow) or "none"))
