"""Who is told what (PRODUCT.md "Who is told"): queued in the outbox, in the transaction of the change.

Every message to the vendor side or a partner is built from one audience's view of the decision
version (`intake.deals.audiences`); the customer's mail from the customer's context alone, so
routing, credit and commission cannot reach it. PDFs are recipes the worker renders from the
same version's snapshot.
"""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..mail import outbox
from ..mail.attachments import Recipe
from ..models import Deal, Partner, PartnerRequest, Registration, User
from ..models import Decision as Version
from . import audiences, partner_requests


def _admins() -> list[str]:
    return list(
        db.session.scalars(select(User.email).where(User.role == "admin", User.is_active.is_(True)).order_by(User.id))
    )


def vendor_side(deal: Deal) -> list[str]:
    """The rep, and the account's owner when that is someone else; the channel manager for a deal without a rep yet."""
    emails = [deal.rep.email] if deal.rep is not None else _admins()
    owner = deal.account.owner if deal.account else None
    if owner is not None and owner.is_active and owner.email not in emails:
        emails.append(owner.email)
    return emails


def _send(kind: str, to: list[str], template: str, deal: Deal, attachments=(), **context) -> None:
    to = list(dict.fromkeys(address for address in to if address))
    if not to:
        return
    context = {
        "vendor": current_app.config["VENDOR_NAME"],
        "base_url": current_app.config["BASE_URL"],
        "deal": deal,
        **context,
    }
    outbox.enqueue(
        kind=kind,
        to=to,
        subject=render_template(f"mail/{template}.subject.txt", **context).strip(),
        deal_id=deal.id,
        attachments=attachments,
        text=render_template(f"mail/{template}.txt", **context),
        html=render_template(f"mail/{template}.html", **context),
    )


def pdf(version: Version, copy: str) -> Recipe:
    """The summary PDF of one copy of a version (`vendor`, or `partner-<id>`), rendered by the worker."""
    return Recipe("deal_summary", {"decision_id": version.id, "copy": copy})


def decision_recorded(
    deal: Deal,
    version: Version,
    partners: dict[int, Partner],
    requests: dict[int, PartnerRequest],
    *,
    previous: Version | None = None,
) -> None:
    """Queue the messages a new decision version calls for."""
    if previous is not None:
        _roles_withdrawn(deal, previous, version)
    status = version.routing.status
    if status == "routable":
        _routed(deal, version, partners, requests)
    elif status == "needs_alignment":
        _needs_alignment(deal, version, partners)
    else:
        why = "conflict" if "conflict" in version.routing.flags else "fulfilment"
        _send(f"{why}_alert", _admins(), "manager_alert", deal, s=audiences.staff_view(version), why=why)
        # Each party hears only that its deal waits for review, never who else claimed the account.
        _send("hold_notice", vendor_side(deal), "hold_notice", deal)
        finder = partners.get(deal.originator_partner_id) if deal.originator_partner_id else None
        if finder is not None and finder.is_active:
            _send("hold_notice", [finder.contact_email], "hold_notice", deal)


def _routed(deal: Deal, version: Version, partners: dict[int, Partner], requests: dict[int, PartnerRequest]) -> None:
    _send(
        "routed_vendor",
        vendor_side(deal),
        "routed_vendor",
        deal,
        s=audiences.staff_view(version),
        attachments=[pdf(version, "vendor")],
    )
    for partner_id in version.routing.role_partner_ids():
        partner = partners.get(partner_id)
        if partner is None or not partner.contact_email:
            continue
        request = requests.get(partner_id)
        _send(
            "routed_partner",
            [partner.contact_email],
            "routed_partner",
            deal,
            s=audiences.partner_view(version, partner_id),
            request=request,
            url=partner_requests.url(request) if request else None,
            attachments=[pdf(version, f"partner-{partner_id}")],
        )


def _needs_alignment(deal: Deal, version: Version, partners: dict[int, Partner]) -> None:
    """The channel manager, and both the finder and the leader, before anyone contacts the customer."""
    staff = audiences.staff_view(version)
    _send("alignment_alert", _admins(), "manager_alert", deal, s=staff, why="needs_alignment")
    leader = version.routing.leader
    finder_id = deal.originator_partner_id if deal.originator == "partner" else None
    leader_id = leader.partner_id if leader.kind == "partner" else None
    # None is the vendor side: the rep (and the account's owner).
    for partner_id in dict.fromkeys((finder_id, leader_id)):
        if partner_id is None:
            _send("alignment_notice", vendor_side(deal), "alignment_notice", deal, s=staff)
            continue
        partner = partners.get(partner_id)
        if partner is not None and partner.is_active:
            s = audiences.partner_view(version, partner_id)
            _send("alignment_notice", [partner.contact_email], "alignment_notice", deal, s=s)


def _roles_withdrawn(deal: Deal, previous: Version, version: Version) -> None:
    """A partner that had a role in the decision in force and has none in the new one hears so — no more.

    A partner that declined the deal is not told: it gave the role up itself. One that let its time
    pass is told, since it never answered.
    """
    declined, _lapsed = partner_requests.declined_and_lapsed(deal.id)
    gone = set(previous.routing.role_partner_ids()) - set(version.routing.role_partner_ids()) - set(declined)
    for partner_id in sorted(gone):
        partner = db.session.get(Partner, partner_id)
        if partner is not None and partner.is_active:
            _send("role_withdrawn", [partner.contact_email], "role_withdrawn", deal, partner=partner)


