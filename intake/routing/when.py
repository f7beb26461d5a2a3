"""When a relationship was stated: ISO-8601 text read as an instant that orders, without a clock.

The engine only compares statements ("the most recent customer statement"), so an instant is
a tuple that sorts: seconds since 1970 in UTC, then nanoseconds. A date alone is its midnight;
a time without an offset is taken as UTC.
"""

import calendar
import re

_ISO_8601 = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[Tt ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?"
    r"(?P<offset>[Zz]|[+-]\d{2}(?::?\d{2})?)?)?"
)


def instant(text: str) -> tuple[int, int] | None:
    """Return (seconds since 1970 UTC, nanoseconds) for ISO-8601 text, or None when it is not one."""
    match = _ISO_8601.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    parts = match.groupdict()
    year, month, day = int(parts["year"]), int(parts["month"]), int(parts["day"])
    hour, minute, second = (int(parts[key] or 0) for key in ("hour", "minute", "second"))
    if not (1 <= year and 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    if not (hour <= 23 and minute <= 59 and second <= 59):
        return None
    offset = _offset_seconds(parts["offset"])
    if offset is None:
        return None
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) - offset
    return seconds, int((parts["fraction"] or "").ljust(9, "0"))


def _offset_seconds(text: str | None) -> int | None:
    if not text or text in "Zz":
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        return None
    return sign * (hours * 3600 + minutes * 60)
