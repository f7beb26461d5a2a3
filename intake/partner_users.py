"""Partner users: the channel manager invites a partner's contacts; they sign in by a one-time link.

A sign-in link is a random 256-bit token mailed to the partner user; only its hash is kept. It
works for PARTNER_SIGN_IN_MINUTES, once, and only for that user. Asking for one gives the same
answer whether the address is known or not (nothing is sent for an unknown or deactivated one),
and asking is limited per address and per email. Opening the link changes nothing (mail scanners
open links): signing in is the button's POST.
"""

import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app, render_template
from sqlalchemy import delete, func, select, update

from . import audit
from .errors import FieldErrors, Gone
from .extensions import db
from .mail import outbox
from .models import Partner, PartnerUser, SignInLink, SignInRequest, User
from .tokens import hash_token

ASKING_WINDOW = timedelta(minutes=15)


class AskingTooOften(Exception):
    """Too many sign-in links asked for, from this address or for this email, lately."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def invite(partner: Partner, *, name: str, email: str, actor: User) -> PartnerUser:
    """Add a contact of this partner who may sign in to the partner portal."""
    email = normalise_email(email)
    name = name.strip()
    errors = {}
    if not name:
        errors["name"] = "Enter the contact's name."
    if db.session.scalar(select(PartnerUser.id).where(PartnerUser.email == email)) is not None:
        errors["email"] = "This address already signs in for a partner."
    elif db.session.scalar(select(User.id).where(User.email == email)) is not None:
        errors["email"] = "This address belongs to a member of staff; a partner user needs their own."
    if errors:
        raise FieldErrors(errors)
    user = PartnerUser(partner=partner, name=name, email=email)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "partner", partner.id, "partner user invited", {"partner user": [None, email]})
    return user


def invite_contact(partner: Partner, *, actor: User) -> PartnerUser | None:
    """Make a new partner's contact its first partner user, unless that address already signs in elsewhere."""
    if not partner.contact_email:
        return None
    try:
        with db.session.begin_nested():
            return invite(partner, name=partner.contact_name or partner.name, email=partner.contact_email, actor=actor)
    except FieldErrors:
        return None


def set_active(user: PartnerUser, active: bool, *, actor: User) -> None:
    """Deactivate (every session ends, no link works) or reactivate a partner user."""
    if user.is_active == active:
        return
    user.is_active = active
    if not active:
        user.end_sessions()
    audit.record(
        actor,
        "partner",
        user.partner_id,
        "partner user activated" if active else "partner user deactivated",
        {"partner user": [None, user.email]},
    )


def _asked_lately(condition, since: datetime) -> int:
    return db.session.scalar(select(func.count()).where(condition, SignInRequest.at >= since))


def ask_for_link(email: str, *, address: str, now: datetime | None = None) -> None:
    """Mail a sign-in link to this address if it is an active partner user's; say nothing either way.

    Raises AskingTooOften past the limits, whoever the address belongs to.
    """
    now = now or datetime.now(UTC)
    email = normalise_email(email)
    since = now - ASKING_WINDOW
    if (
        _asked_lately(SignInRequest.email == email, since) >= current_app.config["SIGN_IN_LINKS_PER_EMAIL"]
        or _asked_lately(SignInRequest.address == address, since) >= current_app.config["SIGN_IN_LINKS_PER_ADDRESS"]
    ):
        raise AskingTooOften()
    db.session.add(SignInRequest(email=email, address=address[:64], at=now))
    db.session.execute(delete(SignInRequest).where(SignInRequest.at < now - 2 * ASKING_WINDOW))
    user = db.session.scalar(select(PartnerUser).where(PartnerUser.email == email))
    if user is None or not user.is_active or not user.partner.is_active:
        return
    token = secrets.token_urlsafe(32)
    minutes = current_app.config["PARTNER_SIGN_IN_MINUTES"]
    expires_at = now + timedelta(minutes=minutes)
    db.session.add(SignInLink(partner_user=user, token_hash=hash_token(token), created_at=now, expires_at=expires_at))
    url = f"{current_app.config['BASE_URL']}/partner/sign-in/{token}"
    context = {"user": user, "url": url, "minutes": minutes, "vendor": current_app.config["VENDOR_NAME"]}
    outbox.enqueue(
        kind="partner_sign_in",
        to=[user.email],
        subject=f"Your sign-in link for {context['vendor']}'s partner portal",
        text=render_template("mail/partner_sign_in.txt", **context),
        html=render_template("mail/partner_sign_in.html", **context),
    )


def link_for(token: str, *, now: datetime | None = None) -> SignInLink | None:
    """The sign-in link this token opens: None when there is none, Gone when it was used or has expired."""
    now = now or datetime.now(UTC)
    if not 20 <= len(token) <= 100:
        return None
    link = db.session.scalar(select(SignInLink).where(SignInLink.token_hash == hash_token(token)))
    if link is None:
        return None
    if link.used_at is not None or link.expires_at <= now or not link.partner_user.is_active:
        raise Gone("This sign-in link has been used or has expired. Ask for a new one.")
    return link


def redeem(token: str, *, now: datetime | None = None) -> PartnerUser | None:
    """Use the link once and return its partner user (None for an unknown token; Gone when spent).

    Two clicks at once: one UPDATE wins, the other is told the link was used.
    """
    now = now or datetime.now(UTC)
    link = link_for(token, now=now)
    if link is None:
        return None
    spent = db.session.execute(
        update(SignInLink).where(SignInLink.id == link.id, SignInLink.used_at.is_(None)).values(used_at=now)
    )
    if spent.rowcount != 1:
        raise Gone("This sign-in link has been used or has expired. Ask for a new one.")
    user = link.partner_user
    user.last_signed_in_at = now
    return user
