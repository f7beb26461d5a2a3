"""Every product word, declared once: the codes the data keeps and the words each audience reads.

The routing engine's codes (fulfilment, contact, tiers, strengths, sources, roles) are declared
in `intake.routing.model`, the engine being the one part that may not import the app; here they
get their words. Forms take their choices from here, templates their words through the `words`
filter, and the deal history its labels: no other module or template keeps a copy.

Staff words are what reps and the channel manager read. Customer words are translated and never
name routing, credit or commission. Partner words are the portal's, translated; a role's words say
what it means to the partner holding it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pycountry
from flask_babel import lazy_gettext as _l

from .routing.model import (
    CONTACTS,
    CREDITS,
    DECISION_KINDS,
    FLAGS,
    FULFILMENTS,
    ROLES,
    SOURCES,
    STATUSES,
    STEP_RULES,
    STRENGTHS,
    TIERS,
    TIES,
)


@dataclass(frozen=True)
class Words:
    """One list of product words: its codes in order, and the words for each audience."""

    codes: tuple
    staff: dict[Any, str]
    customer: dict[Any, Any] = field(default_factory=dict)
    partner: dict[Any, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A code without its words, or words for a code that does not exist, is a bug here.
        for audience in (self.staff, self.customer, self.partner):
            if audience and set(audience) != set(self.codes):
                raise ValueError(f"words and codes differ: {sorted(map(str, set(audience) ^ set(self.codes)))}")

    def __iter__(self):
        return iter(self.codes)

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def word(self, code: Any, *, audience: str = "staff") -> str:
        """The word for a code; an unknown or missing code reads as a dash."""
        words = self._words(audience)
        return str(words[code]) if code in words else "—"

    def _words(self, audience: str) -> dict:
        return {"customer": self.customer, "partner": self.partner}.get(audience) or self.staff

    def choices(self, *, audience: str = "staff", blank: str | None = None) -> list[tuple[str, Any]]:
        """(value, label) pairs for a form field, in order, with an optional blank first."""
        words = self._words(audience)
        pairs = [(str(code), words[code]) for code in self.codes]
        return ([("", blank)] if blank is not None else []) + pairs


# ---------------------------------------------------------------- the deal

DEAL_STATUS = Words(
    ("draft", "awaiting_customer", "ready_to_route", "routed", "accepted", "won", "lost", "on_hold", "withdrawn"),
    {
        "draft": "draft",
        "awaiting_customer": "awaiting the customer",
        "ready_to_route": "ready to route",
        "routed": "routed",
        "accepted": "accepted",
        "won": "won",
        "lost": "lost",
        "on_hold": "on hold",
        "withdrawn": "withdrawn",
    },
)
# How a change of status that happened a moment ago is said to whoever lost the race to it.
JUST_HAPPENED = Words(
    DEAL_STATUS.codes[1:],
    {
        "awaiting_customer": "completed",
        "ready_to_route": "sent back to routing",
        "routed": "routed",
        "accepted": "accepted",
        "won": "marked won",
        "lost": "marked lost",
        "on_hold": "put on hold",
        "withdrawn": "withdrawn",
    },
)
# A deal still being worked: it can compete with another deal on the same account.
OPEN_STATUSES = ("draft", "awaiting_customer", "ready_to_route", "routed", "accepted", "on_hold")
HOLD_REASON = Words(
    ("needs_alignment", "conflict", "fulfilment"),
    {
        "needs_alignment": "needs alignment",
        "conflict": "conflict",
        "fulfilment": "fulfilment to decide",
    },
)
# What a held deal waits for, and who acts next, as the deal page and the manager's alert say it.
HOLD_WAITS_FOR = Words(
    HOLD_REASON.codes,
    {
        "needs_alignment": "the finder and the party with the strongest relationship differ: the channel manager "
        "aligns them on who leads before anyone contacts the customer",
        "conflict": "another open deal is on the same account: the channel manager decides which deal proceeds",
        "fulfilment": "the rules cannot decide who fulfils the deal: the channel manager decides",
    },
)
ORIGINATOR = Words(
    ("vendor", "partner", "customer"),
    {"vendor": "our rep", "partner": "a partner", "customer": "the customer came to us"},
)
ORIGIN_CHANNEL = Words(
    ("meeting", "campaign", "partner_marketing", "referral", "registration"),
    {
        "meeting": "meeting",
        "campaign": "campaign",
        "partner_marketing": "partner marketing",
        "referral": "referral",
        "registration": "the partner registered it",
    },
)
# Where a deal a partner registered stands, as the partner reads it in the portal (never why it is held).
REGISTRATION_STAGE = Words(
    ("received", "claimed", "under_review", "with_customer", "routed", "won", "lost", "not_proceeding", "expired"),
    {
        "received": "received: the rep takes it up",
        "claimed": "already registered: in the conflict queue",
        "under_review": "held for the channel manager",
        "with_customer": "the customer is asked how they want to buy",
        "routed": "routed",
        "won": "won",
        "lost": "lost",
        "not_proceeding": "not proceeding",
        "expired": "expired without progress",
    },
    partner={
        "received": _l("Received: the vendor's team takes it up"),
        "claimed": _l("Already registered: the channel manager reviews it"),
        "under_review": _l("The channel manager reviews who leads and who fulfils it"),
        "with_customer": _l("The customer is asked how they want to buy"),
        "routed": _l("Routed"),
        "won": _l("Won"),
        "lost": _l("Lost"),
        "not_proceeding": _l("Not proceeding"),
        "expired": _l("Expired without progress"),
    },
)
BUDGET = Words(
    ("approved", "identified", "none", "unknown"),
    {"approved": "approved", "identified": "identified", "none": "none", "unknown": "unknown"},
)
PARTNERS_KNOWN = Words(
    ("yes", "no", "unknown"),
    {"yes": "yes", "no": "no", "unknown": "not known yet"},
)
SIZE_BAND = Words(
    ("1-49", "50-249", "250-999", "1000-4999", "5000+"),
    {band: band for band in ("1-49", "50-249", "250-999", "1000-4999", "5000+")},
)

# ---------------------------------------------------------------- relationships and the customer's answers

STRENGTH = Words(
    tuple(STRENGTHS),
    dict(STRENGTHS),
    {
        0: _l("We do not work with them"),
        1: _l("We know of them"),
        2: _l("We buy from them now and then"),
        3: _l("They work with us regularly"),
        4: _l("We trust them with important work"),
        5: _l("They are a strategic partner to us"),
    },
    # A partner stating its own relationship with a customer.
    partner={
        0: _l("We do not work with them"),
        1: _l("We know them"),
        2: _l("We sell to them now and then"),
        3: _l("We work with them regularly"),
        4: _l("They trust us with important work"),
        5: _l("We are a strategic partner to them"),
    },
)
SOURCE = Words(
    SOURCES,
    {"rep": "the rep's estimate", "customer": "the customer's statement", "partner": "the partner's statement"},
)
FULFILMENT = Words(
    FULFILMENTS,
    {
        "partner": "through the partner they named",
        "direct": "directly from the vendor",
        "any_partner": "through a local partner the vendor recommends",
        "no_preference": "no preference",
    },
    {
        "partner": _l("Through the partner I named"),
        "direct": _l("Directly from %(vendor)s"),
        "any_partner": _l("Through a local partner you recommend"),
        "no_preference": _l("No preference"),
    },
)
CONTACT = Words(
    CONTACTS,
    {"partner": "the partner", "vendor": "the vendor", "no_preference": "no preference"},
    {"partner": _l("The partner"), "vendor": _l("%(vendor)s"), "no_preference": _l("No preference")},
)
WORKS_WITH_PARTNER = Words(
    ("yes", "no", "not_sure"),
    {"yes": "yes", "no": "no", "not_sure": "not sure"},
    {"yes": _l("Yes"), "no": _l("No"), "not_sure": _l("Not sure")},
)
DURATION = Words(
    ("under_1", "1_3", "3_5", "over_5"),
    {"under_1": "less than a year", "1_3": "1 to 3 years", "3_5": "3 to 5 years", "over_5": "more than 5 years"},
    {
        "under_1": _l("Less than a year"),
        "1_3": _l("1 to 3 years"),
        "3_5": _l("3 to 5 years"),
        "over_5": _l("More than 5 years"),
    },
)
LANGUAGE = Words(("en", "de"), {"en": "English", "de": "Deutsch"})

# ---------------------------------------------------------------- partners and routing

TIER = Words(TIERS, {"platinum": "Platinum", "gold": "Gold", "silver": "Silver", "registered": "Registered"})
# A party's part in a decision, and the credit it earns (PRODUCT.md "Credit").
PARTY_ROLE = Words(
    tuple(dict.fromkeys((*CREDITS, *ROLES))),
    {
        "lead": "leads: the one voice to the customer, who owns every customer contact",
        "fulfilment": "fulfils: delivers the solution and takes the order",
        "support": "supports: originates no customer contact and coordinates through the leader",
        "origination_credit": "keeps origination credit for finding the deal",
        "relationship_credit": "keeps relationship credit for its relationship with the customer",
    },
)
# The credit a party earns from a decision (PRODUCT.md "Credit, ledger and scorecards"), as the ledger keeps it.
CREDIT = Words(
    ("lead", "fulfilment", "origination", "relationship"),
    {"lead": "lead", "fulfilment": "fulfilment", "origination": "origination", "relationship": "relationship"},
)
CREDIT_OUTCOME = Words(("won", "lost", "withdrawn"), {"won": "won", "lost": "lost", "withdrawn": "withdrawn"})
DECISION_KIND = Words(
    DECISION_KINDS,
    {
        "engine": "the engine's decision",
        "recommendation": "a confirmed recommendation",
        "override": "the channel manager's override",
        "alignment": "the channel manager's alignment",
        "conflict": "the channel manager's conflict resolution",
    },
)
# The status of a decision (the deal's status follows from it: routable → routed).
DECISION_STATUS = Words(STATUSES, {"routable": "routable", "needs_alignment": "needs alignment", "on_hold": "on hold"})
# What the engine flags on a decision, as the rep and the channel manager read it.
FLAG = Words(
    FLAGS,
    {
        "needs_alignment": "needs alignment",
        "conflict": "conflict",
        "unknown_partner": "partner not known to us",
        "inactive_partner": "chosen partner not available",
        "confirm_recommendation": "recommendation to confirm",
        "partner_credit": "partner keeps its credit",
        "no_customer_answer": "no answer from the customer",
    },
)
# The rules a decision's trace applies, as its steps are headed.
TRACE_RULE = Words(
    STEP_RULES,
    {
        "leader": "who leads",
        "alignment": "alignment",
        "fulfilment": "who fulfils",
        "roles": "roles",
        "conflict": "other deals",
        "status": "status",
        "recommendation": "recommendation",
        "override": "override",
        "removed": "roles removed",
    },
)
TIES_WORDS = Words(TIES, {"partners": "the partners", "vendor": "the vendor"})
RECYCLE = Words(
    ("manual", "automatic"),
    {
        "manual": "the channel manager sends the deal back to routing",
        "automatic": "Intake routes the deal again at once, without that partner",
    },
)
PARTNER_RESPONSE = Words(
    ("accepted", "declined", "lapsed"),
    {"accepted": "accepted", "declined": "declined", "lapsed": "let the time to answer pass"},
)

# ---------------------------------------------------------------- people, links and mail

USER_ROLE = Words(("rep", "admin"), {"rep": "Rep", "admin": "Channel manager"})
LINK_STATE = Words(
    ("none", "not_sent", "sent", "opened", "answered", "expired", "revoked"),
    {
        "none": "not created",
        "not_sent": "not sent",
        "sent": "sent",
        "opened": "opened",
        "answered": "answered",
        "expired": "expired",
        "revoked": "revoked",
    },
)
MAIL_STATUS = Words(
    ("pending", "sending", "sent", "failed", "dead"),
    {"pending": "queued", "sending": "sending", "sent": "sent", "failed": "failed", "dead": "gave up"},
)

# ---------------------------------------------------------------- webhooks

# What the vendor's own systems may hear of, by webhook (intake.webhooks).
WEBHOOK_EVENT = Words(
    (
        "deal.routed",
        "deal.accepted",
        "deal.declined",
        "deal.needs_alignment",
        "deal.conflict",
        "deal.won",
        "deal.lost",
        "customer.answered",
        "registration.received",
    ),
    {
        "deal.routed": "a deal is routed",
        "deal.accepted": "the partner accepts a deal",
        "deal.declined": "a deal comes back to routing (a partner declined or let its time pass)",
        "deal.needs_alignment": "a deal needs alignment",
        "deal.conflict": "a deal is held in a conflict",
        "deal.won": "a deal is won",
        "deal.lost": "a deal is lost",
        "customer.answered": "the customer answers by their link",
        "registration.received": "a partner registers a deal",
    },
)
# pending → sending → delivered; a failed attempt goes back to pending with a later
# next_attempt_at, and after the last attempt the delivery is failed.
WEBHOOK_DELIVERY_STATUS = Words(
    ("pending", "sending", "delivered", "failed"),
    {"pending": "queued", "sending": "sending", "delivered": "delivered", "failed": "gave up"},
)

# ---------------------------------------------------------------- API tokens

# What a personal API token may do: read, or write as well.
API_TOKEN_SCOPE = Words(
    ("read", "write"),
    {"read": "read only", "write": "read and write"},
    partner={"read": _l("read only"), "write": _l("read and write")},
)

# ---------------------------------------------------------------- importing

# What a CSV import brings in (`flask --app intake import KIND FILE.csv`, the import page).
IMPORT_KIND = Words(
    ("partners", "accounts", "relationships"),
    {"partners": "partner", "accounts": "account", "relationships": "relationship"},
)

VOCABULARY: dict[str, Words] = {
    "status": DEAL_STATUS,
    "hold_reason": HOLD_REASON,
    "hold_waits_for": HOLD_WAITS_FOR,
    "originator": ORIGINATOR,
    "origin_channel": ORIGIN_CHANNEL,
    "registration_stage": REGISTRATION_STAGE,
    "budget": BUDGET,
    "partners_known": PARTNERS_KNOWN,
    "size_band": SIZE_BAND,
    "strength": STRENGTH,
    "source": SOURCE,
    "fulfilment": FULFILMENT,
    "contact": CONTACT,
    "works_with_partner": WORKS_WITH_PARTNER,
    "duration": DURATION,
    "language": LANGUAGE,
    "tier": TIER,
    "party_role": PARTY_ROLE,
    "credit": CREDIT,
    "credit_outcome": CREDIT_OUTCOME,
    "decision_kind": DECISION_KIND,
    "trace_rule": TRACE_RULE,
    "flag": FLAG,
    "decision_status": DECISION_STATUS,
    "ties": TIES_WORDS,
    "recycle": RECYCLE,
    "partner_response": PARTNER_RESPONSE,
    "import_kind": IMPORT_KIND,
    "api_token_scope": API_TOKEN_SCOPE,
    "user_role": USER_ROLE,
    "link_state": LINK_STATE,
    "mail_status": MAIL_STATUS,
    "webhook_event": WEBHOOK_EVENT,
    "webhook_status": WEBHOOK_DELIVERY_STATUS,
}


def words(code: Any, kind: str, audience: str = "staff") -> str:
    """The word for a code of one kind: the `words` template filter (`deal.status|words("status")`)."""
    return VOCABULARY[kind].word(code, audience=audience)


def strength_words(strength: int | None) -> str:
    """A strength on the one scale, as staff read it: "3 · working"."""
    return "—" if strength is None else f"{strength} · {STRENGTHS.get(strength, '?')}"


def country_name(code: str | None) -> str:
    """A country's common name from its ISO code."""
    if not code:
        return ""
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", country.name) if country else code


