"""Rule 3, fulfilment: the customer's preference first."""

import pytest

from .builders import CUSTOMER, VENDOR, by_partner, partner, partner_says, pref, rel, route, said, says

# (overrides, fulfilment, flags that must be present)
FULFILMENT_RULES = [
    pytest.param(
        dict(vendor_strength=5, preference=pref("partner", partner_id=2)),
        by_partner(2),
        set(),
        id="partner_named_and_eligible_fulfils",
    ),
    pytest.param(
        dict(vendor_strength=5, preference=pref("partner", partner_name="  bravo it, ltd. ")),
        by_partner(2),
        set(),
        id="partner_named_by_name_is_matched_ignoring_case_punctuation_and_legal_form",
    ),
    pytest.param(
        dict(vendor_strength=5, preference=pref("partner", partner_name="Zulu Consulting")),
        None,
        {"unknown_partner"},
        id="partner_named_but_unknown_holds_the_deal",
    ),
    pytest.param(
        dict(
            vendor_strength=5, preference=pref("partner", partner_id=2), partners=[partner(1), partner(2, active=False)]
        ),
        None,
        {"inactive_partner"},
        id="partner_named_but_inactive_holds_the_deal",
    ),
    pytest.param(
        dict(vendor_strength=5, preference=pref("partner", partner_id=2), declined_partner_ids=[2]),
        None,
        {"inactive_partner"},
        id="partner_named_but_declined_holds_the_deal",
    ),
    pytest.param(
        dict(vendor_strength=5, preference=pref("partner", partner_id=2), lapsed_partner_ids=[2]),
        None,
        {"inactive_partner"},
        id="partner_named_but_lapsed_holds_the_deal",
    ),
    pytest.param(
        dict(
            vendor_strength=5,
            preference=pref("partner", partner_name="Zulu"),
            relationships=[said(None, 5, partner_name="Zulu")],
        ),
        None,
        {"unknown_partner"},
        id="partner_named_only_in_words_never_fulfils",
    ),
    pytest.param(
        dict(vendor_strength=1, relationships=[rel(1, 5)], preference=pref("direct")),
        VENDOR,
        {"partner_credit"},
        id="direct_gives_the_vendor_and_the_leading_partner_keeps_credit",
    ),
    pytest.param(
        dict(originator=by_partner(1), vendor_strength=5, relationships=[rel(1, 1)], preference=pref("direct")),
        VENDOR,
        {"partner_credit"},
        id="direct_gives_the_vendor_and_the_originating_partner_keeps_credit",
    ),
    pytest.param(
        dict(originator=VENDOR, vendor_strength=5, relationships=[rel(1, 1)], preference=pref("direct")),
        VENDOR,
        set(),
        id="direct_with_no_partner_leading_or_originating_or_at_the_threshold_gives_no_partner_credit",
    ),
    pytest.param(
        dict(originator=VENDOR, vendor_strength=5, relationships=[rel(1, 3), rel(2, 4)], preference=pref("direct")),
        VENDOR,
        {"partner_credit"},
        id="direct_flags_partner_credit_when_a_partner_keeps_relationship_credit",
    ),
    pytest.param(
        dict(vendor_strength=5, relationships=[rel(1, 3), rel(2, 4)], preference=pref("any_partner")),
        by_partner(2),
        set(),
        id="any_partner_gives_the_strongest_eligible_partner_at_the_threshold",
    ),
    pytest.param(
        dict(
            vendor_strength=5,
            relationships=[rel(1, 3), rel(2, 3)],
            partners=[partner(1, tier="silver"), partner(2, tier="platinum")],
            preference=pref("any_partner"),
        ),
        by_partner(2),
        set(),
        id="any_partner_tie_at_the_threshold_goes_to_the_higher_tier",
    ),
    pytest.param(
        dict(
            vendor_strength=5,
            relationships=[rel(1, 5), rel(2, 3)],
            partners=[partner(1, active=False), partner(2)],
            preference=pref("any_partner"),
        ),
        by_partner(2),
        set(),
        id="any_partner_skips_ineligible_partners",
    ),
    pytest.param(
        dict(vendor_strength=5, relationships=[rel(1, 2)], preference=pref("any_partner"), rules={"threshold": 2}),
        by_partner(1),
        set(),
        id="any_partner_threshold_comes_from_the_rules_of_engagement",
    ),
    pytest.param(
        dict(
            vendor_strength=5,
            relationships=[rel(1, 2)],
            partners=[
                partner(1, countries=["FR"], verticals=["Retail"], tier="platinum"),
                partner(2, countries=["DE"], verticals=["Health"], tier="registered"),
                partner(3, countries=["DE"], verticals=["Retail"], tier="registered"),
            ],
            preference=pref("any_partner"),
        ),
        by_partner(3),
        {"confirm_recommendation"},
        id="any_partner_below_threshold_proposes_the_first_ranked_partner",
    ),
    pytest.param(
        dict(vendor_strength=5, partners=[partner(1, active=False)], preference=pref("any_partner")),
        None,
        {"confirm_recommendation"},
        id="any_partner_with_no_eligible_partner_holds_the_deal",
    ),
    pytest.param(
        dict(vendor_strength=1, relationships=[rel(1, 4)], preference=pref("no_preference")),
        by_partner(1),
        set(),
        id="no_preference_gives_the_leading_partner",
    ),
    pytest.param(
        dict(vendor_strength=5, relationships=[rel(1, 3), rel(2, 4)], preference=pref("no_preference")),
        by_partner(2),
        set(),
        id="no_preference_with_vendor_leading_gives_the_strongest_partner_at_the_threshold",
    ),
    pytest.param(
        dict(vendor_strength=5, relationships=[rel(1, 2)], preference=pref("no_preference")),
        VENDOR,
        set(),
        id="no_preference_with_no_partner_at_the_threshold_gives_the_vendor",
    ),
    pytest.param(
        dict(vendor_strength=5, relationships=[rel(1, 5)], declined_partner_ids=[1], preference=pref("no_preference")),
        VENDOR,
        set(),
        id="no_preference_never_gives_a_declined_partner",
    ),
    pytest.param(
        dict(vendor_strength=5, relationships=[rel(1, 5)], lapsed_partner_ids=[1], preference=pref("no_preference")),
        VENDOR,
        set(),
        id="no_preference_never_gives_a_lapsed_partner",
    ),
    pytest.param(
        dict(vendor_strength=1, relationships=[rel(1, 4)], preference=None),
        by_partner(1),
        {"no_customer_answer"},
        id="no_customer_answer_gives_the_leading_partner_and_is_flagged",
    ),
    pytest.param(
        dict(vendor_strength=5, relationships=[rel(1, 2)], preference=None),
        VENDOR,
        {"no_customer_answer"},
        id="no_customer_answer_with_no_partner_at_the_threshold_gives_the_vendor",
    ),
]


