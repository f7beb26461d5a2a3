"""The dashboard against a hand-counted pipeline: statuses, routes, the customer's wait, queues, responses, mail."""

from datetime import timedelta

from sqlalchemy import select

from intake.deals import dashboard, partner_requests, partners
from intake.extensions import db
from intake.models import Credit
from intake.models.types import utcnow

from .conftest import sign_in, statements_to_get
from .deal_steps import close, request_to, route


def test_the_dashboard_counts_the_pipeline_as_counted_by_hand(
    app, rep, make_user, make_deal, make_account, ready, thames
):
    other_rep = make_user("rep")
    make_deal(rep)  # a draft
    waiting = make_deal(rep, status="awaiting_customer", account_values={"country": "GB"})
    partner_led = route(ready(partner=thames, strength=5, originator="customer", origin_channel="referral"), rep)
    vendor_led = route(ready(partner=thames, strength=5, contact="vendor"), rep)
    # Two open deals on one account: the second routed is held as a conflict.
    contested = make_account(owner=other_rep, name="Contested GmbH", domain="contested.example")
    make_deal(other_rep, account=contested, status="awaiting_customer", originator="partner", originator_partner=thames)
    held = route(ready(account=contested, owner=other_rep), other_rep)
    assert held.status == "on_hold" and held.hold_reason == "conflict"

    everyone = dashboard.build(dashboard.Scope())
    assert {s: n for s, n in everyone.by_status.items() if n} == {
        "draft": 1,
        "awaiting_customer": 2,
        "routed": 2,
        "on_hold": 1,
    }
    # Thames leads and fulfils the customer's deal; we lead and Thames fulfils the other.
    assert everyone.routes == {("partner", "partner"): 1, ("vendor", "partner"): 1}
    assert everyone.queues["conflict"][0] == 1 and everyone.queues["needs_alignment"][0] == 0
    assert [count for *_, count in everyone.waiting_by_age] == [2, 0, 0, 0]
    ten_days_on = dashboard.build(dashboard.Scope(), now=utcnow() + timedelta(days=10))
    assert [count for *_, count in ten_days_on.waiting_by_age] == [0, 0, 2, 0]

    # Partner responses: both requests to Thames are open; due soon only near their deadline, then overdue.
    deadline = partner_requests.of_decision(partner_led.decisions[-1])[0].expires_at
    assert dashboard.build(dashboard.Scope(), now=deadline - timedelta(days=3)).due == []
    near = dashboard.build(dashboard.Scope(), now=deadline - timedelta(hours=2))
    assert {r.deal_id for r in near.due} == {partner_led.id, vendor_led.id} and near.overdue == []
    late = dashboard.build(dashboard.Scope(), now=deadline + timedelta(days=1))
    assert {r.deal_id for r in late.overdue} == {partner_led.id, vendor_led.id}

    # One rep's slice, and one country's.
    mine = dashboard.build(dashboard.Scope(rep_id=rep.id))
    assert mine.by_status["on_hold"] == 0 and mine.by_status["routed"] == 2
    british = dashboard.build(dashboard.Scope(country="GB"))
    assert sum(british.by_status.values()) == 1 and british.by_status["awaiting_customer"] == 1
    assert waiting.account.country == "GB"


def test_a_rep_sees_their_own_slice_and_every_number_leads_to_its_deals(app, client, rep, make_user, make_deal, boss):
    other_rep = make_user("rep")
    make_deal(rep, status="awaiting_customer")
    make_deal(other_rep, status="awaiting_customer")
    make_deal(other_rep, status="awaiting_customer")

    page = client.get("/dashboard").get_data(as_text=True)
    assert '<a href="/deals?status=awaiting_customer">1</a>' in page
    assert "Mail in trouble" not in page and "/admin/" not in page.split("<main", 1)[1]

    manager = sign_in(app, boss)
    page = manager.get("/dashboard").get_data(as_text=True)
    assert '<a href="/deals?status=awaiting_customer">3</a>' in page and "Mail in trouble" in page
    page = manager.get(f"/dashboard?rep={other_rep.id}").get_data(as_text=True)
    link = f'<a href="/deals?rep={other_rep.id}&amp;status=awaiting_customer">2</a>'
    assert link in page
    listed = manager.get(f"/deals?rep={other_rep.id}&status=awaiting_customer").get_data(as_text=True)
    assert listed.count('href="/deals/') == 2
    # Nonsense filters are no filter at all.
    for nonsense in ("rep=abc", "rep=99999999999999999999", "country=ZZ", "country=%3Cb%3E"):
        assert manager.get(f"/dashboard?{nonsense}").status_code == 200, nonsense


