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


# Names without digits: a digit in a trace sentence would read as an id.
NAMES = {
    1: "Alpha Systems",
    2: "Bravo IT",
    3: "Charlie Networks",
    4: "Delta Data",
    5: "Echo Cloud",
    6: "Foxtrot Services",
    7: "Golf Consulting",
    8: "Hotel Digital",
    9: "India Solutions",
}


def partner(partner_id: int, **overrides) -> dict:
    values = {
        "id": partner_id,
        "name": NAMES.get(partner_id, f"Partner No. {partner_id}"),
        "active": True,
        "countries": ["DE"],
        "verticals": ["Retail"],
        "tier": "gold",
    }
    values.update(overrides)
    return values


def rel(
    partner_id: int | None,
    strength: int,
    source: str = "rep",
    *,
    on_this_deal: bool = False,
    stated_at: str | None = None,
    partner_name: str | None = None,
) -> dict:
    """One relationship statement; `rel(None, 4, "customer", partner_name="Zulu")` names a partner in words."""
    return {
        "partner_id": partner_id,
        "partner_name": partner_name,
        "strength": strength,
        "source": source,
        "on_this_deal": on_this_deal,
        "stated_at": stated_at,
    }


def said(partner_id: int | None, strength: int, **more) -> dict:
    """What the customer stated on this deal: the statement that outranks every other."""
    return rel(partner_id, strength, "customer", on_this_deal=True, **more)


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
        "lapsed_partner_ids": [],
    }
    values.update(overrides)
    return values


def route(**overrides) -> Decision:
    return decide(parse_input(routing_input(**overrides)))


def says(decision: Decision, rule: str) -> str:
    """What the trace says for one rule, to the vendor's side."""
    return next(step.says for step in decision.trace if step.rule == rule)


def partner_says(decision: Decision, rule: str) -> str:
    """What the trace says for one rule, to any partner."""
    return next(step.partner_says for step in decision.trace if step.rule == rule)
