from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .partner_requests import Document
from .types import UTCDateTime, utcnow

# pending → sending → sent; a transient failure goes back to pending with a later
# next_attempt_at, a permanent refusal to failed, too many attempts to dead
# (intake.vocabulary.MAIL_STATUS).


class OutboxMessage(db.Model):
    """A message to send, written in the same transaction as the change that causes it."""

    __tablename__ = "outbox_messages"
    # The worker's claim query: due pending rows, and sending rows whose lease ran out.
    __table_args__ = (Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    recipients: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(200))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    # Fixed when queued and reused on every attempt, so a resend is recognisably the same mail.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    # Counted when a worker claims the message, so a message that kills its worker
    # every time still runs out of attempts.
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The claim in force: which worker holds the message and until when. A claim whose
    # lease has run out belongs to a worker that died; another worker takes it up.
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        back_populates="message", order_by="OutboxAttachment.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"


class OutboxAttachment(db.Model):
    """A file sent with a message: its bytes, or the recipe the worker builds them from once.

    A recipe (builder name and JSON params) is turned into bytes by the first worker that
    sends the message; the bytes are stored, so a retry or a download never builds again.
    """

    __tablename__ = "outbox_attachments"
    __table_args__ = (CheckConstraint("data IS NOT NULL OR builder IS NOT NULL", name="has_content"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str] = mapped_column(String(200), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    builder: Mapped[str | None] = mapped_column(String(60))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    built_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A recipe whose bytes are a stored document (a deal summary) refers to it instead of keeping a copy.
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)

    message: Mapped[OutboxMessage] = relationship(back_populates="attachments")
    document: Mapped[Document | None] = relationship()

    @property
    def content(self) -> bytes | None:
        """The bytes sent: kept on the row, or in the stored document it refers to; None until built."""
        if self.data is not None:
            return self.data
        return self.document.data if self.document is not None else None

    @property
    def is_built(self) -> bool:
        # Stored bytes from the start, or a recipe the worker has built (it sets built_at
        # with the data); read without loading the bytes.
        return self.builder is None or self.built_at is not None
