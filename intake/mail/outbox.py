"""The outbox: queue a message in the current transaction; retry one the worker gave up on."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from flask import current_app, render_template
from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import OutboxMessage, User
from ..models.types import utcnow
from ..text import one_line
from . import attachments as attachment_rows
from . import headers
from .attachments import Recipe, Stored
from .headers import BadRecipient

# The alert the channel manager gets when a message cannot be delivered. It is never
# itself the subject of another alert, so a broken mailbox cannot feed a loop.
UNDELIVERED = "mail_undelivered"


def _message_id_domain() -> str:
    host = current_app.config["BASE_URL"].split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    host = host.split(":", 1)[0] if not host.startswith("[") else ""
    return host if host and all(c.isalnum() or c in ".-" for c in host) else "intake"


def new_message_id() -> str:
    """A Message-ID unique everywhere, short enough for one header line. Its random part comes from
    `secrets`: email.utils.make_msgid draws on the shared `random`, which others may seed (Hypothesis
    does, per example), so two messages queued in the same hundredth of a second could share one."""
    return f"<{int(time.time())}.{secrets.token_hex(12)}@{_message_id_domain()}>"


def enqueue(
    *,
    kind: str,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str = "",
    deal_id: int | None = None,
    attachments: Sequence[Stored | Recipe | Mapping[str, Any]] = (),
) -> OutboxMessage:
    """Queue a message; it is sent only if the surrounding transaction commits.

    Attachments are `Stored(filename, content_type, data)` or `Recipe(builder, params)`
    (or the same as dicts); a recipe is built by the worker, once.
    """
    recipients = [headers.address(address) for address in to]
    if not recipients:
        raise BadRecipient("no recipient")
    message = OutboxMessage(
        kind=one_line(kind, 40),
        deal_id=deal_id,
        recipients=recipients,
        subject=headers.subject(subject),
        text_body=text,
        html_body=html,
        message_id=new_message_id(),
    )
    message.attachments = [attachment_rows.row_for(item, position) for position, item in enumerate(attachments)]
    db.session.add(message)
    db.session.flush()
    return message


def retry(message: OutboxMessage, *, actor: User | None, now: datetime | None = None) -> bool:
    """Put a failed or dead message back in the queue with a fresh set of attempts; return whether it was."""
    if message.status not in ("failed", "dead"):
        return False
    previous = message.status
    message.status = "pending"
    message.attempts = 0
    message.next_attempt_at = now or utcnow()
    message.claimed_by = None
    message.lease_until = None
    audit.record(actor, "mail", message.id, "mail retried", {"status": [previous, "pending"]})
    return True


def alert_undelivered(message: OutboxMessage) -> list[OutboxMessage]:
    """Queue a note to every active channel manager that a message was not delivered."""
    if message.kind == UNDELIVERED:
        return []
    managers = db.session.scalars(
        select(User.email).where(User.role == "admin", User.is_active.is_(True)).order_by(User.id)
    ).all()
    if not managers:
        return []
    context = {
        "message": message,
        "url": f"{current_app.config['BASE_URL']}/admin/mail/{message.id}",
        "vendor": current_app.config["VENDOR_NAME"],
    }
    text = render_template("mail/undelivered.txt", **context)
    html = render_template("mail/undelivered.html", **context)
    status = "refused" if message.status == "failed" else "gave up"
    return [
        enqueue(
            kind=UNDELIVERED,
            to=[email],
            subject=f"Mail not delivered ({status}): {message.kind} #{message.id}",
            text=text,
            html=html,
            deal_id=message.deal_id,
        )
        for email in managers
    ]


__all__ = ["UNDELIVERED", "BadRecipient", "Recipe", "Stored", "alert_undelivered", "enqueue", "retry"]
