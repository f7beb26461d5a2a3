"""Builders for routing inputs in their JSON form, with defaults and **overrides.

Three active gold partners serving the account's country and vertical, a vendor with an
aware relationship, a vendor originator, and no customer answer: each test changes only
what its rule is about.
"""

from intake.routing import Decision, decide, parse_input

VENDOR = {"kind": "vendor"}
CUSTOMER = {"kind": "customer"}


def by_partner(partner_id: int) -> dict:
    return {"kind": "partner", "partner_id": partner_id}


NAMES = {1: "Alpha Systems", 2: "Bravo IT", 3: "Charlie Networks"}


def partner(partner_id: int, **overrides) -> dict:
    values = {
        "id": partner_id,
        "name": NAMES.get(partner_id, f"Partner {partner_id}"),
        "active": True,
        "countries": ["DE"],
        "verticals": ["Retail"],
        "tier": "gold",
    }
    values.update(overrides)
    return values


def rel(partner_id: int, strength: int, source: str = "rep") -> dict:
    return {"partner_id": partner_id, "strength": strength, "source": source}


def pref(fulfilment: str = "no_preference", *, partner_id=None, partner_name=None, contact="no_preference") -> dict:
    return {"fulfilment": fulfilment, "partner_id": partner_id, "partner_name": partner_name, "contact": contact}


def deal(deal_id: int, *, domain="acme.example", name="Acme GmbH", originator=VENDOR, partner_id=None) -> dict:
    return {
        "id": deal_id,
        "account_domain": domain,
        "account_name": name,
        "originator": originator,
        "partner_id": partner_id,
    }


def routing_input(**overrides) -> dict:
    values = {
        "originator": VENDOR,
        "vendor_strength": 1,
        "relationships": [],
        "preference": None,
        "partners": [partner(1), partner(2), partner(3)],
        "account": {"country": "DE", "vertical": "Retail", "domain": "acme.example", "name": "Acme GmbH"},
        "open_deals": [],
        "declined_partner_ids": [],
    }
    values.update(overrides)
    return values


def route(**overrides) -> Decision:
    return decide(parse_input(routing_input(**overrides)))


def says(decision: Decision, rule: str) -> str:
    """What the trace says for one rule."""
    return next(step.says for step in decision.trace if step.rule == rule)
