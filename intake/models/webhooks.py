from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class WebhookEndpoint(db.Model):
    """An address of the vendor's own systems that hears of the events it subscribed to, signed with its secret."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Made by Intake and shown on the endpoint's page, for the receiver to verify signatures with.
    secret: Mapped[str] = mapped_column(String(100))
    # intake.vocabulary.WEBHOOK_EVENT codes.
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Deliveries given up on since the last one delivered; at WEBHOOK_DISABLE_AFTER the endpoint is disabled.
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by = relationship("User")
    # Deleted with the endpoint by the ORM: SQLite here does not enforce foreign keys.
    deliveries: Mapped[list[WebhookDelivery]] = relationship(back_populates="endpoint", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.id} {self.url}>"


class WebhookDelivery(db.Model):
    """One event for one endpoint: the exact body signed, written in the transaction of the change."""

    __tablename__ = "webhook_deliveries"
    # The worker's claim query: due pending rows, and sending rows whose lease ran out.
    __table_args__ = (Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    # The receiver's key for telling a resend from a new event (the Intake-Delivery header).
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"), index=True)
    # Stored once, so every attempt signs and sends the same bytes.
    body: Mapped[str] = mapped_column(Text)
    # intake.vocabulary.WEBHOOK_DELIVERY_STATUS.
    status: Mapped[str] = mapped_column(String(10), default="pending")
    # Counted when a worker claims the delivery, so one that kills its worker still runs out of attempts.
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_response_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_duration_ms: Mapped[int | None] = mapped_column()
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship(back_populates="deliveries")

    def __repr__(self) -> str:
        return f"<WebhookDelivery {self.id} {self.event_type} {self.status}>"