# ---------------------------------------------------------------- the deal history

# What each recorded field is called in the deal history, and the words its values are read in.
HISTORY_FIELDS: dict[str, tuple[str, str | None]] = {
    "status": ("Status", "status"),
    "hold_reason": ("Waiting for", "hold_reason"),
    "account": ("Account", None),
    "contact_name": ("Contact", None),
    "contact_title": ("Contact's title", None),
    "contact_email": ("Contact's email", None),
    "contact_phone": ("Contact's phone", None),
    "originator": ("Found by", "originator"),
    "originator_partner": ("Finding partner", None),
    "origin_channel": ("How it was found", "origin_channel"),
    "origin_date": ("Found on", None),
    "pain_points": ("Pain points", None),
    "pain_other": ("Other pain", None),
    "business_impact": ("Business impact", None),
    "incumbent": ("Incumbent", None),
    "solutions": ("Recommended solution", None),
    "estimated_value": ("Estimated value", None),
    "currency": ("Currency", None),
    "close_date": ("Expected close", None),
    "budget": ("Budget", "budget"),
    "has_decision_maker": ("Decision maker identified", "yes_no"),
    "decision_maker": ("Decision maker", None),
    "decision_process": ("Decision process", None),
    "competitors": ("Competitors", None),
    "next_step": ("Next step", None),
    "next_step_date": ("Next step date", None),
    "partners_known": ("Works with partners", "partners_known"),
    "partners": ("Partners", None),
    "answer": ("The customer's answer", None),
    "language": ("Language", "language"),
    "version": ("Decision version", None),
    "reason": ("Reason", None),
    "partner": ("Partner", None),
    "kept_deal": ("Deal that proceeds", None),
    "origination": ("Origination", None),
    "to": ("Sent to", None),
    "final_value": ("Final value", None),
    "closed_on": ("Closed on", None),
    "lost_reason": ("Why it was lost", None),
    "contact": ("The customer's contact", None),
    # Inside the customer's answer
    "company_name": ("Company, as the customer gave it", None),
    "works_with_partner": ("Works with a partner", "works_with_partner"),
    "fulfilment": ("Delivery", "fulfilment"),
    "fulfilment_partner": ("Partner to deliver", None),
    "fulfilment_reason": ("Why", None),
    "contact_preference": ("Main contact", "contact"),
    "threshold": ("Relationship that counts, from", "strength"),
    "ties": ("A tie goes to", "ties"),
    "recycle": ("When a partner lets its time pass", "recycle"),
}


