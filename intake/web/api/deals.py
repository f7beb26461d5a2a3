"""Deals by API, for the vendor's staff: the questionnaire, its customer link, routing, and won or lost.

Every change goes through the same services the rep's pages call; a section sent replaces only
the fields it names. A deal's ETag is its version: an update sends it back in `If-Match`, so a
change made meanwhile by someone else is never overwritten silently (412).
"""

from __future__ import annotations

from flask import request, url_for
from sqlalchemy.orm import selectinload

from ... import tokens
from ...deals import audiences, customer, decisions, lifecycle, queries, services
from ...deals.questionnaire import missing_answers
from ...errors import FieldErrors
from ...extensions import db
from ...models import Deal, Decision, Relationship
from ...models.types import utcnow
from ..errors import Problem
from . import STAFF, access_first, acting, blueprint
from . import schemas as s
from .idempotency import idempotent
from .paging import cursor_page

bp = blueprint("deals", STAFF, "Deals: the qualification questionnaire, the customer's link, routing, won or lost.")
bp.url_part = "/deals"
BLUEPRINTS = (bp,)

SECTIONS = ("origin", "need", "qualification")
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "schema": {"type": "string"},
    "description": "The deal's ETag, as read.",
}
IF_MATCH_REQUIRED = {**IF_MATCH, "required": True}
DealPage = s.page_of(s.DealOut, "DealPage")


def etag_of(deal: Deal, version: int | None = None) -> str:
    return f"deal-{deal.id}-{deal.lock_version if version is None else version}"


def _deal(deal_id: int) -> Deal:
    """The deal, if the token's owner may see it: another rep's deal is not found, as on the pages."""
    return queries.get_deal_or_404(acting(), deal_id, with_answers=True)


def _checked_version(deal: Deal, *, required: bool) -> None:
    """Take the deal's lock, then hold the version sent in If-Match against the one the lock found."""
    if not request.if_match:
        if required:
            raise Problem(428, "precondition_required", "Send If-Match with the deal's ETag, as you read it.")
        return
    lifecycle.lock(deal)  # serialises two writers; the version before this lock's own step is the one read
    if not request.if_match.contains(etag_of(deal, deal.lock_version - 1)) and not request.if_match.star_tag:
        raise Problem(
            412, "precondition_failed", "The deal changed since you read it: read it again, then send your change."
        )


def _answered(deal: Deal, status: int = 200):
    """The deal as the staff see it, with its ETag."""
    db.session.refresh(deal)
    return (
        represent(deal),
        status,
        {"ETag": f'"{etag_of(deal)}"', "Location": url_for("api_deals.deal", deal_id=deal.id)},
    )


def represent(deal: Deal, links: dict | None = None) -> dict:
    """The staff's view of a deal, as the API gives it; `links`, when a page of deals was read, their newest
    customer links by deal id (tokens.current_links)."""
    link = links.get(deal.id) if links is not None else tokens.current_link(deal)
    version = decisions.current(deal)
    now = utcnow()
    return {
        "id": deal.id,
        "status": deal.status,
        "hold_reason": deal.hold_reason,
        "returned_reason": deal.returned_reason,
        "rep": deal.rep,
        "account": deal.account,
        "contact": {f: getattr(deal, f) for f in services.CONTACT_FIELDS},
        "origin": {f: _plain(getattr(deal, f)) for f in services.SECTION_FIELDS["origin"]},
        "need": {f: _plain(getattr(deal, f)) for f in services.SECTION_FIELDS["need"]},
        "qualification": {f: _plain(getattr(deal, f)) for f in services.SECTION_FIELDS["qualification"]},
        "landscape": {
            "partners_known": deal.partners_known,
            "partners": s.PartnerRowOut(many=True).dump(deal.landscape),
        },
        "outcome": {
            "closed_on": _plain(deal.closed_on),
            "final_value": _plain(deal.final_value),
            "lost_reason": deal.lost_reason,
        }
        if deal.status in lifecycle.OUTCOMES
        else None,
        "missing": missing_answers(deal) if deal.status in lifecycle.EDITABLE else {},
        "decision": decision_of(version) if version else None,
        "customer_link": link_of(link, now),
        "created_at": deal.created_at,
        "updated_at": deal.updated_at,
        "completed_at": deal.completed_at,
    }


