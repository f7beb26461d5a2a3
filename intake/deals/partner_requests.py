"""Partner requests: the invitation to accept or decline a role on a routed deal, by a signed link.

Only a hash of the link's token is kept. This module makes and finds requests; what answering
one does to the deal is `intake.deals.partners`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from .. import tokens
from ..extensions import db
from ..models import Deal, Decision, Partner, PartnerRequest
from ..models.types import utcnow

PURPOSE = "partner-request"


def ask(deal: Deal, decision: Decision, partner: Partner, *, now: datetime | None = None) -> PartnerRequest:
    """Invite a partner that leads or fulfils to accept or decline, within the configured time."""
    nonce, token_hash = tokens.new_secret(PURPOSE)
    now = now or utcnow()
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


def url(request: PartnerRequest) -> str:
    """The address the partner opens, built on the configured base URL."""
    return f"{current_app.config['BASE_URL']}/r/{tokens.token_from(request.nonce, PURPOSE)}"


def resolve(token: str) -> PartnerRequest | None:
    """The request this token opens, or None."""
    if not tokens.plausible(token):
        return None
    return db.session.scalar(select(PartnerRequest).where(PartnerRequest.token_hash == tokens.hash_token(token)))


# In SQL, what `is_current` says of an unanswered request (join Deal on the request's deal).
AWAITED = (
    PartnerRequest.response.is_(None),
    Deal.status.in_(("routed", "accepted")),
    PartnerRequest.decision_id
    == select(func.max(Decision.id)).where(Decision.deal_id == PartnerRequest.deal_id).scalar_subquery(),
)


def is_current(request: PartnerRequest) -> bool:
    """Whether the request belongs to the decision in force on a deal that is routed or accepted."""
    deal = request.deal
    return (
        bool(deal.decisions) and deal.decisions[-1].id == request.decision_id and deal.status in ("routed", "accepted")
    )


def of_decision(decision: Decision) -> list[PartnerRequest]:
    """The requests a decision made, in the order they were made."""
    return list(
        db.session.scalars(
            select(PartnerRequest).where(PartnerRequest.decision_id == decision.id).order_by(PartnerRequest.id)
        )
    )


def of_deal(deal_id: int) -> list[PartnerRequest]:
    """Every request the deal's decisions made, oldest first."""
    return list(
        db.session.scalars(select(PartnerRequest).where(PartnerRequest.deal_id == deal_id).order_by(PartnerRequest.id))
    )


def declined_and_lapsed(deal_id: int) -> tuple[list[int], list[int]]:
    """The partners that declined the deal, and those that let their time pass: never proposed for it again."""
    rows = db.session.execute(
        select(PartnerRequest.partner_id, PartnerRequest.response).where(
            PartnerRequest.deal_id == deal_id, PartnerRequest.response.in_(("declined", "lapsed"))
        )
    ).all()
    declined = sorted({pid for pid, response in rows if response == "declined"})
    lapsed = sorted({pid for pid, response in rows if response == "lapsed"} - set(declined))
    return declined, lapsed


def standing(request: PartnerRequest, *, now: datetime | None = None) -> str:
    """Where the request stands, as its partner reads it: open, accepted, declined, lapsed, replaced,
    expired, or the deal's end (withdrawn, won, lost)."""
    if request.response:
        return request.response
    if not is_current(request):
        if request.deal.status in ("withdrawn", "won", "lost"):
            return request.deal.status  # the deal ended: no newer request will come
        return "replaced"
    return "expired" if request.expires_at <= (now or utcnow()) else "open"
