"""The SQL a piece of Intake runs: captured, explained, timed alone, and printed.

In the app's process (the in-process helpers):
    Capture         the statements run on the engine while in use (a before_cursor_execute listener)
    statement_kinds the statements by kind, and those run more than twice (an N+1)
    distinct_selects each distinct SELECT once, with the parameters it first ran with
    explain         each statement's plan (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL),
                    summarised: which index each table is searched by, or SCAN, with the table's size
    timed_alone     each statement run alone on the driver, every row fetched: median ms and rows
In bench/run.py's process, for the reports: short_sql, scans_of, print_plans.
"""

import re
import statistics
import time
from collections import Counter

SMALL_TABLE = 1000  # rows: a scan of a table this small is what any planner does, and cheap


class Capture:
    """The SQL statements run on the engine while in use (a before_cursor_execute listener)."""

    def __enter__(self) -> list[tuple[str, object]]:
        from sqlalchemy import event

        from intake.extensions import db

        self.engine = db.engine
        self.statements: list[tuple[str, object]] = []
        event.listen(self.engine, "before_cursor_execute", self.capture)
        return self.statements

    def capture(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append((statement, parameters))

    def __exit__(self, *exc) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self.capture)


def statement_kinds(statements: list[tuple[str, object]]) -> tuple[dict, dict]:
    """The statements by kind (SELECT, INSERT, ...), and those run more than twice with their count."""
    kinds = Counter(statement.split(None, 1)[0].upper() for statement, _ in statements)
    repeated = Counter(" ".join(statement.split()) for statement, _ in statements)
    return dict(kinds.most_common()), {sql: n for sql, n in repeated.most_common() if n > 2}


def _reads(statement: str) -> bool:
    """A SELECT, or a common table expression that only reads (a partner's deals, for its filter)."""
    words = statement.lstrip().upper()
    return words.startswith("SELECT") or (
        words.startswith("WITH") and not re.search(r"\b(INSERT|UPDATE|DELETE)\b", words)
    )


def distinct_selects(statements: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """Each distinct statement that reads, once, with its first parameters: to EXPLAIN and time alone."""
    selects: dict[str, tuple[str, object]] = {}
    for statement, parameters in statements:
        if _reads(statement):
            selects.setdefault(" ".join(statement.split()), (statement, parameters))
    return list(selects.values())


def explain(statements: list[tuple[str, object]]) -> list[dict]:
    """Each statement's plan, summarised: which index each table is searched by, or SCAN."""
    from sqlalchemy import inspect

    from intake.extensions import db

    dialect = db.engine.dialect.name
    sizes: dict[str, int] = {}
    plans = []
    with db.engine.connect() as conn:
        # A scan of a subquery the statement materialised (SQLite's "SCAN anon_1") reads that subquery's own rows,
        # which the table it was read from and its plan step already show: only tables are counted.
        tables = set(inspect(conn).get_table_names())

        def size(table: str) -> int:
            if table not in sizes:
                sizes[table] = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
            return sizes[table]

        for statement, parameters in statements:
            if dialect == "sqlite":
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
                steps = [row[3] for row in rows]
                # "SCAN CONSTANT ROW" is a statement made only of counts of subqueries: it reads no table.
                scans = [
                    (s.split()[1], s)
                    for s in steps
                    if s.startswith("SCAN ") and len(s.split()) > 1 and s.split()[1] in tables
                ]
            else:
                rows = conn.exec_driver_sql("EXPLAIN (COSTS OFF) " + statement, parameters).all()
                steps = [row[0].strip().removeprefix("->").strip() for row in rows]
                nodes = ("Hash", "Nested Loop", "Merge", "Sort", "Limit", "Aggregate")
                steps = [s for s in steps if "Scan" in s or (s.startswith(nodes) and ":" not in s)]
                scans = [(s.split(" on ")[1].split()[0], s) for s in steps if "Seq Scan on " in s]
                scans = [(table, step) for table, step in scans if table in tables]
            plans.append(
                {
                    "sql": " ".join(statement.split()),
                    "plan": steps,
                    "scans": [{"table": t, "rows": size(t), "step": step} for t, step in scans],
                }
            )
    return plans


def timed_alone(statements: list[tuple[str, object]], runs: int = 3) -> list[tuple[float, int]]:
    """Each statement run alone on the driver, all its rows fetched: the median of `runs` in ms, and its rows."""
    from intake.extensions import db

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


# --- Printing ----------------------------------------------------------------------------------


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
