from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime


class Credit(db.Model):
    """The credit one party earned from one decision version: lead, fulfilment, origination or relationship.

    Written with the decision (intake.deals.credit), closed by won or lost, ended when the deal goes
    back to routing or is withdrawn, superseded by the next version. The reciprocity ledger and the
    scorecards read these rows, never today's deals.
    """

    __tablename__ = "credits"
    __table_args__ = (
        # Every partner's ledger at once (the API's): the credits in force of the kinds it counts. (The dashboard
        # counts routes by the route the deal keeps, since 0017.)
        Index("ix_credits_credit_in_force_decided_at", "credit", "in_force", "decided_at"),
        # A partner's scorecard and ledger lines: its credits of one kind in force.
        Index("ix_credits_partner_id_credit_in_force", "partner_id", "credit", "in_force"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    # `vendor`, or `partner` with its id.
    party: Mapped[str] = mapped_column(String(10))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    # intake.vocabulary.CREDIT: lead, fulfilment, origination, relationship.
    credit: Mapped[str] = mapped_column(String(12))
    # Who found the deal, as the decision read it: vendor, partner or customer.
    originator: Mapped[str] = mapped_column(String(10))
    value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The credit of the decision in force; False once superseded, or when the deal went back to routing.
    in_force: Mapped[bool] = mapped_column(default=True, index=True)
    # won, lost or withdrawn (intake.vocabulary.CREDIT_OUTCOME); None while the deal is worked.
    outcome: Mapped[str | None] = mapped_column(String(10))
    closed_on: Mapped[date | None] = mapped_column(Date)
    final_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))

    deal = relationship("Deal")
    partner = relationship("Partner")
