"""The decision's JSON form: fixed keys in a fixed order, the same bytes for the same input."""

import json

from intake.routing import decide, parse_input

from .builders import VENDOR, by_partner, deal, partner, pref, rel, route

# The worked example: every kind of statement, a lapsed partner, a partner we do not know, a conflict.
EXAMPLE_INPUT = {
    "originator": {"kind": "partner", "partner_id": 12},
    "vendor_strength": 4,
    "relationships": [
        {
            "partner_id": 12,
            "partner_name": None,
            "strength": 3,
            "source": "rep",
            "on_this_deal": True,
            "stated_at": None,
        },
        {
            "partner_id": 12,
            "partner_name": None,
            "strength": 1,
            "source": "customer",
            "on_this_deal": True,
            "stated_at": "2026-01-12T10:04:00Z",
        },
        {
            "partner_id": 15,
            "partner_name": None,
            "strength": 2,
            "source": "partner",
            "on_this_deal": False,
            "stated_at": "2025-11-03T09:30:00+01:00",
        },
        {
            "partner_id": None,
            "partner_name": "thames cloud",
            "strength": 5,
            "source": "customer",
            "on_this_deal": False,
            "stated_at": "2024-05-01",
        },
        {
            "partner_id": None,
            "partner_name": "Zulu Consulting",
            "strength": 4,
            "source": "customer",
            "on_this_deal": True,
            "stated_at": "2026-01-12T10:04:00Z",
        },
    ],
    "preference": {"fulfilment": "any_partner", "partner_id": None, "partner_name": None, "contact": "no_preference"},
    "partners": [
        {
            "id": 12,
            "name": "Brightline GmbH",
            "active": True,
            "countries": ["DE"],
            "verticals": ["Retail"],
            "tier": "gold",
        },
        {
            "id": 15,
            "name": "Nordlicht IT",
            "active": True,
            "countries": ["DE"],
            "verticals": ["Health"],
            "tier": "platinum",
        },
        {"id": 18, "name": "Alpine Systems", "active": False, "countries": ["AT"], "verticals": [], "tier": "silver"},
        {
            "id": 21,
            "name": "Thames Cloud Ltd",
            "active": True,
            "countries": ["GB", "DE"],
            "verticals": ["Retail"],
            "tier": "silver",
        },
    ],
    "account": {
        "country": "DE",
        "vertical": "Retail",
        "domain": "https://www.mueller-handel.example/",
        "name": "Müller Handel GmbH & Co. KG",
    },
    "open_deals": [
        {
            "id": 301,
            "account_domain": "shop.mueller-handel.example",
            "account_name": "Mueller Handel",
            "originator": {"kind": "vendor"},
            "partner_id": None,
        }
    ],
    "declined_partner_ids": [],
    "lapsed_partner_ids": [21],
    "rules": {"threshold": 3, "ties": "partners"},
}

EXAMPLE_OUTPUT = {
    "leader": {"kind": "vendor"},
    "fulfilment": {"kind": "partner", "partner_id": 12},
    "supporting": [],
    "status": "on_hold",
    "flags": ["confirm_recommendation", "conflict", "needs_alignment"],
    "conflicts": [301],
    "recommendations": [
        {"partner_id": 12, "reason": "covers DE, serves Retail, gold tier"},
        {"partner_id": 15, "reason": "covers DE, not in Retail, platinum tier"},
    ],
    "trace": [
        {
            "rule": "leader",
            "says": "The vendor has the strongest relationship with the customer, trusted (4), so "
            "it leads. Next comes Nordlicht IT, transactional (2), as the partner stated. "
            "An ineligible partner never leads: Thames Cloud Ltd let its time to answer "
            "pass on this deal. Zulu Consulting, trusted (4), as the customer stated, is "
            "not a partner we know, so it cannot lead or fulfil.",
            "partner_says": "The vendor has the strongest relationship with the customer, so it leads.",
        },
        {
            "rule": "alignment",
            "says": "Brightline GmbH found the deal but the vendor leads it: the deal needs "
            "alignment between them before anyone contacts the customer, and Brightline "
            "GmbH keeps origination credit.",
            "partner_says": "Brightline GmbH found the deal but the vendor leads it: the deal "
            "needs alignment between them before anyone contacts the customer, and "
            "Brightline GmbH keeps origination credit.",
        },
        {
            "rule": "fulfilment",
            "says": "The customer wants a partner we recommend and no eligible partner reaches the "
            "threshold, working (3): ranked by country, vertical, tier and who joined us "
            "first, Brightline GmbH (covers DE, serves Retail, gold tier) is proposed, to "
            "be confirmed.",
            "partner_says": "Brightline GmbH is proposed to fulfil, to be confirmed: the customer "
            "asked for a partner we recommend.",
        },
        {
            "rule": "roles",
            "says": "Brightline GmbH fulfils the deal for the leader, the vendor.",
            "partner_says": "Brightline GmbH fulfils the deal for the leader, the vendor.",
        },
        {
            "rule": "conflict",
            "says": "Another open deal is on the same account (same web domain) with a different "
            "originator or partner: this deal is held until the channel manager resolves "
            "the conflict.",
            "partner_says": "Another open deal is on the same account: this deal is held until the "
            "channel manager resolves the conflict.",
        },
        {
            "rule": "status",
            "says": "On hold for the channel manager: a conflicting open deal.",
            "partner_says": "On hold for the channel manager: a conflicting open deal.",
        },
    ],
}


def test_worked_example_gives_the_documented_decision():
    assert decide(parse_input(EXAMPLE_INPUT)).to_dict() == EXAMPLE_OUTPUT


def test_decision_keys_are_in_a_fixed_order():
    decision = route(vendor_strength=1, relationships=[rel(1, 4)], preference=pref("direct"))
    keys = ["leader", "fulfilment", "supporting", "status", "flags", "conflicts", "recommendations", "trace"]
    assert list(json.loads(decision.to_json())) == keys


def test_trace_has_one_entry_per_rule_in_order():
    decision = route()
    assert [step.rule for step in decision.trace] == [
        "leader",
        "alignment",
        "fulfilment",
        "roles",
        "conflict",
        "status",
    ]


def test_to_json_is_the_json_of_to_dict():
    decision = route(open_deals=[deal(3, originator=by_partner(2))])
    assert json.loads(decision.to_json()) == decision.to_dict()


def test_unordered_lists_come_out_sorted():
    decision = route(
        originator=by_partner(3),
        vendor_strength=1,
        relationships=[rel(2, 5), rel(3, 1)],
        partners=[partner(3), partner(2), partner(1)],
        open_deals=[deal(9, originator=by_partner(1)), deal(2, originator=by_partner(1))],
        preference=pref("direct"),
    ).to_dict()
    assert decision["supporting"] == [
        {"party": VENDOR, "role": "support"},
        {"party": by_partner(3), "role": "origination_credit"},
    ]
    assert decision["conflicts"] == [2, 9]
    assert decision["flags"] == sorted(decision["flags"])


def test_names_with_accents_are_written_as_they_are():
    decision = route(partners=[partner(1, name="Müller & Söhne")], vendor_strength=0, relationships=[rel(1, 2)])
    assert "Müller & Söhne has the strongest relationship" in decision.to_json()


def test_each_step_says_its_rule_then_both_texts():
    for step in route().to_dict()["trace"]:
        assert list(step) == ["rule", "says", "partner_says"]
