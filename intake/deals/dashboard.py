"""The dashboard: where the deals stand, what waits and for whom, at a glance; the channel manager's whole
pipeline, or a rep's own slice. Each figure is read in one statement, whatever the number of deals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import quarters
from ..extensions import db
from ..models import Deal, OutboxMessage, PartnerRequest, Registration
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


def _counted(scope: Scope, cells: dict) -> dict:
    """The deals of each cell (a key and its conditions on the deal), all counted in one statement.

    Each cell is a count of its own over a range of one index (the deals' indexes on status and a date, or on
    the route): counting a range costs a fraction of grouping every row of it by an expression of its date.
    """
    counts = [
        scope.apply(select(func.count()).select_from(Deal).where(*conditions)).scalar_subquery()
        for conditions in cells.values()
    ]
    return dict(zip(cells, db.session.execute(select(*counts)).one(), strict=True))


ROUTES = (("vendor", "vendor"), ("vendor", "partner"), ("partner", "partner"), ("partner", "vendor"))


def _on(route: tuple[str, str]) -> tuple:
    leader, fulfiller = route
    return (Deal.route_leader == leader, Deal.route_fulfiller == fulfiller)


def _routes(scope: Scope) -> dict[tuple[str, str], int]:
    """Routed deals still worked, by who leads and who fulfils under the decision in force."""
    cells = {route: (Deal.status.in_(("routed", "accepted")), *_on(route)) for route in ROUTES}
    return {route: count for route, count in _counted(scope, cells).items() if count}


def _quarters(now: datetime, shown: int) -> list[tuple[str, datetime, datetime]]:
    """The last `shown` quarters, oldest first: (name, first moment, first moment of the next)."""
    return [
        (quarters.of(quarters.start(now, back)), quarters.start(now, back), quarters.start(now, back - 1))
        for back in range(shown - 1, -1, -1)
    ]


def routes_by_quarter(
    scope: Scope, *, shown: int = 4, now: datetime | None = None
) -> list[tuple[str, dict[tuple[str, str], int]]]:
    """Deals routed in each of the last quarters (those with any), by who leads and who fulfils, from the credit
    in force (the route the deal keeps beside it); a deal routed again counts in the quarter of its decision in
    force."""
    shown_quarters = _quarters(now or utcnow(), shown)
    cells = {
        (quarter, route): (*_on(route), Deal.routed_at >= first, Deal.routed_at < after)
        for quarter, first, after in shown_quarters
        for route in ROUTES
    }
    counts = _counted(scope, cells)
    by_quarter = [(quarter, {route: counts[quarter, route] for route in ROUTES}) for quarter, _, _ in shown_quarters]
    return [(quarter, per_route) for quarter, per_route in by_quarter if any(per_route.values())]


def pipeline_by_quarter(scope: Scope, *, shown: int = 4, now: datetime | None = None) -> list[tuple[str, dict]]:
    """The deals started in each of the last quarters, by where they stand now (PIPELINE's stages), in one
    statement."""
    shown_quarters = _quarters(now or utcnow(), shown)
    cells = {
        (quarter, stage): (Deal.status.in_(statuses), Deal.created_at >= first, Deal.created_at < after)
        for quarter, first, after in shown_quarters
        for stage, statuses in PIPELINE
    }
    counts = _counted(scope, cells)
    return [(quarter, {stage: counts[quarter, stage] for stage, _ in PIPELINE}) for quarter, _, _ in shown_quarters]


def _waiting(scope: Scope, now: datetime) -> list[tuple[str, int, int | None, int]]:
    """The deals awaiting the customer, by how many whole days they have waited (WAITING's ranges), as the deal
    list's `waiting` filter reads them (Scope.apply)."""
    cells = {}
    for label, low, high in WAITING:
        waited = [Deal.status == "awaiting_customer", Deal.status_changed_at <= now - timedelta(days=low)]
        if high is not None:
            waited.append(Deal.status_changed_at > now - timedelta(days=high + 1))
        cells[label, low, high] = waited
    return [(label, low, high, count) for (label, low, high), count in _counted(scope, cells).items()]


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
