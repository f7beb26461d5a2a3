"""The audit trail: who changed what and when."""

from datetime import date
from decimal import Decimal

from .extensions import db
from .models import AuditEvent


def _plain(value):
    if isinstance(value, (date, Decimal)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def record(actor, entity: str, entity_id: int, action: str, changes: dict | None = None) -> None:
    """Add an audit event to the current transaction; the caller commits it with the change.

    The actor is a member of staff, a partner user, or None for Intake itself (and the customer).
    """
    partner_user = actor is not None and getattr(actor, "is_partner_user", False)
    db.session.add(
        AuditEvent(
            actor_id=actor.id if actor is not None and not partner_user else None,
            partner_user_id=actor.id if partner_user else None,
            entity=entity,
            entity_id=entity_id,
            action=action,
            changes={key: _plain(value) for key, value in (changes or {}).items()},
        )
    )


def apply_changes(obj, values: dict) -> dict:
    """Set attributes that differ and return them as {name: [old, new]}."""
    changed = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            setattr(obj, name, new)
            changed[name] = [_plain(old), _plain(new)]
    return changed
