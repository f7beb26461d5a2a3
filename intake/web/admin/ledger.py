"""The reciprocity ledger: per partner and quarter, what each side brought the other, and the deals behind it."""

import re

from flask import abort, render_template, request
from sqlalchemy import select

from ...deals import ledger, scorecards
from ...extensions import db
from ...models import Partner
from ..inputs import read_id
from . import bp

QUARTER = re.compile(r"^\d{4}-Q[1-4]$")


def _partner_filter() -> int | None:
    """The partner chosen in the filter; nonsense is no filter at all."""
    raw = request.args.get("partner", "")
    try:
        return read_id(raw) if raw else None
    except ValueError:
        return None


@bp.get("/ledger")
def reciprocity_ledger():
    partner_id = _partner_filter()
    partners = db.session.scalars(select(Partner).order_by(Partner.name)).all()
    return render_template(
        "admin/ledger.html", lines=ledger.lines(partner_id=partner_id), partners=partners, chosen=partner_id
    )


@bp.get("/ledger/<id:partner_id>/<quarter>/<side>")
def ledger_deals(partner_id: int, quarter: str, side: str):
    """The deals behind one number of the ledger."""
    partner = db.session.get(Partner, partner_id)
    if partner is None or not QUARTER.match(quarter) or side not in ledger.SIDES:
        abort(404)
    deals = ledger.deals_behind(partner_id, quarter, side)
    return render_template("admin/ledger_deals.html", partner=partner, quarter=quarter, side=side, deals=deals)


@bp.get("/partners/<id:partner_id>/scorecard")
def scorecard(partner_id: int):
    """How a partner answers its requests, how fast, why it declines, how its deals end, how customers rate it."""
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        abort(404)
    return render_template(
        "admin/scorecard.html",
        partner=partner,
        card=scorecards.scorecard(partner_id),
        lines=ledger.lines(partner_id=partner_id),
    )
