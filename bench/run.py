"""make bench: Intake's requests measured against yardsticks and targets, ending in one summary table.

    python bench/run.py [--only PART ...] [--database-url postgresql://…] [options]   (--help lists them)

The parts, one module each (its docstring says what it measures and how):

    questionnaire   bench/questionnaire.py     the rep's section page and draft save vs bare Flask-WTF
    customer        bench/customer_link.py     the customer's link page and answer vs bare Flask-WTF
    routing         bench/routing.py           proposals at 10,000 partners / 1,000,000 relationships,
                                               the deal page and the route request
    manager         bench/manager_pages.py     the channel manager's pages at 100,000 deals
    import          bench/accounts_import.py   100,000 accounts from CSV
    outbox          bench/outbox.py            the outbox worker vs raw Flask-Mail, the PDF's rendering
    growth          bench/growth.py            proposal, deal page and dashboard at 1x, 10x, 100x the data
    mixed           bench/mixed_load.py        mixed load under gunicorn (2 and 4 workers, SQLite and PostgreSQL),
                                               a web worker's memory

Shared machinery: bench/summary.py (the part interface, Row, the summary table), bench/load.py
(probes, wrk and the Python client, Result), bench/servers.py (gunicorn, ports, databases, the app's
environment), bench/compare.py (Intake next to its yardsticks), bench/sql.py (statements captured,
explained, printed), bench/baseline_apps.py (the yardsticks). The *_in_process.py modules,
setup_data.py and manager_data.py run inside the app's process, started by their part.

Each part's detail tables print as it ends; then the summary: every target with the value measured
in this run and whether it is met. Everything is written to bench/results/latest.json. The bench
works in a temporary folder, deleted at the end, and leaves nothing running. A part that fails is
reported (and the exit status is 1); the others still run.
"""

import argparse
import importlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: import the bench package (and intake) from the checkout, not from bench/.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import load  # noqa: E402
from bench.servers import ROOT, WORKERS  # noqa: E402
from bench.summary import BenchError, Row, as_dicts, print_summary, rows_of  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "latest.json"
PARTS = {
    "questionnaire": "bench.questionnaire",
    "customer": "bench.customer_link",
    "routing": "bench.routing",
    "manager": "bench.manager_pages",
    "import": "bench.accounts_import",
    "outbox": "bench.outbox",
    "growth": "bench.growth",
    "mixed": "bench.mixed_load",
}
DATABASE_PARTS = {"routing", "manager", "import", "growth", "mixed"}


def part_module(name: str):
    """The part's module, imported now."""
    return importlib.import_module(PARTS[name])


def parse_options(argv: list[str]) -> tuple[argparse.Namespace, dict]:
    """The options, and the chosen parts' modules. Only chosen parts are imported."""
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--only", choices=PARTS, action="append")
    chosen = first.parse_known_args(argv)[0].only or list(PARTS)
    wanted = list(PARTS) if {"-h", "--help"} & set(argv) else chosen
    modules = {name: part_module(name) for name in wanted}

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", choices=PARTS, action="append", help="run this part (repeatable); default: all")
    parser.add_argument(
        "--database-url",
        help="run the routing, manager, import, growth and mixed parts on this PostgreSQL server too (a database "
        "is created there for each and dropped)",
    )
    parser.add_argument("--connections", type=int, default=8, help="connections of the HTTP load")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before measuring")
    parser.add_argument("--duration", type=int, default=6, help="seconds measured per target and request")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto", help="the load client")
    for name, module in modules.items():
        if hasattr(module, "add_arguments"):
            module.add_arguments(parser.add_argument_group(f"the {name} part ({PARTS[name]})"))
    options = parser.parse_args(argv)
    if options.database_url and not DATABASE_PARTS & set(chosen):
        parser.error("--database-url is for the routing, manager, import, growth and mixed parts: add one to --only")
    return options, {name: modules[name] for name in chosen}


def run_part(name: str, module, options, workdir: Path) -> tuple[list[Row], dict, str | None]:
    """Run one part and print its details; its rows, details and, if it failed, why."""
    print(f"--- {name} ({PARTS[name]}) ---", file=sys.stderr, flush=True)
    workdir.mkdir()
    try:
        rows, details = rows_of(module.run(options, workdir))
    except Exception as exc:  # one part's failure is reported; the other parts still run
        if not isinstance(exc, BenchError):
            traceback.print_exc()
        why = str(exc) if isinstance(exc, BenchError) else f"{type(exc).__name__}: {exc}"
        print(f"\n{name} failed: {why}", flush=True)
        return [Row(name, "the part", None, "", "runs to the end", False, f"FAILED: {why.splitlines()[0]}")], {}, why
    try:
        module.report(details)
    except Exception:  # a report that breaks loses its tables, not the run's figures
        traceback.print_exc()
    sys.stdout.flush()
    return rows, details, None


def main(argv: list[str] | None = None) -> int:
    options, modules = parse_options(sys.argv[1:] if argv is None else argv)
    options.client_name, options.load = load.client(options.client)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    print(
        f"gunicorn -w {WORKERS} (sync) on {load.HOST}, {os.cpu_count()} CPUs; {options.client_name}, "
        f"{options.connections} connections, {options.duration} s per run after {options.warmup} s warm-up; "
        f"parts: {', '.join(modules)}",
        flush=True,
    )
    rows: list[Row] = []
    details: dict = {}
    failed: dict = {}
    workdir = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    try:
        for name, module in modules.items():
            part_rows, details[name], why = run_part(name, module, options, workdir / name)
            rows += part_rows
            if why:
                failed[name] = why
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    setup = {
        "parts": list(modules),
        "workers": WORKERS,
        "client": options.client_name,
        "connections": options.connections,
        "warmup_s": options.warmup,
        "duration_s": options.duration,
        "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    data = {"setup": setup, "summary": as_dicts(rows), "parts": details, "failed": failed}
    RESULTS.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    print_summary(rows)
    before, after = setup["load_average_before_after"]
    print(
        "Ratios are of req/s (1.00× = as fast as the yardstick) unless the row says CPU; cpu ms/req is the gunicorn"
        f" workers' CPU time per request, less sensitive to other load (load average {before} before, {after}"
        f" after; {setup['elapsed_s']:.0f} s in all).\nWritten to {RESULTS.relative_to(ROOT)}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
