"""Rule 1, leader: the customer's named contact when it can lead, else the strongest relationship."""

import pytest

from intake.routing import parse_input
from intake.routing.facts import facts_of

from .builders import CUSTOMER, VENDOR, by_partner, partner, partner_says, pref, rel, route, routing_input, said, says

# (overrides, expected leader)
LEADER_RULES = [
    pytest.param(
        dict(vendor_strength=1, relationships=[said(1, 5)], preference=pref(contact="vendor")),
        VENDOR,
        id="customer_named_vendor_leads_even_when_weaker",
    ),
    pytest.param(
        dict(
            vendor_strength=5, relationships=[said(1, 1), said(2, 5)], preference=pref(partner_id=1, contact="partner")
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
        id="customer_named_inactive_partner_gives_the_strongest_eligible_partner",
    ),
    pytest.param(
        dict(
            vendor_strength=4,
            relationships=[rel(1, 5), rel(2, 3)],
            declined_partner_ids=[1],
            preference=pref(partner_id=1, contact="partner"),
        ),
        by_partner(2),
        id="customer_named_declined_partner_gives_the_strongest_eligible_partner",
    ),
    pytest.param(
        dict(
            vendor_strength=4,
            relationships=[rel(1, 5), rel(2, 3)],
            lapsed_partner_ids=[1],
            preference=pref(partner_id=1, contact="partner"),
        ),
        by_partner(2),
        id="customer_named_lapsed_partner_gives_the_strongest_eligible_partner",
    ),
    pytest.param(
        dict(vendor_strength=5, relationships=[said(1, 2), rel(2, 5)], preference=pref(contact="partner")),
        by_partner(1),
        id="partner_contact_goes_to_the_strongest_of_the_partners_the_customer_listed",
    ),
    pytest.param(
        dict(
            vendor_strength=5,
            relationships=[said(1, 4), rel(2, 3)],
            declined_partner_ids=[1],
            preference=pref(contact="partner"),
        ),
        by_partner(2),
        id="partner_contact_with_no_listed_partner_eligible_goes_to_the_strongest_eligible_partner",
    ),
    pytest.param(
        dict(vendor_strength=5, relationships=[said(1, 0), rel(2, 1)], preference=pref(contact="partner")),
        by_partner(2),
        id="partner_contact_passes_over_a_listed_partner_with_no_relationship",
    ),
    pytest.param(
        dict(vendor_strength=1, relationships=[rel(2, 2)], preference=pref(contact="partner")),
        by_partner(2),
        id="customer_wanting_a_partner_contact_without_naming_one_gets_the_strongest",
    ),
    pytest.param(
        dict(originator=by_partner(3), vendor_strength=4, preference=pref(contact="partner")),
        by_partner(3),
        id="partner_contact_may_go_to_a_zero_strength_finder",
    ),
    pytest.param(
        dict(
            vendor_strength=2,
            relationships=[rel(1, 5)],
            partners=[partner(1, active=False), partner(2), partner(3)],
            preference=pref(contact="partner"),
        ),
        VENDOR,
        id="partner_contact_with_no_partner_in_the_running_falls_through_to_the_strongest_relationship",
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
        dict(vendor_strength=1, relationships=[rel(1, 5)], lapsed_partner_ids=[1]),
        VENDOR,
        id="lapsed_partner_never_leads",
    ),
    pytest.param(
        dict(originator=CUSTOMER, vendor_strength=0, relationships=[]),
        VENDOR,
        id="a_zero_strength_partner_is_not_in_the_running_unless_finder_or_named",
    ),
    pytest.param(
        dict(originator=CUSTOMER, vendor_strength=0, preference=pref("no_preference", partner_id=2)),
        by_partner(2),
        id="a_zero_strength_partner_leads_only_as_finder_or_named_named",
    ),
    pytest.param(
        dict(originator=by_partner(3), vendor_strength=0, rules={"ties": "vendor"}),
        by_partner(3),
        id="a_zero_strength_partner_leads_only_as_finder_or_named_finder",
    ),
    pytest.param(
        dict(originator=CUSTOMER, vendor_strength=0, relationships=[said(None, 5, partner_name="Zulu Consulting")]),
        VENDOR,
        id="a_partner_named_only_in_words_never_leads",
    ),
    pytest.param(
        dict(vendor_strength=3, relationships=[said(None, 5, partner_name="bravo it gmbh")]),
        by_partner(2),
        id="a_relationship_given_by_name_counts_for_the_listed_partner_of_that_name",
    ),
    pytest.param(
        dict(
            vendor_strength=3,
            partners=[
                partner(1, name="Nordlicht IT GmbH"),
                partner(2, name="Nordlicht IT AG"),
                partner(3, name="Nordlicht IT"),
            ],
            declined_partner_ids=[1],
            relationships=[said(None, 5, partner_name="NORDLICHT IT")],
        ),
        by_partner(2),
        id="a_relationship_by_a_shared_name_goes_to_the_eligible_partner_then_the_lower_id",
    ),
]

# Strength order (PRODUCT.md "Relationship strength"): the vendor is at working (3) and leads
# unless partner 1's strength, as the order gives it, is above 3.
STRENGTH_ORDER = [
    pytest.param(
        [rel(1, 5, "customer", stated_at="2025-06-01"), said(1, 1)],
        1,
        "as the customer stated",
        id="this_deals_customer_statement_beats_an_older_one",
    ),
    pytest.param(
        [rel(1, 5, "rep"), rel(1, 5, "partner"), rel(1, 1, "customer")],
        1,
        "as the customer stated on an earlier deal",
        id="a_customer_statement_outranks_the_rep_and_the_partner",
    ),
    pytest.param(
        [rel(1, 1, "customer", stated_at="2024-01-01"), rel(1, 5, "customer", stated_at="2025-06-01T08:00:00Z")],
        5,
        "as the customer stated on an earlier deal",
        id="else_the_most_recent_customer_statement_counts",
    ),
    pytest.param(
        [rel(1, 5, "customer"), rel(1, 1, "customer", stated_at="2020-01-01")],
        1,
        "as the customer stated on an earlier deal",
        id="a_customer_statement_without_a_time_counts_as_the_oldest",
    ),
    pytest.param(
        [
            rel(1, 5, "customer", stated_at="2025-03-01T10:00:00+02:00"),
            rel(1, 1, "customer", stated_at="2025-03-01T09:00:00Z"),
        ],
        1,
        "as the customer stated on an earlier deal",
        id="statement_times_compare_as_instants_across_time_zones",
    ),
    pytest.param(
        [
            rel(1, 2, "customer", stated_at="2025-03-01T10:00:00+01:00"),
            rel(1, 4, "customer", stated_at="2025-03-01T09:00:00Z"),
        ],
        4,
        "as the customer stated on an earlier deal",
        id="customer_statements_at_one_time_give_the_higher_strength",
    ),
    pytest.param(
        [rel(1, 2, "rep"), rel(1, 4, "partner")],
        4,
        "as the partner stated",
        id="without_a_customer_statement_the_higher_of_rep_and_partner_counts",
    ),
    pytest.param(
        [rel(1, 4, "rep"), rel(1, 4, "partner")],
        4,
        "as the rep estimated and the partner stated",
        id="rep_and_partner_agreeing_are_both_said",
    ),
    pytest.param(
        [rel(1, 5, "rep", stated_at="2025-09-01"), rel(1, 1, "rep", on_this_deal=True), rel(1, 2, "partner")],
        2,
        "as the partner stated",
        id="the_reps_estimate_on_this_deal_beats_its_more_recent_one_on_another",
    ),
    pytest.param(
        [rel(1, 5, "partner", stated_at="2023-01-01"), rel(1, 2, "partner", stated_at="2025-01-01"), rel(1, 1, "rep")],
        2,
        "as the partner stated",
        id="the_partners_most_recent_statement_counts_not_its_highest",
    ),
    pytest.param([], 0, "no relationship known", id="no_statement_is_no_relationship_known"),
]


@pytest.mark.parametrize("overrides, leader", LEADER_RULES)
def test_leader_rule(overrides, leader):
    assert route(**overrides).to_dict()["leader"] == leader


@pytest.mark.parametrize("relationships, strength, how", STRENGTH_ORDER)
def test_strength_order(relationships, strength, how):
    known = facts_of(parse_input(routing_input(relationships=relationships))).strengths[1]
    assert (known.strength, known.how) == (strength, how)
    decision = route(vendor_strength=3, relationships=relationships, originator=CUSTOMER)
    assert decision.to_dict()["leader"] == (by_partner(1) if strength > 3 else VENDOR)


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


@pytest.mark.parametrize("overrides, leader", TIE_BREAKS)
def test_leader_tie_break(overrides, leader):
    overrides = {"vendor_strength": 3, **overrides}
    assert route(**overrides).to_dict()["leader"] == leader


@pytest.mark.parametrize(
    "rules, reason, in_general",
    [
        (None, "ties go to partners before the vendor", "partners go before the vendor under the rules of engagement"),
        ({"ties": "vendor"}, "ties go to the vendor before partners", "the vendor goes before partners"),
    ],
)
def test_trace_says_how_a_tie_was_broken(rules, reason, in_general):
    decision = route(originator=CUSTOMER, vendor_strength=3, relationships=[rel(2, 3)], rules=rules)
    assert "are tied at working (3)" in says(decision, "leader")
    assert reason in says(decision, "leader")
    assert "its relationship with the customer is as strong as any" in partner_says(decision, "leader")
    assert in_general in partner_says(decision, "leader")


def test_the_tie_by_id_is_said_as_who_joined_first_without_a_number():
    decision = route(
        originator=CUSTOMER,
        vendor_strength=0,
        relationships=[rel(1, 2), rel(2, 2)],
        partners=[partner(1, tier="registered"), partner(2, tier="registered")],
    )
    assert "among partners of one tier the partner that joined us first wins" in says(decision, "leader")
    assert partner_says(decision, "leader") == (
        "Alpha Systems leads: its relationship with the customer is as strong as any, and the partner that joined "
        "us first wins."
    )


def test_a_declined_partner_is_said_to_have_declined():
    decision = route(vendor_strength=2, relationships=[rel(1, 5)], declined_partner_ids=[1])
    assert "An ineligible partner never leads: Alpha Systems declined this deal." in says(decision, "leader")
    assert "time to answer" not in says(decision, "leader")


def test_a_lapsed_partner_is_not_eligible_and_is_said_to_have_let_its_time_pass():
    decision = route(vendor_strength=2, relationships=[rel(1, 5)], lapsed_partner_ids=[1])
    assert decision.leader.kind == "vendor"
    assert "Alpha Systems let its time to answer pass on this deal." in says(decision, "leader")
    assert "declined" not in says(decision, "leader")
    assert "Alpha Systems" not in partner_says(decision, "leader")


def test_trace_says_how_the_strength_is_known():
    decision = route(vendor_strength=1, relationships=[rel(1, 4, "rep"), said(1, 5)])
    assert "strategic (5), as the customer stated" in says(decision, "leader")
    assert "Next comes the vendor, aware (1)" in says(decision, "leader")


def test_a_partner_named_only_in_words_keeps_the_customers_strength():
    decision = route(
        vendor_strength=1,
        relationships=[
            said(None, 5, partner_name="Zulu Consulting"),
            rel(None, 2, "rep", partner_name="ZULU CONSULTING GmbH"),
        ],
    )
    assert says(decision, "leader").endswith(
        " Zulu Consulting, strategic (5), as the customer stated, is not a partner we know, so it cannot lead or "
        "fulfil."
    )
    assert "Zulu" not in partner_says(decision, "leader")


def test_partner_contact_falling_through_says_why():
    decision = route(
        vendor_strength=2,
        relationships=[rel(1, 5)],
        declined_partner_ids=[1],
        preference=pref(partner_id=1, contact="partner"),
    )
    assert says(decision, "leader").startswith(
        "The customer wants a partner as their main contact, but Alpha Systems declined this deal and no eligible "
        "partner has a relationship with them, so the strongest relationship decides. The vendor has the strongest "
        "relationship with the customer, transactional (2), so it leads."
    )
    assert (
        partner_says(decision, "leader") == "The vendor has the strongest relationship with the customer, so it leads."
    )


def test_partner_contact_among_the_listed_partners_is_said_without_the_list_to_partners():
    decision = route(vendor_strength=5, relationships=[said(1, 2), rel(2, 5)], preference=pref(contact="partner"))
    assert says(decision, "leader") == (
        "The customer wants a partner as their main contact and they named no partner, so the strongest eligible "
        "partner of those they listed leads: Alpha Systems, transactional (2), as the customer stated."
    )
    assert (
        partner_says(decision, "leader") == "Alpha Systems leads: the customer wants a partner as their main contact."
    )


def test_leader_by_the_customers_choice_of_contact_is_said_as_their_wish():
    assert (
        partner_says(route(preference=pref(contact="vendor")), "leader") == "The vendor leads, at the customer's wish."
    )
    named = route(preference=pref(partner_id=2, contact="partner"))
    assert partner_says(named, "leader") == "Bravo IT leads, at the customer's wish."


def test_leader_by_strength_tells_partners_why_without_the_strength():
    decision = route(vendor_strength=1, relationships=[said(1, 4)], partners=[partner(1, name="Thames Cloud Ltd")])
    assert says(decision, "leader") == (
        "Thames Cloud Ltd has the strongest relationship with the customer, trusted (4), as the customer stated, "
        "so it leads. Next comes the vendor, aware (1)."
    )
    assert (
        partner_says(decision, "leader")
        == "Thames Cloud Ltd has the strongest relationship with the customer, so it leads."
    )
