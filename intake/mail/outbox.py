"""The outbox: queue a message in the current transaction."""

from email.utils import make_msgid

from flask import current_app

from ..extensions import db
from ..models import OutboxMessage


class BadRecipient(ValueError):
    pass


def _one_line(text: str) -> str:
    # Headers are built from these; a line break can never get through.
    return " ".join(text.split())


def enqueue(
    *, kind: str, to: list[str], subject: str, text: str, html: str = "", deal_id: int | None = None
) -> OutboxMessage:
    """Queue a message; it is sent only if the surrounding transaction commits."""
    recipients = []
    for address in to:
        address = address.strip()
        if not address or any(c in address for c in '\r\n,;<>"') or address.count("@") != 1:
            raise BadRecipient(address)
        recipients.append(address)
    domain = current_app.config["BASE_URL"].split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "intake"
    message = OutboxMessage(
        kind=kind,
        deal_id=deal_id,
        recipients=recipients,
        subject=_one_line(subject)[:200],
        text_body=text,
        html_body=html,
        message_id=make_msgid(domain=domain),
    )
    db.session.add(message)
    db.session.flush()
    return message


__all__ = ["BadRecipient", "enqueue"]
