"""Personal API tokens: made by their owner (in their settings, or `flask --app intake tokens create`),
shown once, kept as a hash, used as `Authorization: Bearer …`, revoked by their owner or the channel manager.

A token acts as its owner, with its owner's permissions and object-level checks, within its scope:
`read` reads, `write` reads and writes. An owner deactivated, or a partner user's partner deactivated,
takes every token of theirs with them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from . import audit
from .errors import FieldErrors
from .extensions import db
from .models import ApiToken, PartnerUser, User
from .models.types import utcnow
from .vocabulary import API_TOKEN_SCOPE

PREFIX = "intake_"
SHAPE = re.compile(r"^intake_[A-Za-z0-9_-]{43}$")
# A token's last use is written at most this often, so reading by API writes little.
LAST_USED_EVERY = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(owner: User | PartnerUser, *, name: str, scope: str, actor) -> tuple[ApiToken, str]:
    """Make a token for `owner`; return it with the token itself, which is never shown again."""
    name = " ".join((name or "").split())
    errors = {}
    if not name:
        errors["name"] = "Name the token after where it is used, such as “Salesforce”."
    elif len(name) > 80:
        errors["name"] = "At most 80 characters."
    if scope not in API_TOKEN_SCOPE:
        errors["scope"] = "Choose read or write."
    if errors:
        raise FieldErrors(errors)
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=owner.id if isinstance(owner, User) else None,
        partner_user_id=owner.id if isinstance(owner, PartnerUser) else None,
        name=name,
        scope=scope,
        prefix=token[: len(PREFIX) + 4],
        token_hash=_hash(token),
    )
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "api_token", row.id, "created", {"name": [None, name], "scope": [None, scope]})
    return row, token


def authenticate(header: str | None, *, now: datetime | None = None) -> ApiToken | None:
    """The token an `Authorization: Bearer …` header carries, if it is ours, in force and its owner active.

    Its last use is noted on the row; the caller's transaction commits it.
    """
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not SHAPE.match(token):
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None or not _owner_active(row):
        return None
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        row.last_used_at = now
    return row


def _owner_active(row: ApiToken) -> bool:
    owner = row.owner
    if isinstance(owner, PartnerUser):
        return owner.is_active and owner.partner.is_active
    return owner is not None and owner.is_active


def allows(row: ApiToken, *, writing: bool) -> bool:
    return not writing or row.scope == "write"


def of(owner: User | PartnerUser) -> list[ApiToken]:
    """The owner's tokens, newest first, revoked ones included."""
    column = ApiToken.user_id if isinstance(owner, User) else ApiToken.partner_user_id
    return list(db.session.scalars(select(ApiToken).where(column == owner.id).order_by(ApiToken.id.desc())))


def revoke(row: ApiToken, *, actor, now: datetime | None = None) -> bool:
    """Revoke a token; revoking one already revoked changes nothing. Return whether this call revoked it."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = now or utcnow()
    audit.record(actor, "api_token", row.id, "revoked", {"revoked": [False, True]})
    return True
