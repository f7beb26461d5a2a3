"""Rule 5, conflict: a second open deal on the same account held for the channel manager; and status precedence."""

import pytest

from intake.routing.names import company_key, domain_key

from .builders import CUSTOMER, VENDOR, by_partner, deal, pref, rel, route, says

# The account: domain acme.example, name "Acme GmbH"; this deal is the vendor's, led and fulfilled by the vendor.
CONFLICT_RULES = [
    pytest.param(
        [deal(11, domain="https://www.ACME.example/contact", name="Something Else", originator=by_partner(1))],
        [11],
        id="same_normalised_domain_and_different_originator_is_a_conflict",
    ),
    pytest.param(
        [deal(12, domain="other.example", name="ACME, Inc.", partner_id=2)],
        [12],
        id="same_normalised_company_name_and_different_partner_is_a_conflict",
    ),
    pytest.param(
        [deal(13, domain="acme.example", name="Acme GmbH", originator=VENDOR, partner_id=None)],
        [],
        id="same_account_same_originator_and_partner_is_no_conflict",
    ),
    pytest.param(
        [deal(14, domain="acme.example.org", name="Acme Group", originator=CUSTOMER)],
        [],
        id="different_account_is_no_conflict",
    ),
    pytest.param(
        [
            deal(30, originator=CUSTOMER),
            deal(4, name="acme", domain=None, partner_id=3),
            deal(17, domain="www.acme.example", name=None, originator=by_partner(2)),
        ],
        [4, 17, 30],
        id="every_conflicting_deal_is_listed_by_id",
    ),
]


@pytest.mark.parametrize("open_deals, conflicts", CONFLICT_RULES)
def test_conflict_rule(open_deals, conflicts):
    decision = route(originator=VENDOR, vendor_strength=5, open_deals=open_deals).to_dict()
    assert decision["conflicts"] == conflicts
    assert ("conflict" in decision["flags"]) is bool(conflicts)
    assert (decision["status"] == "on_hold") is bool(conflicts)


def test_conflict_compares_this_deals_partner_the_one_that_fulfils():
    same = deal(20, originator=VENDOR, partner_id=1)
    decision = route(originator=VENDOR, vendor_strength=5, relationships=[rel(1, 4)], open_deals=[same])
    assert decision.to_dict()["fulfilment"] == by_partner(1)
    assert decision.conflicts == ()
    assert "same originator and partner: no conflict" in says(decision, "conflict")


def test_accounts_without_domain_or_name_do_not_match_each_other():
    decision = route(
        account={"country": "DE", "vertical": None, "domain": None, "name": None},
        open_deals=[deal(21, domain=None, name=None, originator=CUSTOMER)],
    )
    assert decision.conflicts == ()


def test_conflict_trace_names_the_deals_held_against():
    decision = route(open_deals=[deal(9, originator=CUSTOMER), deal(8, originator=by_partner(1))])
    assert says(decision, "conflict").startswith("Open deals 8 and 9 are on the same account")


@pytest.mark.parametrize(
    "raw, key",
    [
        ("https://www.Example.COM/about?x=1", "example.com"),
        ("shop.example.co.uk:8080", "shop.example.co.uk"),
        ("WWW.example.org.", "example.org"),
        ("müller.de", "xn--mller-kva.de"),
        (None, ""),
    ],
)
def test_domains_are_compared_by_their_bare_host(raw, key):
    assert domain_key(raw) == key


@pytest.mark.parametrize(
    "a, b",
    [
        ("ACME Inc.", "Acme"),
        ("Acme, Ltd", "acme"),
        ("Bergmann Werkzeuge GmbH", "bergmann werkzeuge"),
        ("Müller AG", "Muller"),
        ("Smith & Sons LLC", "smith and sons"),
    ],
)
def test_company_names_are_compared_ignoring_case_punctuation_and_legal_form(a, b):
    assert company_key(a) == company_key(b)


# (overrides, status, flags): on_hold > needs_alignment > routable
STATUS_PRECEDENCE = [
    pytest.param(
        dict(
            originator=by_partner(1),
            vendor_strength=5,
            relationships=[rel(1, 1)],
            open_deals=[deal(5, originator=CUSTOMER)],
            preference=pref("no_preference"),
        ),
        "on_hold",
        ["conflict", "needs_alignment"],
        id="conflict_holds_a_deal_that_also_needs_alignment",
    ),
    pytest.param(
        dict(
            originator=by_partner(1),
            vendor_strength=5,
            relationships=[rel(1, 1)],
            preference=pref("partner", partner_name="Nobody"),
        ),
        "on_hold",
        ["needs_alignment", "unknown_partner"],
        id="undecided_fulfilment_holds_a_deal_that_also_needs_alignment",
    ),
    pytest.param(
        dict(originator=by_partner(1), vendor_strength=5, relationships=[rel(1, 1)], preference=pref("direct")),
        "needs_alignment",
        ["needs_alignment", "partner_credit"],
        id="alignment_outranks_routable",
    ),
    pytest.param(
        dict(originator=VENDOR, vendor_strength=5, preference=pref("direct")),
        "routable",
        [],
        id="nothing_to_hold_or_align_is_routable",
    ),
]


@pytest.mark.parametrize("overrides, status, flags", STATUS_PRECEDENCE)
def test_status_precedence(overrides, status, flags):
    decision = route(**overrides).to_dict()
    assert decision["status"] == status
    assert decision["flags"] == flags
