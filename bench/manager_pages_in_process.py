"""The manager part's in-process measurements: the channel manager's pages, their SQL and its plans.

    python -m bench.manager_pages_in_process [--partner N] [--repetitions 5]

Run with the app's INTAKE_* environment on the data set bench/manager_data.py built (and, for the
statement counts to compare with, on a programme of 1,000 deals in a database of its own);
bench/manager_pages.py does both, before the HTTP runs. Signed in as the channel manager (Flask test
client), for each of

    GET /dashboard                          the whole pipeline (rep.dashboard_page)
    GET /dashboard?partner=<N>              the same, filtered by partner N
    GET /admin/ledger                       the reciprocity ledger, every partner
    GET /admin/partners/<N>/scorecard       the scorecard of partner N (default: the one with
                                            the most credit rows)

1. the page once cold (the process's first: templates compiled on the way), then --repetitions
   times: the median and slowest time, and the page's size;
2. the SQL of one request, captured by a before_cursor_execute listener: the statements by kind,
   any run more than twice (an N+1), and each distinct SELECT EXPLAINed (EXPLAIN QUERY PLAN on
   SQLite, EXPLAIN on PostgreSQL: bench/sql.py), every scan named with its table's size,
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

from sqlalchemy import func, select

from bench.load import MANAGER, csrf_token
from bench.sql import Capture, distinct_selects, explain, statement_kinds, timed_alone
from intake import create_app
from intake.extensions import db
from intake.models import Credit, Partner

PAGES = (
    ("dashboard", "/dashboard"),
    ("dashboard_by_partner", "/dashboard?partner={partner}"),
    ("ledger", "/admin/ledger"),
    ("scorecard", "/admin/partners/{partner}/scorecard"),
)


def log(message: str) -> None:
    print(f"  [manager] {message}", file=sys.stderr, flush=True)


def signed_in(app, account: dict = MANAGER):
    """A test client signed in as `account` (the channel manager by default)."""
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={**account, "csrf_token": token})
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        raise SystemExit(f"signing in as {account['email']} answered {response.status_code}")
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
    kinds, repeated = statement_kinds(statements)
    selects = distinct_selects(statements)
    return {
        "path": path,
        "cold_ms": round(cold * 1000, 1),
        "median_ms": round(statistics.median(times) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "repetitions": repetitions,
        "bytes": size,
        "statements": len(statements),
        "by_kind": kinds,
        "repeated": repeated,
        "plans": [
            {**plan, "alone_ms": ms, "rows_returned": rows}
            for plan, (ms, rows) in zip(explain(selects), timed_alone(selects), strict=True)
        ],
    }


def busiest_partner() -> int:
    """The partner with the most credit rows (the first partner when none has any)."""
    row = db.session.execute(
        select(Credit.partner_id, func.count())
        .where(Credit.partner_id.is_not(None))
        .group_by(Credit.partner_id)
        .order_by(func.count().desc())
        .limit(1)
    ).first()
    return row[0] if row else db.session.scalar(select(func.min(Partner.id)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--partner", type=int, help="the partner whose scorecard is measured (default: the busiest)")
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    app = create_app()
    result = {}
    with app.app_context():
        partner = args.partner or busiest_partner()
        client = signed_in(app)
        for name, path in PAGES:
            path = path.format(partner=partner)
            result[name] = page(client, path, args.repetitions)
            r = result[name]
            log(f"GET {path}: {r['median_ms']} ms median, {r['statements']} statements, {r['bytes']:,} bytes")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
