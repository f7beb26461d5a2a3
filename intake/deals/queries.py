"""Reading deals: what a user may see, the filters the deal list and the dashboard share, and the rep's list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, cached_property

from flask import abort
from sqlalchemy import Select, bindparam, func, select, union
from sqlalchemy.orm import aliased, joinedload, load_only, selectinload

from ..extensions import db
from ..matching import normalise_company
from ..models import Account, AuditEvent, Credit, Deal, OutboxMessage, PartnerUser, User
from ..models.types import utcnow
from . import lifecycle

# How long deals have waited for the customer's answer, in days: (label, from, to).
WAITING = (("up to 3 days", 0, 3), ("4 to 7 days", 4, 7), ("8 to 14 days", 8, 14), ("over 14 days", 15, None))


@dataclass(frozen=True)
class Scope:
    """Which deals: one rep's (a rep sees only their own), one country, one partner's (it found the deal or
    holds credit on it), started within a period, or waiting for the customer for so many days."""

    rep_id: int | None = None
    country: str | None = None
    partner_id: int | None = None
    start: date | None = None
    end: date | None = None
    waiting: tuple[int, int | None] | None = None  # days waited for the customer: from, to (None: no end)

    def apply(self, query: Select, *, now: datetime | None = None) -> Select:
        if self.rep_id is not None:
            query = query.where(Deal.rep_id == self.rep_id)
        if self.country:
            query = query.where(Deal.account.has(country=self.country))
        if self.partner_id is not None:
            query = query.where(Deal.id.in_(select(self._partners_deals.c.id)))
        if self.start is not None:
            query = query.where(Deal.created_at >= datetime.combine(self.start, time.min, tzinfo=UTC))
        if self.end is not None:
            query = query.where(Deal.created_at < datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC))
        if self.waiting is not None:
            now = now or utcnow()
            low, high = self.waiting
            query = query.where(Deal.status == "awaiting_customer", Deal.status_changed_at <= now - timedelta(days=low))
            if high is not None:
                query = query.where(Deal.status_changed_at > now - timedelta(days=high + 1))
        return query

    @cached_property
    def _partners_deals(self):
        """The ids of the deals the partner found or holds credit on, read once per statement.

        A test row by row ("found it, or holds credit on it") made SQLite search the partner's credits
        for every deal; as one common table expression, every figure of a dashboard statement reads
        the same list. Aliases of their own, so a query that reads deals or credits itself (the
        dashboard's routes) is not correlated with them.
        """
        found, held = aliased(Deal), aliased(Credit)
        return union(
            select(found.id.label("id")).where(found.originator_partner_id == self.partner_id),
            select(held.deal_id).where(held.partner_id == self.partner_id, held.in_force.is_(True)),
        ).cte("partners_deals")

    def args(self) -> dict:
        """The scope as the query arguments the deal list and the dashboard read back."""
        sent = {
            "rep": self.rep_id,
            "country": self.country,
            "partner": self.partner_id,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "waiting": waiting_key(*self.waiting) if self.waiting else None,
        }
        return {key: value for key, value in sent.items() if value is not None}


def waiting_key(low: int, high: int | None) -> str:
    return f"{low}-{high if high is not None else ''}"


def waiting_range(key: str | None) -> tuple[int, int | None] | None:
    """One of WAITING's ranges from its key ("4-7", "15-"), or None for anything else."""
    return next(((low, high) for _, low, high in WAITING if waiting_key(low, high) == key), None)


def only_deals_of(user: User) -> int | None:
    """Whose deals this user may see: a rep only their own (their id), a channel manager all (None)."""
    return None if user.is_admin else user.id


def scope_for(user: User, **filters) -> Scope:
    """The scope a user asked for; a rep's is always their own deals."""
    if (rep_id := only_deals_of(user)) is not None:
        filters["rep_id"] = rep_id
    return Scope(**filters)


def visible_deals(user: User) -> Select:
    """Deals this user may see: their own, or all for a channel manager."""
    query = select(Deal)
    if (rep_id := only_deals_of(user)) is not None:
        query = query.where(Deal.rep_id == rep_id)
    return query


def get_deal_or_404(
    user: User, deal_id: int, *, with_answers: bool = False, to_change: bool = False, for_page: bool = False
) -> Deal:
    """The deal, if this user may see it; another rep's deal is as good as missing.

    With `with_answers`, the account and partner rows come in the same statement,
    as every questionnaire page needs them for its progress stepper; `for_page` adds the
    partner's registration and the customer's answer, which the deal's page shows. With `to_change`,
    the deal's write lock is taken before it is read (see lifecycle), for a request
    that changes it: the change then reads the deal once, by the lock's own statement.
    """
    rep_id = only_deals_of(user)
    if to_change:
        locked = lifecycle.lock_before_reading(deal_id, rep_id=rep_id)
        if locked is None:
            abort(404)
        if not (with_answers or for_page):
            return locked
    of_rep = rep_id is not None
    params = {"deal_id": deal_id, "rep_id": rep_id} if of_rep else {"deal_id": deal_id}
    deal = db.session.execute(_deal_by_id(of_rep, with_answers, for_page), params).unique().scalar_one_or_none()
    if deal is None:
        abort(404)
    return deal


@cache
def _deal_by_id(of_rep: bool, with_answers: bool, for_page: bool) -> Select:
    """The statement get_deal_or_404 runs, built once per process for each of its kinds and run with the ids as
    parameters: building and keying a statement with its loader options cost about as much as running it."""
    query = select(Deal).where(Deal.id == bindparam("deal_id"))
    if of_rep:
        query = query.where(Deal.rep_id == bindparam("rep_id"))
    if with_answers or for_page:
        # One statement: a deal has one account and a handful of partner rows.
        query = query.options(joinedload(Deal.account), joinedload(Deal.landscape))
    if for_page:
        query = query.options(joinedload(Deal.registration), joinedload(Deal.customer_answer))
    return query


def filtered_deals(user: User, *, status: str | None, search: str, scope: Scope | None = None) -> Select:
    """The deals this user may see, by status, account name or domain and scope, most recently changed first."""
    query = visible_deals(user).outerjoin(Deal.account).options(selectinload(Deal.account), selectinload(Deal.rep))
    if status:
        query = query.where(Deal.status == status)
    if scope is not None:
        query = scope_for(user, **_fields(scope)).apply(query)
    if search.strip():
        key = normalise_company(search).replace("%", "").replace("_", "")
        term = search.strip().lower().replace("%", "").replace("_", "")
        query = query.where(db.or_(Account.name_key.like(f"%{key}%"), Account.domain.like(f"%{term}%")))
    return query.order_by(Deal.updated_at.desc(), Deal.id.desc())


def _fields(scope: Scope) -> dict:
    return {name: getattr(scope, name) for name in Scope.__dataclass_fields__}


def deal_list(user: User, *, page: int, **filters):
    return db.paginate(filtered_deals(user, **filters), page=page, per_page=25, error_out=False)


def credits_in_force(deal_ids: list[int]) -> dict[int, list[Credit]]:
    """The credit in force (or closed) of each deal, in one query."""
    found: dict[int, list[Credit]] = {deal_id: [] for deal_id in deal_ids}
    rows = db.session.scalars(
        select(Credit)
        .where(Credit.deal_id.in_(deal_ids), Credit.in_force.is_(True))
        .options(selectinload(Credit.partner))
        .order_by(Credit.deal_id, Credit.id)
    )
    for row in rows:
        found[row.deal_id].append(row)
    return found


# The deal page shows this many of the latest changes: a deal saved a thousand times shows a page, not a book.
HISTORY_SHOWN = 50


@dataclass(frozen=True)
class History:
    events: list[AuditEvent]  # the latest HISTORY_SHOWN, newest first
    total: int


def deal_history(deal: Deal) -> History:
    """The deal's latest changes, newest first, and how many there are in all (the audit trail keeps every one)."""
    about = (AuditEvent.entity == "deal", AuditEvent.entity_id == deal.id)
    events = list(
        db.session.scalars(
            select(AuditEvent)
            .where(*about)
            # Who made each change comes in the same statement: each is one row at most, joined.
            .options(
                joinedload(AuditEvent.actor),
                joinedload(AuditEvent.partner_user).joinedload(PartnerUser.partner),
            )
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(HISTORY_SHOWN)
        )
    )
    total = len(events)
    if total == HISTORY_SHOWN:
        total = db.session.scalar(select(func.count()).select_from(AuditEvent).where(*about))
    return History(events, total)


def account_for(account_id: int) -> Account | None:
    return db.session.get(Account, account_id)


def deal_messages(deal: Deal) -> list[OutboxMessage]:
    """The mail sent about the deal, as its page lists it: subject, recipients and status, not the bodies."""
    shown = (OutboxMessage.subject, OutboxMessage.recipients, OutboxMessage.status)
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.deal_id == deal.id)
            .options(load_only(*shown))
            .order_by(OutboxMessage.id)
        )
    )