def history_label(name: str) -> str:
    """What a recorded field is called in the deal history."""
    return HISTORY_FIELDS.get(name, (name.replace("_", " ").capitalize(), None))[0]


def history_value(name: str, value: Any) -> str:
    """A recorded value in words: codes through the vocabulary, lists joined, nothing as a dash."""
    kind = HISTORY_FIELDS.get(name, ("", None))[1]
    if value in (None, "", [], {}):
        return "—"
    if kind == "yes_no":
        return "yes" if value else "no"
    if kind is not None:
        return words(value, kind)
    if isinstance(value, list | tuple):
        return ", ".join(history_value("", item) for item in value)
    if value is True or value is False:
        return "yes" if value else "no"
    return str(value)


def history_changes(changes: dict[str, list]) -> list[tuple[str, str, str]]:
    """A history event's changes in words: (what, before, after), one line per field.

    A change of a whole record (the customer's answer) is shown field by field, only where it differs.
    """
    lines = []
    for name, (before, after) in changes.items():
        if isinstance(before, dict) or isinstance(after, dict):
            before, after = before or {}, after or {}
            for key in dict.fromkeys([*before, *after]):
                if before.get(key) != after.get(key):
                    lines.append(
                        (history_label(key), history_value(key, before.get(key)), history_value(key, after.get(key)))
                    )
            continue
        lines.append((history_label(name), history_value(name, before), history_value(name, after)))
    return lines
