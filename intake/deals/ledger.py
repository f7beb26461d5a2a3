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

from sqlalchemy import exists, select

from .. import quarters
from ..extensions import db
from ..models import Credit, Deal, Partner

SIDES = ("brought", "given")  # the partner brought the vendor / the vendor brought the partner
COUNTED = ("origination", "lead", "fulfilment")  # the credits _side puts on a side


@dataclass
class Side:
    deal_ids: set[int] = field(default_factory=set)
    pipeline: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    won: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    @property
    def count(self) -> int:
        return len(self.deal_ids)


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


def _side(credit: str, originator: str) -> str | None:
    if credit == "origination":
        return "brought"
    if credit in ("lead", "fulfilment") and originator in ("vendor", "customer"):
        return "given"
    return None


def partners_in_it(*, page: int, per_page: int):
    """The partners with credit in force, by name, a page at a time: the ledger shows its lines so."""
    holds_credit = exists().where(Credit.partner_id == Partner.id, Credit.party == "partner", Credit.in_force.is_(True))
    return db.paginate(
        select(Partner).where(holds_credit).order_by(Partner.name, Partner.id),
        page=page,
        per_page=per_page,
        error_out=False,
    )


def _rows(partner_id: int | None = None, partner_ids: list[int] | None = None):
    query = (
        select(
            Credit.partner_id,
            Credit.deal_id,
            Credit.credit,
            Credit.originator,
            Credit.value,
            Credit.currency,
            Credit.outcome,
            Credit.final_value,
            Credit.decided_at,
        )
        # Relationship credit counts on neither side; naming the kinds that do also lets a page of partners be
        # read by ix_credits_partner_id_credit_in_force (SQLite read every credit in force otherwise).
        .where(Credit.party == "partner", Credit.in_force.is_(True), Credit.credit.in_(COUNTED))
        .order_by(Credit.decided_at, Credit.id)
    )
    if partner_id is not None:
        query = query.where(Credit.partner_id == partner_id)
    if partner_ids is not None:
        query = query.where(Credit.partner_id.in_(partner_ids))
    return db.session.execute(query)


def lines(*, partner_id: int | None = None, partner_ids: list[int] | None = None) -> list[Line]:
    """The ledger's lines (of one partner, or of some), by partner name and then quarter, newest quarter first."""
    names = dict(db.session.execute(select(Partner.id, Partner.name)).all())
    found: dict[tuple[int, str], Line] = {}
    counted: set[tuple[int, int, str]] = set()
    for row in _rows(partner_id, partner_ids):
        side = _side(row.credit, row.originator)
        if side is None or (row.partner_id, row.deal_id, side) in counted:
            continue
        counted.add((row.partner_id, row.deal_id, side))
        quarter = quarters.of(row.decided_at)
        line = found.setdefault(
            (row.partner_id, quarter), Line(row.partner_id, names.get(row.partner_id, "?"), quarter)
        )
        tally: Side = getattr(line, side)
        tally.deal_ids.add(row.deal_id)
        currency = row.currency or ""
        if row.outcome is None and row.value is not None:
            tally.pipeline[currency] += row.value
        if row.outcome == "won" and row.final_value is not None:
            tally.won[currency] += row.final_value
    return sorted(found.values(), key=lambda line: (line.partner_name, line.partner_id, _newest_first(line.quarter)))


def _newest_first(quarter: str) -> tuple[int, int]:
    year, q = quarter.split("-Q")
    return (-int(year), -int(q))


def deals_behind(partner_id: int, quarter: str, side: str) -> list[Deal]:
    """The deals behind one number of the ledger."""
    ids = set()
    for line in lines(partner_id=partner_id):
        if line.quarter == quarter:
            ids = getattr(line, side).deal_ids
    if not ids:
        return []
    return list(db.session.scalars(select(Deal).where(Deal.id.in_(ids)).order_by(Deal.id)))


def per_partner(lines: list[Line]) -> list[tuple[str, int, int]]:
    """(partner, deals it brought, deals it was brought) over the lines' quarters, by partner name."""
    totals: dict[tuple[str, int], list[set[int]]] = {}
    for line in lines:
        brought, given = totals.setdefault((line.partner_name, line.partner_id), [set(), set()])
        brought |= line.brought.deal_ids
        given |= line.given.deal_ids
    return [(name, len(b), len(g)) for (name, _), (b, g) in sorted(totals.items())]
