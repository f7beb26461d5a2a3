"""Properties that hold for every valid input, checked with Hypothesis."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from intake.routing import decide, parse_input
from intake.routing.model import CONTACTS, FULFILMENTS, SOURCES, TIERS
from intake.routing.names import company_key

# No example database: the engine is pure and the runs must leave no files behind.
PROPERTY = settings(max_examples=60, deadline=None, database=None)

COUNTRIES = ["DE", "AT", "FR"]
VERTICALS = ["Retail", "Health", "Finance"]
DOMAINS = [None, "acme.example", "https://www.Acme.example/", "other.example"]
COMPANIES = [None, "Acme GmbH", "ACME, Inc.", "Other Ltd"]


def _party(draw, ids):
    kinds = ["vendor", "customer"] + (["partner"] if ids else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "partner":
        return {"kind": "partner", "partner_id": draw(st.sampled_from(ids))}
    return {"kind": kind}


@st.composite
def routing_inputs(draw):
    """A valid routing input in its JSON form: up to six partners and everything that refers to them."""
    ids = sorted(draw(st.sets(st.integers(1, 30), max_size=6)))
    partners = [
        {
            "id": pid,
            "name": draw(st.sampled_from(["Alpha Systems", "Bravo IT", "Charlie Networks", "Delta"])) + f" {pid}",
            "active": draw(st.booleans()),
            "countries": draw(st.lists(st.sampled_from(COUNTRIES), unique=True)),
            "verticals": draw(st.lists(st.sampled_from(VERTICALS), unique=True)),
            "tier": draw(st.sampled_from(TIERS)),
        }
        for pid in ids
    ]
    relationships = (
        draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "partner_id": st.sampled_from(ids),
                        "strength": st.integers(0, 5),
                        "source": st.sampled_from(SOURCES),
                    }
                ),
                max_size=10,
            )
        )
        if ids
        else []
    )
    preference = None
    if draw(st.booleans()):
        fulfilment = draw(st.sampled_from(FULFILMENTS))
        partner_id = draw(st.none() | st.sampled_from(ids)) if ids else None
        partner_name = None
        if partner_id is None and (fulfilment == "partner" or draw(st.booleans())):
            known = [item["name"].upper() + " GmbH" for item in partners]
            partner_name = draw(st.sampled_from(known + ["Nobody We Know"]))
        preference = {
            "fulfilment": fulfilment,
            "partner_id": partner_id,
            "partner_name": partner_name,
            "contact": draw(st.sampled_from(CONTACTS)),
        }
    deal_ids = draw(st.sets(st.integers(100, 200), max_size=4))
    open_deals = [
        {
            "id": deal_id,
            "account_domain": draw(st.sampled_from(DOMAINS)),
            "account_name": draw(st.sampled_from(COMPANIES)),
            "originator": _party(draw, ids),
            "partner_id": draw(st.none() | st.sampled_from(ids)) if ids else None,
        }
        for deal_id in sorted(deal_ids)
    ]
    return {
        "originator": _party(draw, ids),
        "vendor_strength": draw(st.integers(0, 5)),
        "relationships": relationships,
        "preference": preference,
        "partners": partners,
        "account": {
            "country": draw(st.sampled_from([None, *COUNTRIES])),
            "vertical": draw(st.sampled_from([None, *VERTICALS])),
            "domain": draw(st.sampled_from(DOMAINS)),
            "name": draw(st.sampled_from(COMPANIES)),
        },
        "open_deals": open_deals,
        "declined_partner_ids": sorted(draw(st.sets(st.sampled_from(ids)))) if ids else [],
        "rules": {"threshold": draw(st.integers(1, 5)), "ties": draw(st.sampled_from(["partners", "vendor"]))},
    }


def _ineligible(data: dict) -> set[int]:
    return {item["id"] for item in data["partners"] if not item["active"]} | set(data["declined_partner_ids"])


@PROPERTY
@given(routing_inputs())
def test_leader_is_never_an_inactive_or_declined_partner(data):
    leader = decide(parse_input(data)).leader
    assert leader.kind == "vendor" or leader.partner_id not in _ineligible(data)


def _strengths(data: dict) -> dict[int, int]:
    """Each partner's strength as PRODUCT.md defines it: the customer's statement, else the highest other."""
    stated: dict[int, int] = {}
    others: dict[int, int] = {}
    for rel in data["relationships"]:
        target = stated if rel["source"] == "customer" else others
        target[rel["partner_id"]] = max(rel["strength"], target.get(rel["partner_id"], 0))
    return {item["id"]: stated.get(item["id"], others.get(item["id"], 0)) for item in data["partners"]}


@PROPERTY
@given(routing_inputs())
def test_customers_named_main_contact_that_can_lead_always_leads(data):
    preference = data["preference"]
    leader = decide(parse_input(data)).leader
    contact = preference["contact"] if preference else "no_preference"
    if contact == "vendor":
        assert leader.kind == "vendor"
    elif contact == "partner":
        eligible = set(_strengths(data)) - _ineligible(data)
        named = preference["partner_id"]
        if named is None and preference["partner_name"]:
            by_name = {company_key(item["name"]): item["id"] for item in data["partners"]}
            named = by_name.get(company_key(preference["partner_name"]))
        if named in eligible:
            assert leader.partner_id == named
        elif any(_strengths(data)[pid] > 0 for pid in eligible):
            # Their strongest eligible partner leads; which one is the leader rule's tie-breaks.
            assert leader.kind == "partner"


@PROPERTY
@given(routing_inputs())
def test_direct_always_gives_vendor_fulfilment(data):
    decision = decide(parse_input(data))
    if data["preference"] and data["preference"]["fulfilment"] == "direct":
        assert decision.to_dict()["fulfilment"] == {"kind": "vendor"}


@PROPERTY
@given(routing_inputs())
def test_partner_that_originated_never_ends_with_no_role(data):
    decision = decide(parse_input(data))
    finder = data["originator"]
    if finder["kind"] != "partner":
        return
    result = decision.to_dict()
    assert (
        result["leader"] == finder
        or result["fulfilment"] == finder
        or {"party": finder, "role": "origination_credit"} in result["supporting"]
    )


@PROPERTY
@given(routing_inputs(), st.randoms(use_true_random=False))
def test_decision_is_deterministic_whatever_the_order_of_the_lists(data, random):
    expected = decide(parse_input(data)).to_json()
    shuffled = json.loads(json.dumps(data))
    for field in ("partners", "relationships", "open_deals", "declined_partner_ids"):
        random.shuffle(shuffled[field])
    for item in shuffled["partners"]:
        random.shuffle(item["countries"])
        random.shuffle(item["verticals"])
    assert decide(parse_input(shuffled)).to_json() == expected
    assert decide(parse_input(data)).to_json() == expected


@PROPERTY
@given(routing_inputs())
def test_status_follows_from_flags_and_fulfilment(data):
    decision = decide(parse_input(data))
    held = decision.fulfilment is None or "conflict" in decision.flags
    if held:
        assert decision.status == "on_hold"
    elif "needs_alignment" in decision.flags:
        assert decision.status == "needs_alignment"
    else:
        assert decision.status == "routable"
    assert [step.rule for step in decision.trace] == [
        "leader",
        "alignment",
        "fulfilment",
        "roles",
        "conflict",
        "status",
    ]
