"""The engine's input and output: frozen dataclasses with a JSON form.

Vocabulary as in PRODUCT.md ("Routing rules"). Tuples keep the order the caller gave; the
engine never depends on it.
"""

import json
from dataclasses import dataclass, field
from typing import Any

PARTY_KINDS = ("vendor", "partner", "customer")
SOURCES = ("rep", "customer", "partner")
FULFILMENTS = ("partner", "direct", "any_partner", "no_preference")
CONTACTS = ("partner", "vendor", "no_preference")
TIERS = ("platinum", "gold", "silver", "registered")  # best first
TIES = ("partners", "vendor")
ROLES = ("support", "origination_credit")
STATUSES = ("routable", "needs_alignment", "on_hold")
FLAGS = (
    "needs_alignment",
    "conflict",
    "unknown_partner",
    "inactive_partner",
    "confirm_recommendation",
    "partner_credit",
    "no_customer_answer",
)
STRENGTHS = {0: "none", 1: "aware", 2: "transactional", 3: "working", 4: "trusted", 5: "strategic"}


@dataclass(frozen=True)
class Party:
    """The vendor, one partner, or (only as an originator) the customer coming in."""

    kind: str
    partner_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "partner":
            return {"kind": "partner", "partner_id": self.partner_id}
        return {"kind": self.kind}


VENDOR = Party("vendor")
CUSTOMER = Party("customer")


def partner(partner_id: int) -> Party:
    """Return the party for one partner."""
    return Party("partner", partner_id)


@dataclass(frozen=True)
class Relationship:
    partner_id: int
    strength: int
    source: str


@dataclass(frozen=True)
class Preference:
    fulfilment: str
    partner_id: int | None = None
    partner_name: str | None = None
    contact: str = "no_preference"


@dataclass(frozen=True)
class Partner:
    id: int
    name: str
    active: bool = True
    countries: tuple[str, ...] = ()
    verticals: tuple[str, ...] = ()
    tier: str = "registered"


@dataclass(frozen=True)
class Account:
    country: str | None = None
    vertical: str | None = None
    domain: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class OpenDeal:
    id: int
    account_domain: str | None
    account_name: str | None
    originator: Party
    partner_id: int | None = None


@dataclass(frozen=True)
class Rules:
    """The rules of engagement the channel manager sets."""

    threshold: int = 3
    ties: str = "partners"


@dataclass(frozen=True)
class RoutingInput:
    originator: Party
    vendor_strength: int
    account: Account
    partners: tuple[Partner, ...] = ()
    relationships: tuple[Relationship, ...] = ()
    preference: Preference | None = None
    open_deals: tuple[OpenDeal, ...] = ()
    declined_partner_ids: frozenset[int] = frozenset()
    rules: Rules = field(default_factory=Rules)


@dataclass(frozen=True)
class Role:
    party: Party
    role: str

    def to_dict(self) -> dict[str, Any]:
        return {"party": self.party.to_dict(), "role": self.role}


@dataclass(frozen=True)
class Recommendation:
    partner_id: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"partner_id": self.partner_id, "reason": self.reason}


@dataclass(frozen=True)
class Step:
    """One rule applied, said in plain language."""

    rule: str
    says: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "says": self.says}


@dataclass(frozen=True)
class Decision:
    """Who leads, who fulfils, who supports, and why. Unordered lists are kept sorted."""

    leader: Party
    fulfilment: Party | None
    supporting: tuple[Role, ...]
    status: str
    flags: tuple[str, ...]
    conflicts: tuple[int, ...]
    recommendations: tuple[Recommendation, ...]  # ranked, best first
    trace: tuple[Step, ...]  # in the order the rules were applied

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form, keys in a fixed order."""
        return {
            "leader": self.leader.to_dict(),
            "fulfilment": self.fulfilment.to_dict() if self.fulfilment else None,
            "supporting": [role.to_dict() for role in self.supporting],
            "status": self.status,
            "flags": list(self.flags),
            "conflicts": list(self.conflicts),
            "recommendations": [rec.to_dict() for rec in self.recommendations],
            "trace": [step.to_dict() for step in self.trace],
        }

    def to_json(self) -> str:
        """Return the JSON text: the same decision always gives the same bytes."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