def withdrawn(deal: Deal) -> None:
    """The withdrawn deal's rep and partners hear that it was withdrawn — never who else claimed the account.

    Its partners are the one that found it and every partner asked to accept its decision in force.
    """
    _send("withdrawn_notice", vendor_side(deal), "withdrawn_notice", deal)
    partner_ids = [deal.originator_partner_id] if deal.originator == "partner" and deal.originator_partner_id else []
    if deal.decisions:
        partner_ids += [request.partner_id for request in partner_requests.of_decision(deal.decisions[-1])]
    for partner_id in dict.fromkeys(partner_ids):
        partner = db.session.get(Partner, partner_id)
        if partner is not None and partner.is_active:
            _send("withdrawn_notice", [partner.contact_email], "withdrawn_notice", deal)


def partner_answered(request: PartnerRequest, *, accepted: bool) -> None:
    """Tell the vendor side (and, for a decline, the channel manager) what the partner said."""
    deal = request.deal
    to = vendor_side(deal) + ([] if accepted else _admins())
    kind = "partner_accepted" if accepted else "partner_declined"
    _send(kind, to, "partner_answered", deal, request=request, accepted=accepted)


def partner_closed(deal: Deal, partner: Partner) -> None:
    """The vendor side hears that the fulfilling partner recorded the deal won or lost."""
    _send(f"partner_{deal.status}", vendor_side(deal), "partner_closed", deal, partner=partner)


def lapsed(request: PartnerRequest, *, routed_again: bool) -> None:
    """The rep hears that the partner let its time pass and the deal is back to routing."""
    _send(
        "back_to_routing",
        vendor_side(request.deal),
        "back_to_routing",
        request.deal,
        request=request,
        routed_again=routed_again,
    )


def remind(request: PartnerRequest) -> None:
    _send(
        "partner_reminder",
        [request.partner.contact_email],
        "partner_reminder",
        request.deal,
        request=request,
        url=partner_requests.url(request),
        partner=request.partner,
    )


def overdue(request: PartnerRequest, *, recycle: str) -> None:
    _send(
        "partner_overdue",
        _admins(),
        "partner_overdue",
        request.deal,
        request=request,
        partner=request.partner,
        recycle=recycle,
    )


def customer_told(deal: Deal, contact: audiences.Contact, *, previous: audiences.Contact | None) -> None:
    """The customer hears who their one contact is; if it changed, once more, saying so."""
    answer = deal.customer_answer
    email = answer.contact_email if answer and answer.contact_email else deal.contact_email
    if not email:
        return
    language = answer.language if answer else "en"
    context = audiences.customer_context(deal, contact, previous=previous, lang=language)
    template = "customer_contact_changed" if previous else "customer_confirmation"
    with force_locale(language):
        if previous:
            subject = _("%(vendor)s: your contact has changed", vendor=context["vendor"])
        else:
            subject = _("%(vendor)s: your contact for this solution", vendor=context["vendor"])
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)
    outbox.enqueue(kind=template, to=[email], subject=subject, text=text, html=html, deal_id=deal.id)


# ---------------------------------------------------------------- partners' registrations


def _to_registering_partner(registration: Registration, event: str, **context) -> None:
    """The partner user who registered the deal hears of it (in the portal's words: never who else claimed it)."""
    user = registration.partner_user
    if not user.is_active or not registration.partner.is_active:
        return
    base = current_app.config["BASE_URL"]
    _send(
        f"registration_{event}",
        [user.email],
        "registration_partner",
        registration.deal,
        event=event,
        user=user,
        registration=registration,
        portal_url=f"{base}/partner/registrations/{registration.id}",
        **context,
    )


def _to_vendor(registration: Registration, event: str, to: list[str], **context) -> None:
    base = current_app.config["BASE_URL"]
    deal = registration.deal
    url = f"{base}/admin/registrations" if event == "to_assign" else f"{base}/deals/{deal.id}"
    _send(
        f"registration_{event}",
        to,
        "registration_vendor",
        deal,
        event=event,
        partner=registration.partner,
        deal_url=url,
        **context,
    )


def registered(registration: Registration) -> None:
    """The partner hears at once whether the account was free; the vendor side, who takes the deal up."""
    deal = registration.deal
    _to_registering_partner(registration, "claimed" if registration.clashed else "received")
    if registration.clashed:
        _to_vendor(registration, "clash", _admins())
    elif deal.rep is None:
        _to_vendor(registration, "to_assign", _admins())
    else:
        _to_vendor(registration, "for_rep", vendor_side(deal))


def registration_assigned(deal: Deal) -> None:
    _to_vendor(deal.registration, "assigned", [deal.rep.email])


def registration_approved(deal: Deal) -> None:
    """The rep took the registration up (its questionnaire is complete): the partner hears it is approved."""
    _to_registering_partner(deal.registration, "approved")


def registration_reminder(registration: Registration, *, expires_at) -> None:
    _to_registering_partner(registration, "reminder", expires_at=expires_at)
    _to_vendor(registration, "reminder", vendor_side(registration.deal), expires_at=expires_at)


def registration_expired(registration: Registration) -> None:
    days = current_app.config["REGISTRATION_EXPIRY_DAYS"]
    _to_registering_partner(registration, "expired", days=days)
    _to_vendor(registration, "expired", vendor_side(registration.deal), days=days)
