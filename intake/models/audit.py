from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    """Who changed what and when; written in the same transaction as the change."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A partner user who acted in the partner portal (then actor_id is None).
    partner_user_id: Mapped[int | None] = mapped_column(ForeignKey("partner_users.id"))
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column()
    action: Mapped[str] = mapped_column(String(40))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)

    actor = relationship("User")
    partner_user = relationship("PartnerUser")

    @property
    def actor_name(self) -> str | None:
        """Who acted: a member of staff or a partner user ("Oliver Grant, Thames Digital"); None for Intake itself."""
        if self.actor is not None:
            return self.actor.name
        if self.partner_user is not None:
            return f"{self.partner_user.name}, {self.partner_user.partner.name}"
        return None

    __table_args__ = (db.Index("ix_audit_events_entity", "entity", "entity_id"),)
