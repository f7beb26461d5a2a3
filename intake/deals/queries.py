"""Reading deals: what a user may see, and the rep's list."""

from flask import abort
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..matching import normalise_company
from ..models import Account, AuditEvent, Credit, Deal, OutboxMessage, User


def visible_deals(user: User) -> Select:
    """Deals this user may see: their own, or all for a channel manager."""
    query = select(Deal)
    if not user.is_admin:
        query = query.where(Deal.rep_id == user.id)
    return query


def get_deal_or_404(user: User, deal_id: int, *, with_answers: bool = False) -> Deal:
    """The deal, if this user may see it; another rep's deal is as good as missing.

    With `with_answers`, the account and partner rows come in the same round trip,
    as every questionnaire page needs them for its progress stepper.
    """
    query = visible_deals(user).where(Deal.id == deal_id)
    if with_answers:
        query = query.options(selectinload(Deal.account), selectinload(Deal.landscape))
    deal = db.session.scalar(query)
    if deal is None:
        abort(404)
    return deal


def filtered_deals(
    user: User, *, status: str | None, search: str, rep_id: int | None = None, country: str | None = None
) -> Select:
    """The deals this user may see, by status, account name or domain, rep (for the channel manager) and
    country, most recently changed first."""
    query = visible_deals(user).outerjoin(Deal.account).options(selectinload(Deal.account), selectinload(Deal.rep))
    if status:
        query = query.where(Deal.status == status)
    if rep_id is not None and user.is_admin:
        query = query.where(Deal.rep_id == rep_id)
    if country:
        query = query.where(Account.country == country)
    if search.strip():
        key = normalise_company(search).replace("%", "").replace("_", "")
        term = search.strip().lower().replace("%", "").replace("_", "")
        query = query.where(db.or_(Account.name_key.like(f"%{key}%"), Account.domain.like(f"%{term}%")))
    return query.order_by(Deal.updated_at.desc(), Deal.id.desc())


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


def deal_history(deal: Deal) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == "deal", AuditEvent.entity_id == deal.id)
            .options(selectinload(AuditEvent.actor), selectinload(AuditEvent.partner_user))
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        )
    )


def account_for(account_id: int) -> Account | None:
    return db.session.get(Account, account_id)


def deal_messages(deal: Deal) -> list[OutboxMessage]:
    return list(
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.deal_id == deal.id).order_by(OutboxMessage.id))
    )
