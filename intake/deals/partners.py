"""Partners answer a routed deal: accept, decline with a reason, or let their time to answer pass;
the partner that fulfils it records whether it was won or lost."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ..errors import Gone, NotNow
from ..extensions import db
from ..models import PartnerRequest, PartnerUser, User
from ..models.types import utcnow
from . import customer, decisions, lifecycle, notify, partner_requests, rules, services


class RequestGone(Gone):
    """The request was answered already, replaced by a newer decision, or its time passed.

    `why` is one of accepted, declined, lapsed, replaced, expired, withdrawn, closed.
    """

    def __init__(self, why: str):
        super().__init__(
            {
                "accepted": "You accepted this deal before; that answer stands.",
                "declined": "You declined this deal before; that answer stands.",
                "lapsed": "The time to answer passed and the deal was routed again.",
                "replaced": "The deal was routed again since this request: a newer one has what you need.",
                "expired": "The time to answer this request has passed.",
                "withdrawn": "The channel manager withdrew this deal: another deal for the same account goes ahead.",
                "closed": "This deal is closed.",
            }[why]
        )
        self.why = why
        self.status = 409 if why in ("accepted", "declined") else 410


def _locked(request: PartnerRequest, now: datetime) -> PartnerRequest:
    """Lock the request's deal, read the request again, and refuse one that can no longer be answered."""
    lifecycle.lock(request.deal)
    if request.response is not None:
        raise RequestGone(request.response)
    if not partner_requests.is_current(request):
        raise RequestGone(_ended(request) or "replaced")
    if request.expires_at <= now:
        raise RequestGone("expired")
    return request


def _ended(request: PartnerRequest) -> str | None:
    """How the deal ended, when it did: no newer request will come."""
    status = request.deal.status
    return "withdrawn" if status == "withdrawn" else "closed" if status in ("won", "lost") else None


def accept(request: PartnerRequest, *, now: datetime | None = None) -> bool:
    """Accept the deal; accepting twice changes nothing. Return whether this call accepted it.

    When the accepting partner leads, the customer's contact is settled now; when every partner
    asked has accepted, the deal is accepted.
    """
    now = now or utcnow()
    try:
        request = _locked(request, now)
    except RequestGone as exc:
        if exc.why == "accepted":
            return False
        raise
    request.response, request.responded_at = "accepted", now
    db.session.flush()
    deal = request.deal
    version = deal.decisions[-1]
    asked = partner_requests.of_decision(version)
    if deal.status == "routed" and all(r.response == "accepted" for r in asked):
        lifecycle.accepted(deal, partner_name=request.partner.name)
    notify.partner_answered(request, accepted=True)
    if version.routing.leader.partner_id == request.partner_id and version.routing.leader.kind == "partner":
        customer.settle_contact(deal, version)
    return True


def decline(request: PartnerRequest, *, reason: str, now: datetime | None = None) -> None:
    """Decline with a reason: the deal goes back to routing, and this partner is not proposed for it again."""
    now = now or utcnow()
    reason = (reason or "").strip()
    try:
        request = _locked(request, now)
    except RequestGone as exc:
        if exc.why == "declined":
            return
        raise
    request.response, request.responded_at, request.reason = "declined", now, reason
    lifecycle.back_to_routing(request.deal, reason=f"{request.partner.name} declined: {reason}", actor=None)
    notify.partner_answered(request, accepted=False)


def lapse(request: PartnerRequest, *, actor: User | None, now: datetime | None = None) -> None:
    """The time to answer passed unanswered: the partner counts as lapsed and the deal goes back to routing.

    Under the rules of engagement's automatic recycling, Intake routes the deal again at once,
    without that partner; otherwise the channel manager does, from the deal's page.
    """
    now = now or utcnow()
    lifecycle.lock(request.deal)
    if request.response is not None or not partner_requests.is_current(request):
        raise RequestGone(request.response or "replaced")
    if request.expires_at > now:
        raise NotNow("This partner's time to answer has not passed yet.")
    request.response, request.responded_at = "lapsed", now
    deal = request.deal
    lifecycle.back_to_routing(deal, reason=f"{request.partner.name} let its time to answer pass", actor=actor)
    routed_again = rules.in_force().recycle == "automatic"
    notify.lapsed(request, routed_again=routed_again)
    if routed_again:
        db.session.flush()
        decisions.route_deal(deal, actor=actor)


def sweep(*, now: datetime | None = None) -> tuple[int, int]:
    """Remind partners whose deadline nears; when it has passed, recycle the deal or alert the channel manager.

    Returns (reminders, deadlines passed). Safe to run as often as you like, from any number of servers.
    """
    now = now or utcnow()
    remind_from = now + timedelta(hours=current_app.config["PARTNER_REMIND_HOURS"])
    recycle = rules.in_force().recycle
    unanswered = select(PartnerRequest.id).where(PartnerRequest.response.is_(None))
    reminders = passed = 0
    due = db.session.scalars(
        unanswered.where(
            PartnerRequest.reminded_at.is_(None),
            PartnerRequest.expires_at > now,
            PartnerRequest.expires_at <= remind_from,
        )
    ).all()
    for request_id in due:
        request = db.session.get(PartnerRequest, request_id)
        lifecycle.lock(request.deal)
        if request.reminded_at is None and request.response is None and partner_requests.is_current(request):
            request.reminded_at = now
            notify.remind(request)
            reminders += 1
    late = db.session.scalars(
        unanswered.where(PartnerRequest.overdue_alerted_at.is_(None), PartnerRequest.expires_at <= now)
    ).all()
    for request_id in late:
        request = db.session.get(PartnerRequest, request_id)
        lifecycle.lock(request.deal)
        if request.overdue_alerted_at is not None or request.response is not None:
            continue
        if not partner_requests.is_current(request):
            continue
        request.overdue_alerted_at = now
        notify.overdue(request, recycle=recycle)
        if recycle == "automatic":
            lapse(request, actor=None, now=now)
        passed += 1
    return reminders, passed


def fulfils(request: PartnerRequest) -> bool:
    """Whether this request's partner fulfils the deal under the decision in force (and was asked by it)."""
    deal = request.deal
    version = deal.decisions[-1] if deal.decisions else None
    if version is None or version.id != request.decision_id:
        return False
    fulfiller = version.routing.fulfilment
    return fulfiller is not None and fulfiller.kind == "partner" and fulfiller.partner_id == request.partner_id


def record_outcome(request: PartnerRequest, partner_user: PartnerUser, *, outcome: str, closed_on, final_value, reason):
    """The partner that fulfils the deal records it won (date, value) or lost (date, value, why)."""
    if partner_user.partner_id != request.partner_id:
        raise NotNow("Only the partner that fulfils this deal records whether it was won or lost.")
    lifecycle.lock(request.deal)
    if not fulfils(request):
        raise NotNow("Only the partner that fulfils this deal records whether it was won or lost.")
    services.close_deal(
        request.deal, outcome=outcome, closed_on=closed_on, final_value=final_value, reason=reason, actor=partner_user
    )
    notify.partner_closed(request.deal, request.partner)
