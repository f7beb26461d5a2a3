"""The manager part's in-process measurements: the channel manager's pages, their SQL and its plans.

    python bench/manager_bench.py --partner N [--repetitions 5]

Run with the app's INTAKE_* environment on the data set bench/manager_data.py built; bench/run.py
does both, before the HTTP runs. Signed in as the channel manager (Flask test client), for each of

    GET /dashboard                          the whole pipeline (rep.dashboard_page)
    GET /admin/ledger                       the reciprocity ledger, every partner
    GET /admin/partners/<N>/scorecard       the scorecard of partner N (the run gives the busiest)

1. the page once cold (the process's first: templates compiled on the way), then --repetitions
   times: the median and slowest time, and the page's size;
2. the SQL of one request, captured by a before_cursor_execute listener: the statements by kind,
   any run more than twice (an N+1), and each distinct SELECT EXPLAINed (EXPLAIN QUERY PLAN on
   SQLite, EXPLAIN on PostgreSQL: bench/routing_bench.explain), every scan named with its table's size,
   and timed alone: run on the driver with its parameters, every row fetched (median of 3), which
   tells the database's share of the page from Python's (the ORM, the page's own sums, the template),
   and the rows it returns.

Prints JSON on stdout; progress on stderr.
"""

import argparse
import json
import statistics
import sys
import time
from collections import Counter

from routing_bench import Capture, csrf_from, explain

from intake import create_app
from intake.extensions import db

MANAGER_EMAIL = "manager@example.com"
PASSWORD = "intake-demo"
PAGES = (
    ("dashboard", "/dashboard"),
    ("ledger", "/admin/ledger"),
    ("scorecard", "/admin/partners/{partner}/scorecard"),
)


def log(message: str) -> None:
    print(f"  [manager] {message}", file=sys.stderr, flush=True)


def signed_in(app):
    client = app.test_client()
    token = csrf_from(client.get("/login"))
    response = client.post("/login", data={"email": MANAGER_EMAIL, "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        raise SystemExit(f"signing in as {MANAGER_EMAIL} answered {response.status_code}")
    return client


def get(client, path: str) -> tuple[float, int]:
    """One GET on a fresh session (nothing cached from the last); its seconds and size in bytes."""
    db.session.remove()
    started = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}")
    return elapsed, len(response.get_data())


def page(client, path: str, repetitions: int) -> dict:
    cold, size = get(client, path)
    times = [get(client, path)[0] for _ in range(repetitions)]
    db.session.remove()
    with Capture() as statements:
        get(client, path)
    kinds = Counter(statement.split(None, 1)[0].upper() for statement, _ in statements)
    repeated = Counter(" ".join(statement.split()) for statement, _ in statements)
    selects = {}
    for statement, parameters in statements:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.setdefault(" ".join(statement.split()), (statement, parameters))
    return {
        "path": path,
        "cold_ms": round(cold * 1000, 1),
        "median_ms": round(statistics.median(times) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "repetitions": repetitions,
        "bytes": size,
        "statements": len(statements),
        "by_kind": dict(kinds.most_common()),
        "repeated": {sql: n for sql, n in repeated.most_common() if n > 2},
        "plans": [
            {**plan, "alone_ms": ms, "rows_returned": rows}
            for plan, (ms, rows) in zip(explain(list(selects.values())), timed(list(selects.values())), strict=True)
        ],
    }


def timed(statements: list[tuple[str, object]], runs: int = 3) -> list[tuple[float, int]]:
    """Each statement run alone on the driver, all its rows fetched: the median of `runs` in ms, and its rows."""
    found = []
    with db.engine.connect() as conn:
        for statement, parameters in statements:
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                rows = len(conn.exec_driver_sql(statement, parameters).all())
                times.append(time.perf_counter() - started)
            found.append((round(statistics.median(times) * 1000, 2), rows))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--partner", type=int, required=True, help="the partner whose scorecard is measured")
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    app = create_app()
    result = {}
    with app.app_context():
        client = signed_in(app)
        for name, path in PAGES:
            path = path.format(partner=args.partner)
            result[name] = page(client, path, args.repetitions)
            r = result[name]
            log(f"GET {path}: {r['median_ms']} ms median, {r['statements']} statements, {r['bytes']:,} bytes")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
