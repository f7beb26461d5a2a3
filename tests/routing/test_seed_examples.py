"""The two worked examples of the seed article, routed as the article says."""

from .builders import CUSTOMER, VENDOR, by_partner, partner, partner_says, pref, rel, route, said, says

PARTNER_OF_MANY_YEARS = 7
MARKETING_PARTNER = 8
PARTNERS = [
    partner(PARTNER_OF_MANY_YEARS, name="Harbour Systems", tier="silver"),
    partner(MARKETING_PARTNER, name="Brightline Marketing Partners", tier="gold"),
]


def test_partner_of_many_years_leads_when_its_customer_calls_the_vendor_directly():
    # "A channel partner has worked with Company X for years ... Company X reaches out to the
    # vendor directly. Yet no one in Vendor A knows much about the company. Vendor A would be
    # wise to hand control back to the channel partner and support the deal from there."
    decision = route(
        originator=CUSTOMER,
        vendor_strength=1,
        partners=PARTNERS,
        relationships=[said(PARTNER_OF_MANY_YEARS, 5), rel(PARTNER_OF_MANY_YEARS, 4, "rep")],
        preference=pref("no_preference", contact="no_preference"),
        account={"country": "DE", "vertical": "Retail", "domain": "companyx.example", "name": "Company X AG"},
    )
    result = decision.to_dict()
    assert result["leader"] == by_partner(PARTNER_OF_MANY_YEARS)
    assert result["fulfilment"] == by_partner(PARTNER_OF_MANY_YEARS)
    assert result["supporting"] == [{"party": VENDOR, "role": "support"}]
    assert result["status"] == "routable"
    assert result["flags"] == []
    assert says(decision, "leader") == (
        "Harbour Systems has the strongest relationship with the customer, strategic (5), as the customer stated, so "
        "it leads. Next comes the vendor, aware (1)."
    )
    assert partner_says(decision, "leader") == (
        "Harbour Systems has the strongest relationship with the customer, so it leads."
    )


def test_partners_marketing_lead_for_the_vendors_long_standing_customer_goes_back_to_the_vendor():
    # "Vendor A has a long-term relationship with Company X ... the marketing actions of that
    # channel partner might generate a lead. But no one at the partner has any real connection to
    # Company X. Hand the lead back to Vendor A and stand by to support the deal."
    decision = route(
        originator=by_partner(MARKETING_PARTNER),
        vendor_strength=5,
        partners=PARTNERS,
        relationships=[rel(MARKETING_PARTNER, 1, "rep")],
        preference=None,
        account={"country": "DE", "vertical": "Retail", "domain": "companyx.example", "name": "Company X AG"},
    )
    result = decision.to_dict()
    assert result["leader"] == VENDOR
    assert result["fulfilment"] == VENDOR
    assert result["supporting"] == [{"party": by_partner(MARKETING_PARTNER), "role": "origination_credit"}]
    assert result["status"] == "needs_alignment"
    assert result["flags"] == ["needs_alignment", "no_customer_answer"]
    assert "keeps origination credit" in says(decision, "alignment")
