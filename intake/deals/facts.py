"""Gather a deal's facts into the routing engine's input.

Loading uses indexed lookups: the account's relationships by relationships.account_id; other
open deals on the same account by accounts.name_key and accounts.domain_key (the engine's keys),
then deals.account_id, each with its latest decision by decisions (deal_id, version), in one
statement; partners by primary key, and partners the customer typed by name by
partners.name_key. When the customer asks us to recommend a
partner (`any_partner`), the few partners a recommendation can name are the first rows of
partner_coverage's index, in the engine's order (see `_recommendable`).

The partners read here are handed on with the facts, so a request that decides, records and
words a decision loads each partner once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import routing
from ..errors import NotNow
from ..extensions import db
from ..models import Account, Deal, Decision, Partner, PartnerCoverage, Relationship
from ..models.partners import ANYWHERE, pair
from ..routing.fulfilment import MAX_RECOMMENDATIONS
from ..routing.names import company_key
from ..vocabulary import OPEN_STATUSES
from . import partner_requests, rules


@dataclass(frozen=True)
class Facts:
    """A deal's facts: the engine's input in its JSON form (as stored with a decision), typed, and the partners read."""

    data: dict
    input: routing.RoutingInput
    partners: dict[int, Partner]


def gather(deal: Deal, *, also: tuple[int, ...] = ()) -> Facts:
    """Read everything the engine needs to decide this deal, as it is now.

    `also` lists partners a person chose to lead or fulfil, so the input knows them too.
    """
    account = deal.account
    if account is None:
        raise NotNow("This deal has no account yet: there is nothing to route.")
    relationships = list(
        db.session.scalars(
            select(Relationship).where(Relationship.account_id == account.id, Relationship.strength.is_not(None))
        )
    )
    answer = deal.customer_answer
    preference = _preference(answer)
    declined, lapsed = partner_requests.declined_and_lapsed(deal.id)
    partners = _partners(deal, relationships, preference, also, excluded={*declined, *lapsed})
    data = {
        "originator": _party(deal.originator, deal.originator_partner_id),
        "vendor_strength": account.vendor_strength or 0,
        "relationships": sorted(
            (_relationship(row, deal) for row in relationships if row.partner_id or row.partner_name.strip()),
            key=lambda r: (r["partner_id"] or 0, r["partner_name"] or "", r["source"], r["stated_at"], r["strength"]),
        ),
        "preference": preference,
        "partners": [_partner(p) for p in sorted(partners.values(), key=lambda p: p.id)],
        "account": {
            "country": account.country,
            "vertical": account.vertical,
            "domain": account.domain,
            "name": account.name,
        },
        "open_deals": _open_deals(deal),
        "declined_partner_ids": declined,
        "lapsed_partner_ids": lapsed,
        "rules": {"threshold": (engine := rules.in_force().engine).threshold, "ties": engine.ties},
    }
    return Facts(data=data, input=routing.parse_input(data), partners=partners)


def _party(kind: str | None, partner_id: int | None) -> dict:
    if kind == "partner" and partner_id is not None:
        return {"kind": "partner", "partner_id": partner_id}
    if kind == "customer":
        return {"kind": "customer"}
    return {"kind": "vendor"}


def _relationship(row: Relationship, deal: Deal) -> dict:
    return {
        "partner_id": row.partner_id,
        "partner_name": None if row.partner_id else row.partner_name.strip(),
        "strength": row.strength,
        "source": row.source,
        "on_this_deal": row.deal_id == deal.id,
        "stated_at": row.created_at.isoformat(),
    }


def _partner(partner: Partner) -> dict:
    return {
        "id": partner.id,
        "name": partner.name,
        "active": partner.is_active,
        "countries": sorted(partner.countries),
        "verticals": sorted(partner.verticals),
        "tier": partner.tier,
    }


def _preference(answer) -> dict | None:
    if answer is None:
        return None
    return {
        "fulfilment": answer.fulfilment,
        "partner_id": answer.fulfilment_partner_id if answer.fulfilment == "partner" else None,
        "partner_name": (answer.fulfilment_partner_name or None) if answer.fulfilment == "partner" else None,
        "contact": answer.contact_preference,
    }


def _partners(
    deal: Deal, relationships: list[Relationship], preference: dict | None, also: tuple[int, ...], excluded: set[int]
) -> dict[int, Partner]:
    ids = {row.partner_id for row in relationships if row.partner_id} | set(also)
    if preference and preference["fulfilment"] == "any_partner":
        ids |= _recommendable(deal.account, excluded)
    ids.update(p for p in (deal.originator_partner_id, preference and preference["partner_id"]) if p)
    typed = {row.partner_name for row in relationships if not row.partner_id and row.partner_name.strip()}
    if preference and preference["partner_name"]:
        typed.add(preference["partner_name"])
    keys = {key for key in map(company_key, typed) if key}
    conditions = []
    if ids:
        conditions.append(Partner.id.in_(ids))
    if keys:
        conditions.append(Partner.name_key.in_(keys))
    if not conditions:
        return {}
    return {p.id: p for p in db.session.scalars(select(Partner).where(db.or_(*conditions)))}


def _recommendable(account: Account, excluded: set[int]) -> set[int]:
    """The partners a recommendation can name: the first MAX_RECOMMENDATIONS eligible ones in the engine's order —
    covering the account's country and serving its vertical, then the country, then the vertical, then anywhere;
    within each, the better tier, then who joined us first.

    Each group is the front of partner_coverage's (kind, value, tier rank, partner) index, which holds active
    partners only: one index read per group, without those found before it, and the next group only while places
    are left. So the eligible partners ranked first are found exactly, whatever the number of partners. Partners
    with a relationship are read besides (`_partners`).
    """
    country = (account.country or "").strip().casefold()
    vertical = (account.vertical or "").strip().casefold()
    groups: list[tuple[str, str]] = []
    if country and vertical:
        groups.append(pair(country, vertical))
    if country:
        groups.append(("country", country))
    if vertical:
        groups.append(("vertical", vertical))
    groups.append(ANYWHERE)
    rows = PartnerCoverage.__table__.c
    found: list[int] = []
    for kind, value in groups:
        query = select(rows.partner_id).where(rows.kind == kind, rows.value == value)
        if passed := excluded | set(found):
            query = query.where(rows.partner_id.not_in(passed))
        query = query.order_by(rows.tier_rank, rows.partner_id).limit(MAX_RECOMMENDATIONS - len(found))
        found += db.session.scalars(query)
        if len(found) >= MAX_RECOMMENDATIONS:
            break
    return set(found)


def _same_account(account: Account):
    """The condition for this account, or another by the engine's keys (registrable domain, company name)."""
    same = [Account.id == account.id]
    if account.name_key:
        same.append(Account.name_key == account.name_key)
    if account.domain_key:
        same.append(Account.domain_key == account.domain_key)
    return db.or_(*same)


