"""Rule 1, leader: the customer's named contact when it can lead, else the strongest relationship."""

import pytest

from .builders import CUSTOMER, VENDOR, by_partner, partner, pref, rel, route, says

# (id, overrides, expected leader)
LEADER_RULES = [
    pytest.param(
        dict(vendor_strength=1, relationships=[rel(1, 5, "customer")], preference=pref(contact="vendor")),
        VENDOR,
        id="customer_named_vendor_leads_even_when_weaker",
    ),
    pytest.param(
        dict(
            vendor_strength=5,
            relationships=[rel(1, 1, "customer"), rel(2, 5, "customer")],
            preference=pref(partner_id=1, contact="partner"),
        ),
        by_partner(1),
        id="customer_named_partner_leads_even_when_weaker",
    ),
    pytest.param(
        dict(
            vendor_strength=1,
            relationships=[rel(1, 2), rel(2, 5)],
            preference=pref("partner", partner_name="ALPHA SYSTEMS GmbH", contact="partner"),
        ),
        by_partner(1),
        id="customer_named_partner_is_found_by_its_normalised_name",
    ),
    pytest.param(
        dict(
            vendor_strength=4,
            relationships=[rel(1, 5), rel(2, 2), rel(3, 3)],
            partners=[partner(1, active=False), partner(2), partner(3)],
            preference=pref(partner_id=1, contact="partner"),
        ),
        by_partner(3),
        id="customer_named_inactive_partner_gives_their_strongest_eligible_partner",
    ),
    pytest.param(
        dict(
            vendor_strength=4,
            relationships=[rel(1, 5), rel(2, 3)],
            declined_partner_ids=[1],
            preference=pref(partner_id=1, contact="partner"),
        ),
        by_partner(2),
        id="customer_named_declined_partner_gives_their_strongest_eligible_partner",
    ),
    pytest.param(
        dict(vendor_strength=1, relationships=[rel(2, 2)], preference=pref(contact="partner")),
        by_partner(2),
        id="customer_wanting_a_partner_contact_without_naming_one_gets_their_strongest",
    ),
    pytest.param(
        dict(
            vendor_strength=2,
            relationships=[rel(1, 5)],
            partners=[partner(1, active=False), partner(2), partner(3)],
            preference=pref(contact="partner"),
        ),
        VENDOR,
        id="customer_partner_contact_with_no_eligible_partner_falls_back_to_strongest_relationship",
    ),
    pytest.param(
        dict(vendor_strength=2, relationships=[rel(1, 4)]),
        by_partner(1),
        id="strongest_relationship_leads_partner",
    ),
    pytest.param(
        dict(vendor_strength=4, relationships=[rel(1, 3), rel(2, 2)]),
        VENDOR,
        id="strongest_relationship_leads_vendor",
    ),
    pytest.param(
        dict(vendor_strength=3, relationships=[rel(1, 5, "rep"), rel(1, 5, "partner"), rel(1, 1, "customer")]),
        VENDOR,
        id="customer_stated_strength_outranks_rep_and_partner_estimates",
    ),
    pytest.param(
        dict(vendor_strength=3, relationships=[rel(1, 2, "rep"), rel(1, 4, "partner")]),
        by_partner(1),
        id="without_customer_statement_strength_is_the_highest_other_source",
    ),
    pytest.param(
        dict(vendor_strength=1, relationships=[rel(1, 5), rel(2, 2)], partners=[partner(1, active=False), partner(2)]),
        by_partner(2),
        id="inactive_partner_never_leads",
    ),
    pytest.param(
        dict(vendor_strength=1, relationships=[rel(1, 5)], declined_partner_ids=[1]),
        VENDOR,
        id="declined_partner_never_leads",
    ),
    pytest.param(
        dict(originator=CUSTOMER, vendor_strength=0, relationships=[]),
        VENDOR,
        id="partner_without_relationship_is_not_in_the_running",
    ),
]

