"""Partners answer a routed deal by their signed link: accept, or decline with a reason."""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from .. import audit, tokens
from ..extensions import db
from ..models import PartnerRequest, User
from ..models.types import utcnow
from . import notify


class RequestGone(Exception):
    """The request was answered otherwise, replaced by a newer decision, or its deadline passed."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


def resolve(token: str, *, lock: bool = False) -> PartnerRequest | None:
    """The request this token opens, or None."""
    if not tokens.plausible(token):
        return None
    query = select(PartnerRequest).where(PartnerRequest.token_hash == tokens.hash_token(token))
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def is_current(request: PartnerRequest) -> bool:
    """Whether the request still belongs to the decision in force on a routed deal."""
    deal = request.deal
    return (
        bool(deal.decisions) and deal.decisions[-1].id == request.decision_id and deal.status in ("routed", "accepted")
    )


def _check_open(request: PartnerRequest, now: datetime) -> None:
    if not is_current(request):
        raise RequestGone("replaced")
    if request.expires_at <= now:
        raise RequestGone("expired")


def accept(request: PartnerRequest, *, now: datetime | None = None) -> bool:
    """Accept the deal; accepting twice changes nothing. Return whether this call accepted it."""
    now = now or utcnow()
    if request.response == "accepted":
        return False
    if request.response is not None:
        raise RequestGone(request.response)
    _check_open(request, now)
    request.response, request.responded_at = "accepted", now
    deal = request.deal
    if deal.status == "routed":
        deal.status = "accepted"
    audit.record(
        None,
        "deal",
        deal.id,
        "partner accepted",
        {"partner": [None, request.partner.name], "status": ["routed", deal.status]},
    )
    notify.partner_answered(request, accepted=True)
    return True


def decline(request: PartnerRequest, *, reason: str, now: datetime | None = None) -> None:
    """Decline with a reason: the deal goes back to routing, and this partner is not proposed for it again."""
    now = now or utcnow()
    if request.response == "declined":
        return
    if request.response is not None:
        raise RequestGone(request.response)
    _check_open(request, now)
    request.response, request.responded_at, request.reason = "declined", now, reason.strip()
    _back_to_routing(request, f"{request.partner.name} declined: {reason.strip()}", actor=None)
    notify.partner_answered(request, accepted=False)


def _back_to_routing(request: PartnerRequest, why: str, *, actor: User | None) -> None:
    deal = request.deal
    before = deal.status
    deal.status, deal.hold_reason = "ready_to_route", None
    audit.record(actor, "deal", deal.id, "back to routing", {"status": [before, deal.status], "reason": [None, why]})


def recycle(request: PartnerRequest, *, actor: User, now: datetime | None = None) -> None:
    """After the deadline passed unanswered, the channel manager sends the deal back to routing."""
    now = now or utcnow()
    if request.response is not None or not is_current(request) or request.expires_at > now:
        raise RequestGone("open" if request.expires_at > now else (request.response or "replaced"))
    request.response, request.responded_at = "expired", now
    _back_to_routing(request, f"{request.partner.name} did not answer in time", actor=actor)


def declined_partner_ids(deal_id: int) -> list[int]:
    """Partners that declined the deal or let its deadline pass: never proposed for it again."""
    return sorted(
        set(
            db.session.scalars(
                select(PartnerRequest.partner_id).where(
                    PartnerRequest.deal_id == deal_id, PartnerRequest.response.in_(("declined", "expired"))
                )
            )
        )
    )


def open_requests(deal_id: int) -> list[PartnerRequest]:
    return list(
        db.session.scalars(select(PartnerRequest).where(PartnerRequest.deal_id == deal_id).order_by(PartnerRequest.id))
    )


def sweep(*, now: datetime | None = None) -> tuple[int, int]:
    """Remind partners whose deadline nears, and tell the channel manager of those that passed.

    Returns (reminders, overdue alerts) queued. Safe to run as often as you like.
    """
    now = now or utcnow()
    remind_from = now + timedelta(hours=current_app.config["PARTNER_REMIND_HOURS"])
    unanswered = select(PartnerRequest).where(PartnerRequest.response.is_(None))
    reminders = overdue = 0
    for request in db.session.scalars(
        unanswered.where(
            PartnerRequest.reminded_at.is_(None),
            PartnerRequest.expires_at > now,
            PartnerRequest.expires_at <= remind_from,
        )
    ):
        if is_current(request):
            request.reminded_at = now
            notify.remind(request)
            reminders += 1
    for request in db.session.scalars(
        unanswered.where(PartnerRequest.overdue_alerted_at.is_(None), PartnerRequest.expires_at <= now)
    ):
        if is_current(request):
            request.overdue_alerted_at = now
            notify.overdue(request)
            overdue += 1
    return reminders, overdue
