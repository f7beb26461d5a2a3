"""Partner scorecards (PRODUCT.md "Credit, ledger and scorecards"): how a partner answers, and how its deals end.

Read from what was recorded as it happened — each request and its answer, the fulfilment credit
closed by won or lost, the customers' own statements — never re-derived from today's deals.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import select

from .. import quarters
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
    requests_by_quarter: dict[str, int] = field(default_factory=dict)  # "2026-Q3": requests made then

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
    return scorecards([partner_id])[partner_id]


def scorecards(partner_ids: list[int], *, until: datetime | None = None) -> dict[int, Scorecard]:
    """The scorecards of these partners, in three statements whatever their number; with `until`, as they
    stood then: requests made before it, with the answers given before it (one given later was still
    awaited then), outcomes of deals decided and closed before it, statements given before it."""
    wanted = {pid: _Tally() for pid in partner_ids}
    requests = (
        select(
            PartnerRequest.partner_id,
            PartnerRequest.response,
            PartnerRequest.reason,
            PartnerRequest.created_at,
            PartnerRequest.responded_at,
        )
        .where(PartnerRequest.partner_id.in_(partner_ids))
        .order_by(PartnerRequest.id)
    )
    outcomes = select(Credit.partner_id, Credit.outcome).where(
        Credit.partner_id.in_(partner_ids),
        Credit.credit == "fulfilment",
        Credit.in_force.is_(True),
        Credit.outcome.in_(("won", "lost")),
    )
    strengths = select(Relationship.partner_id, Relationship.strength).where(
        Relationship.partner_id.in_(partner_ids),
        Relationship.source == "customer",
        Relationship.strength.is_not(None),
    )
    if until is not None:
        requests = requests.where(PartnerRequest.created_at < until)
        outcomes = outcomes.where(Credit.decided_at < until, Credit.closed_on < until.date())
        strengths = strengths.where(Relationship.created_at < until)
    for row in db.session.execute(requests):
        tally = wanted[row.partner_id]
        tally.requests += 1
        tally.per_quarter[quarters.of(row.created_at)] += 1
        response = row.response if until is None or (row.responded_at and row.responded_at < until) else None
        tally.responses[response] += 1
        if response == "accepted" and row.responded_at:
            tally.waits.append(row.responded_at - row.created_at)
        if response == "declined":
            tally.reasons[" ".join((row.reason or "").split()) or "(no reason given)"] += 1
    for partner_id, outcome in db.session.execute(outcomes):
        wanted[partner_id].outcomes[outcome] += 1
    for partner_id, strength in db.session.execute(strengths):
        wanted[partner_id].strengths[strength] += 1
    return {pid: tally.scorecard() for pid, tally in wanted.items()}


@dataclass
class _Tally:
    requests: int = 0
    per_quarter: Counter = field(default_factory=Counter)
    responses: Counter = field(default_factory=Counter)
    waits: list[timedelta] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    strengths: Counter = field(default_factory=Counter)

    def scorecard(self) -> Scorecard:
        return Scorecard(
            requests=self.requests,
            accepted=self.responses["accepted"],
            declined=self.responses["declined"],
            lapsed=self.responses["lapsed"],
            median_to_accept=median(self.waits) if self.waits else None,
            declines_by_reason=sorted(self.reasons.items(), key=lambda item: (-item[1], item[0])),
            fulfilled_won=self.outcomes["won"],
            fulfilled_lost=self.outcomes["lost"],
            customer_strengths=dict(sorted(self.strengths.items())),
            requests_by_quarter=dict(sorted(self.per_quarter.items())),
        )
