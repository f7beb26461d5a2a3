"""An inconsistent input is refused with a message naming the bad field."""

import pytest

from intake.routing import InvalidInput, decide, parse_input
from intake.routing.model import Account, Party, Preference, Relationship, RoutingInput

from .builders import deal, partner, pref, rel, routing_input

UNKNOWN = 99

# (overrides, the field the message names)
INVALID = [
    pytest.param(dict(vendor_strength=6), "vendor_strength", id="strength_above_5"),
    pytest.param(dict(vendor_strength=-1), "vendor_strength", id="strength_below_0"),
    pytest.param(dict(vendor_strength="3"), "vendor_strength", id="strength_as_text"),
    pytest.param(dict(vendor_strength=True), "vendor_strength", id="strength_as_boolean"),
    pytest.param(dict(vendor_strength=2.5), "vendor_strength", id="strength_as_fraction"),
    pytest.param(
        dict(relationships=[rel(1, 2), rel(2, 7)]), "relationships[1].strength", id="relationship_strength_above_5"
    ),
    pytest.param(
        dict(relationships=[rel(UNKNOWN, 3)]), "relationships[0].partner_id", id="relationship_partner_not_in_partners"
    ),
    pytest.param(
        dict(relationships=[rel(1, 3, "gossip")]), "relationships[0].source", id="relationship_source_unknown"
    ),
    pytest.param(
        dict(relationships=[{"partner_id": 1, "strength": 3}]),
        "relationships[0].source",
        id="relationship_source_missing",
    ),
    pytest.param(
        dict(relationships=[rel(None, 3)]),
        "relationships[0].partner_id",
        id="relationship_naming_no_partner",
    ),
    pytest.param(
        dict(relationships=[rel(None, 3, partner_name="   ")]),
        "relationships[0].partner_id",
        id="relationship_with_a_blank_partner_name",
    ),
    pytest.param(
        dict(relationships=[rel(1, 3, partner_name="Alpha Systems")]),
        "relationships[0].partner_name",
        id="relationship_naming_a_partner_twice",
    ),
    pytest.param(
        dict(relationships=[rel(None, 3, partner_name=7)]),
        "relationships[0].partner_name",
        id="relationship_partner_name_not_text",
    ),
    pytest.param(
        dict(relationships=[rel(1, 3, on_this_deal="yes")]),
        "relationships[0].on_this_deal",
        id="relationship_on_this_deal_not_boolean",
    ),
    pytest.param(
        dict(relationships=[rel(1, 3, stated_at="last week")]),
        "relationships[0].stated_at",
        id="relationship_stated_at_not_iso_8601",
    ),
    pytest.param(
        dict(relationships=[rel(1, 3, stated_at="2025-02-30")]),
        "relationships[0].stated_at",
        id="relationship_stated_at_not_a_date",
    ),
    pytest.param(
        dict(relationships=[rel(1, 3, stated_at="2025-02-03T25:00:00Z")]),
        "relationships[0].stated_at",
        id="relationship_stated_at_not_a_time",
    ),
    pytest.param(
        dict(relationships=[rel(1, 3, stated_at=20250203)]),
        "relationships[0].stated_at",
        id="relationship_stated_at_not_text",
    ),
    pytest.param(
        dict(relationships=[{**rel(1, 3), "confidence": "high"}]),
        "relationships[0].confidence",
        id="relationship_field_unknown",
    ),
    pytest.param(
        dict(preference=pref("partner", partner_id=UNKNOWN)),
        "preference.partner_id",
        id="preference_partner_not_in_partners",
    ),
    pytest.param(
        dict(preference=pref("direct", partner_id=UNKNOWN)),
        "preference.partner_id",
        id="preference_partner_not_in_partners_whatever_the_fulfilment",
    ),
    pytest.param(dict(preference=pref("carrier_pigeon")), "preference.fulfilment", id="preference_fulfilment_unknown"),
    pytest.param(dict(preference=pref("direct", contact="ceo")), "preference.contact", id="preference_contact_unknown"),
    pytest.param(
        dict(preference=pref("partner")), "preference.partner_id", id="preference_partner_fulfilment_naming_no_partner"
    ),
    pytest.param(
        dict(preference=pref("partner", partner_name="   ")),
        "preference.partner_id",
        id="preference_partner_fulfilment_with_blank_name",
    ),
    pytest.param(dict(preference={"contact": "vendor"}), "preference.fulfilment", id="preference_fulfilment_missing"),
    pytest.param(dict(preference="direct"), "preference", id="preference_not_an_object"),
    pytest.param(dict(originator={"kind": "reseller"}), "originator.kind", id="originator_kind_unknown"),
    pytest.param(
        dict(originator={"kind": "partner", "partner_id": UNKNOWN}),
        "originator.partner_id",
        id="partner_originator_not_in_partners",
    ),
    pytest.param(
        dict(originator={"kind": "partner"}), "originator.partner_id", id="partner_originator_without_partner_id"
    ),
    pytest.param(
        dict(originator={"kind": "vendor", "partner_id": 1}),
        "originator.partner_id",
        id="vendor_originator_naming_a_partner",
    ),
    pytest.param(dict(partners=[partner(1, tier="diamond")]), "partners[0].tier", id="partner_tier_unknown"),
    pytest.param(dict(partners=[partner(1), partner(1)]), "partners[1].id", id="partner_listed_twice"),
    pytest.param(dict(partners=[partner(1, active="yes")]), "partners[0].active", id="partner_active_not_boolean"),
    pytest.param(
        dict(partners=[partner(1, countries="DE")]), "partners[0].countries", id="partner_countries_not_a_list"
    ),
    pytest.param(
        dict(partners=[partner(1, verticals=[3])]), "partners[0].verticals[0]", id="partner_vertical_not_text"
    ),
    pytest.param(dict(partners=[partner("1")]), "partners[0].id", id="partner_id_as_text"),
    pytest.param(dict(partners=[{"id": 1}]), "partners[0].name", id="partner_name_missing"),
    pytest.param(dict(partners={"1": partner(1)}), "partners", id="partners_not_a_list"),
    pytest.param(dict(account={"country": "DE", "domain": 5}), "account.domain", id="account_domain_not_text"),
    pytest.param(dict(account=None), "account", id="account_null"),
    pytest.param(
        dict(open_deals=[{"account_domain": "a.example", "originator": {"kind": "vendor"}}]),
        "open_deals[0].id",
        id="open_deal_without_id",
    ),
    pytest.param(
        dict(open_deals=[deal(1, originator={"kind": "someone"})]),
        "open_deals[0].originator.kind",
        id="open_deal_originator_unknown",
    ),
    pytest.param(
        dict(open_deals=[deal(1, partner_id="2")]), "open_deals[0].partner_id", id="open_deal_partner_as_text"
    ),
    pytest.param(dict(declined_partner_ids=["1"]), "declined_partner_ids[0]", id="declined_partner_id_as_text"),
    pytest.param(dict(lapsed_partner_ids=["1"]), "lapsed_partner_ids[0]", id="lapsed_partner_id_as_text"),
    pytest.param(dict(lapsed_partner_ids=1), "lapsed_partner_ids", id="lapsed_partner_ids_not_a_list"),
    pytest.param(dict(rules={"threshold": 0}), "rules.threshold", id="threshold_below_1"),
    pytest.param(dict(rules={"threshold": 6}), "rules.threshold", id="threshold_above_5"),
    pytest.param(dict(rules={"ties": "coin_toss"}), "rules.ties", id="ties_unknown"),
    pytest.param(dict(rules={"treshold": 3}), "rules.treshold", id="rules_field_misspelt"),
    pytest.param(dict(colour="blue"), "colour", id="unknown_field"),
]


