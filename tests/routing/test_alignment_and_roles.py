"""Rules 2 and 4: alignment when the finder does not lead; who supports and who keeps origination credit."""

import pytest

from .builders import CUSTOMER, VENDOR, by_partner, partner, partner_says, pref, rel, route, says

SUPPORT = {"party": VENDOR, "role": "support"}


def credit(partner_id: int, role: str = "origination_credit") -> dict:
    return {"party": by_partner(partner_id), "role": role}


# (overrides, needs alignment, supporting)
ALIGNMENT_AND_ROLES = [
    pytest.param(
        dict(originator=VENDOR, vendor_strength=1, relationships=[rel(1, 4)]),
        True,
        [SUPPORT],
        id="vendor_finder_that_does_not_lead_needs_alignment_and_supports",
    ),
    pytest.param(
        dict(originator=by_partner(1), vendor_strength=5, relationships=[rel(1, 1)]),
        True,
        [credit(1)],
        id="partner_finder_that_neither_leads_nor_fulfils_keeps_origination_credit",
    ),
    pytest.param(
        dict(originator=by_partner(1), vendor_strength=1, relationships=[rel(1, 4), rel(2, 5)]),
        True,
        [SUPPORT, credit(1)],
        id="partner_finder_behind_another_partner_needs_alignment_and_keeps_credit",
    ),
    pytest.param(
        dict(originator=by_partner(1), vendor_strength=1, relationships=[rel(1, 4)]),
        False,
        [SUPPORT],
        id="partner_finder_that_leads_needs_no_alignment",
    ),
    pytest.param(
        dict(originator=VENDOR, vendor_strength=4, relationships=[rel(1, 2)]),
        False,
        [],
        id="vendor_finder_that_leads_and_fulfils_has_no_supporting_party",
    ),
    pytest.param(
        dict(originator=CUSTOMER, vendor_strength=1, relationships=[rel(1, 4)]),
        False,
        [SUPPORT],
        id="customer_coming_in_never_needs_alignment",
    ),
    pytest.param(
        dict(
            originator=by_partner(1),
            vendor_strength=4,
            relationships=[rel(1, 1)],
            preference=pref("partner", partner_id=1),
        ),
        True,
        [],
        id="partner_finder_that_fulfils_has_its_role_as_fulfiller_not_as_credit",
    ),
    pytest.param(
        dict(originator=VENDOR, vendor_strength=1, relationships=[rel(1, 4)], preference=pref("direct")),
        True,
        [SUPPORT],
        id="vendor_that_fulfils_but_does_not_lead_supports",
    ),
    pytest.param(
        dict(
            originator=by_partner(1),
            vendor_strength=2,
            relationships=[rel(1, 5)],
            partners=[partner(1, active=False), partner(2)],
        ),
        True,
        [credit(1)],
        id="inactive_partner_finder_keeps_origination_credit",
    ),
    pytest.param(
        dict(originator=by_partner(1), vendor_strength=2, relationships=[rel(1, 5)], declined_partner_ids=[1]),
        True,
        [credit(1)],
        id="partner_finder_that_declined_keeps_origination_credit",
    ),
    pytest.param(
        dict(originator=by_partner(1), vendor_strength=2, relationships=[rel(1, 5)], lapsed_partner_ids=[1]),
        True,
        [credit(1)],
        id="partner_finder_that_lapsed_keeps_origination_credit",
    ),
    pytest.param(
        dict(originator=CUSTOMER, vendor_strength=5, relationships=[rel(3, 4)], preference=pref("direct")),
        False,
        [credit(3, "relationship_credit")],
        id="partner_kept_by_direct_without_another_role_keeps_relationship_credit",
    ),
]


@pytest.mark.parametrize("overrides, needs_alignment, supporting", ALIGNMENT_AND_ROLES)
def test_alignment_and_roles(overrides, needs_alignment, supporting):
    decision = route(**overrides).to_dict()
    assert ("needs_alignment" in decision["flags"]) is needs_alignment
    assert decision["supporting"] == supporting


def test_alignment_trace_says_who_found_the_deal_and_who_leads():
    decision = route(originator=by_partner(1), vendor_strength=5, relationships=[rel(1, 1)])
    assert says(decision, "alignment") == (
        "Alpha Systems found the deal but the vendor leads it: the deal needs alignment between them "
        "before anyone contacts the customer, and Alpha Systems keeps origination credit."
    )
    assert partner_says(decision, "alignment") == says(decision, "alignment")


def test_supporting_party_is_told_to_originate_no_customer_communication():
    decision = route(vendor_strength=1, relationships=[rel(1, 4)])
    assert "originates no customer communication and coordinates through the leader" in says(decision, "roles")


def test_roles_trace_says_who_keeps_what():
    decision = route(originator=by_partner(1), vendor_strength=1, relationships=[rel(1, 4), rel(2, 5)])
    assert says(decision, "roles") == (
        "The vendor supports Bravo IT: as the supporting party it originates no customer communication and "
        "coordinates through the leader. Alpha Systems found the deal and, neither leading nor fulfilling it, keeps "
        "origination credit; it originates no customer communication."
    )
    assert partner_says(decision, "roles") == says(decision, "roles")


def test_a_customer_coming_in_is_said_to_have_come_in_on_their_own():
    decision = route(originator=CUSTOMER, vendor_strength=1, relationships=[rel(1, 4)])
    assert says(decision, "alignment") == "The customer came in on their own, so there is no finder to align with."
