"""Deal registration: a partner registers a deal it found, and is told at once whether the account is claimed.

The account is found by the routing engine's keys (registrable domain, normalised company name)
or created. When the account already has an open deal, the partner is told "already registered"
— never by whom — and the new deal waits in the channel manager's conflict queue; otherwise it is
a draft originated by the partner, for the account's rep to take up, or for a rep the channel
manager assigns ("registrations to assign"). Either way it then goes through the lifecycle like
any other deal. The partner's relationship strength is its own statement on the account.

A registration expires after REGISTRATION_EXPIRY_DAYS without its deal's status changing, while
the deal is not yet routed; a reminder goes out REGISTRATION_REMINDER_DAYS before.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pycountry
from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import audit
from ..errors import DomainError, FieldErrors, NotNow
from ..extensions import db
from ..matching import InvalidDomain, normalise_company, normalise_domain, registrable_domain
from ..models import Account, Deal, PartnerRequest, PartnerUser, Registration, Relationship, User
from ..models.types import utcnow
from ..routing.model import STRENGTHS
from ..vocabulary import OPEN_STATUSES
from . import events, lifecycle, notify
from .facts import open_deals_on

# Before routing, a registration waits on the vendor side: this long without progress, it expires.
WAITING = ("draft", "on_hold", "awaiting_customer", "ready_to_route")
REGISTRATION_WINDOW = timedelta(hours=1)
# A registration in "Registrations to assign": still open, and no rep yet.
WAITING_FOR_A_REP = (Deal.rep_id.is_(None), Deal.status.in_(OPEN_STATUSES))


class RegisteringTooOften(DomainError):
    """More registrations from one partner user in the last hour than REGISTRATIONS_PER_HOUR."""

    status = 429


def _today() -> date:
    return datetime.now(UTC).date()


def sent_before(partner_user: PartnerUser, form_key: str) -> Registration | None:
    """The registration this form already made, when it is sent a second time."""
    return db.session.scalar(
        select(Registration).where(Registration.partner_user_id == partner_user.id, Registration.form_key == form_key)
    )


def register(partner_user: PartnerUser, data: dict, *, form_key: str) -> Registration:
    """Register the deal a partner user describes; `clashed` on the result says what the partner is told.

    The form sent twice (a double click, a second tab) finds the first registration.
    """
    # The partner user's row lock first: a second click waits for the first and then finds it;
    # on SQLite it is the database's write lock, so the account is read as it is now.
    db.session.execute(
        update(PartnerUser)
        .where(PartnerUser.id == partner_user.id)
        .values(last_signed_in_at=PartnerUser.last_signed_in_at)
        .execution_options(synchronize_session=False)
    )
    if (first := sent_before(partner_user, form_key)) is not None:
        return first
    since = utcnow() - REGISTRATION_WINDOW
    recent = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.partner_user_id == partner_user.id, Registration.registered_at >= since)
    )
    if recent >= current_app.config["REGISTRATIONS_PER_HOUR"]:
        raise RegisteringTooOften(
            "You have registered many deals in the last hour: please wait a while before registering more."
        )
    values = _checked(data)
    for attempt in range(2):
        try:
            with db.session.begin_nested():
                return _create(partner_user, values, form_key)
        except IntegrityError:
            # Another registration took this domain, or this very form, a moment ago: read it as it is now.
            if (first := sent_before(partner_user, form_key)) is not None:
                return first
            if attempt:
                raise
    raise AssertionError("unreachable")


def _checked(data: dict) -> dict:
    """The registration's answers, cleaned, or FieldErrors naming each one that breaks a rule."""
    errors: dict[str, str] = {}
    values = dict(data)
    for key in ("account_name", "vertical", "contact_name", "contact_email", "contact_phone", "need", "notes"):
        values[key] = (values.get(key) or "").strip()
    values["contact_email"] = values["contact_email"].lower()
    if not values["account_name"]:
        errors["account_name"] = "Enter the customer's company name."
    elif not normalise_company(values["account_name"]):
        errors["account_name"] = "Enter the company's name, not only its legal form."
    try:
        values["domain"] = normalise_domain(values.get("domain") or "")
    except InvalidDomain:
        errors["domain"] = "Enter the customer's web domain, such as example.com."
    if not values.get("country") or pycountry.countries.get(alpha_2=values["country"]) is None:
        errors["country"] = "Choose the customer's country."
    if not values["contact_name"]:
        errors["contact_name"] = "Enter the name of your contact at the customer."
    if not values["need"]:
        errors["need"] = "Describe what the customer needs."
    strength = values.get("strength")
    if strength is None or strength not in STRENGTHS:
        errors["strength"] = "Choose how strong your relationship with the customer is (0 to 5)."
    if values.get("since") is not None and values["since"] > _today():
        errors["since"] = "This date cannot be in the future."
    if values.get("close_date") is not None and values["close_date"] < _today():
        errors["close_date"] = "The expected close cannot be in the past."
    value = values.get("estimated_value")
    if value is not None and not (Decimal(0) <= value <= Decimal(10**11)):
        errors["estimated_value"] = "Between 0 and 100,000,000,000."
    if value is not None and not values.get("currency"):
        errors["currency"] = "Choose the currency of the value."
    if errors:
        raise FieldErrors(errors)
    return values