@pytest.mark.parametrize("overrides, fulfilment, flags", FULFILMENT_RULES)
def test_fulfilment_rule(overrides, fulfilment, flags):
    decision = route(**overrides).to_dict()
    assert decision["fulfilment"] == fulfilment
    assert flags <= set(decision["flags"])
    held = {"unknown_partner", "inactive_partner"} & set(decision["flags"]) or fulfilment is None
    assert (decision["status"] == "on_hold") is bool(held)


def test_missing_preference_is_not_an_error_but_no_customer_answer():
    values = dict(vendor_strength=5)
    decision = route(**values)
    assert "no_customer_answer" in decision.flags
    assert "has not answered yet" in says(decision, "fulfilment")


def test_a_stated_preference_is_never_flagged_as_no_customer_answer():
    assert "no_customer_answer" not in route(preference=pref("no_preference")).flags


def test_recommendations_rank_country_then_vertical_then_tier_then_id():
    decision = route(
        vendor_strength=5,
        preference=pref("any_partner"),
        partners=[
            partner(6, countries=["FR"], verticals=["Health"], tier="platinum"),
            partner(5, countries=["FR"], verticals=["Retail"], tier="registered"),
            partner(4, countries=["DE"], verticals=["Health"], tier="registered"),
            partner(3, countries=["DE"], verticals=["Health"], tier="platinum"),
            partner(2, countries=["de"], verticals=["retail"], tier="silver"),
            partner(1, countries=["DE"], verticals=["Retail"], tier="silver"),
            partner(7, active=False, countries=["DE"], verticals=["Retail"], tier="platinum"),
        ],
    ).to_dict()
    assert [rec["partner_id"] for rec in decision["recommendations"]] == [1, 2, 3, 4, 5]
    assert decision["recommendations"][0]["reason"] == "covers DE, serves Retail, silver tier"
    assert decision["recommendations"][2]["reason"] == "covers DE, not in Retail, platinum tier"
    assert decision["fulfilment"] == by_partner(1)


def test_recommendations_are_given_only_when_the_customer_must_confirm_one():
    decision = route(vendor_strength=5, relationships=[rel(1, 4)], preference=pref("any_partner"))
    assert decision.recommendations == ()
    assert "confirm_recommendation" not in decision.flags


