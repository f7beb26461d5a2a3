"""Normal forms of domains and company names, so the same account is found however it is typed.

The keys themselves are the routing engine's (`intake.routing.names`), so an account is matched
the same way when it is saved and when a deal is routed; here a domain that does not reduce to a
valid host name is refused, and the host is kept as typed (lower case, no scheme or path) beside
its registrable key.
"""

import re

from .routing.names import company_key, domain_key
from .text import one_line

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TOP_LEVEL = re.compile(r"^(xn--[a-z0-9-]+|[a-z]{2,63})$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")


class InvalidDomain(ValueError):
    pass


def normalise_domain(raw: str) -> str:
    """Return the bare host of a web address: lower case, no scheme, www., port or path; refuse a non-host."""
    text = _SCHEME.sub("", (raw or "").strip().lower())
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    text = text.removeprefix("www.")
    try:
        host = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidDomain("not a valid domain") from None
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InvalidDomain("not a valid domain")
    if not _TOP_LEVEL.match(labels[-1]):
        raise InvalidDomain("not a valid domain")
    return host


def registrable_domain(host: str) -> str:
    """The account's key for a host: its registrable part under the Public Suffix List."""
    return domain_key(host)


def normalise_company(name: str) -> str:
    """Return a company name reduced for matching: case, accents, punctuation, spaces and legal forms ignored."""
    return company_key(name)


def no_partner_named(name: str) -> str:
    """What a person is told when a name they typed is no active partner of ours."""
    return f"No partner of ours is called “{one_line(name.strip(), 80)}”."


def our_partner_named(name: str) -> int | None:
    """The id of the active partner of ours that a typed name means (by the engine's name key), if any.

    Two partners of one key cannot both exist (the channel manager is refused the second), so
    at most one matches.
    """
    from sqlalchemy import select

    from .extensions import db
    from .models import Partner

    key = company_key(name)
    if not key:
        return None
    return db.session.scalar(
        select(Partner.id).where(Partner.name_key == key, Partner.is_active.is_(True)).order_by(Partner.id).limit(1)
    )
