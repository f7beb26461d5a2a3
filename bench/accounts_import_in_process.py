"""The import part: importing accounts from CSV, rows per second, against a bare yardstick.

    python -m bench.accounts_import_in_process [--rows 100000]

Run with the app's INTAKE_* environment on a migrated database with the demo data (bench/accounts_import.py
prepares it). Writes a CSV of --rows accounts (name, domain, country, vertical, size band, the
owner's email, the vendor's strength; every tenth without a domain), then, in this process:

    first import    intake.imports.run on the file: every row checked (the domain normalised and
                    reduced to its registrable part, the name to the engine's company key, the
                    country, vertical, size band and owner looked up), matched against the accounts
                    stored, then written in one transaction and committed: all of them created
    again           the same file once more: every row checked and matched, nothing to write
    changed         the file with every vertical changed: every row updated
    yardstick       the same file read with the csv module and its rows inserted as they are into a
                    table of the same columns with SQLAlchemy Core's executemany, in one transaction

Rows per second of each, and the first import's ratio to the yardstick (1.0: as fast as reading
the file and inserting its rows unchecked). Prints JSON on stdout; progress on stderr.
"""

import argparse
import csv
import io
import json
import sys
import time

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from intake import create_app, imports
from intake.extensions import db
from intake.models import Account

COUNTRIES = ("GB", "DE", "FR", "NL", "US", "IE", "AT", "CH", "IT", "ES")
VERTICALS = ("Education", "Financial services", "Government", "Healthcare", "Manufacturing", "Retail")
BANDS = ("1-49", "50-249", "250-999", "1000-4999", "5000+")
OWNERS = ("alice@example.com", "bob@example.com", "")


def log(message: str) -> None:
    print(f"  [import] {message}", file=sys.stderr, flush=True)


def accounts_csv(rows: int, *, vertical_shift: int = 0) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "domain", "country", "vertical", "size_band", "owner", "vendor_strength"])
    for i in range(rows):
        writer.writerow(
            [
                f"Imported Company {i} Ltd",
                "" if i % 10 == 9 else f"imported-company-{i}.example",
                COUNTRIES[i % len(COUNTRIES)],
                VERTICALS[(i + vertical_shift) % len(VERTICALS)],
                BANDS[i % len(BANDS)],
                OWNERS[i % len(OWNERS)],
                str(i % 6),
            ]
        )
    return out.getvalue().encode()


def timed_import(data: bytes, what: str) -> dict:
    started = time.perf_counter()
    report = imports.run("accounts", data, actor=None, source="bench.csv")
    if report.problems:
        raise SystemExit(f"{what}: {len(report.problems)} problems, the first {report.problems[0]}")
    db.session.commit()
    seconds = time.perf_counter() - started
    result = {
        "seconds": round(seconds, 2),
        "rows_per_s": round(report.rows / seconds),
        "created": report.count("create"),
        "updated": report.count("update"),
        "unchanged": report.count("unchanged"),
    }
    log(f"{what}: {result}")
    db.session.remove()
    return result


def yardstick(data: bytes) -> dict:
    """The file read by the csv module and inserted unchecked, in one transaction: the bare cost of the rows."""
    table = Table(
        "bench_import_yardstick",
        MetaData(),
        Column("id", Integer, primary_key=True),
        *(Column(name, String(253)) for name in ("name", "domain", "country", "vertical", "size_band", "owner")),
        Column("vendor_strength", String(2)),
    )
    table.create(db.engine, checkfirst=True)
    try:
        started = time.perf_counter()
        with db.engine.begin() as connection:
            rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
            for start in range(0, len(rows), imports.BATCH):
                connection.execute(insert(table), rows[start : start + imports.BATCH])
        seconds = time.perf_counter() - started
    finally:
        table.drop(db.engine)
    result = {"seconds": round(seconds, 2), "rows_per_s": round(len(rows) / seconds)}
    log(f"yardstick: {result}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        data = accounts_csv(args.rows)
        before = db.session.scalar(select(func.count()).select_from(Account))
        result = {"rows": args.rows, "file_bytes": len(data), "accounts_before": before}
        result["yardstick"] = yardstick(data)
        result["first"] = timed_import(data, "first import")
        result["again"] = timed_import(data, "the same file again")
        result["changed"] = timed_import(accounts_csv(args.rows, vertical_shift=1), "every vertical changed")
        result["ratio"] = round(result["first"]["rows_per_s"] / result["yardstick"]["rows_per_s"], 2)
        result["accounts_after"] = db.session.scalar(select(func.count()).select_from(Account))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
