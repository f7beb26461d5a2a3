"""The dashboard: where the deals stand, what waits and for whom, at a glance; the channel manager's whole
pipeline, or a rep's own slice. Each figure is read in one statement, whatever the number of deals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Credit, Deal, OutboxMessage, PartnerRequest, Registration, User
from ..models.types import utcnow
from ..vocabulary import DEAL_STATUS, HOLD_REASON
from . import partner_requests, registrations
from .ledger import quarter_of

# How long deals have waited for the customer's answer, in days: (label, from, to).
AGES = (("up to 3 days", 0, 3), ("4 to 7 days", 4, 7), ("8 to 14 days", 8, 14), ("over 14 days", 15, None))
LIST_LIMIT = 50


@dataclass(frozen=True)
class Scope:
    """Whose deals: a rep's own; for the channel manager every rep's, or one rep's, and one country or all."""

    rep_id: int | None = None
    country: str | None = None

    def apply(self, query: Select) -> Select:
        if self.rep_id is not None:
            query = query.where(Deal.rep_id == self.rep_id)
        if self.country:
            query = query.where(Deal.account.has(country=self.country))
        return query


def scope_for(user: User, *, rep_id: int | None, country: str | None) -> Scope:
    return Scope(rep_id=rep_id if user.is_admin else user.id, country=country)


@dataclass(frozen=True)
class Dashboard:
    by_status: dict[str, int]
    # Routed deals still worked, by who leads and who fulfils: {("partner", "vendor"): 3, …}.
    routes: dict[tuple[str, str], int]
    waiting_by_age: list[tuple[str, int, int | None, int]]  # (label, from days, to days, deals)
    queues: dict[str, tuple[int, datetime | None]]  # hold reason → (deals, waiting since)
    to_assign: tuple[int, datetime | None]
    due: list[PartnerRequest]  # open requests whose deadline is near
    overdue: list[PartnerRequest]
    mail_trouble: dict[str, int]


def build(scope: Scope, *, now: datetime | None = None) -> Dashboard:
    now = now or utcnow()
    by_status = dict(db.session.execute(scope.apply(select(Deal.status, func.count()).group_by(Deal.status))).all())
    return Dashboard(
        by_status={status: by_status.get(status, 0) for status in DEAL_STATUS},
        routes=_routes(scope),
        waiting_by_age=_waiting(scope, now),
        queues=_queues(scope),
        to_assign=_to_assign(scope),
        due=_requests(scope, now, overdue=False),
        overdue=_requests(scope, now, overdue=True),
        mail_trouble=dict(
            db.session.execute(
                select(OutboxMessage.status, func.count())
                .where(OutboxMessage.status.in_(("failed", "dead")))
                .group_by(OutboxMessage.status)
            ).all()
        ),
    )


def _routes(scope: Scope) -> dict[tuple[str, str], int]:
    rows = db.session.execute(
        scope.apply(
            select(Credit.deal_id, Credit.credit, Credit.party)
            .join(Deal, Deal.id == Credit.deal_id)
            .where(
                Credit.in_force.is_(True),
                Credit.outcome.is_(None),
                Credit.credit.in_(("lead", "fulfilment")),
                Deal.status.in_(("routed", "accepted")),
            )
        )
    )
    parties: dict[int, dict[str, str]] = {}
    for deal_id, credit, party in rows:
        parties.setdefault(deal_id, {})[credit] = party
    routes: dict[tuple[str, str], int] = {}
    for held in parties.values():
        key = (held.get("lead", "vendor"), held.get("fulfilment", "none"))
        routes[key] = routes.get(key, 0) + 1
    return routes


ROUTES = (("vendor", "vendor"), ("vendor", "partner"), ("partner", "partner"), ("partner", "vendor"))


def routes_by_quarter(scope: Scope, *, quarters: int = 4) -> list[tuple[str, dict[tuple[str, str], int]]]:
    """Deals routed in each of the last quarters, by who leads and who fulfils, from the credit recorded."""

    rows = db.session.execute(
        scope.apply(
            select(Credit.deal_id, Credit.credit, Credit.party, Credit.decided_at)
            .join(Deal, Deal.id == Credit.deal_id)
            .where(Credit.in_force.is_(True), Credit.credit.in_(("lead", "fulfilment")))
        )
    )
    deals: dict[int, dict] = {}
    for deal_id, credit, party, decided_at in rows:
        held = deals.setdefault(deal_id, {"quarter": quarter_of(decided_at)})
        held[credit] = party
    counts: dict[str, dict[tuple[str, str], int]] = {}
    for held in deals.values():
        route = (held.get("lead", "vendor"), held.get("fulfilment", "vendor"))
        per_quarter = counts.setdefault(held["quarter"], dict.fromkeys(ROUTES, 0))
        if route in per_quarter:
            per_quarter[route] += 1
    return sorted(counts.items())[-quarters:]


def _waiting(scope: Scope, now: datetime) -> list[tuple[str, int, int | None, int]]:
    since = db.session.scalars(
        scope.apply(select(Deal.status_changed_at).where(Deal.status == "awaiting_customer"))
    ).all()
    days = [(now - moment).days for moment in since]
    return [
        (label, low, high, sum(1 for d in days if d >= low and (high is None or d <= high)))
        for label, low, high in AGES
    ]


def _queues(scope: Scope) -> dict[str, tuple[int, datetime | None]]:
    rows = db.session.execute(
        scope.apply(
            select(Deal.hold_reason, func.count(), func.min(Deal.status_changed_at))
            .where(Deal.status == "on_hold")
            .group_by(Deal.hold_reason)
        )
    ).all()
    found = {reason: (count, oldest) for reason, count, oldest in rows}
    return {reason: found.get(reason, (0, None)) for reason in HOLD_REASON}


def _to_assign(scope: Scope) -> tuple[int, datetime | None]:
    if scope.rep_id is not None:
        return (0, None)  # a registration waiting for a rep is nobody's slice yet
    query = (
        select(func.count(), func.min(Registration.registered_at))
        .join(Deal, Deal.id == Registration.deal_id)
        .where(*registrations.WAITING_FOR_A_REP)
    )
    count, oldest = db.session.execute(scope.apply(query)).one()
    return (count, oldest)


def _requests(scope: Scope, now: datetime, *, overdue: bool) -> list[PartnerRequest]:
    near = now + timedelta(hours=current_app.config["PARTNER_REMIND_HOURS"])
    query = (
        select(PartnerRequest)
        .join(Deal, Deal.id == PartnerRequest.deal_id)
        .where(PartnerRequest.response.is_(None), Deal.status.in_(("routed", "accepted")))
        .options(
            selectinload(PartnerRequest.partner),
            selectinload(PartnerRequest.deal).selectinload(Deal.account),
            selectinload(PartnerRequest.deal).selectinload(Deal.decisions),
        )
        .order_by(PartnerRequest.expires_at)
        .limit(LIST_LIMIT)
    )
    if overdue:
        query = query.where(PartnerRequest.expires_at <= now)
    else:
        query = query.where(PartnerRequest.expires_at > now, PartnerRequest.expires_at <= near)
    found = db.session.scalars(scope.apply(query)).all()
    # Only the request of the decision in force counts (a replaced one waits for nothing).
    return [request for request in found if partner_requests.is_current(request)]
