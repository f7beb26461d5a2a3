"""The partner's side of the API, for partner users' tokens: their partner's requests and registrations.

A partner user sees only its own partner's requests and registrations; another partner's are not
found. What a request shows of its deal is the partner's own copy (`audiences.partner_view`): the
customer's statements only with the customer's consent.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal

from flask import abort, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...deals import audiences, partner_requests, partners, registrations
from ...extensions import db
from ...models import Account, Deal, PartnerRequest, Registration
from ..errors import Problem
from . import PARTNER, access_first, acting, blueprint
from . import schemas as s
from .idempotency import HEADER, idempotent

requests_bp = blueprint("requests", PARTNER, "Requests: the deals your partner is asked to lead or fulfil.")
requests_bp.url_part = "/requests"
registrations_bp = blueprint("registrations", PARTNER, "Registrations: deals your partner found and registers.")
registrations_bp.url_part = "/registrations"
relationships_bp = blueprint(
    "relationships", PARTNER, "Relationships: how strong your partner's relationship is with the accounts it works on."
)
relationships_bp.url_part = "/relationships"
BLUEPRINTS = (requests_bp, registrations_bp, relationships_bp)

RequestPage = s.page_of(s.PartnerRequestOut, "PartnerRequestPage")
ALREADY_REGISTERED = (
    "This account already has an open deal with the vendor: your registration goes to the channel manager, "
    "who will be in touch."
)
REGISTERED = "Registered: the vendor's team takes it from here."


def _jsonable(value):
    """A partner's copy of a decision as JSON carries it."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _own_request(request_id: int) -> PartnerRequest:
    found = db.session.get(PartnerRequest, request_id)
    if found is None or found.partner_id != acting().partner_id:
        abort(404)
    return found


def _represent(found: PartnerRequest) -> dict:
    return {
        "id": found.id,
        "deal_id": found.deal_id,
        "state": partner_requests.standing(found),
        "created_at": found.created_at,
        "expires_at": found.expires_at,
        "responded_at": found.responded_at,
        "response": found.response,
        "deal": _jsonable(audiences.partner_view(found.decision, found.partner_id)),
    }


@requests_bp.get("")
@requests_bp.arguments(s.ListArgs, location="query")
@requests_bp.response(200, RequestPage)
def requests(args):
    """Your partner's requests, newest first."""
    query = select(PartnerRequest).where(PartnerRequest.partner_id == acting().partner_id)
    if args.get("cursor"):
        try:
            query = query.where(PartnerRequest.id < int(args["cursor"]))
        except ValueError:
            raise Problem(
                422,
                "validation_failed",
                "This cursor is not one the API gave.",
                errors=[{"field": "cursor", "in": "query", "reason": "Not a cursor from this list."}],
            ) from None
    if args.get("updated_since"):
        query = query.where(PartnerRequest.created_at >= args["updated_since"])
    # Each request shows its decision version and where it stands (its deal's decision in force): read for
    # the whole page, not request by request.
    query = query.options(
        selectinload(PartnerRequest.decision), selectinload(PartnerRequest.deal).selectinload(Deal.decisions)
    )
    found = list(db.session.scalars(query.order_by(PartnerRequest.id.desc()).limit(args["limit"] + 1)))
    more = len(found) > args["limit"]
    found = found[: args["limit"]]
    return {"items": [_represent(r) for r in found], "next_cursor": str(found[-1].id) if more else None}


@requests_bp.get("/<id:request_id>")
@requests_bp.response(200, s.PartnerRequestOut)
def request_detail(request_id: int):
    return _represent(_own_request(request_id))


@requests_bp.post("/<id:request_id>/accept")
@requests_bp.response(200, s.PartnerRequestOut)
def accept(request_id: int):
    """Accept the request; accepting twice changes nothing."""
    found = _own_request(request_id)
    partners.accept(found)
    db.session.commit()
    return _represent(found)


@requests_bp.post("/<id:request_id>/decline")
@access_first(_own_request)
@requests_bp.arguments(s.DeclineIn)
@requests_bp.response(200, s.PartnerRequestOut)
def decline(data, request_id: int):
    """Decline with a reason: the deal goes back to routing, and your partner is not proposed for it again."""
    found = _own_request(request_id)
    partners.decline(found, reason=data["reason"])
    db.session.commit()
    return _represent(found)


@requests_bp.post("/<id:request_id>/outcome")
@access_first(_own_request)
@requests_bp.arguments(s.CloseIn)
@requests_bp.response(200, s.PartnerRequestOut)
def outcome(data, request_id: int):
    """Record that a deal your partner fulfils was won or lost."""
    found = _own_request(request_id)
    partners.record_outcome(
        found,
        acting(),
        outcome=data["outcome"],
        closed_on=data.get("closed_on"),
        final_value=data.get("final_value"),
        reason=data.get("lost_reason", ""),
    )
    db.session.commit()
    return _represent(found)


def _registration(found: Registration) -> dict:
    return {
        "id": found.id,
        "deal_id": found.deal_id,
        "already_registered": found.clashed,
        "message": ALREADY_REGISTERED if found.clashed else REGISTERED,
        "stage": registrations.stage(found.deal),
        "registered_at": found.registered_at,
    }


@registrations_bp.post("")
@idempotent
@registrations_bp.arguments(s.RegistrationIn)
@registrations_bp.response(201, s.RegistrationOut)
def register(data):
    """Register a deal your partner found. `already_registered` says at once whether the account already has
    an open deal (never whose): then it goes to the channel manager."""
    # The Idempotency-Key, when sent, is also the registration's own key: the same one sent twice is one registration.
    form_key = request.headers.get(HEADER) or secrets.token_urlsafe(24)
    try:
        found = registrations.register(acting(), data, form_key=form_key[:64])
    except registrations.RegisteringTooOften as exc:
        raise Problem(429, "registering_too_often", exc.message, headers={"Retry-After": "3600"}) from None
    return _registration(found), 201


@registrations_bp.get("/<id:registration_id>")
@registrations_bp.response(200, s.RegistrationOut)
def registration(registration_id: int):
    found = db.session.get(Registration, registration_id)
    if found is None or found.partner_id != acting().partner_id:
        abort(404)
    return _registration(found)


def _stated(account: Account, row) -> dict:
    return {
        "account_id": account.id,
        "account": account.name,
        "domain": account.domain,
        "strength": row.strength if row else None,
        "since": row.since if row else None,
        "stated_at": row.created_at if row else None,
    }


def _worked_on(account_id: int) -> Account:
    """One of the accounts the partner works with here; any other is as good as missing."""
    account = next((a for a in registrations.partner_accounts(acting().partner_id) if a.id == account_id), None)
    if account is None:
        abort(404)
    return account


@relationships_bp.get("")
@relationships_bp.response(200, s.StatedRelationshipOut(many=True))
def relationships():
    """The accounts your partner works with here, and the strength it last stated for each."""
    accounts = registrations.partner_accounts(acting().partner_id)
    stated = registrations.stated_strengths(acting().partner_id, accounts)
    return [_stated(account, stated.get(account.id)) for account in accounts]


@relationships_bp.put("/<id:account_id>")
@access_first(_worked_on)
@relationships_bp.arguments(s.StatementIn)
@relationships_bp.response(200, s.StatedRelationshipOut)
def state_relationship(data, account_id: int):
    """State your partner's relationship with an account it works with here; the latest statement counts."""
    account = _worked_on(account_id)
    registrations.state_strength(acting(), account, strength=data["strength"], since=data.get("since"))
    db.session.commit()
    return _stated(account, registrations.stated_strengths(acting().partner_id, [account]).get(account.id))