def _account_for(values: dict) -> Account:
    """The account the registration is for, found as the engine matches accounts, or a new one without an owner.

    An account found is locked, so a second registration for it waits and then sees this one's deal.
    """
    domain_key = registrable_domain(values["domain"])
    name_key = normalise_company(values["account_name"])
    account = db.session.scalar(select(Account).where(Account.domain_key == domain_key).with_for_update())
    if account is None:
        # The same company by name (the engine's conflict rule says so too), preferring one that has no domain yet.
        account = db.session.scalar(
            select(Account)
            .where(Account.name_key == name_key)
            .order_by(Account.domain_key.is_not(None), Account.id)
            .limit(1)
            .with_for_update()
        )
    if account is None:
        account = Account(
            name=values["account_name"],
            name_key=name_key,
            domain=values["domain"],
            domain_key=domain_key,
            country=values["country"],
            vertical=values["vertical"] or None,
        )
        db.session.add(account)
        db.session.flush()
    return account


def _create(partner_user: PartnerUser, values: dict, form_key: str) -> Registration:
    partner = partner_user.partner
    account = _account_for(values)
    # The same check the engine makes when it routes (same registrable domain or company name): an open deal clashes.
    clashes = bool(open_deals_on(account))
    owner = account.owner if account.owner is not None and account.owner.is_active else None
    deal = Deal(
        rep=owner,
        account=account,
        contact_name=values["contact_name"],
        contact_email=values["contact_email"],
        contact_phone=values["contact_phone"],
        originator="partner",
        originator_partner_id=partner.id,
        origin_channel="registration",
        origin_date=_today(),
        pain_other=values["need"],
        solutions=list(values.get("solutions") or []),
        estimated_value=values.get("estimated_value"),
        currency=values.get("currency") or None,
        close_date=values.get("close_date"),
    )
    lifecycle.registered(deal, clashes=clashes, actor=partner_user)
    registration = Registration(
        deal=deal,
        partner=partner,
        partner_user=partner_user,
        form_key=form_key,
        account_name=values["account_name"],
        domain=values["domain"],
        clashed=clashes,
        notes=values["notes"],
    )
    db.session.add(registration)
    _state_strength(partner_user, account, strength=values["strength"], since=values.get("since"))
    db.session.flush()
    notify.registered(registration)
    events.emit("registration.received", deal=deal, registration=registration)
    return registration


def _state_strength(partner_user: PartnerUser, account: Account, *, strength: int, since: date | None) -> Relationship:
    row = Relationship(
        account=account,
        partner_id=partner_user.partner_id,
        strength=strength,
        since=since,
        source="partner",
    )
    db.session.add(row)
    audit.record(
        partner_user,
        "account",
        account.id,
        "relationship stated by a partner",
        {"partner": [None, partner_user.partner.name], "strength": [None, strength]},
    )
    return row


# ---------------------------------------------------------------- the partner's own relationships


def partner_accounts(partner_id: int) -> list[Account]:
    """The accounts a partner works with here: those of the deals it registered or was asked to act on."""
    registered = select(Deal.account_id).join(Registration, Registration.deal_id == Deal.id)
    asked = select(Deal.account_id).join(PartnerRequest, PartnerRequest.deal_id == Deal.id)
    return list(
        db.session.scalars(
            select(Account)
            .where(
                db.or_(
                    Account.id.in_(registered.where(Registration.partner_id == partner_id)),
                    Account.id.in_(asked.where(PartnerRequest.partner_id == partner_id)),
                )
            )
            .order_by(Account.name, Account.id)
        )
    )


def stated_strengths(partner_id: int, accounts: list[Account]) -> dict[int, Relationship]:
    """The partner's latest statement on each of these accounts."""
    rows = db.session.scalars(
        select(Relationship)
        .where(
            Relationship.source == "partner",
            Relationship.partner_id == partner_id,
            Relationship.account_id.in_([a.id for a in accounts]),
        )
        .order_by(Relationship.created_at, Relationship.id)
    )
    return {row.account_id: row for row in rows}