def test_the_dashboard_reads_a_constant_number_of_statements_whatever_the_number_of_deals(
    app, rep, make_deal, ready, thames, boss
):
    manager = sign_in(app, boss)

    def statements() -> int:
        return statements_to_get(manager, "/dashboard")

    route(ready(partner=thames, strength=5, contact="vendor"), rep)
    before = statements()
    for _ in range(3):
        make_deal(rep, status="awaiting_customer")
        route(ready(partner=thames, strength=5, contact="vendor"), rep)
    assert statements() == before


def test_the_dashboard_draws_routes_by_quarter_from_the_credit_recorded(app, rep, ready, thames, boss):
    import xml.etree.ElementTree as ET

    route(ready(partner=thames, strength=5, contact="vendor"), rep)  # we lead, Thames fulfils
    route(ready(partner=thames, strength=5, originator="customer", origin_channel="referral"), rep)  # Thames both
    [(quarter, counts)] = dashboard.routes_by_quarter(dashboard.Scope())
    assert counts == {
        ("vendor", "vendor"): 0,
        ("vendor", "partner"): 1,
        ("partner", "partner"): 1,
        ("partner", "vendor"): 0,
    }

    page = sign_in(app, boss).get("/dashboard").get_data(as_text=True)
    start = page.index("<svg", page.index('id="quarters-heading"'))
    svg = page[start : page.index("</svg>", start) + len("</svg>")]
    drawn = ET.fromstring(svg)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    assert drawn.find("svg:title", ns).text == "Deals routed per quarter, by route"
    assert quarter in [t.text for t in drawn.findall("svg:text", ns)]
    assert f'<th scope="row">{quarter}</th><td>0</td><td>1</td><td>1</td><td>0</td>' in page


def _route_of_the_credit_in_force(deal):
    """The route as the credit records say it: the lead credit in force, and its decision's fulfilment credit."""
    lead = db.session.scalar(select(Credit).filter_by(deal_id=deal.id, credit="lead", in_force=True))
    if lead is None:
        return None
    fulfils = db.session.scalar(select(Credit).filter_by(decision_id=lead.decision_id, credit="fulfilment"))
    return (lead.decided_at, lead.party, fulfils.party if fulfils else "vendor")


def test_the_route_a_deal_keeps_is_the_route_of_its_credit_in_force(rep, ready, thames):
    deal = route(ready(partner=thames, strength=5, originator="customer", origin_channel="referral"), rep)

    def kept():
        return None if deal.routed_at is None else (deal.routed_at, deal.route_leader, deal.route_fulfiller)

    assert kept() == _route_of_the_credit_in_force(deal) == (deal.decisions[-1].decided_at, "partner", "partner")

    # Thames declines: the credit ends, and the deal is no route until it is routed again.
    partners.decline(request_to(deal), reason="No capacity this quarter.")
    db.session.commit()
    assert deal.status == "ready_to_route" and kept() is None and _route_of_the_credit_in_force(deal) is None
    assert dashboard.routes_by_quarter(dashboard.Scope()) == []

    route(deal, rep)  # without Thames: the vendor leads and fulfils
    assert kept() == _route_of_the_credit_in_force(deal) == (deal.decisions[-1].decided_at, "vendor", "vendor")
    close(deal, rep, "won", 1000)  # closed credit stays in force: the route stays, no longer worked
    assert kept() == _route_of_the_credit_in_force(deal)
    assert dashboard.build(dashboard.Scope()).routes == {}
    [(_, counts)] = dashboard.routes_by_quarter(dashboard.Scope())
    assert counts[("vendor", "vendor")] == 1 and sum(counts.values()) == 1
