"""The dashboard: where the deals stand, what waits and for whom, at a glance; the channel manager's whole
pipeline, or a rep's own slice. Each figure is read in one statement, whatever the number of deals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased, selectinload

from .. import quarters
from ..extensions import db
from ..models import Credit, Deal, OutboxMessage, PartnerRequest, Registration
from ..models.types import utcnow
from ..vocabulary import DEAL_STATUS, HOLD_REASON
from . import partner_requests, registrations
from .queries import WAITING, Scope

LIST_LIMIT = 50

# The pipeline chart's stages: where the deals started in a quarter stand now.
PIPELINE = (
    ("Not routed yet", ("draft", "awaiting_customer", "ready_to_route", "on_hold")),
    ("With the leader", ("routed", "accepted")),
    ("Won", ("won",)),
    ("Lost", ("lost",)),
    ("Withdrawn", ("withdrawn",)),
)


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


def _route_rows(scope: Scope, conditions, *, by_quarter: bool = False):
    """Deals by who leads and who fulfils under the decision in force, counted in the database: each deal's lead
    credit, with its decision's fulfilment credit beside it (none: the vendor fulfils)."""
    lead, fulfils = aliased(Credit), aliased(Credit)
    fulfiller = func.coalesce(fulfils.party, "vendor")
    keys = [lead.party, fulfiller]
    if by_quarter:
        keys = [func.extract("year", lead.decided_at), func.extract("month", lead.decided_at), *keys]
    query = (
        select(*keys, func.count())
        .select_from(lead)
        .join(Deal, Deal.id == lead.deal_id)
        # A decision's credits are in force or ended together: the lead's decision says it for both.
        .outerjoin(fulfils, and_(fulfils.decision_id == lead.decision_id, fulfils.credit == "fulfilment"))
        .where(lead.credit == "lead", lead.in_force.is_(True), *conditions(lead))
        .group_by(*keys)
    )
    return db.session.execute(scope.apply(query)).all()


def _routes(scope: Scope) -> dict[tuple[str, str], int]:
    rows = _route_rows(scope, lambda lead: (lead.outcome.is_(None), Deal.status.in_(("routed", "accepted"))))
    return {(leader, fulfiller): count for leader, fulfiller, count in rows}


ROUTES = (("vendor", "vendor"), ("vendor", "partner"), ("partner", "partner"), ("partner", "vendor"))


def routes_by_quarter(
    scope: Scope, *, shown: int = 4, now: datetime | None = None
) -> list[tuple[str, dict[tuple[str, str], int]]]:
    """Deals routed in each of the last quarters (those with any), by who leads and who fulfils, from the credit
    recorded; a deal routed again counts in the quarter of its decision in force."""
    first = quarters.start(now or utcnow(), shown - 1)
    counts: dict[str, dict[tuple[str, str], int]] = {}
    for year, month, leader, fulfiller, count in _route_rows(
        scope, lambda lead: (lead.decided_at >= first,), by_quarter=True
    ):
        per_quarter = counts.setdefault(quarters.of_month(int(year), int(month)), dict.fromkeys(ROUTES, 0))
        if (leader, fulfiller) in per_quarter:
            per_quarter[leader, fulfiller] += count
    return sorted(counts.items())


def pipeline_by_quarter(scope: Scope, *, shown: int = 4, now: datetime | None = None) -> list[tuple[str, dict]]:
    """The deals started in each of the last quarters, by where they stand now (PIPELINE's stages), in one
    statement grouped in the database."""
    now = now or utcnow()
    first = quarters.start(now, shown - 1)
    year, month = func.extract("year", Deal.created_at), func.extract("month", Deal.created_at)
    rows = db.session.execute(
        scope.apply(
            select(year, month, Deal.status, func.count())
            .where(Deal.created_at >= first)
            .group_by(year, month, Deal.status)
        )
    )
    stage_of = {status: stage for stage, statuses in PIPELINE for status in statuses}
    counts = {quarters.of(quarters.start(now, back)): {stage: 0 for stage, _ in PIPELINE} for back in range(shown)}
    for y, m, status, count in rows:
        quarter = quarters.of_month(int(y), int(m))
        if quarter in counts:
            counts[quarter][stage_of[status]] += count
    return sorted(counts.items())


def _waiting(scope: Scope, now: datetime) -> list[tuple[str, int, int | None, int]]:
    since = db.session.scalars(
        scope.apply(select(Deal.status_changed_at).where(Deal.status == "awaiting_customer"))
    ).all()
    days = [(now - moment).days for moment in since]
    return [
        (label, low, high, sum(1 for d in days if d >= low and (high is None or d <= high)))
        for label, low, high in WAITING
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


def awaited(
    scope: Scope, *, after: datetime | None = None, until: datetime | None = None, limit: int = LIST_LIMIT
) -> list[PartnerRequest]:
    """Partner answers still awaited on the decision in force, soonest deadline first (passed ones first of all);
    only those due after `after` and by `until`, when given."""
    query = (
        select(PartnerRequest)
        .join(Deal, Deal.id == PartnerRequest.deal_id)
        .where(*partner_requests.AWAITED)
        .options(
            selectinload(PartnerRequest.partner),
            selectinload(PartnerRequest.deal).selectinload(Deal.account),
            selectinload(PartnerRequest.deal).selectinload(Deal.decisions),
            selectinload(PartnerRequest.deal).selectinload(Deal.rep),
        )
        .order_by(PartnerRequest.expires_at, PartnerRequest.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(PartnerRequest.expires_at > after)
    if until is not None:
        query = query.where(PartnerRequest.expires_at <= until)
    # Only the request of the decision in force counts (a replaced one waits for nothing).
    return list(db.session.scalars(scope.apply(query)))


def deadline(request: PartnerRequest, now: datetime) -> str:
    """How near a request's deadline is: overdue, due (within the reminder window) or waiting."""
    if request.expires_at <= now:
        return "overdue"
    near = now + timedelta(hours=current_app.config["PARTNER_REMIND_HOURS"])
    return "due" if request.expires_at <= near else "waiting"


def _requests(scope: Scope, now: datetime, *, overdue: bool) -> list[PartnerRequest]:
    if overdue:
        return awaited(scope, until=now)
    return awaited(scope, after=now, until=now + timedelta(hours=current_app.config["PARTNER_REMIND_HOURS"]))
