"""What a rep, a partner or the channel manager does to a deal, one committed step at a time, through
the services their action goes through: the tests that count what these steps record share them."""

from datetime import date
from decimal import Decimal

from intake.deals import decisions, partner_requests, services
from intake.extensions import db


def route(deal, rep):
    """The rep routes the deal; the decision is committed."""
    decisions.route_deal(deal, actor=rep)
    db.session.commit()
    return deal


def request_to(deal, partner=None):
    """The request the decision in force made to this partner (or its first request)."""
    asked = partner_requests.of_decision(deal.decisions[-1])
    return next(r for r in asked if partner is None or r.partner_id == partner.id)


def close(deal, rep, outcome: str, value) -> None:
    """The rep records the deal won or lost, today, at this final value."""
    services.close_deal(
        deal,
        outcome=outcome,
        closed_on=date.today(),
        final_value=Decimal(value),
        reason="They chose a competitor." if outcome == "lost" else "",
        actor=rep,
    )
    db.session.commit()