# Ties: everyone below is tied at working (3) unless the case says otherwise.
TIE_BREAKS = [
    pytest.param(
        dict(
            originator=by_partner(2),
            relationships=[rel(1, 3), rel(2, 3)],
            partners=[partner(1, tier="platinum"), partner(2, tier="registered")],
            rules={"ties": "vendor"},
        ),
        by_partner(2),
        id="tie_goes_to_the_originator_partner",
    ),
    pytest.param(
        dict(originator=VENDOR, relationships=[rel(1, 3), rel(2, 3)]),
        VENDOR,
        id="tie_goes_to_the_originator_vendor_before_partners",
    ),
    pytest.param(
        dict(originator=by_partner(1), vendor_strength=0, relationships=[]),
        by_partner(1),
        id="tie_at_no_relationship_goes_to_the_originator",
    ),
    pytest.param(
        dict(
            originator=CUSTOMER,
            relationships=[rel(1, 3), rel(2, 3)],
            partners=[partner(1, tier="platinum"), partner(2, tier="registered")],
            preference=pref("partner", partner_id=2),
        ),
        by_partner(2),
        id="tie_without_originator_goes_to_the_partner_the_customer_named",
    ),
    pytest.param(
        dict(originator=CUSTOMER, relationships=[rel(2, 3)]),
        by_partner(2),
        id="tie_goes_to_partners_before_the_vendor_by_default",
    ),
    pytest.param(
        dict(originator=CUSTOMER, relationships=[rel(2, 3)], rules={"ties": "vendor"}),
        VENDOR,
        id="tie_goes_to_the_vendor_when_rules_of_engagement_say_so",
    ),
    pytest.param(
        dict(
            originator=CUSTOMER,
            relationships=[rel(1, 3), rel(2, 3), rel(3, 3)],
            partners=[partner(1, tier="silver"), partner(2, tier="platinum"), partner(3, tier="gold")],
        ),
        by_partner(2),
        id="tie_among_partners_goes_to_the_higher_tier",
    ),
    pytest.param(
        dict(
            originator=CUSTOMER,
            vendor_strength=0,
            relationships=[rel(1, 2), rel(2, 2), rel(3, 2)],
            partners=[partner(3, tier="registered"), partner(2, tier="registered"), partner(1, tier="registered")],
        ),
        by_partner(1),
        id="tie_among_partners_of_one_tier_goes_to_the_lower_id",
    ),
]


@pytest.mark.parametrize("overrides, leader", LEADER_RULES)
def test_leader_rule(overrides, leader):
    assert route(**overrides).to_dict()["leader"] == leader


@pytest.mark.parametrize("overrides, leader", TIE_BREAKS)
def test_leader_tie_break(overrides, leader):
    overrides = {"vendor_strength": 3, **overrides}
    assert route(**overrides).to_dict()["leader"] == leader


@pytest.mark.parametrize(
    "rules, reason",
    [
        (None, "ties go to partners before the vendor"),
        ({"ties": "vendor"}, "ties go to the vendor before partners"),
    ],
)
def test_trace_says_how_a_tie_was_broken(rules, reason):
    decision = route(originator=CUSTOMER, vendor_strength=3, relationships=[rel(2, 3)], rules=rules)
    assert "are tied at working (3)" in says(decision, "leader")
    assert reason in says(decision, "leader")


def test_trace_names_the_ineligible_partner_that_could_not_lead():
    decision = route(vendor_strength=2, relationships=[rel(1, 5)], declined_partner_ids=[1])
    assert "Alpha Systems (partner 1) declined this deal" in says(decision, "leader")


def test_trace_says_how_the_strength_is_known():
    decision = route(vendor_strength=1, relationships=[rel(1, 4, "rep"), rel(1, 5, "customer")])
    assert "strategic (5), as the customer stated" in says(decision, "leader")
    assert "Next comes the vendor, aware (1)" in says(decision, "leader")
