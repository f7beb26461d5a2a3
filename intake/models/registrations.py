from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class Registration(db.Model):
    """A deal a partner found and registered in the portal: who registered it, and what it was told.

    The deal itself holds what was registered (account, contact, need, value); the partner's
    relationship strength is its own statement on the account (a relationship of source `partner`).
    """

    __tablename__ = "registrations"
    # The form a partner user sent, once: a second click or a second tab sending it again finds
    # the first registration instead of making another.
    __table_args__ = (UniqueConstraint("partner_user_id", "form_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    partner_user_id: Mapped[int] = mapped_column(ForeignKey("partner_users.id"))
    form_key: Mapped[str] = mapped_column(String(64))
    # The company as the partner gave it (the deal's account may be one we had, under our own name for it).
    account_name: Mapped[str] = mapped_column(String(160), default="")
    domain: Mapped[str] = mapped_column(String(253), default="")
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The account already had an open deal: the partner was told so, and the deal waits in the conflict queue.
    clashed: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    # The reminder that the registration will expire, sent for the deal's status as it was then.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # It expired without progress: its deal was withdrawn.
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    deal = relationship("Deal", back_populates="registration")
    partner = relationship("Partner")
    partner_user = relationship("PartnerUser")
