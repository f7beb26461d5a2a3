from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class Deal(db.Model):
    __tablename__ = "deals"
    __table_args__ = (
        # The dashboard counts its figures as ranges of these (a count per cell of a chart), never row by row:
        # the deals started in a quarter, by status;
        Index("ix_deals_status_created_at", "status", "created_at"),
        # the deals routed in a quarter, by route; and the deals still worked, by route.
        Index("ix_deals_route_leader_route_fulfiller_routed_at", "route_leader", "route_fulfiller", "routed_at"),
        Index("ix_deals_status_route_leader_route_fulfiller", "status", "route_leader", "route_fulfiller"),
        # the deals awaiting the customer, by how long they have waited.
        Index("ix_deals_status_status_changed_at", "status", "status_changed_at"),
        # A discarded draft's id is never given to a new deal: its history stays its own.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Changed only by intake.deals.lifecycle (statuses: intake.vocabulary.DEAL_STATUS).
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    # Bumped by every write to the deal or its answers: the write lock that serialises two tabs,
    # a double click or two servers (intake.deals.lifecycle.lock).
    lock_version: Mapped[int] = mapped_column(default=0)
    # None only for a partner's registration waiting for the channel manager to assign a rep.
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)

    # 1. Account: the customer contact for this deal
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_title: Mapped[str] = mapped_column(String(120), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")

    # 2. Origin
    originator: Mapped[str | None] = mapped_column(String(10))
    originator_partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    origin_channel: Mapped[str | None] = mapped_column(String(20))
    origin_date: Mapped[date | None] = mapped_column(Date)

    # 3. Need
    pain_points: Mapped[list[str]] = mapped_column(JSON, default=list)
    pain_other: Mapped[str] = mapped_column(Text, default="")
    business_impact: Mapped[str] = mapped_column(Text, default="")
    incumbent: Mapped[str] = mapped_column(Text, default="")
    solutions: Mapped[list[str]] = mapped_column(JSON, default=list)
    estimated_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    close_date: Mapped[date | None] = mapped_column(Date)

    # 4. Qualification
    budget: Mapped[str | None] = mapped_column(String(12))
    has_decision_maker: Mapped[bool | None] = mapped_column()
    decision_maker: Mapped[str] = mapped_column(String(160), default="")
    decision_process: Mapped[str] = mapped_column(Text, default="")
    competitors: Mapped[str] = mapped_column(Text, default="")
    next_step: Mapped[str] = mapped_column(Text, default="")
    next_step_date: Mapped[date | None] = mapped_column(Date)

    # 5. Partner landscape: does the customer work with partners at all (yes/no/unknown)
    partners_known: Mapped[str | None] = mapped_column(String(8))

    # Why an on_hold deal waits: needs_alignment, conflict or fulfilment (the channel manager's queues).
    hold_reason: Mapped[str | None] = mapped_column(String(20), index=True)
    # Why the deal came back to routing (a partner declined, or let its time pass).
    returned_reason: Mapped[str] = mapped_column(Text, default="")

    # Won or lost: when, for how much, and for lost, why.
    closed_on: Mapped[date | None] = mapped_column(Date)
    final_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    lost_reason: Mapped[str] = mapped_column(Text, default="")

    # The route of the decision whose credit is in force, kept with that credit by intake.deals.credit (and
    # by nothing else): when it was decided, who leads and who fulfils (vendor or partner). None while no
    # credit is in force: before routing, while held, and once the deal went back to routing.
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    route_leader: Mapped[str | None] = mapped_column(String(10))
    route_fulfiller: Mapped[str | None] = mapped_column(String(10))

    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the status last changed (set with it by intake.deals.lifecycle): how long a deal has waited.
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed: the dashboard's period and its pipeline by quarter read deals by when they started.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    rep = relationship("User")
    account = relationship("Account")
    originator_partner = relationship("Partner")
    # 5. Partner landscape as the rep knows it
    landscape = relationship(
        "Relationship",
        primaryjoin="and_(Deal.id == Relationship.deal_id, Relationship.source == 'rep')",
        order_by="Relationship.position",
        viewonly=True,
    )

    # Routing decisions, oldest first; the last is the one in force.
    decisions = relationship("Decision", back_populates="deal", order_by="Decision.version")

    # What the customer stated, kept beside the rep's own answers.
    customer_answer = relationship("CustomerAnswer", back_populates="deal", uselist=False)
    # The partner's registration this deal came from, when a partner registered it.
    registration = relationship("Registration", back_populates="deal", uselist=False)
    customer_relationships = relationship(
        "Relationship",
        primaryjoin="and_(Deal.id == Relationship.deal_id, Relationship.source == 'customer')",
        order_by="Relationship.position",
        viewonly=True,
    )

    @property
    def title(self) -> str:
        return self.account.name if self.account else f"Draft #{self.id}"
