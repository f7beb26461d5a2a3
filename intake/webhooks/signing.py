"""The `Intake-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, Stripe-like.

The timestamp is the attempt's send time and is signed with the body, so a receiver can refuse a
replay older than a few minutes; the body is the exact bytes stored when the event was emitted.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Intake-Signature"


def signature(secret: str, body: str, timestamp: int) -> str:
    """The header's value for this body, signed with the endpoint's secret at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"
