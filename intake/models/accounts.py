from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class Account(db.Model):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    name_key: Mapped[str] = mapped_column(String(160), index=True)
    domain: Mapped[str | None] = mapped_column(String(253), unique=True)
    # The registrable part of the domain (the routing engine's key): sub-domains are one account,
    # and two reps creating one company at once make one account.
    domain_key: Mapped[str | None] = mapped_column(String(253), unique=True)
    country: Mapped[str | None] = mapped_column(String(2))
    vertical: Mapped[str | None] = mapped_column(String(60))
    size_band: Mapped[str | None] = mapped_column(String(20))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    vendor_strength: Mapped[int | None] = mapped_column()
    vendor_since: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner = relationship("User")

    def __repr__(self) -> str:
        return f"<Account {self.name}>"


class Relationship(db.Model):
    """A partner's relationship with an account, as one source (rep, customer, partner) states it."""

    __tablename__ = "relationships"
    # A partner's scorecard reads the strengths customers stated for it.
    __table_args__ = (Index("ix_relationships_partner_id_source", "partner_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    # The questionnaire that recorded it, when a rep recorded it during discovery.
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    # A partner that is not (yet) one of ours, by the name given (matched to ours by the engine's name key).
    partner_name: Mapped[str] = mapped_column(String(160), default="")
    strength: Mapped[int | None] = mapped_column()
    since: Mapped[date | None] = mapped_column(Date)
    # How long, in the customer's words (under_1, 1_3, 3_5, over_5), when they did not give a date.
    duration: Mapped[str | None] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10), default="rep")
    does_what: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner = relationship("Partner")
    account = relationship("Account")

    @property
    def display_name(self) -> str:
        return self.partner.name if self.partner else self.partner_name
