from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class CustomerLink(db.Model):
    """A customer's personal link to one deal. Only a hash of the token is kept."""

    __tablename__ = "customer_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    # The token is HMAC(secret key, nonce): the rep can be shown it again, while the
    # database alone (nonce and hash) never yields a working link.
    nonce: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(5), default="en")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    deal = relationship("Deal")

    def state(self, now: datetime) -> str:
        """One of: revoked, expired, answered, opened, sent, not_sent."""
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        if self.answered_at:
            return "answered"
        if self.opened_at:
            return "opened"
        if self.emailed_at:
            return "sent"
        return "not_sent"


class CustomerAnswer(db.Model):
    """What the customer said by their link; one per deal, changed until the deal is routed."""

    __tablename__ = "customer_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), unique=True)
    # 1. Company and contact as the customer confirms them (the rep's answers stay as they were)
    company_name: Mapped[str] = mapped_column(String(160), default="")
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_title: Mapped[str] = mapped_column(String(120), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    # 2.–4.
    works_with_partner: Mapped[str] = mapped_column(String(10))
    fulfilment: Mapped[str] = mapped_column(String(15))
    # The partner they want to deliver, by identity: one of ours, or the name they typed.
    fulfilment_partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    fulfilment_partner_name: Mapped[str] = mapped_column(String(160), default="")
    fulfilment_reason: Mapped[str] = mapped_column(Text, default="")
    contact_preference: Mapped[str] = mapped_column(String(15))
    # 5. Consent to share with the partner who will help them
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_text: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(5), default="en")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deal = relationship("Deal", back_populates="customer_answer")
    fulfilment_partner = relationship("Partner")

    @property
    def fulfilment_partner_label(self) -> str:
        """The partner they want to deliver, as they named it."""
        return self.fulfilment_partner.name if self.fulfilment_partner else self.fulfilment_partner_name


class CustomerContact(db.Model):
    """Who the customer was told is their one contact, each time it was settled; the newest is in force.

    The customer's link page and every mail to the customer read it here, so they always agree.
    """

    __tablename__ = "customer_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    # The leader whose person it is: the vendor, or one partner.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), default="")
    organisation: Mapped[str] = mapped_column(String(160))
    told_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LinkMiss(db.Model):
    """A request for a customer link that does not exist: counted to slow down guessing."""

    __tablename__ = "link_misses"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