def open_deals_on(account: Account, *, besides: int | None = None) -> list[Deal]:
    """The open deals on this account, or on another by the engine's keys (registrable domain, company name)."""
    query = select(Deal).join(Deal.account).where(_same_account(account), Deal.status.in_(OPEN_STATUSES))
    if besides is not None:
        query = query.where(Deal.id != besides)
    return list(db.session.scalars(query.options(selectinload(Deal.account)).order_by(Deal.id)))


def _open_deals(deal: Deal) -> list[dict]:
    """The other open deals on the account, as the engine's conflict rule reads them: one statement, each deal with
    its account's domain and name and its latest decision, not the deals' whole rows and every decision of theirs."""
    latest = (
        select(Decision.output)
        .where(Decision.deal_id == Deal.id)
        .order_by(Decision.version.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(Deal.id, Deal.originator, Deal.originator_partner_id, Account.domain, Account.name, latest)
        .join(Deal.account)
        .where(_same_account(deal.account), Deal.status.in_(OPEN_STATUSES), Deal.id != deal.id)
        .order_by(Deal.id)
    )
    found = []
    for deal_id, originator, originator_partner_id, domain, name, output in db.session.execute(query):
        partner_id = originator_partner_id
        if output is not None:
            decision = routing.parse_decision(output)
            partner_id = next(
                (p.partner_id for p in (decision.fulfilment, decision.leader) if p and p.kind == "partner"), partner_id
            )
        found.append(
            {
                "id": deal_id,
                "account_domain": domain,
                "account_name": name,
                "originator": _party(originator, originator_partner_id),
                "partner_id": partner_id,
            }
        )
    return found
