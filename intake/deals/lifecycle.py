"""The deal lifecycle of PRODUCT.md: every status transition and its guard, and nothing else sets `status`.

    draft → awaiting_customer → ready_to_route → routed → accepted → won | lost
    with on_hold (conflict, alignment, undecidable fulfilment) and withdrawn beside it;
    a partner's decline or lapse sends the deal back to ready_to_route with the reason.

A partner's registration starts as a draft for the rep to take up (or, when the account already
has an open deal, on hold for the channel manager, who lets it go on as a draft or withdraws it);
one that waits too long without progress is withdrawn as expired.

Concurrency. Every use case that changes a deal starts with `begin(deal, allowed)`: its first
write bumps the deal's `lock_version`, which takes the deal's row lock on PostgreSQL and the
database's write lock on SQLite, then re-reads the deal and checks the guard. Two tabs, a double
click or two servers are thereby applied one after the other, and the second sees what the first
did: it is refused with a clear message (`ChangedMeanwhile`) or finds nothing left to do — never a
duplicate, never a 5xx. A request that knows it will change the deal takes the lock before it reads
the deal at all (`lock_before_reading`): what it reads is then current, and `begin` reads nothing again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache

from sqlalchemy import bindparam, delete, update
from sqlalchemy.orm.exc import ObjectDeletedError

from .. import audit
from ..errors import ChangedMeanwhile, FieldErrors, Gone, NotNow
from ..extensions import db
from ..models import Deal, Relationship, User
from ..routing import Decision as Routing
from ..vocabulary import JUST_HAPPENED
from . import credit, events

EDITABLE = ("draft", "awaiting_customer")
# The customer answers, the rep links and routes, while the deal waits for routing.
ROUTABLE = ("awaiting_customer", "ready_to_route")
# A channel manager may decide in place of the engine on any deal still being worked.
DECIDABLE = ("awaiting_customer", "ready_to_route", "routed", "accepted", "on_hold")
CLOSABLE = ("routed", "accepted")
OUTCOMES = ("won", "lost")


def _take_lock(*conditions) -> int:
    """Bump lock_version of the deal the conditions select: its row lock (PostgreSQL), the write lock (SQLite)."""
    result = db.session.execute(
        update(Deal)
        .where(*conditions)
        .values(lock_version=Deal.lock_version + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def _held(deal_id: int) -> bool:
    """Whether this transaction took the deal's lock before reading it (so what it read is current)."""
    transaction, ids = db.session.info.get("deals_locked_before_reading", (None, ()))
    return transaction is db.session().get_transaction() and deal_id in ids


@cache
def _lock_and_read(of_rep: bool):
    """The statement that takes a deal's lock and reads it, for any deal or one rep's: built once per process
    and run with the ids as parameters (building and keying it cost about as much as running it)."""
    statement = update(Deal).where(Deal.id == bindparam("locked_id"))
    if of_rep:
        statement = statement.where(Deal.rep_id == bindparam("of_rep"))
    return (
        statement.values(lock_version=Deal.lock_version + 1)
        .returning(Deal)
        .execution_options(synchronize_session=False, populate_existing=True)
    )


def lock_before_reading(deal_id: int, *, rep_id: int | None = None) -> Deal | None:
    """Take the deal's write lock before the deal is read in this transaction, and return the deal as the
    same statement read it (UPDATE … RETURNING); None when no deal matches (with `rep_id`, only that rep's
    deal matches). `lock` and `begin` then read nothing again."""
    params = {"locked_id": deal_id} if rep_id is None else {"locked_id": deal_id, "of_rep": rep_id}
    deal = db.session.scalars(_lock_and_read(rep_id is not None), params).one_or_none()
    if deal is None:
        return None
    transaction, ids = db.session.info.get("deals_locked_before_reading", (None, set()))
    if transaction is not db.session().get_transaction():
        ids = set()
    ids.add(deal_id)
    db.session.info["deals_locked_before_reading"] = (db.session().get_transaction(), ids)
    return deal