def _plain(value):
    """A value as JSON carries it: dates as ISO dates, amounts as numbers."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is not None and type(value).__name__ == "Decimal":
        return float(value)
    return value


def decision_of(version) -> dict:
    return {
        **audiences.staff_summary(version),
        "kind": version.kind,
        "reason": version.reason,
        "decided_at": version.decided_at,
        "decided_by": version.decided_by.name if version.decided_by else None,
        "decision": version.output,
        "input": version.input,
    }


def link_of(link, now) -> dict:
    if link is None:
        return {"state": "none", "url": None}
    state = link.state(now)
    return {
        "state": state,
        "url": customer.link_url(link) if state not in ("expired", "revoked") else None,
        "language": link.language,
        "created_at": link.created_at,
        "expires_at": link.expires_at,
        "opened_at": link.opened_at,
        "answered_at": link.answered_at,
        "revoked_at": link.revoked_at,
    }


# ---------------------------------------------------------------- saving what was sent


def _in_section(section: str, save, *args, **kwargs) -> None:
    """Call a section's service; a rule it states is put on the field the caller sent, named by its path."""
    try:
        save(*args, **kwargs)
    except FieldErrors as exc:
        raise FieldErrors({_path(section, field): reason for field, reason in exc.fields.items()}) from None


def _path(section: str, field: str) -> str:
    if field.startswith("rows-"):
        _, index, name = field.split("-", 2)
        return f"landscape.partners[{index}].{name}"
    if section == "account" and field.startswith("contact_"):
        return f"contact.{field}"
    if section == "account" and field in ("account", "account_id"):
        return field  # the account as a whole (another rep's, read-only here), or the one chosen
    return f"{section}.{field}"


def save_answers(deal: Deal, data: dict) -> None:
    """Save each section the caller sent, in the questionnaire's order, over what the deal holds."""
    actor = acting()
    if "account_id" in data or "account" in data or "contact" in data:
        values = {f: getattr(deal, f) for f in services.CONTACT_FIELDS}
        switching = data.get("account_id") not in (None, deal.account_id)
        if deal.account is not None and not switching:
            values.update({f: getattr(deal.account, f) for f in services.ACCOUNT_FIELDS})
            values["account_id"] = deal.account_id
            if "account" not in data:
                values = {k: v for k, v in values.items() if k not in services.ACCOUNT_FIELDS}
        if switching:
            values["account_id"] = data["account_id"]
        values.update(data.get("account", {}))
        values.update(data.get("contact", {}))
        _in_section("account", services.save_account_section, deal, values, actor=actor)
    for section in SECTIONS:
        if section in data:
            values = {f: getattr(deal, f) for f in services.SECTION_FIELDS[section]}
            values.update(data[section])
            _in_section(section, services.save_section, deal, section, values, actor=actor)
    if "landscape" in data:
        sent = data["landscape"]
        known = sent.get("partners_known", deal.partners_known)
        if "partners" in sent:
            rows = [
                {**row, "partner_id": row.get("partner_id") or (0 if row.get("partner_name") else None)}
                for row in sent["partners"]
            ]
        else:
            rows = [
                {f: getattr(r, f) for f in services.ROW_FIELDS}
                | {"partner_id": r.partner_id or (0 if r.partner_name else None)}
                for r in deal.landscape
            ]
        _in_section("landscape", services.save_landscape, deal, known, rows, actor=actor)


# ---------------------------------------------------------------- the routes


@bp.get("")
@bp.arguments(s.DealListArgs, location="query")
@bp.response(200, DealPage)
def deals(args):
    """The deals the token's owner may see (a rep's own; every deal for the channel manager), by last change."""
    query = queries.visible_deals(acting())
    if args.get("status"):
        query = query.where(Deal.status == args["status"])
    # What each deal shows, read for the whole page in a statement per kind, not per deal.
    query = query.options(
        selectinload(Deal.account),
        selectinload(Deal.rep),
        selectinload(Deal.landscape).selectinload(Relationship.partner),
        selectinload(Deal.decisions).selectinload(Decision.decided_by),
    )
    found, next_cursor = cursor_page(query, Deal, args)
    links = tokens.current_links(found)
    return {"items": [represent(deal, links) for deal in found], "next_cursor": next_cursor}


@bp.post("")
@idempotent
@bp.arguments(s.DealIn)
@bp.response(201, s.DealOut)
@bp.doc(description="Start a qualification with any of its answers; the token's owner is its rep.")
def create_deal(data):
    deal = services.start_deal(rep=acting())
    save_answers(deal, data)
    return _answered(deal, 201)


@bp.get("/<id:deal_id>")
@bp.response(200, s.DealOut, headers={"ETag": {"schema": {"type": "string"}}})
def deal(deal_id: int):
    return _answered(_deal(deal_id))


@bp.patch("/<id:deal_id>")
@access_first(_deal)
@bp.arguments(s.DealIn)
@bp.response(200, s.DealOut)
@bp.alt_response(412, response="PRECONDITION_FAILED")
@bp.alt_response(428, response="PRECONDITION_REQUIRED")
@bp.doc(parameters=[IF_MATCH_REQUIRED])
def update_deal(data, deal_id: int):
    """Change a draft's (or a deal awaiting its customer's) answers: only the fields sent change."""
    deal = _deal(deal_id)
    _checked_version(deal, required=True)
    save_answers(deal, data)
    db.session.commit()
    return _answered(deal)


