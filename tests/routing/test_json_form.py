"""The decision's JSON form: fixed keys in a fixed order, the same bytes for the same input."""

import json

from intake.routing import decide, parse_input

from .builders import VENDOR, by_partner, deal, partner, pref, rel, route

EXAMPLE_INPUT = {
    "originator": {"kind": "partner", "partner_id": 12},
    "vendor_strength": 4,
    "relationships": [
        {"partner_id": 12, "strength": 3, "source": "rep"},
        {"partner_id": 12, "strength": 1, "source": "customer"},
        {"partner_id": 15, "strength": 2, "source": "partner"},
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
    ],
    "account": {
        "country": "DE",
        "vertical": "Retail",
        "domain": "https://www.mueller-handel.example/",
        "name": "Müller Handel GmbH",
    },
    "open_deals": [
        {
            "id": 301,
            "account_domain": "mueller-handel.example",
            "account_name": "Mueller Handel",
            "originator": {"kind": "vendor"},
            "partner_id": None,
        }
    ],
    "declined_partner_ids": [],
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
            "says": "The vendor has the strongest relationship with the customer, trusted (4), so it leads. "
            "Next comes Nordlicht IT (partner 15), transactional (2), as the partner stated.",
        },
        {
            "rule": "alignment",
            "says": "Brightline GmbH (partner 12) found the deal but the vendor leads it: the deal needs alignment "
            "between them before anyone contacts the customer, and Brightline GmbH (partner 12) keeps origination "
            "credit.",
        },
        {
            "rule": "fulfilment",
            "says": "The customer wants a partner we recommend and no eligible partner reaches the threshold, "
            "working (3): ranked by country, vertical, tier and id, Brightline GmbH (partner 12) (covers DE, serves "
            "Retail, gold tier) is proposed, to be confirmed (confirm_recommendation).",
        },
        {"rule": "roles", "says": "Brightline GmbH (partner 12) fulfils the deal for the leader, the vendor."},
        {
            "rule": "conflict",
            "says": "Open deal 301 is on the same account (same domain or company name) with a different originator "
            "or partner: this deal is held until the channel manager resolves the conflict.",
        },
        {
            "rule": "status",
            "says": "On hold for the channel manager: a conflicting open deal.",
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
    assert "Müller & Söhne (partner 1)" in decision.to_json()
