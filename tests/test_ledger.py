"""Credit records and the reciprocity ledger, against a hand-counted quarter: who brought whom what.

Every deal here is qualified, answered, routed, accepted, declined, lapsed, won or lost through the
services a user's action goes through; the ledger is then read from the credit each decision
recorded.
"""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from intake import quarters
from intake.deals import ledger, partners, rules
from intake.extensions import db
from intake.models import Credit, Partner
from intake.models.types import utcnow

from .conftest import statements_to_get
from .deal_steps import request_to, route

QUARTER = quarters.of(utcnow())


def _credits(deal):
    return sorted(
        (c.party, c.partner_id, c.credit, c.in_force, c.outcome)
        for c in db.session.scalars(select(Credit).where(Credit.deal_id == deal.id))
    )


def test_each_routed_decision_records_the_credit_each_party_earned(quarter, thames, borealis):
    assert _credits(quarter["won"]) == [
        ("partner", thames.id, "fulfilment", True, "won"),
        ("vendor", None, "lead", True, "won"),
        ("vendor", None, "origination", True, "won"),
    ]
    assert _credits(quarter["brought"]) == [
        ("partner", thames.id, "fulfilment", True, None),
        ("partner", thames.id, "lead", True, None),
        ("partner", thames.id, "origination", True, None),
    ]
    # The customer coming in earns no origination credit.
    assert _credits(quarter["lost"]) == [
        ("partner", thames.id, "fulfilment", True, "lost"),
        ("partner", thames.id, "lead", True, "lost"),
    ]
    # Borealis's credit ended when it declined; the second decision's is in force.
    declined = _credits(quarter["declined"])
    assert ("partner", borealis.id, "lead", False, None) in declined
    assert not any(c[1] == borealis.id and c[3] for c in declined)
    assert ("vendor", None, "lead", True, None) in declined


def test_the_ledger_counts_what_each_side_brought_the_other_as_counted_by_hand(quarter, thames, borealis):
    lines = {line.partner_id: line for line in ledger.lines()}
    assert set(lines) == {thames.id}, "Borealis declined its only deal: it earned nothing"
    line = lines[thames.id]
    assert line.quarter == QUARTER
    behind = ledger.deal_ids()
    assert line.brought.count == 1 and behind[thames.id, QUARTER, "brought"] == [quarter["brought"].id]
    assert dict(line.brought.pipeline) == {"EUR": Decimal(50000)} and not line.brought.won
    assert line.given.count == 2
    assert behind[thames.id, QUARTER, "given"] == sorted([quarter["won"].id, quarter["lost"].id])
    assert not line.given.pipeline  # won and lost are no longer pipeline
    assert dict(line.given.won) == {"EUR": Decimal(70000)}
    assert line.balance == -1


def test_a_lapse_under_automatic_recycling_ends_the_partners_credit(app, rep, ready, thames, boss):
    rules.set_rules(threshold=3, ties="partners", recycle="automatic", actor=boss)
    db.session.commit()
    deal = ready(partner=thames, strength=5, originator="customer", origin_channel="referral")
    route(deal, rep)
    request = request_to(deal, thames)
    partners.lapse(request, actor=None, now=request.expires_at + timedelta(minutes=1))
    db.session.commit()
    assert deal.status == "routed" and len(deal.decisions) == 2  # routed again at once, without Thames
    assert ledger.lines() == []
    assert not any(c.in_force for c in db.session.scalars(select(Credit).where(Credit.partner_id == thames.id)))


def test_the_ledger_page_links_each_number_to_its_deals_and_stays_with_the_manager(
    quarter, manager, client, rep, thames
):
    page = manager.get("/admin/ledger").get_data(as_text=True)
    behind = f"/admin/ledger/{thames.id}/{QUARTER}/given"
    assert thames.name in page and behind in page
    deals = manager.get(behind).get_data(as_text=True)
    assert f"#{quarter['won'].id} " in deals and f"#{quarter['lost'].id} " in deals
    assert f"#{quarter['brought'].id} " not in deals
    assert manager.get(f"/admin/ledger/{thames.id}/{QUARTER}/sideways").status_code == 404
    assert manager.get(f"/admin/ledger/{thames.id}/2026-Q7/given").status_code == 404
    # A nonsense filter is no filter at all; a control character is refused before the page, as everywhere.
    assert thames.name in manager.get("/admin/ledger?partner=thames").get_data(as_text=True)
    assert manager.get(f"/admin/ledger?partner={2**70}").status_code == 200
    assert manager.get("/admin/ledger?partner=%00").status_code == 400
    # A rep reads no ledger.
    assert client.get("/admin/ledger").status_code in (302, 403, 404)