@bp.post("/<id:deal_id>/complete")
@bp.response(200, s.DealOut)
@bp.alt_response(412, response="PRECONDITION_FAILED")
@bp.doc(parameters=[IF_MATCH])
def complete(deal_id: int):
    """Check every required answer and complete the questionnaire: the deal then awaits its customer."""
    deal = _deal(deal_id)
    _checked_version(deal, required=False)
    try:
        services.complete_deal(deal, actor=acting())
    except services.Incomplete as exc:
        db.session.rollback()
        errors = [
            {"field": f"{section}.{field}", "in": "body", "reason": reason}
            for section, fields in exc.missing.items()
            for field, reason in fields.items()
        ]
        raise Problem(422, "incomplete", "Some required answers are missing.", errors=errors) from None
    db.session.commit()
    return _answered(deal)


@bp.post("/<id:deal_id>/discard")
@bp.response(204)
@bp.doc(parameters=[IF_MATCH])
def discard(deal_id: int):
    """Throw a draft away; a deal under way cannot be discarded."""
    deal = _deal(deal_id)
    _checked_version(deal, required=False)
    services.discard_draft(deal, actor=acting())
    db.session.commit()
    return "", 204


@bp.post("/<id:deal_id>/close")
@access_first(_deal)
@bp.arguments(s.CloseIn)
@bp.response(200, s.DealOut)
@bp.doc(parameters=[IF_MATCH])
def close(data, deal_id: int):
    """Record that a routed deal was won or lost: the date, the final value and, for lost, why."""
    deal = _deal(deal_id)
    _checked_version(deal, required=False)
    services.close_deal(
        deal,
        outcome=data["outcome"],
        closed_on=data.get("closed_on"),
        final_value=data.get("final_value"),
        reason=data.get("lost_reason", ""),
        actor=acting(),
    )
    db.session.commit()
    return _answered(deal)


@bp.get("/<id:deal_id>/customer-link")
@bp.response(200, s.LinkOut)
def customer_link(deal_id: int):
    """The customer's personal link and where it stands: not sent, sent, opened, answered, expired or revoked."""
    deal = _deal(deal_id)
    return link_of(tokens.current_link(deal), utcnow())


@bp.post("/<id:deal_id>/customer-link")
@access_first(_deal)
@idempotent
@bp.arguments(s.LinkIn)
@bp.response(201, s.LinkOut)
def create_customer_link(data, deal_id: int):
    """Issue the customer's link (an earlier one stops working). `url` is for the rep to send; mail it with `/send`."""
    deal = _deal(deal_id)
    link = customer.create_link(deal, language=data["language"], actor=acting())
    return link_of(link, utcnow()), 201


@bp.post("/<id:deal_id>/customer-link/send")
@bp.response(200, s.LinkOut)
def send_customer_link(deal_id: int):
    """Mail the link to the deal's customer contact, in the link's language."""
    deal = _deal(deal_id)
    link = _live_link(deal)
    customer.email_link(link, actor=acting())
    db.session.commit()
    return link_of(link, utcnow())


@bp.delete("/<id:deal_id>/customer-link")
@bp.response(204)
def revoke_customer_link(deal_id: int):
    """Stop the customer's link working at once."""
    deal = _deal(deal_id)
    customer.revoke_link(_live_link(deal), actor=acting())
    db.session.commit()
    return "", 204


def _live_link(deal: Deal):
    link = tokens.current_link(deal)
    if link is None or link.state(utcnow()) in ("expired", "revoked"):
        raise Problem(409, "no_live_link", "This deal has no customer link in force: create one first.")
    return link


@bp.post("/<id:deal_id>/route")
@access_first(_deal)
@bp.arguments(s.RouteIn)
@bp.response(200, s.DealOut)
@bp.doc(parameters=[IF_MATCH])
def route(data, deal_id: int):
    """Route the deal now: the engine decides who leads and who fulfils, and both sides are told."""
    deal = _deal(deal_id)
    _checked_version(deal, required=False)
    decisions.route_deal(deal, actor=acting(), partner_id=data.get("partner_id"))
    db.session.commit()
    return _answered(deal)


@bp.get("/<id:deal_id>/decisions")
@bp.response(200, s.DecisionOut(many=True))
def deal_decisions(deal_id: int):
    """Every version of the deal's routing decision, the first first: versions are added, never edited."""
    deal = _deal(deal_id)
    return [decision_of(version) for version in deal.decisions]
