"""The reciprocity ledger: per partner and quarter, the deals each side brought the other.

Read from the credit records alone (intake.deals.credit), never from today's deals: a deal the
partner brought the vendor is one it earned origination credit on; a deal the vendor brought the
partner is one the vendor or the customer coming in originated, where the partner earned lead or
fulfilment credit. Each deal counts once per side, in the quarter it was routed; pipeline value
is the estimated value of those still worked, won value the final value of those won, each per
currency (values in different currencies are never added up).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import and_, case, exists, extract, func, literal, select

from .. import quarters
from ..extensions import db
from ..models import Credit, Deal, Partner

SIDES = ("brought", "given")  # the partner brought the vendor / the vendor brought the partner
COUNTED = ("origination", "lead", "fulfilment")  # the credits _counted puts on a side
CENT = Decimal("0.01")


@dataclass
class Side:
    count: int = 0
    pipeline: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    won: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))


@dataclass
class Line:
    """One partner's quarter: what it brought the vendor, what the vendor brought it, and the balance."""

    partner_id: int
    partner_name: str
    quarter: str
    brought: Side = field(default_factory=Side)
    given: Side = field(default_factory=Side)

    @property
    def balance(self) -> int:
        """Deals the partner brought minus deals it was brought: above 0, the partner gives more than it gets."""
        return self.brought.count - self.given.count


def partners_in_it(*, page: int, per_page: int):
    """The partners with credit in force, by name, a page at a time: the ledger shows its lines so."""
    holds_credit = exists().where(Credit.partner_id == Partner.id, Credit.party == "partner", Credit.in_force.is_(True))
    return db.paginate(
        select(Partner).where(holds_credit).order_by(Partner.name, Partner.id),
        page=page,
        per_page=per_page,
        error_out=False,
    )


def _counted(partner_id: int | None = None, partner_ids: list[int] | None = None):
    """One row per partner, deal and side the ledger counts, with the month it was routed in and its value.

    The partner brought the deal when it earned origination credit; the vendor brought it to the partner when the
    vendor or the customer coming in originated it and the partner earned lead or fulfilment credit. A deal's credit
    in force is one decision's, so its rows agree on everything kept here: DISTINCT leaves one per side.
    """
    brought = Credit.credit == "origination"
    given = and_(Credit.credit.in_(("lead", "fulfilment")), Credit.originator.in_(("vendor", "customer")))
    side = case((brought, literal("brought")), (given, literal("given")))  # else none: counted on neither side
    query = (
        select(
            Credit.partner_id,
            Credit.deal_id,
            side.label("side"),
            extract("year", Credit.decided_at).label("year"),
            extract("month", Credit.decided_at).label("month"),
            Credit.currency,
            Credit.value,
            Credit.outcome,
            Credit.final_value,
        )
        # Naming the credit kinds counted also lets a page of partners be read by ix_credits_partner_id_credit_in_force.
        .where(Credit.party == "partner", Credit.in_force.is_(True), Credit.credit.in_(COUNTED))
        .distinct()
    )
    if partner_id is not None:
        query = query.where(Credit.partner_id == partner_id)
    if partner_ids is not None:
        query = query.where(Credit.partner_id.in_(partner_ids))
    # The credits on neither side are left out around it: a condition on the side inside would lead the database
    # to read the credits by kind rather than by partner.
    rows = query.subquery()
    return select(rows).where(rows.c.side.is_not(None)).subquery()


def lines(*, partner_id: int | None = None, partner_ids: list[int] | None = None) -> list[Line]:
    """The ledger's lines (of one partner, or of some), by partner name and then quarter, newest quarter first.

    Counted and added up by the database: a row per partner, side, month and currency comes back, not a row per deal.
    """
    counted = _counted(partner_id, partner_ids)
    totals = (
        select(
            counted.c.partner_id,
            Partner.name,
            counted.c.side,
            counted.c.year,
            counted.c.month,
            counted.c.currency,
            func.count(),
            func.sum(case((counted.c.outcome.is_(None), counted.c.value))),
            func.sum(case((counted.c.outcome == "won", counted.c.final_value))),
        )
        .join(Partner, Partner.id == counted.c.partner_id)
        .group_by(
            counted.c.partner_id, Partner.name, counted.c.side, counted.c.year, counted.c.month, counted.c.currency
        )
    )
    found: dict[tuple[int, str], Line] = {}
    for pid, name, side, year, month, currency, deals, pipeline, won in db.session.execute(totals):
        quarter = quarters.of_month(int(year), int(month))
        line = found.setdefault((pid, quarter), Line(pid, name, quarter))
        tally: Side = getattr(line, side)
        tally.count += deals
        if pipeline is not None:
            tally.pipeline[currency or ""] += _money(pipeline)
        if won is not None:
            tally.won[currency or ""] += _money(won)
    return sorted(found.values(), key=lambda line: (line.partner_name, line.partner_id, _newest_first(line.quarter)))


def _money(value) -> Decimal:
    """A sum as the database returns it (SQLite adds up floats), to the cent."""
    return Decimal(value).quantize(CENT)


def _newest_first(quarter: str) -> tuple[int, int]:
    year, q = quarter.split("-Q")
    return (-int(year), -int(q))


def deal_ids(*, partner_id: int | None = None) -> dict[tuple[int, str, str], list[int]]:
    """The deals behind each number of the ledger: (partner, quarter, side) → their ids, in order."""
    counted = _counted(partner_id)
    query = select(counted.c.partner_id, counted.c.side, counted.c.year, counted.c.month, counted.c.deal_id)
    found: dict[tuple[int, str, str], list[int]] = defaultdict(list)
    for pid, side, year, month, deal_id in db.session.execute(query.order_by(counted.c.deal_id)):
        found[pid, quarters.of_month(int(year), int(month)), side].append(deal_id)
    return found


def deals_behind(partner_id: int, quarter: str, side: str) -> list[Deal]:
    """The deals behind one number of the ledger."""
    ids = deal_ids(partner_id=partner_id).get((partner_id, quarter, side))
    if not ids:
        return []
    return list(db.session.scalars(select(Deal).where(Deal.id.in_(ids)).order_by(Deal.id)))


def per_partner(lines: list[Line]) -> list[tuple[str, int, int]]:
    """(partner, deals it brought, deals it was brought) over the lines' quarters, by partner name.

    A deal counts in the one quarter its credit in force was decided in, so the quarters' counts add up.
    """
    totals: dict[tuple[str, int], list[int]] = {}
    for line in lines:
        tally = totals.setdefault((line.partner_name, line.partner_id), [0, 0])
        tally[0] += line.brought.count
        tally[1] += line.given.count
    return [(name, b, g) for (name, _), (b, g) in sorted(totals.items())]
