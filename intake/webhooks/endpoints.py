"""The channel manager's use cases for webhook endpoints. Services flush; the caller commits."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from flask import current_app

from .. import audit
from ..errors import FieldErrors
from ..extensions import db
from ..models import User, WebhookDelivery, WebhookEndpoint
from ..models.types import utcnow
from ..vocabulary import WEBHOOK_EVENT
from . import targets


def register(*, url: str, events: Sequence[str], actor: User | None) -> WebhookEndpoint:
    """Add an endpoint for these events, with a new secret; refused when Intake may not send there."""
    url = (url or "").strip()
    chosen = [event for event in WEBHOOK_EVENT if event in set(events)]
    errors = {}
    try:
        targets.check(url, current_app.config)
    except targets.UnsafeTarget as exc:
        errors["url"] = exc.message
    if not chosen:
        errors["events"] = "Choose at least one event to send."
    elif len(chosen) != len(set(events)):
        errors["events"] = "Choose among the events listed."
    if errors:
        raise FieldErrors(errors)
    endpoint = WebhookEndpoint(
        url=url,
        secret=secrets.token_urlsafe(32),
        events=chosen,
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(endpoint)
    db.session.flush()
    changes = {"url": [None, url], "events": [None, chosen]}
    audit.record(actor, "webhook", endpoint.id, "webhook endpoint added", changes)
    return endpoint


def set_active(endpoint: WebhookEndpoint, is_active: bool, *, actor: User) -> bool:
    """Disable or enable an endpoint; enabling starts its failure count afresh. Return whether it changed."""
    if endpoint.is_active == is_active:
        return False
    endpoint.is_active = is_active
    if is_active:
        endpoint.consecutive_failures = 0
        endpoint.disabled_at = None
    else:
        endpoint.disabled_at = utcnow()
    audit.record(
        actor,
        "webhook",
        endpoint.id,
        "webhook endpoint enabled" if is_active else "webhook endpoint disabled",
        {"is_active": [not is_active, is_active]},
    )
    db.session.flush()
    return True


def delete(endpoint: WebhookEndpoint, *, actor: User) -> None:
    """Remove an endpoint and its deliveries; the history keeps that it was."""
    audit.record(actor, "webhook", endpoint.id, "webhook endpoint deleted", {"url": [endpoint.url, None]})
    db.session.delete(endpoint)
    db.session.flush()


def retry(delivery: WebhookDelivery, *, actor: User, now: datetime | None = None) -> bool:
    """Queue a delivery given up on again, with a fresh set of attempts; return whether it was."""
    if delivery.status != "failed":
        return False
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = now or utcnow()
    delivery.claimed_by = None
    delivery.lease_until = None
    changes = {"event": [None, delivery.event_id]}
    audit.record(actor, "webhook", delivery.endpoint_id, "webhook delivery retried", changes)
    db.session.flush()
    return True