def test_direct_trace_says_the_partner_is_not_cut_out():
    decision = route(
        originator=CUSTOMER,
        vendor_strength=1,
        relationships=[rel(1, 5)],
        partners=[partner(1, name="Thames Cloud Ltd")],
        preference=pref("direct"),
    )
    assert decision.to_dict()["leader"] == by_partner(1)
    assert says(decision, "fulfilment") == (
        "The customer wants to buy directly from the vendor, so the vendor fulfils. Thames Cloud Ltd keeps its role "
        "and credit: the customer buying direct never cuts the partner out."
    )
    assert partner_says(decision, "fulfilment") == (
        "The vendor fulfils directly, at the customer's wish; Thames Cloud Ltd keeps its role and credit: buying "
        "direct never cuts the partner out."
    )


# (overrides, the partner that keeps relationship credit, or None); the vendor leads and found the deal.
RELATIONSHIP_CREDIT = [
    pytest.param(
        dict(relationships=[rel(1, 3), rel(2, 4)]),
        2,
        id="direct_keeps_relationship_credit_for_the_strongest_partner_at_threshold",
    ),
    pytest.param(
        dict(relationships=[rel(1, 3)], rules={"threshold": 4}),
        None,
        id="direct_keeps_no_relationship_credit_below_the_threshold",
    ),
    pytest.param(
        dict(relationships=[rel(1, 5), rel(2, 5), rel(3, 3)], declined_partner_ids=[1], lapsed_partner_ids=[2]),
        3,
        id="direct_keeps_relationship_credit_only_for_an_eligible_partner",
    ),
    pytest.param(
        dict(
            originator=CUSTOMER,
            relationships=[rel(1, 3), rel(2, 3)],
            partners=[partner(1), partner(2, tier="platinum")],
        ),
        2,
        id="direct_relationship_credit_among_partners_at_one_strength_goes_by_the_tie_breaks",
    ),
]


@pytest.mark.parametrize("overrides, kept", RELATIONSHIP_CREDIT)
def test_direct_relationship_credit(overrides, kept):
    decision = route(**{"vendor_strength": 5, "preference": pref("direct"), **overrides})
    assert decision.leader.kind == "vendor"
    assert decision.to_dict()["fulfilment"] == VENDOR
    credited = [role.party.partner_id for role in decision.supporting if role.role == "relationship_credit"]
    assert credited == ([kept] if kept else [])
    assert ("partner_credit" in decision.flags) is bool(kept)
    if kept:
        assert decision.roles_of(kept) == ("relationship_credit",)
        assert "keeps relationship credit" in partner_says(decision, "fulfilment")
        assert "keeps relationship credit for its relationship with the customer" in says(decision, "roles")


def test_direct_keeps_no_relationship_credit_when_a_partner_leads_or_found_the_deal():
    leads = route(vendor_strength=1, relationships=[rel(1, 5), rel(2, 4)], preference=pref("direct"))
    found = route(originator=by_partner(1), vendor_strength=5, relationships=[rel(2, 4)], preference=pref("direct"))
    for decision in (leads, found):
        assert "relationship_credit" not in {role.role for role in decision.supporting}
        assert decision.roles_of(2) == ()


def test_a_held_fulfilment_tells_partners_neither_who_declined_nor_who_lapsed():
    for held in (
        route(preference=pref("partner", partner_id=2), declined_partner_ids=[2]),
        route(preference=pref("partner", partner_id=2), lapsed_partner_ids=[2]),
        route(preference=pref("partner", partner_id=2), partners=[partner(1), partner(2, active=False)]),
    ):
        assert partner_says(held, "fulfilment") == (
            "Who fulfils is for the channel manager to decide; until then the deal is on hold."
        )
    assert "Bravo IT to fulfil, but it let its time to answer pass on this deal" in says(
        route(preference=pref("partner", partner_id=2), lapsed_partner_ids=[2]), "fulfilment"
    )


def test_an_unknown_partner_asked_for_is_said_with_the_strength_the_customer_gave_it():
    decision = route(
        preference=pref("partner", partner_name="zulu consulting"),
        relationships=[said(None, 4, partner_name="Zulu Consulting Ltd")],
    )
    assert says(decision, "fulfilment") == (
        "The customer wants Zulu Consulting Ltd (trusted (4), as the customer stated) to fulfil, but it is not a "
        "partner we know: the deal is held for the channel manager."
    )
