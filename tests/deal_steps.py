"""What a rep, a partner or the channel manager does to a deal, one committed step at a time, through
the services their action goes through: the tests that count what these steps record share them."""

from datetime import date
from decimal import Decimal

from intake.deals import decisions, partner_requests, partners, services
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


def counted_quarter(rep, ready, thames, borealis) -> dict:
    """One quarter with Thames and Borealis, counted by hand:

    - won: we found it, we lead and Thames fulfils; Thames accepts; won at 70,000 → we brought Thames one, won 70,000;
    - brought: Thames found it and leads it; still worked → Thames brought us one, pipeline 50,000;
    - lost: the customer came to us, Thames leads; lost → we brought Thames one, nothing won, no pipeline;
    - declined: the customer came to us, Borealis leads and declines; routed again, we fulfil → nothing for Borealis.
    """
    won = ready(partner=thames, strength=5, contact="vendor", estimated_value=Decimal(70000))
    route(won, rep)
    partners.accept(request_to(won, thames))
    db.session.commit()
    close(won, rep, "won", 70000)

    brought = ready(
        partner=thames,
        strength=5,
        originator="partner",
        originator_partner=thames,
        origin_channel="partner_marketing",
        estimated_value=Decimal(50000),
    )
    route(brought, rep)

    lost = ready(
        partner=thames, strength=4, originator="customer", origin_channel="referral", estimated_value=Decimal(30000)
    )
    route(lost, rep)
    close(lost, rep, "lost", 0)

    declined = ready(partner=borealis, strength=5, originator="customer", origin_channel="referral")
    route(declined, rep)
    partners.decline(request_to(declined, borealis), reason="No capacity this quarter.")
    db.session.commit()
    route(declined, rep)
    return {"won": won, "brought": brought, "lost": lost, "declined": declined}
