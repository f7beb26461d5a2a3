"""A customer who asks us to recommend a partner gets the partners the engine would rank first among all of them,
though routing reads only the few a recommendation can name (partner coverage, by index)."""

import random

import pytest

from intake import routing
from intake.admin import services as admin
from intake.deals import decisions
from intake.deals.facts import _partner
from intake.extensions import db
from intake.models import Partner, PartnerCoverage

COUNTRIES = ("DE", "AT", "FR")
VERTICALS = ("Retail", "Healthcare", "Education")
TIERS = ("platinum", "gold", "silver", "registered")


def decided_among_all_partners(proposal) -> routing.Decision:
    """The engine's decision on the same facts with every partner known, as routing read them before."""
    data = dict(proposal.facts.data)
    data["partners"] = [_partner(p) for p in db.session.scalars(db.select(Partner).order_by(Partner.id))]
    return routing.decide(routing.parse_input(data))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_partners_recommended_are_those_ranked_first_among_every_partner(ready, make_account, make_partner, seed):
    rng = random.Random(seed)
    partners = [
        make_partner(
            countries=rng.sample(COUNTRIES, rng.randint(0, 2)),
            verticals=rng.sample(VERTICALS, rng.randint(0, 2)),
            tier=rng.choice(TIERS),
            is_active=rng.random() > 0.2,
        )
        for _ in range(rng.randint(3, 30))
    ]
    # Partners change after they were made: the recommendation follows what they are now.
    for partner in rng.sample(partners, len(partners) // 3):
        values = {field: getattr(partner, field) for field in admin.PARTNER_FIELDS}
        values.update(tier=rng.choice(TIERS), countries=rng.sample(COUNTRIES, rng.randint(0, 2)))
        admin.save_partner(partner, values, actor=None)
    # and some stop or start working with us.
    for partner in rng.sample(partners, len(partners) // 4):
        admin.set_partner_active(partner, not partner.is_active, actor=None)
    db.session.commit()
    # Sometimes a country or a vertical no partner covers: the recommendation falls back to the next group.
    account = make_account(country=rng.choice((*COUNTRIES, "CH")), vertical=rng.choice((*VERTICALS, "Government")))
    deal = ready(fulfilment="any_partner", originator="vendor", vendor_strength=1, account=account)

    proposal = decisions.propose(deal)

    assert len(proposal.facts.partners) <= 5  # the ones a recommendation can name, not every partner
    expected = decided_among_all_partners(proposal)
    assert proposal.decision == expected  # who fulfils, the recommendations ranked, and every reason given


def test_a_partners_coverage_follows_its_countries_verticals_tier_and_activity(make_partner):
    partner = make_partner(countries=["DE", "AT"], verticals=["Retail"], tier="gold")

    def coverage():
        rows = db.session.scalars(db.select(PartnerCoverage).where(PartnerCoverage.partner_id == partner.id))
        return {(row.kind, row.value, row.tier_rank) for row in rows}

    assert coverage() == {
        ("any", "", 1),
        ("country", "de", 1),
        ("country", "at", 1),
        ("vertical", "retail", 1),
        ("pair", "de\x1fretail", 1),
        ("pair", "at\x1fretail", 1),
    }
    values = {field: getattr(partner, field) for field in admin.PARTNER_FIELDS}
    admin.save_partner(partner, dict(values, countries=["FR"], verticals=[], tier="platinum"), actor=None)
    db.session.commit()
    db.session.expire_all()
    assert coverage() == {("any", "", 0), ("country", "fr", 0)}
    # An inactive partner is recommended nowhere; active again, it is where it was.
    admin.set_partner_active(partner, False, actor=None)
    db.session.commit()
    assert coverage() == set()
    admin.set_partner_active(partner, True, actor=None)
    db.session.commit()
    assert coverage() == {("any", "", 0), ("country", "fr", 0)}