def test_the_ledger_reads_a_constant_number_of_statements_whatever_the_number_of_deals(
    app, quarter, rep, ready, thames, manager
):
    def statements() -> int:
        return statements_to_get(manager, "/admin/ledger")

    before = statements()
    for _ in range(3):
        route(ready(partner=thames, strength=5, contact="vendor"), rep)
    assert statements() == before


def test_a_partners_scorecard_counts_its_answers_speed_declines_outcomes_and_customers_words(
    app, quarter, rep, ready, thames, borealis, manager
):
    """Hand-counted from the quarter: Thames was asked three times (won, brought, lost) and accepted once;
    Borealis declined once; customers named Thames with 5, 5 and 4, and Borealis with 5."""
    # One more for Borealis: asked, it lets its time pass (manual recycling: the manager sends it back).
    late = ready(partner=borealis, strength=3, originator="customer", origin_channel="referral")
    route(late, rep)
    request = request_to(late, borealis)
    partners.lapse(request, actor=None, now=request.expires_at + timedelta(minutes=1))
    db.session.commit()

    from intake.deals import scorecards

    card = scorecards.scorecard(thames.id)
    assert (card.requests, card.accepted, card.declined, card.lapsed) == (3, 1, 0, 0)
    assert card.acceptance_rate == 1.0  # two requests are still open: not counted
    assert card.median_to_accept is not None and card.median_to_accept < timedelta(minutes=5)
    assert (card.fulfilled_won, card.fulfilled_lost, card.win_rate) == (1, 1, 0.5)
    assert card.customer_strengths == {4: 1, 5: 2}

    other = scorecards.scorecard(borealis.id)
    assert (other.requests, other.accepted, other.declined, other.lapsed) == (2, 0, 1, 1)
    assert other.acceptance_rate == 0.0 and other.median_to_accept is None and other.win_rate is None
    assert other.declines_by_reason == [("No capacity this quarter.", 1)]
    assert other.customer_strengths == {3: 1, 5: 1}

    page = manager.get(f"/admin/partners/{borealis.id}/scorecard").get_data(as_text=True)
    assert "No capacity this quarter. — 1" in page and "0%" in page
    assert manager.get("/admin/partners/999999/scorecard").status_code == 404


def test_the_ledger_draws_the_balance_per_partner_as_svg_with_its_table(quarter, manager, thames):
    import xml.etree.ElementTree as ET

    from intake import charts

    [(name, brought, given)] = ledger.per_partner(ledger.lines())
    assert (name, brought, given) == (thames.name, 1, 2)
    chart = charts.bar_chart("t", [name], [("brought", [brought]), ("given", [given])])
    [row] = chart.rows
    assert [bar.value for bar in row.bars] == [1, 2] and row.bars[1].width == charts.PLOT_WIDTH  # the longest fills
    assert row.bars[0].width == charts.PLOT_WIDTH // 2

    page = manager.get("/admin/ledger").get_data(as_text=True)
    svg = page[page.index("<svg") : page.index("</svg>") + len("</svg>")]
    drawn = ET.fromstring(svg)  # well-formed SVG
    ns = {"svg": "http://www.w3.org/2000/svg"}
    assert drawn.find("svg:title", ns).text == "Deals each side brought the other, per partner"
    labels = [t.text for t in drawn.findall("svg:text", ns)]
    assert thames.name in labels and "1" in labels and "2" in labels
    assert "<script" not in svg and "style=" not in svg


def test_the_scorecards_export_reads_in_a_constant_number_of_statements(app, quarter, make_partner, manager):
    one = statements_to_get(manager, "/admin/scorecards.csv")
    for n in range(4):
        make_partner(name=f"Another Partner {n}")
    assert statements_to_get(manager, "/admin/scorecards.csv") == one
    assert statements_to_get(manager, "/admin/scorecards.xlsx") == one


def test_the_ledger_shows_its_partners_a_page_at_a_time(app, rep, ready, make_partner, manager):
    from intake.web.admin.ledger import PARTNERS_PER_PAGE

    names = [f"Partner {n:02d} Ltd" for n in range(PARTNERS_PER_PAGE + 2)]
    for name in names:
        route(ready(partner=make_partner(name=name), strength=5, contact="vendor"), rep)
    first = manager.get("/admin/ledger").get_data(as_text=True)
    second = manager.get("/admin/ledger?page=2").get_data(as_text=True)
    shown = [name for name in names if f">{name}</a></th>" in first]
    assert shown == names[:PARTNERS_PER_PAGE]
    assert [name for name in names if f">{name}</a></th>" in second] == names[PARTNERS_PER_PAGE:]
    assert f"Partners 1 to {PARTNERS_PER_PAGE} of {len(names)}" in first and "?page=2" in first
    # One partner chosen: its lines alone, whatever page it would be on.
    last = manager.get(
        f"/admin/ledger?partner={db.session.scalar(select(Partner.id).where(Partner.name == names[-1]))}"
    )
    assert f">{names[-1]}</a></th>" in last.get_data(as_text=True)
