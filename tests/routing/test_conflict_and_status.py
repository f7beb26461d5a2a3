"""Rule 5, conflict: a second open deal on the same account held for the channel manager; and status precedence."""

import pytest

from intake.routing.names import company_key, domain_key

from .builders import CUSTOMER, VENDOR, by_partner, deal, partner_says, pref, rel, route, says

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


def test_conflict_trace_says_how_many_deals_and_how_they_match_without_their_ids():
    decision = route(open_deals=[deal(9, originator=CUSTOMER), deal(8, originator=by_partner(1))])
    assert says(decision, "conflict") == (
        "Two other open deals are on the same account (same web domain and company name) with a different "
        "originator or partner: this deal is held until the channel manager resolves the conflict."
    )
    assert partner_says(decision, "conflict") == (
        "Two other open deals are on the same account: this deal is held until the channel manager resolves the "
        "conflict."
    )


@pytest.mark.parametrize(
    "open_deal, sentence",
    [
        (
            deal(7, domain="eu.acme.example", name="Other", originator=CUSTOMER),
            "Another open deal is on the same account (same web domain) with a different originator or partner",
        ),
        (
            deal(7, domain="other.example", name="ACME", originator=CUSTOMER),
            "Another open deal is on the same account (same company name) with a different originator or partner",
        ),
        (
            deal(7, domain="acme.example", name="Acme", originator=VENDOR),
            "One other open deal on the same account has the same originator and partner: no conflict.",
        ),
    ],
    ids=["by_web_domain", "by_company_name", "alike"],
)
def test_conflict_trace_says_how_the_account_matched(open_deal, sentence):
    text = says(route(vendor_strength=5, open_deals=[open_deal]), "conflict")
    assert text.startswith(sentence)
    assert "7" not in text


def test_no_conflict_tells_partners_nothing():
    assert partner_says(route(), "conflict") == ""
    assert says(route(), "conflict") == "No other open deal is on this account."


@pytest.mark.parametrize(
    "raw, key",
    [
        ("https://www.Example.COM/about?x=1", "example.com"),
        ("shop.example.co.uk:8080", "example.co.uk"),
        ("WWW.example.org.", "example.org"),
        ("https://user:secret@eu.Acme-Group.com:443/path#top", "acme-group.com"),
        ("müller.de", "xn--mller-kva.de"),
        ("bergmann.example", "bergmann.example"),
        ("foo.github.io", "foo.github.io"),
        ("localhost", "localhost"),
        ("co.uk", "co.uk"),
        ("192.168.0.1", "192.168.0.1"),
        ("", ""),
        (None, ""),
    ],
)
def test_domains_are_compared_by_their_registrable_part(raw, key):
    assert domain_key(raw) == key


@pytest.mark.parametrize(
    "a, b",
    [
        ("eu.acme-group.com", "acme-group.com"),
        ("www.acme-group.com", "acme-group.com"),
        ("https://shop.eu.acme-group.com/", "acme-group.com"),
    ],
)
def test_subdomains_are_one_account_under_the_public_suffix_list(a, b):
    assert domain_key(a) == domain_key(b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("shop.example.co.uk", "other.co.uk"),
        ("foo.github.io", "bar.github.io"),
        ("acme.example", "acme.example.org"),
    ],
)
def test_registrable_domains_under_one_public_suffix_stay_apart(a, b):
    assert domain_key(a) != domain_key(b)


def test_subdomains_are_one_account_in_a_conflict():
    decision = route(
        vendor_strength=5, open_deals=[deal(7, domain="https://eu.acme.example/", name=None, originator=CUSTOMER)]
    )
    assert decision.conflicts == (7,)


@pytest.mark.parametrize(
    "a, b",
    [
        ("A.C.M.E. GmbH", "ACME"),
        ("ACME", "Acme"),
        ("ACME-Test, Inc.", "Acme Test GmbH"),
        ("Müller Logistik GmbH & Co. KG", "Müller Logistik GmbH"),
        ("ACME Inc.", "Acme"),
        ("Acme, Ltd", "acme"),
        ("Bergmann Werkzeuge GmbH", "bergmann werkzeuge"),
        ("Müller AG", "Muller"),
        ("Smith & Sons LLC", "smith and sons"),
    ],
)
def test_company_names_are_compared_ignoring_case_accents_punctuation_spaces_and_legal_form(a, b):
    assert company_key(a) == company_key(b)


@pytest.mark.parametrize(
    "legal_form",
    [
        "Inc",
        "Ltd",
        "LLC",
        "GmbH",
        "AG",
        "KG",
        "GmbH & Co. KG",
        "GmbH & Co. KGaA",
        "S.A.",
        "S.à r.l.",
        "Sàrl",
        "B.V.",
        "N.V.",
        "Pty Ltd",
        "Co., Ltd.",
        "plc",
        "SE",
        "Oy",
        "AB",
        "e.K.",
        "KGaA",
        "UG (haftungsbeschränkt)",
    ],
)
def test_compound_legal_forms_are_one_company(legal_form):
    assert company_key(f"Nordlicht Handel {legal_form}") == company_key("Nordlicht Handel") == "nordlichthandel"


@pytest.mark.parametrize(
    "a, b",
    [("Acme", "Acme Bank"), ("General Motors", "General Mills"), ("Acme Tools", "Acme")],
)
def test_names_that_differ_after_normalisation_are_different_companies(a, b):
    assert company_key(a) != company_key(b)


@pytest.mark.parametrize("name, key", [("AG", "ag"), ("Co. Ltd.", "coltd"), ("", ""), (None, ""), ("  ", "")])
def test_a_name_that_is_only_a_legal_form_keeps_it_as_its_key(name, key):
    assert company_key(name) == key


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
