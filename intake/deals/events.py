"""What the deals tell the vendor's own systems: an event emitted where a change happens is one webhook
delivery per active endpoint subscribed to it, written in the caller's transaction (the outbox worker
sends them: intake.webhooks).

The body is the staff view of the change (it goes to the vendor's own systems), serialised once
here and stored: every attempt signs and sends exactly these bytes.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import Deal, Registration, WebhookDelivery, WebhookEndpoint
from ..vocabulary import WEBHOOK_EVENT
from . import audiences

# The events that carry the decision in force: who leads, who fulfils, and the engine's flags.
DECIDED = ("deal.routed", "deal.accepted", "deal.needs_alignment", "deal.conflict", "deal.won", "deal.lost")


def new_event_id() -> str:
    return "evt_" + secrets.token_urlsafe(18)


def _decision(deal: Deal) -> dict[str, Any] | None:
    version = deal.decisions[-1] if deal.decisions else None
    return audiences.staff_summary(version) if version is not None else None


def _deal(deal: Deal) -> dict[str, Any]:
    account = deal.account
    return {
        "id": deal.id,
        "status": deal.status,
        "hold_reason": deal.hold_reason,
        "account": {
            "name": account.name if account else "",
            "domain": (account.domain or "") if account else "",
            "country": (account.country or "") if account else "",
        },
        "url": f"/api/v1/deals/{deal.id}",
    }


def event_data(event: str, *, deal: Deal | None, registration: Registration | None, **details: Any) -> dict[str, Any]:
    """What the event says: the deal as staff see it, and what the change adds."""
    data: dict[str, Any] = {}
    if deal is not None:
        data["deal"] = _deal(deal)
        if event in DECIDED:
            data["decision"] = _decision(deal)
        if event in ("deal.won", "deal.lost"):
            data["outcome"] = {
                "closed_on": deal.closed_on.isoformat() if deal.closed_on else None,
                "final_value": str(deal.final_value) if deal.final_value is not None else None,
                "currency": deal.currency,
                "lost_reason": deal.lost_reason if event == "deal.lost" else "",
            }
        if event == "deal.declined":
            data["reason"] = deal.returned_reason
    if registration is not None:
        data["registration"] = {
            "id": registration.id,
            "partner": {"id": registration.partner_id, "name": registration.partner.name},
            "clashed": registration.clashed,
        }
    return {**data, **details}


def emit(
    event: str, *, deal: Deal | None = None, registration: Registration | None = None, **details: Any
) -> list[WebhookDelivery]:
    """Queue the event for every active endpoint subscribed to it; flushed, sent only if the caller commits."""
    if event not in WEBHOOK_EVENT:
        raise ValueError(f"not a webhook event: {event!r}")
    # A handful of endpoints at most: reading them all beats a JSON query that differs per engine.
    endpoints = [
        endpoint
        for endpoint in db.session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.is_active.is_(True)).order_by(WebhookEndpoint.id)
        )
        if event in endpoint.events
    ]
    if not endpoints:
        return []
    data = event_data(event, deal=deal, registration=registration, **details)
    created_at = datetime.now(UTC)
    deliveries = []
    for endpoint in endpoints:
        event_id = new_event_id()
        body = json.dumps(
            {
                "id": event_id,
                "type": event,
                "created_at": created_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
                "data": data,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )
        delivery = WebhookDelivery(
            endpoint_id=endpoint.id,
            event_type=event,
            event_id=event_id,
            deal_id=deal.id if deal is not None else None,
            body=body,
            next_attempt_at=created_at,
            created_at=created_at,
        )
        db.session.add(delivery)
        deliveries.append(delivery)
    db.session.flush()
    return deliveries
