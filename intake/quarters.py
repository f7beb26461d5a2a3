"""Calendar quarters, as the ledger, the dashboard and the partner review name them: "2026-Q3", in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime

PATTERN = re.compile(r"^(\d{4})-Q([1-4])$")


def of(moment: datetime) -> str:
    """The quarter a moment is in."""
    return of_month(moment.year, moment.month)


def of_month(year: int, month: int) -> str:
    return f"{year}-Q{(month - 1) // 3 + 1}"


def start(moment: datetime, back: int = 0) -> datetime:
    """The first moment of the quarter `back` quarters before the one `moment` is in."""
    index = moment.year * 4 + (moment.month - 1) // 3 - back
    return moment.replace(year=index // 4, month=index % 4 * 3 + 1, day=1, hour=0, minute=0, second=0, microsecond=0)


def is_one(quarter: str | None) -> bool:
    """Whether the text names a quarter, years 1900 to 2999."""
    found = PATTERN.match(quarter or "")
    return found is not None and 1900 <= int(found[1]) <= 2999


def bounds(quarter: str) -> tuple[datetime, datetime]:
    """The first moment of a quarter and of the one after; ValueError for anything but a quarter."""
    if not is_one(quarter):
        raise ValueError(f"not a quarter: {quarter!r}")
    year, q = (int(part) for part in quarter.split("-Q"))
    first = datetime(year, 3 * q - 2, 1, tzinfo=UTC)
    return first, start(first, -1)


def up_to(quarter: str, count: int) -> list[str]:
    """`count` quarters ending with this one, oldest first."""
    first, _ = bounds(quarter)
    return [of(start(first, back)) for back in range(count - 1, -1, -1)]
