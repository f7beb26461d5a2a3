from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class PartnerRequest(db.Model):
    """A partner's invitation to take its role on a routed deal, answered by a signed link.

    As with customer links, only a hash of the token is kept.
    """

    __tablename__ = "partner_requests"
    __table_args__ = (
        # The requests still awaited (no response yet), soonest deadline first: the dashboard's and the
        # responses queue's, read from here rather than from every routed deal's requests.
        Index("ix_partner_requests_response_expires_at_id", "response", "expires_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    nonce: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # accepted, declined, or lapsed: the deadline passed and the deal went back to routing
    # (intake.vocabulary.PARTNER_RESPONSE)
    response: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    deal = relationship("Deal")
    partner = relationship("Partner")
    decision = relationship("Decision")


class Document(db.Model):
    """A rendered deal summary: one per decision version and copy (`vendor`, or `partner-<id>`), rendered once."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("decision_id", "copy"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    copy: Mapped[str] = mapped_column(String(24))
    filename: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