def lock(deal: Deal) -> str:
    """Take the deal's write lock for the rest of the transaction and re-read it; return its status then.

    Everything read before the lock may be stale, so the session forgets it and reads it again — unless the lock
    was taken before the deal was read (`lock_before_reading`).
    """
    if _held(deal.id):
        return deal.status
    _take_lock(Deal.id == deal.id)
    db.session.expire_all()
    try:
        return deal.status
    except ObjectDeletedError:
        raise Gone("This draft was discarded a moment ago.") from None


def begin(deal: Deal, allowed: tuple[str, ...], refusal: str, *, done: tuple[str, ...] = ()) -> None:
    """Take the deal's write lock, re-read it, and refuse unless its status is one of `allowed`.

    `refusal` says why the action does not fit the deal as it is. A deal that changed since the
    caller loaded it is refused with what happened instead, and so is one already where the
    action would take it (`done`): the second of a double click may be read after the first was
    saved.
    """
    seen = deal.status
    status = lock(deal)
    if status in allowed:
        return
    if status != seen and status in JUST_HAPPENED:
        raise ChangedMeanwhile(f"This deal was {JUST_HAPPENED.word(status)} a moment ago.")
    if status in done:
        raise ChangedMeanwhile(f"This deal has already been {JUST_HAPPENED.word(status)}.")
    raise NotNow(refusal)


def _set(deal: Deal, status: str) -> None:
    deal.status = status
    deal.status_changed_at = deal.updated_at = datetime.now(UTC)


def _move(deal: Deal, status: str, actor, action: str, **changes) -> None:
    before = deal.status
    _set(deal, status)
    audit.record(actor, "deal", deal.id, action, {"status": [before, status], **changes})


def start(*, rep: User) -> Deal:
    """A new deal begins as the rep's draft."""
    deal = Deal(rep=rep, status="draft")
    db.session.add(deal)
    db.session.flush()
    return deal


def registered(deal: Deal, *, clashes: bool, actor) -> None:
    """A partner registered this deal (added as a draft by the caller): it stays a draft for the rep,
    or waits on hold for the channel manager when the account already has an open deal."""
    deal.status = "draft"
    deal.status_changed_at = datetime.now(UTC)
    db.session.add(deal)
    db.session.flush()
    if clashes:
        deal.hold_reason = "conflict"
        _move(deal, "on_hold", actor, "registered by a partner", hold_reason=[None, "conflict"])
    else:
        audit.record(actor, "deal", deal.id, "registered by a partner", {"status": [None, "draft"]})


def released(deal: Deal, *, reason: str, actor: User) -> None:
    """on_hold → draft: the channel manager lets a registration held in a conflict go on, for its rep to take up."""
    deal.hold_reason = None
    _move(deal, "draft", actor, "registration goes on", reason=[None, reason])


def expire(deal: Deal, *, reason: str) -> None:
    """A registration that waited too long without progress is withdrawn; its finder keeps origination credit."""
    deal.hold_reason = None
    _move(deal, "withdrawn", None, "registration expired", reason=[None, reason], origination=[None, "credit kept"])


def complete(deal: Deal, *, actor: User) -> None:
    """draft → awaiting_customer, once every required answer is in (the caller checked them)."""
    deal.completed_at = datetime.now(UTC)
    _move(deal, "awaiting_customer", actor, "completed")


def discard(deal: Deal, *, actor: User) -> None:
    """Delete a draft and the relationships its questionnaire recorded; the history keeps that it was."""
    audit.record(actor, "deal", deal.id, "draft discarded", {"status": ["draft", None]})
    db.session.execute(delete(Relationship).where(Relationship.deal_id == deal.id))
    db.session.delete(deal)
    db.session.flush()


