"""Partner scorecards (PRODUCT.md "Credit, ledger and scorecards"): how a partner answers, and how its deals end.

Read from what was recorded as it happened — each request and its answer, the fulfilment credit
closed by won or lost, the customers' own statements — never re-derived from today's deals.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from statistics import median

from sqlalchemy import select

from ..extensions import db
from ..models import Credit, PartnerRequest, Relationship


@dataclass(frozen=True)
class Scorecard:
    requests: int
    accepted: int
    declined: int
    lapsed: int
    # Median time from being asked to accepting; None before a first acceptance.
    median_to_accept: timedelta | None
    declines_by_reason: list[tuple[str, int]]  # most frequent first
    fulfilled_won: int
    fulfilled_lost: int
    # How strong customers said their relationship with the partner is: {strength: statements}.
    customer_strengths: dict[int, int] = field(default_factory=dict)

    @property
    def answered(self) -> int:
        return self.accepted + self.declined + self.lapsed

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted among the requests answered or let pass; None before any."""
        return self.accepted / self.answered if self.answered else None

    @property
    def win_rate(self) -> float | None:
        """Won among the deals it fulfilled that ended won or lost; None before any."""
        ended = self.fulfilled_won + self.fulfilled_lost
        return self.fulfilled_won / ended if ended else None


def scorecard(partner_id: int) -> Scorecard:
    requests = db.session.execute(
        select(PartnerRequest.response, PartnerRequest.reason, PartnerRequest.created_at, PartnerRequest.responded_at)
        .where(PartnerRequest.partner_id == partner_id)
        .order_by(PartnerRequest.id)
    ).all()
    responses = Counter(row.response for row in requests)
    waits = [row.responded_at - row.created_at for row in requests if row.response == "accepted" and row.responded_at]
    reasons = Counter(
        " ".join(row.reason.split()) or "(no reason given)" for row in requests if row.response == "declined"
    )
    outcomes = Counter(
        db.session.scalars(
            select(Credit.outcome).where(
                Credit.partner_id == partner_id,
                Credit.credit == "fulfilment",
                Credit.in_force.is_(True),
                Credit.outcome.in_(("won", "lost")),
            )
        )
    )
    strengths = Counter(
        db.session.scalars(
            select(Relationship.strength).where(
                Relationship.partner_id == partner_id,
                Relationship.source == "customer",
                Relationship.strength.is_not(None),
            )
        )
    )
    return Scorecard(
        requests=len(requests),
        accepted=responses["accepted"],
        declined=responses["declined"],
        lapsed=responses["lapsed"],
        median_to_accept=median(waits) if waits else None,
        declines_by_reason=sorted(reasons.items(), key=lambda item: (-item[1], item[0])),
        fulfilled_won=outcomes["won"],
        fulfilled_lost=outcomes["lost"],
        customer_strengths=dict(sorted(strengths.items())),
    )
