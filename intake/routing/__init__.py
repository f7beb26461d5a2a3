"""The routing engine: who leads a deal, who fulfils it, who supports it, and why.

Pure: no Flask, no database, no clock, no randomness, no I/O; the standard library only, but for
the two packages with bundled data that `names` uses to key accounts. The rules are PRODUCT.md's
"Routing rules"; `parse_input` reads the JSON form, `decide` applies the rules, `decide_as` puts a
person's decision in their place (rule 7), and `Decision.to_json()` gives the same bytes for the
same input, whatever the order of its lists. `parse_decision` reads a stored decision back.
"""

from .engine import decide
from .model import (
    CONTACTS,
    CREDITS,
    DECISION_KINDS,
    FLAGS,
    FULFILMENTS,
    PARTY_KINDS,
    PERSON_KINDS,
    ROLES,
    SOURCES,
    STATUSES,
    STEP_RULES,
    STRENGTHS,
    TIERS,
    TIES,
    Decision,
    Party,
    Recommendation,
    Removal,
    Role,
    RoutingInput,
    Step,
)
from .parse import InvalidInput, parse_decision, parse_input, validate
from .person import decide_as, removed_roles

__all__ = [
    "CONTACTS",
    "CREDITS",
    "DECISION_KINDS",
    "FLAGS",
    "FULFILMENTS",
    "PARTY_KINDS",
    "PERSON_KINDS",
    "ROLES",
    "SOURCES",
    "STATUSES",
    "STEP_RULES",
    "STRENGTHS",
    "TIERS",
    "TIES",
    "Decision",
    "InvalidInput",
    "Party",
    "Recommendation",
    "Removal",
    "Role",
    "RoutingInput",
    "Step",
    "decide",
    "decide_as",
    "parse_decision",
    "parse_input",
    "removed_roles",
    "validate",
]
