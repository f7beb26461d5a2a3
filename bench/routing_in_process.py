"""The routing part's in-process measurements: a deal's facts gathered and decided, and the SQL it takes.

    python -m bench.routing_in_process --pool-first N --pool-count N --page-deal N --any-partner-deal N
                                       --route-deal N [--repetitions 400]

Run with the app's INTAKE_* environment on the data set `python -m bench.setup_data routing` built
(the ids are the ones it printed); bench/routing.py does both, before the HTTP runs.

1. decisions.propose(deal) in its two halves, timed apart on a fresh session each time: gather
   the facts (intake.deals.facts.gather: every row read, and the engine's typed input made), then
   decide (intake.routing.decide(facts.input)). --repetitions runs over up to 150 deals of the
   pool (the kind the HTTP runs route), after a warm-up: medians, and the p90 of the sum. Then
   for each deal timed, decisions.propose(deal).decision on a fresh session must equal what the
   two halves decided. The same for the deal whose customer asks us to recommend a partner
   (any_partner), for which the partners to recommend are read from partner coverage's index.
2. The SQL one cold propose() issues, deal lookup included, captured by a before_cursor_execute
   listener, each statement EXPLAINed (bench/sql.py; EXPLAIN QUERY PLAN on SQLite): which index, or SCAN.
3. One whole route request through the Flask test client, signed in as the rep: its statements
   by kind, any run more than twice (an N+1), and the plans of its other SELECTs.

Prints JSON on stdout; progress on stderr.
"""

import argparse
import json
import statistics
import sys
import time
from collections import Counter

from sqlalchemy import select

from bench.load import csrf_token
from bench.sql import Capture, distinct_selects, explain, statement_kinds
from intake import create_app, routing
from intake.deals import decisions
from intake.deals import facts as deal_facts
from intake.extensions import db
from intake.models import Deal

REP_EMAIL = "alice@example.com"  # the pool's deals are hers (bench/setup_data.py)
REP_PASSWORD = "intake-demo"
SAMPLE = 150  # pool deals the timed runs go over


def log(message: str) -> None:
    print(f"  [routing] {message}", file=sys.stderr, flush=True)


def timed_proposals(deal_ids: list[int], repetitions: int) -> dict:
    """Median (and spread) of decisions.propose's two halves, each run on a fresh session."""
    gather, decide, total = [], [], []
    decided: dict[int, routing.Decision] = {}
    for i in range(repetitions):
        db.session.remove()  # nothing cached: every row is read again, as in a request
        deal = db.session.get(Deal, deal_ids[i % len(deal_ids)])
        t0 = time.perf_counter()
        facts = deal_facts.gather(deal)  # what propose() does, in its two halves
        t1 = time.perf_counter()
        decision = routing.decide(facts.input)
        t2 = time.perf_counter()
        gather.append(t1 - t0)
        decide.append(t2 - t1)
        total.append(t2 - t0)
        decided[deal.id] = decision
    for deal_id, decision in decided.items():
        db.session.remove()
        if decisions.propose(db.session.get(Deal, deal_id)).decision != decision:
            raise SystemExit(f"deal {deal_id}: decisions.propose() and its two halves disagree")
    db.session.remove()

    def ms(values, q):
        values = sorted(values)
        return round(values[min(len(values) - 1, int(len(values) * q))] * 1000, 3)

    return {
        "repetitions": repetitions,
        "deals": len(deal_ids),
        "gather_ms": round(statistics.median(gather) * 1000, 3),
        "decide_ms": round(statistics.median(decide) * 1000, 3),
        "total_ms": round(statistics.median(total) * 1000, 3),
        "total_p90_ms": ms(total, 0.9),
        "inputs": {
            "relationships": len(facts.data["relationships"]),
            "partners": len(facts.data["partners"]),
            "open_deals": len(facts.data["open_deals"]),
        },
        # over the distinct deals
        "decisions": dict(Counter(" ".join([d.status, *d.flags]) for d in decided.values()).most_common()),
    }


def captured_statements(deal_id: int) -> list[tuple[str, object]]:
    """The SQL one cold propose() issues, deal lookup included (as the request's own lookup)."""
    db.session.remove()
    with Capture() as statements:
        deal = db.session.scalar(select(Deal).where(Deal.id == deal_id))
        decisions.propose(deal)
    db.session.remove()
    return statements


def route_request(app, deal_id: int) -> dict:
    """One whole route request in process (Flask test client, signed in as the rep): its SQL.

    Every SELECT is explained; a statement run again and again with other values is an N+1.
    """
    db.session.remove()
    client = app.test_client()
    token = csrf_from(client.get("/login"))
    client.post("/login", data={"email": REP_EMAIL, "password": REP_PASSWORD, "csrf_token": token})
    token = csrf_from(client.get(f"/deals/{deal_id}"))
    with Capture() as statements:
        started = time.perf_counter()
        response = client.post(f"/deals/{deal_id}/route", data={"csrf_token": token})
        elapsed = time.perf_counter() - started
    if response.status_code != 302 or not response.headers["Location"].endswith(f"/deals/{deal_id}#routing"):
        raise SystemExit(f"routing deal {deal_id} in process answered {response.status_code}")
    kinds, repeated = statement_kinds(statements)
    return {
        "cold_ms": round(elapsed * 1000, 1),  # the process's first route: templates compiled on the way
        "statements": kinds,
        "repeated": repeated,
        "plans": explain(distinct_selects(statements)),
    }


def csrf_from(response) -> str:
    return csrf_token(response.get_data(as_text=True))


def measure(app, args) -> dict:
    # The named-partner deals of the pool: the same kind of deal the HTTP part routes.
    sample = list(range(args.pool_first, args.pool_first + min(SAMPLE, args.pool_count)))
    timed_proposals(sample[:10], 10)  # warm-up: imports, compiled statements, pages in cache
    started = time.perf_counter()
    named = timed_proposals(sample, args.repetitions)
    log(f"{args.repetitions} proposals in {time.perf_counter() - started:.1f} s, median {named['total_ms']} ms")
    any_partner = timed_proposals([args.any_partner_deal], max(5, args.repetitions // 40))
    log(f"any_partner proposals: median {any_partner['total_ms']} ms")
    return {
        "propose": named,
        "propose_any_partner": any_partner,
        "plans": explain(captured_statements(args.page_deal)),
        "plans_any_partner": explain(captured_statements(args.any_partner_deal)),
        "route_request": route_request(app, args.route_deal),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    for name in ("--pool-first", "--pool-count", "--page-deal", "--any-partner-deal", "--route-deal"):
        parser.add_argument(name, type=int, required=True)
    parser.add_argument("--repetitions", type=int, default=400)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        result = measure(app, args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
