"""The models, one module per aggregate; importing this package registers them all."""

from .accounts import Account, Relationship
from .audit import AuditEvent
from .deals import Deal
from .partners import Partner
from .users import LoginAttempt, User

__all__ = ["Account", "AuditEvent", "Deal", "LoginAttempt", "Partner", "Relationship", "User"]
