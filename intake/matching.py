"""Normal forms of domains and company names, so the same account is found however it is typed.

The reduction itself lives with the routing engine (`intake.routing.names`, standard library
only), so an account is matched the same way when it is saved and when a deal is routed;
here a domain that does not reduce to a valid host name is refused.
"""

import re

from .routing.names import company_key, domain_key

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TOP_LEVEL = re.compile(r"^(xn--[a-z0-9-]+|[a-z]{2,63})$")


class InvalidDomain(ValueError):
    pass


def normalise_domain(raw: str) -> str:
    """Return the bare host of a web address: lower case, no scheme, www., port or path."""
    host = domain_key(raw)
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InvalidDomain("not a valid domain")
    if not _TOP_LEVEL.match(labels[-1]):
        raise InvalidDomain("not a valid domain")
    return host


def normalise_company(name: str) -> str:
    """Return a company name reduced for matching: case, punctuation and legal forms ignored."""
    return company_key(name)
