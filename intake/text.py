"""Text kept to one line, wherever it goes next: a mail header, a log line, a recorded reason."""


def one_line(text: str, limit: int = 200) -> str:
    """Return the text on one line: every run of whitespace or control characters becomes one space."""
    printable = "".join(ch if ch.isprintable() else " " for ch in str(text))
    # str.split() also splits on the Unicode line and paragraph separators.
    return " ".join(printable.split())[:limit]