def customer_answered(deal: Deal) -> dict:
    """awaiting_customer → ready_to_route on the customer's first answer; the change, if any, for the history."""
    if deal.status != "awaiting_customer":
        return {}
    _set(deal, "ready_to_route")
    return {"status": ["awaiting_customer", "ready_to_route"]}


def decided(deal: Deal, decision: Routing, *, actor: User | None, kind: str, version: int, reason: str = "") -> None:
    """A decision was recorded: routable → routed; otherwise on_hold, with why it waits."""
    if decision.status == "routable":
        status, hold = "routed", None
    elif "conflict" in decision.flags:
        status, hold = "on_hold", "conflict"
    elif decision.status == "needs_alignment":
        status, hold = "on_hold", "needs_alignment"
    else:
        status, hold = "on_hold", "fulfilment"
    deal.hold_reason = hold
    deal.returned_reason = ""
    changes = {"version": [None, version], "hold_reason": [None, hold]} if hold else {"version": [None, version]}
    if reason:
        changes["reason"] = [None, reason]
    _move(deal, status, actor, f"routed ({kind})", **changes)
    event = {None: "deal.routed", "conflict": "deal.conflict", "needs_alignment": "deal.needs_alignment"}.get(hold)
    if event is not None:  # a fulfilment the rules cannot decide is the channel manager's alone
        events.emit(event, deal=deal)


def accepted(deal: Deal, *, partner_name: str) -> None:
    """routed → accepted: every partner asked to lead or fulfil has accepted."""
    _move(deal, "accepted", None, "partner accepted", partner=[None, partner_name])
    events.emit("deal.accepted", deal=deal)


def back_to_routing(deal: Deal, *, reason: str, actor: User | None) -> None:
    """routed or accepted → ready_to_route, with the reason (a partner declined or let its time pass)."""
    deal.hold_reason = None
    deal.returned_reason = reason
    credit.back_to_routing(deal)
    _move(deal, "ready_to_route", actor, "back to routing", reason=[None, reason])
    events.emit("deal.declined", deal=deal)


def withdraw(deal: Deal, *, kept: Deal, reason: str, actor: User) -> None:
    """An open deal gives way to another on the same account; its finder keeps origination credit."""
    deal.hold_reason = None
    credit.closed(deal, "withdrawn")
    _move(
        deal,
        "withdrawn",
        actor,
        "withdrawn in a conflict",
        kept_deal=[None, kept.id],
        reason=[None, reason],
        origination=[None, "credit kept"],
    )


def close(deal: Deal, *, outcome: str, closed_on: date | None, final_value: Decimal | None, reason: str, actor) -> None:
    """routed or accepted → won or lost, with the date, the final value and, for lost, why."""
    errors = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = "Choose won or lost."
    if closed_on is None:
        errors["closed_on"] = "Give the date it was decided."
    elif closed_on > datetime.now(UTC).date():
        errors["closed_on"] = "The date cannot be in the future."
    elif deal.origin_date and closed_on < deal.origin_date:
        errors["closed_on"] = f"The deal was found on {deal.origin_date.isoformat()}: it cannot be decided before."
    if final_value is None:
        errors["final_value"] = "Give the final value (0 if none)."
    elif final_value < 0:
        errors["final_value"] = "The value cannot be negative."
    reason = (reason or "").strip()
    if outcome == "lost" and not reason:
        errors["lost_reason"] = "Say why it was lost: it is kept with the deal."
    if errors:
        raise FieldErrors(errors)
    deal.closed_on, deal.final_value = closed_on, final_value
    deal.lost_reason = reason if outcome == "lost" else ""
    credit.closed(deal, outcome)
    changes = {"closed_on": [None, closed_on], "final_value": [None, final_value]}
    if outcome == "lost":
        changes["lost_reason"] = [None, reason]
    _move(deal, outcome, actor, f"marked {outcome}", **changes)
    events.emit(f"deal.{outcome}", deal=deal)
