from datetime import datetime
from functools import cached_property

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import routing as engine
from ..extensions import db
from .types import UTCDateTime, utcnow


class RulesOfEngagement(db.Model):
    """The channel manager's rules, versioned: each decision keeps the version it used."""

    __tablename__ = "rules_of_engagement"

    id: Mapped[int] = mapped_column(primary_key=True)
    threshold: Mapped[int] = mapped_column(default=3)
    ties: Mapped[str] = mapped_column(String(10), default="partners")
    # When a partner lets its time to answer pass: manual or automatic (intake.vocabulary.RECYCLE).
    recycle: Mapped[str] = mapped_column(String(10), default="manual")
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
    # How it came about (intake.vocabulary.DECISION_KIND).
    kind: Mapped[str] = mapped_column(String(20), default="engine")
    # The engine's input exactly as decided on, and the decision in force.
    input: Mapped[dict] = mapped_column(JSON)
    output: Mapped[dict] = mapped_column(JSON)
    # What the engine proposed, when a person decided otherwise.
    proposal: Mapped[dict | None] = mapped_column(JSON)
    rules: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    # A channel manager's reason stays with the vendor side unless they share it with the partners.
    reason_shared: Mapped[bool] = mapped_column(default=False)
    # The deal as it was when decided (intake.deals.snapshot): every page, mail and PDF of
    # this version renders it, never the live rows.
    summary: Mapped[dict | None] = mapped_column(JSON)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deal = relationship("Deal", back_populates="decisions")
    decided_by = relationship("User")

    # Reading a stored decision back as the engine's typed decision happens here and nowhere else.
    # A version is never edited, so reading it once per object is enough.
    @cached_property
    def routing(self) -> engine.Decision:
        """The decision in force in this version, as the engine's typed decision."""
        return engine.parse_decision(self.output)

    @cached_property
    def proposed(self) -> engine.Decision | None:
        """What the engine proposed, when a person decided otherwise."""
        return engine.parse_decision(self.proposal) if self.proposal else None
