"""Cursor pagination: lists come in the order things last changed, oldest first, a page at a time.

A cursor names the last row of a page (its change time and id), so a page is never skipped or
repeated while rows are added; a client syncing changes keeps the last cursor, or `updated_since`.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from sqlalchemy import Select, and_, or_

from ...extensions import db
from ..errors import Problem


def _encode(updated_at: datetime | None, row_id: int) -> str:
    text = f"{updated_at.isoformat() if updated_at else ''}|{row_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, *, by_change: bool) -> tuple[datetime | None, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, row_id = text.partition("|")
        found = (datetime.fromisoformat(when) if by_change else None), int(row_id)
        if (by_change and found[0].tzinfo is None) or (not by_change and when) or found[1] < 0:
            raise ValueError
        return found
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise Problem(
            422,
            "validation_failed",
            "This cursor is not one the API gave: start again without it.",
            errors=[{"field": "cursor", "in": "query", "reason": "Not a cursor from this list."}],
        ) from None


def cursor_page(query: Select, model, args: dict) -> tuple[list, str | None]:
    """One page of `query` over `model` after the cursor, and the next cursor: by last change where the
    model keeps one (`updated_at`), else by id."""
    by_change = hasattr(model, "updated_at")
    if by_change and args.get("updated_since") is not None:
        query = query.where(model.updated_at >= args["updated_since"])
    if args.get("cursor"):
        when, row_id = _decode(args["cursor"], by_change=by_change)
        if by_change:
            query = query.where(or_(model.updated_at > when, and_(model.updated_at == when, model.id > row_id)))
        else:
            query = query.where(model.id > row_id)
    order = (model.updated_at, model.id) if by_change else (model.id,)
    limit = args["limit"]
    rows = list(db.session.scalars(query.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    return rows, _encode(last.updated_at if by_change else None, last.id) if more else None
