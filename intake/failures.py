"""Failures in bounded log space, and whether one means the database is out of reach.

During a database outage every request fails the same way, and a traceback each time (about
80 KB through Flask, SQLAlchemy and psycopg) wrote 126 MB of log in 15 s, burying the line
that mattered. So a failure is logged as one line: what failed, the request it failed in, and
its cause — the exception's class and the first line of its message, both cut short. Its
traceback comes with the first failure of that cause in a window (a minute), and with at most
`most_tracebacks` causes in all per window. The memory is per process: each gunicorn worker
shows its own first traceback.

Not web code: the outbox worker meets the same outage and may log through the same gate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import exc as sa

# Control characters and line breaks never reach a log line: a message is the client's or the
# server's text, and must not start a second, forged one.
from .text import one_line

WINDOW_SECONDS = 60.0
MOST_TRACEBACKS = 20
CAUSE_CHARS = 200

# PostgreSQL's SQLSTATEs for a server that is gone or cannot serve: class 08 (the connection),
# class 53 (out of connections, memory or disk), and a server shutting down, restarting or
# ending idle sessions (57P01–03, 57P05). A missing table or a broken constraint is not among
# them: that is a bug, and no amount of trying again will help.
_POSTGRES_CLASSES = ("08", "53")
_POSTGRES_STATES = ("57P01", "57P02", "57P03", "57P05")
# SQLite's result codes for a database file that is busy, locked, missing or unwritable.
_SQLITE_CODES = ("BUSY", "LOCKED", "CANTOPEN", "IOERR", "FULL", "NOMEM", "PROTOCOL", "READONLY")


def driver_error(exc: BaseException) -> BaseException:
    """The driver's own exception when SQLAlchemy wraps one, else `exc` itself."""
    if isinstance(exc, sa.DBAPIError) and exc.orig is not None:
        return exc.orig
    return exc


def describe(exc: BaseException) -> str:
    """The cause in one short line: the exception's class and the first line of its message."""
    cause = driver_error(exc)
    kind = type(cause)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    first = next((line for line in str(cause).splitlines() if line.strip()), "")
    return f"{name}: {one_line(first)}" if first else name


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached now (down, restarting, full), not that the code is wrong."""
    seen = 0
    while exc is not None and seen < 5:
        if _says_unavailable(exc):
            return True
        exc, seen = exc.__cause__, seen + 1
    return False


def _says_unavailable(exc: BaseException) -> bool:
    # No connection came free in time: the server hangs, or every connection waits on it.
    if isinstance(exc, sa.TimeoutError | sa.DisconnectionError):
        return True
    if not isinstance(exc, sa.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    cause = exc.orig
    if hasattr(cause, "sqlite_errorname"):
        return cause.sqlite_errorname.removeprefix("SQLITE_").split("_")[0] in _SQLITE_CODES
    if hasattr(cause, "sqlstate") or hasattr(cause, "pgcode"):  # psycopg 3, psycopg2
        state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if state is None:
            # Raised by the client library, not the server: it could not connect, or lost the connection.
            return isinstance(exc, sa.OperationalError | sa.InterfaceError)
        return state[:2] in _POSTGRES_CLASSES or state in _POSTGRES_STATES
    # Another driver: DB-API's classes for errors in the database's operation, not the program.
    return isinstance(exc, sa.OperationalError | sa.InterfaceError)


class FailureLog:
    """Log each failure as one line, with its traceback at most once per cause per window. Thread-safe."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        window_seconds: float = WINDOW_SECONDS,
        most_tracebacks: int = MOST_TRACEBACKS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.logger = logger
        self.window_seconds = window_seconds
        self.most_tracebacks = most_tracebacks
        self.clock = clock
        self._lock = threading.Lock()
        # cause -> when its traceback was last logged, oldest first; at most most_tracebacks entries.
        self._shown: OrderedDict[str, float] = OrderedDict()

    def record(self, exc: BaseException, what: str, *, request_id: str | None = None) -> bool:
        """Log `what` failed because of `exc`; return whether its traceback went with it."""
        cause = describe(exc)
        shown, withheld = self._may_show(cause)
        line = one_line(what, 300)
        if request_id:
            line += f" [request {request_id}]"
        line += f": {cause}"
        if withheld:
            line += f" ({withheld})"
        self.logger.error("%s", line, exc_info=exc if shown else None)
        return shown

    def _may_show(self, cause: str) -> tuple[bool, str]:
        with self._lock:
            now = self.clock()
            while self._shown and next(iter(self._shown.values())) <= now - self.window_seconds:
                self._shown.popitem(last=False)
            if cause in self._shown:
                return False, f"traceback logged at most once in {self.window_seconds:g} s per cause"
            if len(self._shown) >= self.most_tracebacks:
                return False, f"traceback withheld: {self.most_tracebacks} causes shown in {self.window_seconds:g} s"
            self._shown[cause] = now
            return True, ""
