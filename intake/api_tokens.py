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

from flask_babel import gettext as _
from sqlalchemy import select, update

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
NAME_LENGTH = 80  # as long as the column that keeps it (api_tokens.name)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    owner: User | PartnerUser, *, name: str, scope: str, actor, form_key: str | None = None
) -> tuple[ApiToken, str | None]:
    """Make a token for `owner`; return it with the token itself, which is never shown again.

    A settings form sends its own `form_key`: sent again (a refresh, a double click, a second
    server), it finds the token it made, returned without its value (None), which was shown once.
    """
    if form_key is not None:
        # The owner's row lock first: a second click waits for the first, then finds its token.
        model = type(owner)
        db.session.execute(
            update(model).where(model.id == owner.id).values(id=model.id).execution_options(synchronize_session=False)
        )
        made = db.session.scalar(select(ApiToken).where(ApiToken.form_key == form_key, _owned_by(owner)))
        if made is not None:
            return made, None
    name = " ".join((name or "").split())
    errors = {}
    # In the language of the page that asks (a partner user's may be German); English on the command line.
    if not name:
        errors["name"] = _("Name the token after where it is used, such as “Salesforce”.")
    elif len(name) > NAME_LENGTH:
        errors["name"] = _("At most %(count)d characters.", count=NAME_LENGTH)
    if scope not in API_TOKEN_SCOPE:
        errors["scope"] = _("Choose read only, or read and write.")
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
        form_key=form_key,
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


def _owned_by(owner: User | PartnerUser):
    column = ApiToken.user_id if isinstance(owner, User) else ApiToken.partner_user_id
    return column == owner.id


def of(owner: User | PartnerUser) -> list[ApiToken]:
    """The owner's tokens, newest first, revoked ones included."""
    return list(db.session.scalars(select(ApiToken).where(_owned_by(owner)).order_by(ApiToken.id.desc())))


def get(owner: User | PartnerUser, token_id: int) -> ApiToken | None:
    """One of the owner's tokens; anyone else's is None, as if there were none."""
    return db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, _owned_by(owner)))


def revoke(row: ApiToken, *, actor, now: datetime | None = None) -> bool:
    """Revoke a token; revoking one already revoked changes nothing. Return whether this call revoked it."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = now or utcnow()
    audit.record(actor, "api_token", row.id, "revoked", {"revoked": [False, True]})
    return True
