"""What a part of the bench hands back, and the summary table that ends `make bench`.

Every part is a module of bench/ with

    add_arguments(parser)       optional: its own options, added to bench/run.py's parser
    run(options, workdir)       measure; return a PartResult, or a dict {"rows": [...], "details": {...}}
                                whose rows are dicts of Row's fields. `options` is the parsed command
                                line (every part's options), `workdir` a folder of the part's own
                                (databases, logs), deleted after the run
    report(details)             print the part's detail tables from what run() returned as details

run() raises BenchError when the part cannot measure what it set out to (a wrong answer, a worker
that would not start); bench/run.py reports it and goes on with the next part.

A Row is one line of the summary: a value measured in this run next to its target, and whether it
is met (None: the row has no target, or the value could not be measured).
"""

from dataclasses import asdict, dataclass, field


class BenchError(Exception):
    """The benchmark could not measure what it set out to; the message says why."""


@dataclass(frozen=True)
class Row:
    part: str
    measure: str
    value: float | None
    unit: str  # "×" for a ratio, "ms", "MB", "statements", ...
    target: str
    met: bool | None
    note: str = ""


@dataclass
class PartResult:
    rows: list[Row]
    details: dict = field(default_factory=dict)


def rows_of(result: "PartResult | dict") -> tuple[list[Row], dict]:
    """A part's rows and details, whether it returned a PartResult or a plain dict."""
    if isinstance(result, PartResult):
        return result.rows, result.details
    return [Row(**row) for row in result.get("rows", [])], result.get("details", {})


def at_least(part: str, measure: str, value: float, mark: float, *, note: str = "", what: str = "") -> Row:
    """A ratio that must reach `mark` (ours / the yardstick's; 1.0 is as fast)."""
    target = f"≥ {mark:g}×" + (f" {what}" if what else "")
    return Row(part, measure, value, "×", target, value >= mark, note)


def at_most(part: str, measure: str, value: float, mark: float, unit: str, target: str, *, note: str = "") -> Row:
    return Row(part, measure, value, unit, target, value <= mark, note)


def below(part: str, measure: str, value: float, mark: float, unit: str, *, note: str = "") -> Row:
    return Row(part, measure, value, unit, f"< {mark:g} {unit}", value < mark, note)


def as_dicts(rows: list[Row]) -> list[dict]:
    return [asdict(row) for row in rows]


def shown(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
        number = f"{value:,.{digits}f}"
    else:
        number = f"{value:,}"
    return number + unit if unit == "×" else f"{number} {unit}".rstrip()


def print_summary(rows: list[Row]) -> None:
    """The one table of every target: the value measured in this run, the target, met or not."""
    met = {True: "yes", False: "NO", None: "—"}
    table = [("part", "measure", "value", "target", "met", "note")]
    table += [(r.part, r.measure, shown(r.value, r.unit), r.target, met[r.met], r.note) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(5)]
    print("\nSummary: every target, measured in this run\n")
    for i, line in enumerate(table):
        cells = [line[0].ljust(widths[0]), line[1].ljust(widths[1]), line[2].rjust(widths[2])]
        cells += [line[3].ljust(widths[3]), line[4].ljust(widths[4]), line[5]]
        print("  ".join(cells).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths) + "  " + "-" * 4)
    counted = [r.met for r in rows if r.met is not None]
    print(
        f"\n{sum(counted)} of {len(counted)} targets met"
        + (f"; {len(rows) - len(counted)} rows without a verdict (—)" if len(counted) < len(rows) else "")
    )
