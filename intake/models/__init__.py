"""The models, one module per aggregate; importing this package registers them all."""

from .accounts import Account, Relationship
from .api_tokens import ApiToken, IdempotencyKey
from .audit import AuditEvent
from .credits import Credit
from .customer import CustomerAnswer, CustomerContact, CustomerLink, LinkMiss
from .deals import Deal
from .decisions import Decision, RulesOfEngagement
from .outbox import OutboxMessage
from .partner_requests import Document, PartnerRequest
from .partners import Partner, PartnerCoverage, PartnerUser, SignInLink, SignInRequest
from .rate_limits import RateLimitCount
from .registrations import Registration
from .users import LoginAttempt, User
from .webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "Account",
    "ApiToken",
    "AuditEvent",
    "Credit",
    "CustomerAnswer",
    "CustomerContact",
    "CustomerLink",
    "Deal",
    "Decision",
    "Document",
    "IdempotencyKey",
    "LinkMiss",
    "LoginAttempt",
    "OutboxMessage",
    "Partner",
    "PartnerCoverage",
    "PartnerRequest",
    "PartnerUser",
    "RateLimitCount",
    "Registration",
    "Relationship",
    "RulesOfEngagement",
    "SignInLink",
    "SignInRequest",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
]
