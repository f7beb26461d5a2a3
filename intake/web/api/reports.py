"""The relationship's memory by API, for the channel manager: the reciprocity ledger and partner scorecards."""

from __future__ import annotations

from decimal import Decimal

from flask import abort
from sqlalchemy import select

from ...deals import ledger, scorecards
from ...extensions import db
from ...models import Partner
from . import STAFF, access_first, admin_only, blueprint
from . import schemas as s

bp = blueprint("reports", STAFF, "The reciprocity ledger and partner scorecards (the channel manager).")
bp.url_part = ""
BLUEPRINTS = (bp,)


def _side(side: ledger.Side, deal_ids: list[int]) -> dict:
    money = lambda values: {currency: float(Decimal(v)) for currency, v in sorted(values.items())}  # noqa: E731
    return {
        "deals": side.count,
        "deal_ids": deal_ids,
        "pipeline": money(side.pipeline),
        "won": money(side.won),
    }


@bp.get("/ledger")
@access_first(admin_only)
@bp.arguments(s.QuarterArgs, location="query")
@bp.response(200, s.LedgerRowOut(many=True))
def reciprocity_ledger(args):
    """Per partner and quarter: the deals the partner brought the vendor (`brought`) and those the vendor
    brought the partner (`received`), with counts, pipeline value and won value by currency."""
    admin_only()
    rows = ledger.lines()
    if args.get("quarter"):
        rows = [line for line in rows if line.quarter == args["quarter"]]
    behind = ledger.deal_ids()
    return [
        {
            "partner_id": line.partner_id,
            "partner": line.partner_name,
            "quarter": line.quarter,
            "brought": _side(line.brought, behind.get((line.partner_id, line.quarter, "brought"), [])),
            "received": _side(line.given, behind.get((line.partner_id, line.quarter, "given"), [])),
        }
        for line in rows
    ]


def _figures(card: scorecards.Scorecard) -> dict:
    return {
        "requests": card.requests,
        "accepted": card.accepted,
        "declined": card.declined,
        "lapsed": card.lapsed,
        "acceptance_rate": card.acceptance_rate,
        "median_hours_to_accept": None
        if card.median_to_accept is None
        else round(card.median_to_accept.total_seconds() / 3600, 2),
        "declines_by_reason": [{"reason": reason, "count": n} for reason, n in card.declines_by_reason],
        "fulfilled_won": card.fulfilled_won,
        "fulfilled_lost": card.fulfilled_lost,
        "win_rate": card.win_rate,
        "customer_strengths": {str(k): v for k, v in sorted(card.customer_strengths.items())},
    }


@bp.get("/scorecards")
@bp.response(200, s.ScorecardOut(many=True))
def partner_scorecards():
    """Each partner's scorecard: requests, acceptance, speed, declines by reason, lapses, win rate and the
    strengths customers stated."""
    admin_only()
    partners = list(db.session.scalars(select(Partner).order_by(Partner.name, Partner.id)))
    cards = scorecards.scorecards([p.id for p in partners])
    return [{"partner_id": p.id, "partner": p.name, "figures": _figures(cards[p.id])} for p in partners]


@bp.get("/scorecards/<id:partner_id>")
@bp.response(200, s.ScorecardOut)
def partner_scorecard(partner_id: int):
    admin_only()
    partner = db.session.get(Partner, partner_id) or abort(404)
    return {"partner_id": partner.id, "partner": partner.name, "figures": _figures(scorecards.scorecard(partner.id))}
