"""Where a webhook may go: http or https only, and never into Intake's own network.

A host is resolved and every address it resolves to is checked: one loopback, private,
link-local, multicast, reserved or unspecified address refuses the target, unless
WEBHOOK_ALLOW_PRIVATE is on. With WEBHOOK_ALLOWED_HOSTS set, only those hosts may be named.
The check runs when an endpoint is registered and again before every attempt, and the attempt
connects to the address that was checked, so a name that resolves elsewhere in between (DNS
rebinding) cannot send it inward.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..errors import DomainError


class UnsafeTarget(DomainError):
    """A webhook URL Intake will not send to; the message says why, in the manager's words."""

    def __init__(self, message: str):
        super().__init__(message, field="url")


@dataclass(frozen=True)
class Target:
    """A checked URL: what to connect to, and what to ask for there."""

    scheme: str
    host: str  # as written, for the Host header and the TLS name
    port: int
    path: str  # with its query
    address: str  # the checked address the attempt connects to


def _refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind, test in (
        ("a loopback", address.is_loopback),
        ("a private", address.is_private),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("a reserved", address.is_reserved),
        ("an unspecified", address.is_unspecified),
        ("a non-public", not address.is_global),
    ):
        if test:
            return kind
    return None


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an http or https URL, or UnsafeTarget saying what is wrong with it."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeTarget("This is not a URL Intake can read.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeTarget("Use an http:// or https:// address.")
    if not parts.hostname:
        raise UnsafeTarget("The address names no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("Leave the sign-in out of the address: the signature proves it comes from Intake.")
    if parts.fragment:
        raise UnsafeTarget("Leave out the #fragment: it is never sent.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, parts.hostname.lower().rstrip("."), port or (443 if scheme == "https" else 80), path


def check(url: str, config: Mapping[str, Any]) -> Target:
    """Resolve the URL's host and check where it goes; UnsafeTarget when Intake may not send there."""
    scheme, host, port, path = parse(url)
    allowed = config["WEBHOOK_ALLOWED_HOSTS"]
    if allowed and host not in allowed:
        raise UnsafeTarget(f"{host} is not among the hosts webhooks may go to ({', '.join(allowed)}).")
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise UnsafeTarget(f"{host} cannot be found.") from None
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not addresses:
        raise UnsafeTarget(f"{host} cannot be found.")
    if not config["WEBHOOK_ALLOW_PRIVATE"]:
        for address in addresses:
            kind = _refused_address(ipaddress.ip_address(address.split("%", 1)[0]))
            if kind is not None:
                raise UnsafeTarget(f"{host} is {kind} address ({address}): webhooks go to public addresses only.")
    return Target(scheme, host, port, path, addresses[0])
