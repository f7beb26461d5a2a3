"""The deal summary: one context for the mail and the PDF, per copy (vendor or partner).

What the partner's copy may show is decided here, not in templates: it leaves out the
vendor's internal notes, and the customer's contact details unless the customer consented
to sharing them. Customer-facing mail has its own builder and never sees this context.
"""

from flask import current_app, render_template
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Decision, Document, Partner
from ..models.accounts import STRENGTHS
from ..models.types import utcnow
from ..pdf import render_pdf
from ..web.forms import country_name
from . import routing

COPIES = ("vendor", "partner")
FULFILMENT_WORDS = {
    "partner": "through the partner they named",
    "direct": "directly from the vendor",
    "any_partner": "through a local partner the vendor recommends",
    "no_preference": "no preference",
}
CONTACT_WORDS = {"partner": "the partner", "vendor": "the vendor", "no_preference": "no preference"}


def context(decision: Decision, copy: str) -> dict:
    """Everything the summary shows for this copy of this decision version."""
    if copy not in COPIES:
        raise ValueError(copy)
    deal = decision.deal
    account = deal.account
    output = decision.output
    words = routing.describe(output, routing.partner_names(output))
    answer = deal.customer_answer
    partners = db.session.scalars(select(Partner).where(Partner.id.in_(routing.role_partners(output)))).all()
    shares_contact = copy == "vendor" or (answer is not None and answer.consented_at is not None)
    summary = {
        "copy": copy,
        "vendor": current_app.config["VENDOR_NAME"],
        "deal_id": deal.id,
        "version": decision.version,
        "decided_at": decision.decided_at,
        "account": {
            "name": account.name,
            "domain": account.domain or "",
            "country": country_name(account.country),
            "vertical": account.vertical or "",
            "size": account.size_band or "",
        },
        "need": {
            "pain_points": deal.pain_points,
            "pain_other": deal.pain_other,
            "impact": deal.business_impact,
            "incumbent": deal.incumbent,
            "solutions": deal.solutions,
            "value": f"{deal.estimated_value:,.0f} {deal.currency or ''}".strip()
            if deal.estimated_value is not None
            else "",
            "close_date": deal.close_date.isoformat() if deal.close_date else "",
        },
        "customer_said": None,
        "routing": words,
        "status": output["status"],
        "trace": output["trace"],
        "contacts": [{"side": current_app.config["VENDOR_NAME"], "name": deal.rep.name, "email": deal.rep.email}]
        + [{"side": p.name, "name": p.contact_name, "email": p.contact_email} for p in partners],
        "customer_contact": {
            "name": (answer.contact_name if answer and answer.contact_name else deal.contact_name),
            "title": (answer.contact_title if answer and answer.contact_title else deal.contact_title),
            "email": (answer.contact_email if answer and answer.contact_email else deal.contact_email),
            "phone": (answer.contact_phone if answer and answer.contact_phone else deal.contact_phone),
        }
        if shares_contact
        else None,
        "internal": None,
    }
    if answer is not None:
        summary["customer_said"] = {
            "fulfilment": FULFILMENT_WORDS[answer.fulfilment],
            "reason": answer.fulfilment_reason,
            "contact": CONTACT_WORDS[answer.contact_preference],
            "partners": [
                {"name": r.display_name, "strength": STRENGTHS.get(r.strength, ""), "does": r.does_what}
                for r in deal.customer_relationships
            ],
        }
    if copy == "vendor":
        summary["internal"] = {
            "budget": deal.budget or "",
            "decision_maker": deal.decision_maker,
            "process": deal.decision_process,
            "competitors": deal.competitors,
            "next_step": deal.next_step,
            "rep_partners": [
                {"name": r.display_name, "strength": STRENGTHS.get(r.strength, ""), "notes": r.notes}
                for r in deal.landscape
            ],
        }
    return summary


def build(params: dict) -> tuple[str, str, bytes]:
    """The attachment builder: the stored PDF for (decision, copy), rendered the first time."""
    decision = db.session.get(Decision, int(params["decision_id"]))
    copy = params["copy"]
    document = stored(decision.id, copy)
    if document is None:
        filename = f"deal-{decision.deal_id}-v{decision.version}-{copy}.pdf"
        html = render_template("pdf/deal_summary.html", s=context(decision, copy), generated_at=utcnow())
        document = Document(decision_id=decision.id, copy=copy, filename=filename, data=render_pdf(html))
        try:
            with db.session.begin_nested():
                db.session.add(document)
        except IntegrityError:  # another worker stored it first: use theirs
            document = stored(decision.id, copy)
    return document.filename, "application/pdf", document.data


def stored(decision_id: int, copy: str) -> Document | None:
    return db.session.scalar(select(Document).where(Document.decision_id == decision_id, Document.copy == copy))


def documents_for(decision: Decision) -> list[Document]:
    return list(db.session.scalars(select(Document).where(Document.decision_id == decision.id).order_by(Document.copy)))
