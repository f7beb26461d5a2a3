"""The deal as it was when a decision was recorded, kept with the decision.

Built once, from the decision's own facts and the deal's rows at that moment. The rep's page,
the partner's page, every mail and both PDFs of that version render this snapshot through
`intake.deals.audiences`, so an answer changed afterwards never makes a PDF disagree with its
mail. Plain JSON: codes and numbers, put into words only when shown.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from .. import routing
from ..extensions import db
from ..models import Deal, Partner
from ..models import Decision as Version
from .facts import Facts


def build(deal: Deal, facts: Facts, *decisions: routing.Decision) -> dict[str, Any]:
    """Everything any audience may be shown of these decisions (the one in force, and what the engine
    proposed), as the deal is now."""
    account = deal.account
    answer = deal.customer_answer
    named = set()
    for decision in decisions:
        named |= set(decision.role_partner_ids()) | {r.partner_id for r in decision.recommendations}
    return {
        "deal_id": deal.id,
        "vendor": current_app.config["VENDOR_NAME"],
        "account": {
            "name": account.name,
            "domain": account.domain or "",
            "country": account.country or "",
            "vertical": account.vertical or "",
            "size": account.size_band or "",
        },
        "need": {
            "pain_points": list(deal.pain_points),
            "pain_other": deal.pain_other,
            "impact": deal.business_impact,
            "incumbent": deal.incumbent,
            "solutions": list(deal.solutions),
            "value": f"{deal.estimated_value:,.0f} {deal.currency or ''}".strip()
            if deal.estimated_value is not None
            else "",
            "close_date": deal.close_date.isoformat() if deal.close_date else "",
        },
        "rep": {"name": deal.rep.name, "email": deal.rep.email},
        # Each partner the decision names, with its contact as it was.
        "partners": {
            str(pid): {"name": p.name, "contact_name": p.contact_name, "contact_email": p.contact_email}
            for pid, p in sorted(facts.partners.items())
            if pid in named
        },
        "customer": None if answer is None else _customer(deal, answer),
        "customer_contact": {
            "name": (answer.contact_name if answer and answer.contact_name else deal.contact_name),
            "title": (answer.contact_title if answer and answer.contact_title else deal.contact_title),
            "email": (answer.contact_email if answer and answer.contact_email else deal.contact_email),
            "phone": (answer.contact_phone if answer and answer.contact_phone else deal.contact_phone),
        },
        "internal": {
            "budget": deal.budget or "",
            "decision_maker": deal.decision_maker,
            "process": deal.decision_process,
            "competitors": deal.competitors,
            "next_step": deal.next_step,
            "rep_partners": [
                {"partner_id": r.partner_id, "name": r.display_name, "strength": r.strength, "notes": r.notes}
                for r in deal.landscape
            ],
        },
    }


def _customer(deal: Deal, answer) -> dict[str, Any]:
    return {
        "fulfilment": answer.fulfilment,
        "chosen_partner_id": answer.fulfilment_partner_id if answer.fulfilment == "partner" else None,
        "chosen": answer.fulfilment_partner_label if answer.fulfilment == "partner" else "",
        "reason": answer.fulfilment_reason,
        "contact": answer.contact_preference,
        "consented": answer.consented_at is not None,
        "language": answer.language,
        "partners": [
            {
                "partner_id": r.partner_id,
                "name": r.display_name,
                "strength": r.strength,
                "duration": r.duration,
                "does": r.does_what,
            }
            for r in deal.customer_relationships
        ],
    }


def of(version: Version) -> dict[str, Any]:
    """The version's snapshot; a version decided before snapshots were kept reads the deal as it is now."""
    if version.summary is not None:
        return version.summary
    decisions = [d for d in (version.routing, version.proposed) if d is not None]
    ids = set()
    for decision in decisions:
        ids |= set(decision.role_partner_ids()) | {r.partner_id for r in decision.recommendations}
    partners = {p.id: p for p in db.session.scalars(select(Partner).where(Partner.id.in_(ids)))} if ids else {}
    return build(version.deal, Facts(data=version.input, input=None, partners=partners), *decisions)
