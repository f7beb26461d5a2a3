"""Importing 100,000 accounts from CSV, in process, against reading the file and inserting it unchecked.

bench/accounts_import_in_process.py on a migrated database with the demo data: the first import
(all created), the same file again (all unchanged) and with every vertical changed (all updated), in
rows/s, against reading the file with the csv module and inserting its rows unchecked with
executemany. On SQLite; with --database-url on PostgreSQL too. No target is set: the summary shows
the first import's ratio to the yardstick.
"""

import sys
from pathlib import Path

from bench.servers import ENGINES, database, engines, in_process, label, prepare_database, server_env
from bench.summary import PartResult, Row


def add_arguments(parser) -> None:
    parser.add_argument("--import-rows", type=int, default=100_000, help="import: accounts in the CSV")


def measure_engine(engine: str, options, workdir: Path) -> dict:
    with database(engine, options, workdir, "import") as url:
        where = label(engine, url)
        rows = options.import_rows
        print(f"import on {where}: migrating, demo data, then {rows:,} accounts from CSV", file=sys.stderr, flush=True)
        env = server_env(workdir, url)
        prepare_database(env)
        result = in_process("accounts_import_in_process", env, "--rows", str(rows), timeout=1200)
    return {"engine": engine, "database": where, **result}


def run(options, workdir: Path) -> PartResult:
    details = {engine: measure_engine(engine, options, workdir) for engine in engines(options)}
    rows = [
        Row(
            "import",
            f"first import of {part['rows']:,} accounts vs csv + executemany ({ENGINES[part['engine']]})",
            part["ratio"],
            "×",
            "none set",
            None,
            f"{part['first']['rows_per_s']:,} vs {part['yardstick']['rows_per_s']:,} rows/s",
        )
        for part in details.values()
    ]
    return PartResult(rows, details)


def report(details: dict) -> None:
    for part in details.values():
        print(
            f"\nImport on {part['database']}: {part['rows']:,} accounts from a {part['file_bytes'] / 1e6:.1f} MB CSV "
            f"(intake.imports.run, in process, one transaction), against reading it with the csv module and "
            f"inserting its rows unchecked"
        )
        header = f"  {'run':<46}{'seconds':>9}{'rows/s':>10}"
        print(header)
        print("  " + "-" * (len(header) - 2))
        for key, text in (
            ("first", "first import (every account created)"),
            ("again", "the same file again (every row unchanged)"),
            ("changed", "every vertical changed (every row updated)"),
            ("yardstick", "yardstick: csv.DictReader + executemany"),
        ):
            r = part[key]
            print(f"  {text:<46}{r['seconds']:>9.2f}{r['rows_per_s']:>10,}")
        print(f"  first import / yardstick: {part['ratio']:.2f}x")
