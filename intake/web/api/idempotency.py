"""Idempotency keys on the API's creating POSTs: a retried create gets the first answer, not a second deal.

The key, a hash of the request and the answer are written in the same transaction as what the
create made, so either both stand or neither. Two copies sent at once: the unique (token, key)
index lets one commit; the other rolls back everything it made and answers as the first did. A
token's keys are kept for a day (a retry comes within minutes), forgotten as it makes new ones.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from functools import wraps

from flask import current_app, g, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import IdempotencyKey
from ...models.types import utcnow
from ..errors import Problem

HEADER = "Idempotency-Key"
SHAPE = re.compile(r"[\x21-\x7e]{1,255}")
KEPT_HEADERS = ("Location", "ETag")
KEPT_FOR = timedelta(hours=24)
PARAMETER = {
    "in": "header",
    "name": HEADER,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Any unique string: a retry with the same key and body gets the first answer; "
    "the same key with another body is a 422.",
}


def _request_hash() -> str:
    return hashlib.sha256(f"{request.method} {request.path}\n".encode() + request.get_data()).hexdigest()


def _replay(found: IdempotencyKey, digest: str):
    if found.request_hash != digest:
        raise Problem(
            422, "idempotency_key_reused", "This Idempotency-Key was used for another request: use a new key."
        )
    response = current_app.response_class(found.body, status=found.status, mimetype="application/json")
    response.headers.update(found.headers or {})
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _find(key: str) -> IdempotencyKey | None:
    return db.session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.api_token_id == g.api_token.id,
            IdempotencyKey.key == key,
        )
    )


def idempotent(view):
    """A creating POST: it commits here, with its Idempotency-Key (when sent) and the answer given."""
    apidoc = view.__dict__.setdefault("_apidoc", {})
    apidoc.setdefault("manual_doc", {}).setdefault("parameters", []).append(PARAMETER)

    @wraps(view)
    def created(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            response = current_app.make_response(view(*args, **kwargs))
            db.session.commit()
            return response
        if not SHAPE.fullmatch(key):
            raise Problem(
                400,
                "bad_idempotency_key",
                "An Idempotency-Key is 1 to 255 visible ASCII characters.",
                errors=[{"field": HEADER, "in": "header", "reason": "1 to 255 visible ASCII characters."}],
            )
        digest = _request_hash()
        db.session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.api_token_id == g.api_token.id, IdempotencyKey.created_at < utcnow() - KEPT_FOR
            )
        )
        if (found := _find(key)) is not None:
            return _replay(found, digest)
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code < 300:
            db.session.add(
                IdempotencyKey(
                    api_token_id=g.api_token.id,
                    key=key,
                    request_hash=digest,
                    status=response.status_code,
                    body=response.get_data(as_text=True),
                    headers={h: response.headers[h] for h in KEPT_HEADERS if h in response.headers},
                )
            )
        try:
            db.session.commit()
        except IntegrityError:
            # The same key, sent again a moment ago, committed first: what this copy made is undone.
            db.session.rollback()
            if (found := _find(key)) is None:
                raise
            return _replay(found, digest)
        return response

    return created
