"""The engine's input and output: frozen dataclasses with a JSON form, and the codes they use.

Vocabulary as in PRODUCT.md ("Routing rules"). The tuples below are the one home of these
codes for the whole app: it imports them from here and gives them words. Tuples in the input
keep the order the caller gave; the engine never depends on it.
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
ROLES = ("support", "origination_credit", "relationship_credit")
# What a partner earns from a decision, as `Decision.roles_of` says it.
CREDITS = ("lead", "fulfilment", "origination_credit", "relationship_credit")
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
# Who made a decision: the engine (`decide`), or a person in its place (`decide_as`, rule 7).
DECISION_KINDS = ("engine", "recommendation", "override", "alignment", "conflict")
PERSON_KINDS = DECISION_KINDS[1:]
# The rule each step of a trace applies: the engine's six, or a person's decision and what it removed.
# (A person's alignment or conflict resolution is a step of the rule it resolves.)
STEP_RULES = ("leader", "alignment", "fulfilment", "roles", "conflict", "status", "removed", *PERSON_KINDS[:2])


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
    """One statement of a partner's relationship with the account: by a partner we list, or in words.

    `partner_id` names a listed partner; else `partner_name` names one in words, matched to a
    listed partner by its company key, or else a partner we do not know. `on_this_deal` says the
    statement was made for this deal; `stated_at` (ISO-8601) orders statements made on others.
    """

    partner_id: int | None
    strength: int
    source: str
    partner_name: str | None = None
    on_this_deal: bool = False
    stated_at: str | None = None


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
    # Partners that let their time to answer pass on this deal.
    lapsed_partner_ids: frozenset[int] = frozenset()


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
    """One rule applied, said twice in plain language.

    `says` is the whole sentence, for the vendor's rep and channel manager. `partner_says` is
    what any partner may read: the parties and the reason in general words, without strengths,
    without the customer's own statements, without which partners declined, lapsed or are
    inactive, and naming no partner without a role in the decision; "" when there is nothing
    to tell a partner.
    """

    rule: str
    says: str
    partner_says: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "says": self.says, "partner_says": self.partner_says}


@dataclass(frozen=True)
class Removal:
    """The roles and credit (`CREDITS`) one partner had in a decision and lacks in the next, said plainly."""

    partner_id: int
    roles: tuple[str, ...]
    says: str

    def to_dict(self) -> dict[str, Any]:
        return {"partner_id": self.partner_id, "roles": list(self.roles), "says": self.says}


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

    def acting_partner_ids(self) -> tuple[int, ...]:
        """The partners that lead or fulfil: the leader first, each once."""
        ids = [party.partner_id for party in (self.leader, self.fulfilment) if party and party.kind == "partner"]
        return tuple(dict.fromkeys(ids))

    def role_partner_ids(self) -> tuple[int, ...]:
        """Every partner with a role: those that lead or fulfil (leader first), then those supporting, by id."""
        supporting = sorted(role.party.partner_id for role in self.supporting if role.party.kind == "partner")
        return tuple(dict.fromkeys([*self.acting_partner_ids(), *supporting]))

    def roles_of(self, partner_id: int) -> tuple[str, ...]:
        """What one partner earns from the decision, in `CREDITS` order; () when it has no role."""
        party = partner(partner_id)
        held = {role.role for role in self.supporting if role.party == party}
        if self.leader == party:
            held.add("lead")
        if self.fulfilment == party:
            held.add("fulfilment")
        return tuple(credit for credit in CREDITS if credit in held)

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