@pytest.mark.parametrize("overrides, path", INVALID)
def test_invalid_input_is_refused_naming_the_field(overrides, path):
    with pytest.raises(InvalidInput) as refused:
        parse_input(routing_input(**overrides))
    assert refused.value.path == path
    assert str(refused.value).startswith(f"{path}: ")


@pytest.mark.parametrize("field", ["originator", "vendor_strength", "account", "partners"])
def test_required_fields_are_named_when_missing(field):
    data = routing_input()
    del data[field]
    with pytest.raises(InvalidInput, match=rf"^{field}: is required$"):
        parse_input(data)


@pytest.mark.parametrize("data", [None, [], "input", 3])
def test_input_that_is_not_an_object_is_refused(data):
    with pytest.raises(InvalidInput, match=r"^input: must be an object"):
        parse_input(data)


def test_message_says_what_was_wrong():
    with pytest.raises(InvalidInput) as refused:
        parse_input(routing_input(relationships=[rel(1, 9)]))
    assert str(refused.value) == "relationships[0].strength: must be an integer from 0 to 5, got 9"


def test_optional_lists_rules_and_preference_may_be_left_out():
    data = routing_input()
    for field in ("relationships", "preference", "open_deals", "declined_partner_ids", "lapsed_partner_ids"):
        del data[field]
    routing = parse_input(data)
    assert routing.rules.threshold == 3
    assert routing.rules.ties == "partners"
    assert "no_customer_answer" in decide(routing).flags


def test_decide_refuses_an_inconsistent_input_built_without_parsing():
    built = RoutingInput(
        originator=Party("vendor"),
        vendor_strength=3,
        account=Account(),
        preference=Preference("partner", partner_id=UNKNOWN),
    )
    with pytest.raises(InvalidInput, match=r"^preference\.partner_id: partner 99 is not in partners$"):
        decide(built)


def test_an_input_without_the_new_fields_still_parses():
    data = routing_input(relationships=[{"partner_id": 1, "strength": 4, "source": "customer"}])
    del data["lapsed_partner_ids"]
    routing = parse_input(data)
    assert routing.relationships[0].on_this_deal is False
    assert routing.relationships[0].stated_at is None
    assert routing.relationships[0].partner_name is None
    assert routing.lapsed_partner_ids == frozenset()


def test_declined_and_lapsed_partners_need_not_be_listed():
    routing = parse_input(routing_input(declined_partner_ids=[UNKNOWN], lapsed_partner_ids=[UNKNOWN]))
    assert decide(routing).leader == Party("vendor")


@pytest.mark.parametrize(
    "stated_at", ["2025-02-03", "2025-02-03T10:15", "2025-02-03T10:15:30.123456+01:00", "2025-02-03 10:15:30Z"]
)
def test_stated_at_takes_iso_8601_dates_and_times(stated_at):
    assert parse_input(routing_input(relationships=[rel(1, 3, stated_at=stated_at)])).relationships[0].stated_at


def test_decide_refuses_a_relationship_built_without_parsing_that_names_no_partner():
    built = RoutingInput(
        originator=Party("vendor"),
        vendor_strength=3,
        account=Account(),
        relationships=(Relationship(None, 3, "rep"),),
    )
    with pytest.raises(InvalidInput, match=r"^relationships\[0\]\.partner_id: give a partner_id or a partner_name$"):
        decide(built)
