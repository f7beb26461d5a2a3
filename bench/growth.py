"""Growth: does a request's cost stay flat as the data grows? At 1x, 10x and 100x the data.

At each size (by default 1,000, 10,000 and 100,000 deals; --growth-deals and --growth-factors), in
two databases of its own, in process (bench/growth_in_process.py, Flask test client):

    routing proposal    decisions.propose(deal) on a pool deal, on the routing data set
                        (`python -m bench.setup_data routing` at --scale deals / 100,000: at 100,000
                        deals 10,000 partners, 100,000 accounts, 1,000,000 relationships)
    deal page           GET /deals/<id> with the proposal, signed in as its rep, on the same data set
    dashboard           GET /dashboard as the channel manager, on bench/manager_data.py's channel
                        programme of that many deals (one partner per 100 deals, at least 10)

the median (p50) of repeated runs on fresh sessions, and the statements per request. On SQLite (the
demo data loaded once and copied into each database); with --database-url on PostgreSQL too, in
databases created for the run and dropped after it.

Target, per request and engine: flat — the p50 at the largest size at most --growth-flat (1.5) times
the p50 at the smallest, and the same number of statements at both.
"""

import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from bench.servers import ENGINES, database, engines, in_process, prepare_database, server_env
from bench.summary import BenchError, PartResult, Row

ROUTING_DEALS_AT_SCALE_1 = 100_000  # bench/setup_data.py's OPEN_DEALS
POOL = 30  # pool deals the proposals are timed over (fits the smallest data set of 100 deals)
MEASURES = (
    ("routing", "propose", "routing proposal (decisions.propose)"),
    ("routing", "deal_page", "deal page with the proposal (GET /deals/<id>)"),
    ("dashboard", "dashboard", "dashboard (GET /dashboard)"),
)


def add_arguments(parser) -> None:
    parser.add_argument("--growth-deals", type=int, default=1000, help="growth: deals at 1x (at least 100)")
    parser.add_argument(
        "--growth-factors",
        type=lambda text: [int(f) for f in text.split(",")],
        default=[1, 10, 100],
        help="growth: the sizes, as multiples of --growth-deals (default: 1,10,100)",
    )
    parser.add_argument(
        "--growth-flat", type=float, default=1.5, help="growth: largest/smallest p50 still flat (default: 1.5)"
    )


@contextmanager
def prepared(engine: str, options, workdir: Path, name: str) -> Iterator[str]:
    """A migrated database with the demo data. On SQLite the demo data is loaded once, then copied."""
    if engine == "postgresql":
        with database(engine, options, workdir, name) as url:
            prepare_database(server_env(workdir, url))
            yield url
        return
    template = workdir / "growth-template.sqlite"
    if not template.exists():
        prepare_database(server_env(workdir, f"sqlite:///{template}"))
    path = workdir / f"{name}.sqlite"
    with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(path)) as target:
        source.backup(target)
    yield f"sqlite:///{path}"


def measure_size(engine: str, options, deals: int, workdir: Path) -> dict:
    scale = deals / ROUTING_DEALS_AT_SCALE_1
    found: dict = {"deals": deals}
    with prepared(engine, options, workdir, f"growth-routing-{deals}") as url:
        env = server_env(workdir, url)
        started = time.perf_counter()
        data = in_process("setup_data", env, "routing", "--scale", str(scale), "--pool", str(POOL), timeout=900)
        ids = [f"--pool-first={data['pool_first']}", f"--pool-count={data['pool_count']}"]
        measured = in_process(
            "growth_in_process", env, "routing", *ids, f"--page-deal={data['page_deal']}", timeout=600
        )
        found["routing_data"] = {**data["counts"], "build_s": round(time.perf_counter() - started, 1)}
        found.update(measured)
    with prepared(engine, options, workdir, f"growth-manager-{deals}") as url:
        env = server_env(workdir, url)
        started = time.perf_counter()
        partners = max(10, deals // 100)
        data = in_process("manager_data", env, "--deals", str(deals), "--partners", str(partners), timeout=1800)
        measured = in_process("growth_in_process", env, "dashboard", timeout=600)
        found["manager_data"] = {**data["counts"], "build_s": round(time.perf_counter() - started, 1)}
        found.update(measured)
    return found


def measure_engine(engine: str, options, workdir: Path) -> dict:
    sizes = []
    for factor in options.growth_factors:
        deals = options.growth_deals * factor
        print(f"growth on {ENGINES[engine]}: {deals:,} deals ({factor}x)", file=sys.stderr, flush=True)
        sizes.append({"factor": factor, **measure_size(engine, options, deals, workdir)})
    return {"engine": engine, "sizes": sizes}


def rows(details: dict, flat: float) -> list[Row]:
    engine = ENGINES[details["engine"]]
    small, large = details["sizes"][0], details["sizes"][-1]
    found = []
    for _, key, name in MEASURES:
        a, b = small[key], large[key]
        grew = round(b["p50_ms"] / a["p50_ms"], 2) if a["p50_ms"] else float("inf")
        same = a["statements"] == b["statements"]
        found.append(
            Row(
                "growth",
                f"{name}, p50 at {large['deals']:,} vs {small['deals']:,} deals ({engine})",
                grew,
                "×",
                f"flat: ≤ {flat:g}× the p50 at {small['factor']}x, same statements",
                grew <= flat and same,
                f"{a['p50_ms']:.1f} → {b['p50_ms']:.1f} ms; statements {a['statements']} → {b['statements']}",
            )
        )
    return found


def run(options, workdir: Path) -> PartResult:
    if options.growth_deals < 100 or len(options.growth_factors) < 2:
        raise BenchError("growth needs --growth-deals of at least 100 and at least two --growth-factors")
    details = {engine: measure_engine(engine, options, workdir) for engine in engines(options)}
    return PartResult([row for part in details.values() for row in rows(part, options.growth_flat)], details)


def report(details: dict) -> None:
    for part in details.values():
        print(f"\nGrowth on {ENGINES[part['engine']]}: in process, p50 of repeated runs on fresh sessions\n")
        header = f"  {'size':<22}" + "".join(f"{name.split(' (')[0]:>28}" for _, _, name in MEASURES)
        print(header + "   built in s (routing / manager data)")
        print("  " + "-" * (len(header) + 36))
        for size in part["sizes"]:
            line = f"  {size['deals']:>9,} deals ({size['factor']}x)".ljust(24)
            for _, key, _ in MEASURES:
                line += f"{size[key]['p50_ms']:>12.2f} ms, {size[key]['statements']:>3} stmts".rjust(28)
            line += f"   {size['routing_data']['build_s']} / {size['manager_data']['build_s']}"
            print(line)
        print(
            "  (the routing data set at each size: "
            + "; ".join(
                f"{s['routing_data']['partners']:,} partners, {s['routing_data']['relationships']:,} relationships"
                for s in part["sizes"]
            )
            + ")"
        )