def state_strength(partner_user: PartnerUser, account: Account, *, strength: int | None, since: date | None) -> None:
    """The partner states its relationship with an account it works with; the latest statement counts."""
    errors = {}
    if strength is None or strength not in STRENGTHS:
        errors["strength"] = "Choose how strong your relationship is (0 to 5)."
    if since is not None and since > _today():
        errors["since"] = "This date cannot be in the future."
    if errors:
        raise FieldErrors(errors)
    latest = stated_strengths(partner_user.partner_id, [account]).get(account.id)
    if latest is not None and (latest.strength, latest.since) == (strength, since):
        return  # said already: a second click adds nothing
    _state_strength(partner_user, account, strength=strength, since=since)
    db.session.flush()


# ---------------------------------------------------------------- the vendor side


def to_assign() -> list[Deal]:
    """Registrations waiting for the channel manager to give them a rep, oldest first."""
    return list(
        db.session.scalars(
            select(Deal)
            .join(Registration, Registration.deal_id == Deal.id)
            .where(*WAITING_FOR_A_REP)
            .options(selectinload(Deal.account), selectinload(Deal.registration).selectinload(Registration.partner))
            .order_by(Registration.registered_at, Deal.id)
        )
    )


def waiting_for_a_rep() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Deal)
        .join(Registration, Registration.deal_id == Deal.id)
        .where(*WAITING_FOR_A_REP)
    )


def assign(deal: Deal, rep: User, *, actor: User) -> None:
    """Give a registration waiting for a rep to one; an account without an owner becomes theirs."""
    seen = deal.rep_id
    lifecycle.lock(deal)
    if deal.rep_id is not None:
        if seen is None:
            raise NotNow(f"This registration was given to {deal.rep.name} a moment ago.")
        raise NotNow("This deal already has a rep.")
    if deal.status not in OPEN_STATUSES:
        raise NotNow("This registration is no longer open.")
    if not rep.is_active:
        raise FieldErrors({"rep_id": "Choose an active rep."})
    deal.rep = rep
    if deal.account is not None and deal.account.owner_id is None:
        deal.account.owner = rep
    audit.record(actor, "deal", deal.id, "rep assigned", {"rep": [None, rep.name]})
    db.session.flush()
    notify.registration_assigned(deal)


def sweep(*, now: datetime | None = None) -> tuple[int, int]:
    """Remind of registrations about to expire, and expire those that waited too long. Returns (reminded, expired).

    Safe to run as often as you like, from any number of servers: each is handled under its deal's lock.
    """
    now = now or utcnow()
    days = timedelta(days=current_app.config["REGISTRATION_EXPIRY_DAYS"])
    warn = timedelta(days=current_app.config["REGISTRATION_REMINDER_DAYS"])
    waiting = (
        select(Registration.id)
        .join(Deal, Deal.id == Registration.deal_id)
        .where(Deal.status.in_(WAITING), Registration.expired_at.is_(None))
    )
    reminded = expired = 0
    for registration_id in db.session.scalars(waiting.where(Deal.status_changed_at <= now - days + warn)).all():
        registration = db.session.get(Registration, registration_id)
        deal = registration.deal
        lifecycle.lock(deal)
        if deal.status not in WAITING or registration.expired_at is not None:
            continue
        expires_at = deal.status_changed_at + days
        if expires_at <= now:
            registration.expired_at = now
            lifecycle.expire(deal, reason=f"No progress for {days.days} days after the partner registered it.")
            notify.registration_expired(registration)
            expired += 1
        elif registration.reminded_at is None or registration.reminded_at < deal.status_changed_at:
            registration.reminded_at = now
            notify.registration_reminder(registration, expires_at=expires_at)
            reminded += 1
    return reminded, expired


def stage(deal: Deal) -> str:
    """Where a registered deal stands, as the partner reads it (intake.vocabulary.REGISTRATION_STAGE)."""
    if deal.registration is not None and deal.registration.expired_at is not None:
        return "expired"
    if deal.status == "on_hold" and deal.hold_reason == "conflict":
        return "claimed"
    return {
        "draft": "received",
        "on_hold": "under_review",
        "awaiting_customer": "with_customer",
        "ready_to_route": "with_customer",
        "routed": "routed",
        "accepted": "routed",
        "won": "won",
        "lost": "lost",
        "withdrawn": "not_proceeding",
    }[deal.status]
