"""Rate limits counted in the database, so that every app server counts the same requests without Redis.

Flask-Limiter keeps its counts in a `limits` storage chosen by URI. `intake-database://`, the default,
is this one: a row per key (one token's or address's limit) holding the hits of its current window,
changed by one upsert in a transaction of its own on the app's engine, so a count is never lost with a
request that rolls back. Redis (INTAKE_RATELIMIT_STORAGE_URI=redis://…) is faster and takes these
writes off the database. The windows are fixed (Flask-Limiter's default strategy).
"""

import time

from limits.storage import Storage
from sqlalchemy import case, delete, select, text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .models import RateLimitCount

SCHEME = "intake-database"
# Every this many counts, a process also deletes the rows of windows long over (addresses come and go).
PURGE_EVERY = 1000
PURGE_AFTER_S = 3600

_counts = RateLimitCount.__table__


class DatabaseStorage(Storage):
    """A `limits` storage in the app's database (SQLite or PostgreSQL), registered for intake-database://."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._since_purge = 0

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count `amount` more hits for the key; a window that ended starts again with them."""
        now = time.time()
        # The engine's own dialect only: importing PostgreSQL's would cost a SQLite server 2 MB.
        if db.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        over = _counts.c.expires_at <= now
        upsert = (
            insert(_counts)
            .values(key=key, hits=amount, expires_at=now + expiry)
            .on_conflict_do_update(
                index_elements=[_counts.c.key],
                set_={
                    "hits": case((over, amount), else_=_counts.c.hits + amount),
                    "expires_at": case((over, now + expiry), else_=_counts.c.expires_at),
                },
            )
            .returning(_counts.c.hits)
        )
        with db.engine.begin() as connection:
            hits = connection.execute(upsert).scalar_one()
            self._since_purge += 1
            if self._since_purge >= PURGE_EVERY:
                self._since_purge = 0
                connection.execute(delete(_counts).where(_counts.c.expires_at < now - PURGE_AFTER_S))
        return hits

    def get(self, key: str) -> int:
        with db.engine.connect() as connection:
            hits = connection.execute(
                select(_counts.c.hits).where(_counts.c.key == key, _counts.c.expires_at > time.time())
            ).scalar()
        return hits or 0

    def get_expiry(self, key: str) -> float:
        with db.engine.connect() as connection:
            ends = connection.execute(select(_counts.c.expires_at).where(_counts.c.key == key)).scalar()
        return ends if ends is not None else time.time()

    def check(self) -> bool:
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with db.engine.begin() as connection:
            return connection.execute(delete(_counts)).rowcount

    def clear(self, key: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(delete(_counts).where(_counts.c.key == key))
