from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

TIES = ("partners", "vendor")
# How a version came about: the engine's decision as confirmed by a rep, or a channel
# manager's override or resolution of a queue item.
KINDS = ("engine", "recommendation", "override", "alignment", "conflict")


class RulesOfEngagement(db.Model):
    """The channel manager's rules, versioned: each decision keeps the version it used."""

    __tablename__ = "rules_of_engagement"

    id: Mapped[int] = mapped_column(primary_key=True)
    threshold: Mapped[int] = mapped_column(default=3)
    ties: Mapped[str] = mapped_column(String(10), default="partners")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by = relationship("User")


class Decision(db.Model):
    """One version of a deal's routing decision. Versions are added, never edited."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("deal_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    version: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(20), default="engine")
    # The engine's input exactly as decided on, and the decision in force.
    input: Mapped[dict] = mapped_column(JSON)
    output: Mapped[dict] = mapped_column(JSON)
    # What the engine proposed, when a person decided otherwise.
    proposal: Mapped[dict | None] = mapped_column(JSON)
    rules: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deal = relationship("Deal", back_populates="decisions")
    decided_by = relationship("User")
