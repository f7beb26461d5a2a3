"""The growth part's in-process measurements at one data size: p50 and statements per request.

    python -m bench.growth_in_process routing --pool-first N --pool-count N --page-deal N
    python -m bench.growth_in_process dashboard

Run with the app's INTAKE_* environment on a data set of the size measured (bench/growth.py builds
them: `python -m bench.setup_data routing` for `routing`, bench/manager_data.py for `dashboard`).

    routing     decisions.propose(deal) on a fresh session each time, --repetitions runs over the
                pool's deals (bench/routing_in_process.py's timed_proposals: each decision checked
                against propose()), and the statements one cold propose() issues; then the deal page
                with the proposal, GET /deals/<page deal>, signed in as its rep (Flask test client):
                cold, then the median of --page-repetitions on fresh sessions, and its statements
    dashboard   GET /dashboard as the channel manager: cold, then the median of --page-repetitions,
                and its statements

Prints JSON on stdout; progress on stderr.
"""

import argparse
import json
import statistics
import sys

from bench.load import REP
from bench.manager_pages_in_process import get, signed_in
from bench.routing_in_process import captured_statements, timed_proposals
from bench.sql import Capture
from intake import create_app
from intake.extensions import db


def log(message: str) -> None:
    print(f"  [growth] {message}", file=sys.stderr, flush=True)


def timed_page(client, path: str, repetitions: int) -> dict:
    """The page cold, then the median of `repetitions` on fresh sessions; the statements of one request."""
    cold, size = get(client, path)
    times = sorted(get(client, path)[0] for _ in range(repetitions))
    db.session.remove()
    with Capture() as statements:
        get(client, path)
    return {
        "path": path,
        "cold_ms": round(cold * 1000, 2),
        "p50_ms": round(statistics.median(times) * 1000, 2),
        "p90_ms": round(times[min(len(times) - 1, int(len(times) * 0.9))] * 1000, 2),
        "repetitions": repetitions,
        "statements": len(statements),
        "bytes": size,
    }


def routing_growth(app, args) -> dict:
    sample = list(range(args.pool_first, args.pool_first + args.pool_count))
    timed_proposals(sample[:10], 10)  # warm-up: imports, compiled statements, pages in cache
    proposals = timed_proposals(sample, args.repetitions)
    propose = {
        "p50_ms": proposals["total_ms"],
        "p90_ms": proposals["total_p90_ms"],
        "repetitions": args.repetitions,
        "deals": len(sample),
        "statements": len(captured_statements(args.page_deal)),
        "inputs": proposals["inputs"],
    }
    log(f"propose: {propose['p50_ms']} ms median, {propose['statements']} statements")
    page = timed_page(signed_in(app, REP), f"/deals/{args.page_deal}", args.page_repetitions)
    log(f"GET {page['path']}: {page['p50_ms']} ms median, {page['statements']} statements")
    return {"propose": propose, "deal_page": page}


def dashboard_growth(app, args) -> dict:
    page = timed_page(signed_in(app), "/dashboard", args.page_repetitions)
    log(f"GET /dashboard: {page['p50_ms']} ms median, {page['statements']} statements")
    return {"dashboard": page}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="what", required=True)
    routing = sub.add_parser("routing")
    for name in ("--pool-first", "--pool-count", "--page-deal"):
        routing.add_argument(name, type=int, required=True)
    routing.add_argument("--repetitions", type=int, default=200)
    routing.add_argument("--page-repetitions", type=int, default=20)
    dashboard = sub.add_parser("dashboard")
    dashboard.add_argument("--page-repetitions", type=int, default=7)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        result = routing_growth(app, args) if args.what == "routing" else dashboard_growth(app, args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
