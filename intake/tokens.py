"""Personal links: issue one for a deal, show it again to the rep, resolve one to exactly one deal."""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, func, select

from .extensions import db
from .models import CustomerLink, Deal, LinkMiss, User


class LinkGone(Exception):
    """The link existed but can no longer be used (expired or revoked)."""


class Guessing(Exception):
    """The address asked for too many links that do not exist, lately: it is refused for a while."""


def _token(nonce: str, purpose: str = "customer-link") -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"{purpose}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()  # 192 bits


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_hash = hash_token


def new_secret(purpose: str) -> tuple[str, str]:
    """A fresh (nonce, token hash) pair for a link of this purpose; the token itself is not kept."""
    nonce = secrets.token_hex(16)
    return nonce, hash_token(_token(nonce, purpose))


def token_from(nonce: str, purpose: str) -> str:
    """Rebuild a link's token from its nonce and the secret key."""
    return _token(nonce, purpose)


def plausible(token: str) -> bool:
    """Whether a token is shaped like one of ours, before any lookup."""
    return 20 <= len(token) <= 64


def token_for(link: CustomerLink) -> str:
    """The link's token, rebuilt from the secret key; the database never holds it."""
    return _token(link.nonce)


def issue(deal: Deal, *, language: str, actor: User, now: datetime | None = None) -> CustomerLink:
    """Create the deal's link, revoking any earlier one."""
    now = now or datetime.now(UTC)
    for old in db.session.scalars(
        select(CustomerLink).where(CustomerLink.deal_id == deal.id, CustomerLink.revoked_at.is_(None))
    ):
        old.revoked_at = now
    nonce = secrets.token_hex(16)
    link = CustomerLink(
        deal=deal,
        nonce=nonce,
        token_hash=_hash(_token(nonce)),
        language=language,
        created_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(days=current_app.config["LINK_DAYS"]),
    )
    db.session.add(link)
    db.session.flush()
    return link


def current_link(deal: Deal) -> CustomerLink | None:
    """The deal's newest link, whatever its state."""
    return current_links([deal]).get(deal.id)


def current_links(deals: list[Deal]) -> dict[int, CustomerLink]:
    """Each of these deals' newest link, whatever its state, by deal id: one statement for a page of deals
    (a deal has a link or two: issuing one revokes the ones before)."""
    newest: dict[int, CustomerLink] = {}
    if deals:
        ids = [deal.id for deal in deals]
        for link in db.session.scalars(
            select(CustomerLink).where(CustomerLink.deal_id.in_(ids)).order_by(CustomerLink.id)
        ):
            newest[link.deal_id] = link
    return newest


MISSES_REMEMBERED = timedelta(minutes=15)


@cache
def _misses():
    """How many links that do not exist an address asked for lately, as a scalar subquery (parameters: the
    address, and since when). Built once per process, as the statements below that use it."""
    return (
        select(func.count())
        .where(LinkMiss.address == bindparam("address"), LinkMiss.at >= bindparam("since"))
        .scalar_subquery()
    )


@cache
def _link_by_token(reads: Callable[[], tuple] | None):
    """The link by its token's hash with the address's misses, and what `reads` (loader options) asks of its deal.
    Built once per process for each `reads`: building and keying it cost about as much as running it."""
    query = select(CustomerLink, _misses()).where(CustomerLink.token_hash == bindparam("token_hash"))
    return query.options(*reads()) if reads else query


def _too_many(misses: int) -> bool:
    return misses >= current_app.config["LINK_MISSES_PER_ADDRESS"]


def _count_misses(address: str, now: datetime) -> int:
    return db.session.scalar(select(_misses()), {"address": address, "since": now - MISSES_REMEMBERED})


def is_guessing(address: str, now: datetime | None = None) -> bool:
    """Whether this address has asked for too many links that do not exist, lately."""
    return _too_many(_count_misses(address, now or datetime.now(UTC)))


def resolve(
    token: str, *, address: str, now: datetime | None = None, reads: Callable[[], tuple] | None = None
) -> CustomerLink | None:
    """Return the live link for this token, None when there is none, or raise LinkGone; raise Guessing,
    whatever the token, while the address is refused for asking for too many links that do not exist.

    A link that is found comes with the address's misses in the same statement, and with what `reads` (a
    function returning loader options, the same one on every call) asks of its deal. A miss is recorded
    against the address (the caller commits it).
    """
    now = now or datetime.now(UTC)
    found = None
    if plausible(token):
        params = {"token_hash": _hash(token), "address": address, "since": now - MISSES_REMEMBERED}
        found = db.session.execute(_link_by_token(reads), params).unique().first()
    if _too_many(found[1] if found else _count_misses(address, now)):
        raise Guessing()
    if found is None:
        db.session.add(LinkMiss(address=address, at=now))
        return None
    link = found[0]
    if link.revoked_at is not None or link.expires_at <= now:
        raise LinkGone()
    return link
