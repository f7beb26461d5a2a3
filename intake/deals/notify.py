"""What a routing decision tells whom: queued in the outbox in the decision's own transaction.

Context builders decide what each audience may see. The customer's confirmation is built
from its own small context — the one contact, in the customer's language — and never from
the deal summary, so routing, credit and commission cannot reach it.
"""

from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from .. import tokens
from ..extensions import db
from ..mail import outbox
from ..mail.attachments import Recipe
from ..models import Deal, Decision, Partner, PartnerRequest, User
from ..models.types import utcnow
from . import routing, summary

REQUEST_PURPOSE = "partner-request"


def _admins() -> list[str]:
    return list(db.session.scalars(select(User.email).where(User.role == "admin", User.is_active.is_(True))))


def _vendor_side(deal: Deal) -> list[str]:
    emails = [deal.rep.email]
    owner = deal.account.owner if deal.account else None
    if owner is not None and owner.is_active and owner.email not in emails:
        emails.append(owner.email)
    return emails


def _send(kind: str, to: list[str], template: str, deal: Deal, attachments=(), **context) -> None:
    to = [address for address in to if address]
    if not to:
        return
    context = {
        "vendor": current_app.config["VENDOR_NAME"],
        "base_url": current_app.config["BASE_URL"],
        "deal": deal,
        **context,
    }
    subject = render_template(f"mail/{template}.subject.txt", **context).strip()
    outbox.enqueue(
        kind=kind,
        to=to,
        subject=subject,
        deal_id=deal.id,
        attachments=attachments,
        text=render_template(f"mail/{template}.txt", **context),
        html=render_template(f"mail/{template}.html", **context),
    )


def request_url(request: PartnerRequest) -> str:
    return f"{current_app.config['BASE_URL']}/r/{tokens.token_from(request.nonce, REQUEST_PURPOSE)}"


def _pdf(decision: Decision, copy: str) -> Recipe:
    return Recipe("deal_summary", {"decision_id": decision.id, "copy": copy})


def decision_recorded(deal: Deal, decision: Decision) -> None:
    """Queue the messages a new decision version calls for."""
    output = decision.output
    if output["status"] == "routable":
        _routed(deal, decision)
    elif output["status"] == "needs_alignment":
        vendor_copy = summary.context(decision, "vendor")
        _send("alignment_alert", _admins(), "manager_alert", deal, s=vendor_copy, why="needs_alignment")
        originator = deal.originator_partner
        _send("alignment_notice", _vendor_side(deal), "alignment_notice", deal, s=vendor_copy)
        if originator is not None and originator.is_active:
            _send(
                "alignment_notice",
                [originator.contact_email],
                "alignment_notice",
                deal,
                s=summary.context(decision, "partner"),
            )
    else:
        why = "conflict" if "conflict" in output["flags"] else "fulfilment"
        _send(f"{why}_alert", _admins(), "manager_alert", deal, s=summary.context(decision, "vendor"), why=why)
        # Each party hears only that its deal waits for review, never who else claimed the account.
        _send("hold_notice", _vendor_side(deal), "hold_notice", deal)
        originator = deal.originator_partner
        if originator is not None and originator.is_active:
            _send("hold_notice", [originator.contact_email], "hold_notice", deal)


def _routed(deal: Deal, decision: Decision) -> None:
    output = decision.output
    vendor_copy = summary.context(decision, "vendor")
    _send(
        "routed_vendor",
        _vendor_side(deal),
        "routed_vendor",
        deal,
        s=vendor_copy,
        attachments=[_pdf(decision, "vendor")],
    )
    acting = {p["partner_id"] for p in (output["leader"], output["fulfilment"]) if p and p["kind"] == "partner"}
    partner_copy = None
    for partner_id in routing.role_partners(output):
        partner = db.session.get(Partner, partner_id)
        if partner is None or not partner.contact_email:
            continue
        partner_copy = partner_copy or summary.context(decision, "partner")
        request = _request(deal, decision, partner) if partner_id in acting else None
        _send(
            "routed_partner",
            [partner.contact_email],
            "routed_partner",
            deal,
            s=partner_copy,
            partner=partner,
            request=request,
            url=request_url(request) if request else None,
            attachments=[_pdf(decision, "partner")],
        )
    _confirm_to_customer(deal, decision)


def _request(deal: Deal, decision: Decision, partner: Partner) -> PartnerRequest:
    nonce, token_hash = tokens.new_secret(REQUEST_PURPOSE)
    now = utcnow()
    request = PartnerRequest(
        deal=deal,
        decision=decision,
        partner=partner,
        nonce=nonce,
        token_hash=token_hash,
        created_at=now,
        expires_at=now + timedelta(days=current_app.config["PARTNER_RESPONSE_DAYS"]),
    )
    db.session.add(request)
    db.session.flush()
    return request


def leader_contact(deal: Deal, decision: Decision) -> dict:
    """The one contact the customer hears from: the leader's person."""
    leader = decision.output["leader"]
    if leader["kind"] == "partner":
        partner = db.session.get(Partner, leader["partner_id"])
        if partner is not None:
            return {
                "name": partner.contact_name or partner.name,
                "organisation": partner.name,
                "email": partner.contact_email,
            }
    return {"name": deal.rep.name, "organisation": current_app.config["VENDOR_NAME"], "email": deal.rep.email}


def _confirm_to_customer(deal: Deal, decision: Decision) -> None:
    answer = deal.customer_answer
    email = answer.contact_email if answer and answer.contact_email else deal.contact_email
    if not email:
        return
    link = tokens.current_link(deal)
    language = answer.language if answer else (link.language if link else "en")
    contact = leader_contact(deal, decision)
    vendor = current_app.config["VENDOR_NAME"]
    context = {
        "contact": contact,
        "vendor": vendor,
        "customer_name": (answer.contact_name if answer and answer.contact_name else deal.contact_name),
    }
    with force_locale(language):
        subject = _("%(vendor)s: your contact for this solution", vendor=vendor)
        text = render_template("mail/customer_confirmation.txt", **context)
        html = render_template("mail/customer_confirmation.html", **context)
    outbox.enqueue(kind="customer_confirmation", to=[email], subject=subject, text=text, html=html, deal_id=deal.id)


def partner_answered(request: PartnerRequest, *, accepted: bool) -> None:
    """Tell the vendor side (and, for a decline, the channel manager) what the partner said."""
    deal = request.deal
    to = _vendor_side(deal) + ([] if accepted else _admins())
    _send(
        "partner_accepted" if accepted else "partner_declined",
        list(dict.fromkeys(to)),
        "partner_answered",
        deal,
        request=request,
        accepted=accepted,
    )


def remind(request: PartnerRequest) -> None:
    _send(
        "partner_reminder",
        [request.partner.contact_email],
        "partner_reminder",
        request.deal,
        request=request,
        url=request_url(request),
        partner=request.partner,
    )


def overdue(request: PartnerRequest) -> None:
    _send("partner_overdue", _admins(), "partner_overdue", request.deal, request=request, partner=request.partner)
