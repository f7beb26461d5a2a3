"""Work queues in the database, taken by one worker at a time: the outbox's messages, the webhook deliveries.

A row is `pending` until a worker claims it: `sending`, `claimed_by` that worker's token, a lease it
renews while it works and its attempt counted. Every outcome is written only while the claim is
still the worker's own, so a worker whose lease ran out (and whose row another worker took over)
changes nothing. The models hold `id`, `status`, `claimed_by`, `lease_until` and `attempts`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, update

from .extensions import db


def claim(model: Any, pick: Select, due: Any, values: dict[str, Any]) -> list[int]:
    """Set `values` on the rows `pick` selects (ids, a batch) while they are `due`, commit; their ids.

    On PostgreSQL the rows another worker is claiming are skipped, not waited for, so workers take
    disjoint batches. On SQLite it is one statement: SQLite takes the write lock before it reads,
    so the choice and the claim cannot interleave with another writer's.
    """
    if db.engine.dialect.name == "postgresql":
        ids = db.session.scalars(pick.with_for_update(of=model, skip_locked=True)).all()
        if ids:
            db.session.execute(
                update(model).where(model.id.in_(ids)).values(**values).execution_options(synchronize_session=False)
            )
    else:
        ids = db.session.scalars(
            update(model)
            .where(model.id.in_(pick), due)
            .values(**values)
            .returning(model.id)
            .execution_options(synchronize_session=False)
        ).all()
    db.session.commit()
    return sorted(ids)


def finish(model: Any, row_id: int, token: str, **values: Any) -> bool:
    """Record an outcome if the claim is still `token`'s (the caller commits); False when another worker took it."""
    table = model.__table__
    result = db.session.execute(
        update(table)
        .where(table.c.id == row_id, table.c.claimed_by == token, table.c.status == "sending")
        .values(lease_until=None, **values)
    )
    return result.rowcount == 1


def release(model: Any, ids: list[int], token: str, **values: Any) -> int:
    """Hand back claimed rows that were not attempted, without counting an attempt (the caller commits).

    Returns how many were still `token`'s to hand back.
    """
    attempts = model.__table__.c.attempts
    return sum(
        finish(model, row_id, token, status="pending", claimed_by=None, attempts=attempts - 1, **values)
        for row_id in ids
    )


def renew(model: Any, ids: list[int], token: str, until: datetime) -> set[int]:
    """Extend the lease of the rows still `token`'s to `until` and commit; the ids it still holds."""
    kept = set(
        db.session.scalars(
            update(model)
            .where(model.id.in_(ids), model.claimed_by == token, model.status == "sending")
            .values(lease_until=until)
            .returning(model.id)
            .execution_options(synchronize_session=False)
        ).all()
    )
    db.session.commit()
    return kept
