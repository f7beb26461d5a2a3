"""Routing in the app: route, alignment, conflict, override, recommendation — on both databases."""

from markupsafe import escape
from sqlalchemy import select

from intake import routing as engine
from intake.extensions import db
from intake.models import AuditEvent, Deal, Decision, OutboxMessage


def route(client, deal, **form):
    return client.submit(f"/deals/{deal.id}/route", form, page=f"/deals/{deal.id}")


def test_the_partner_of_many_years_leads_when_its_customer_calls_us(client, ready, make_partner):
    partner = make_partner(name="Thames Cloud")
    deal = ready(partner=partner, strength=5, fulfilment="partner", originator="customer")
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "Proposed routing" in page and "Thames Cloud</strong> leads" in page
    assert route(client, deal).status_code == 302
    deal = db.session.get(Deal, deal.id)
    assert deal.status == "routed"
    decision = deal.decisions[-1]
    assert (decision.version, decision.kind) == (1, "engine")
    assert decision.output["leader"] == {"kind": "partner", "partner_id": partner.id}
    assert decision.output["supporting"] == [{"party": {"kind": "vendor"}, "role": "support"}]
    # The stored input is the engine's own, and deciding it again gives the same decision.
    assert engine.decide(engine.parse_input(decision.input)).to_dict() == decision.output
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "originates no customer contact and coordinates through the leader" in page
    assert "Why, rule by rule" in page and "Route this deal" not in page


def test_the_deal_page_lists_the_mail_routing_queued_with_its_recipients_and_status(client, ready, make_partner):
    deal = ready(partner=make_partner(name="Thames Cloud"), strength=5, fulfilment="partner", originator="customer")
    assert "<h3>Mail</h3>" not in client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert route(client, deal).status_code == 302
    queued = db.session.scalars(select(OutboxMessage).where(OutboxMessage.deal_id == deal.id)).all()
    assert queued
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    for message in queued:
        shown = f"{escape(message.subject)} → {escape(', '.join(message.recipients))} · "
        assert shown + '<span class="badge">queued</span>' in page


def test_routing_without_the_customers_answer_says_so(client, rep, make_deal, make_account):
    deal = make_deal(rep, status="awaiting_customer", originator="vendor", account=make_account(vendor_strength=3))
    assert "Route without the customer's answer" in client.get(f"/deals/{deal.id}").get_data(as_text=True)
    route(client, deal)
    decision = db.session.get(Deal, deal.id).decisions[-1]
    assert "no_customer_answer" in decision.output["flags"]


def test_a_partners_marketing_lead_for_our_customer_needs_alignment_then_the_manager_resolves_it(
    app, client, ready, make_partner, make_user, login
):
    partner = make_partner(name="Nordlicht IT")
    deal = ready(
        partner=partner,
        strength=1,
        vendor_strength=5,
        originator="partner",
        originator_partner=partner,
        origin_channel="partner_marketing",
    )
    route(client, deal)
    deal = db.session.get(Deal, deal.id)
    assert (deal.status, deal.hold_reason) == ("on_hold", "needs_alignment")
    output = deal.decisions[-1].output
    assert output["leader"] == {"kind": "vendor"} and "needs_alignment" in output["flags"]
    assert {"party": {"kind": "partner", "partner_id": partner.id}, "role": "origination_credit"} in output[
        "supporting"
    ]

    manager = app.test_client()
    manager.submit("/login", {"email": make_user("admin").email, "password": "correct horse battery"})
    queue = manager.get("/admin/queues/needs_alignment").get_data(as_text=True)
    assert f"#{deal.id}" in queue
    assert f"#{deal.id}" not in manager.get("/admin/queues/conflict").get_data(as_text=True)
    refused = manager.submit(f"/admin/deals/{deal.id}/resolve", {"leader": "vendor", "reason": ""})
    assert refused.status_code == 400 and "Write the reason" in refused.get_data(as_text=True)
    response = manager.submit(
        f"/admin/deals/{deal.id}/resolve", {"leader": "vendor", "reason": "We have served them for ten years."}
    )
    assert response.status_code == 302
    deal = db.session.get(Deal, deal.id)
    assert deal.status == "routed" and [d.kind for d in deal.decisions] == ["engine", "alignment"]
    assert deal.decisions[-1].reason == "We have served them for ten years."
    assert f"#{deal.id}" not in manager.get("/admin/queues/needs_alignment").get_data(as_text=True)


def test_a_second_open_deal_on_the_account_is_a_conflict_the_manager_resolves(
    app, client, rep, ready, make_partner, make_account, make_deal, make_user
):
    partner = make_partner()
    account = make_account(name="Maple Learning Inc", domain="maple.example")
    twin = make_account(name="MAPLE LEARNING, Inc.", domain="maple-learning.example")
    theirs = make_deal(
        make_user("rep"), account=twin, status="awaiting_customer", originator="partner", originator_partner=partner
    )
    ours = ready(account=account, originator="vendor")
    route(client, ours)
    ours = db.session.get(Deal, ours.id)
    assert (ours.status, ours.hold_reason) == ("on_hold", "conflict")
    assert ours.decisions[-1].output["conflicts"] == [theirs.id]

    manager = app.test_client()
    manager.submit("/login", {"email": make_user("admin").email, "password": "correct horse battery"})
    assert f"#{ours.id}" in manager.get("/admin/queues/conflict").get_data(as_text=True)
    page = manager.get(f"/admin/deals/{ours.id}/resolve").get_data(as_text=True)
    assert f"#{theirs.id}" in page
    bad = manager.submit(f"/admin/deals/{ours.id}/resolve", {"keep": "999999", "reason": "x"})
    assert bad.status_code == 400
    response = manager.submit(
        f"/admin/deals/{ours.id}/resolve", {"keep": str(ours.id), "reason": "Our meeting came first."}
    )
    assert response.status_code == 302
    assert db.session.get(Deal, theirs.id).status == "withdrawn"
    kept = db.session.get(Deal, ours.id)
    assert (
        kept.status == "routed" and kept.decisions[-1].kind == "conflict" and not kept.decisions[-1].output["conflicts"]
    )
    withdrawn = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_id == theirs.id, AuditEvent.action == "withdrawn in a conflict")
    ).one()
    assert "credit kept" in withdrawn.changes["origination"][1]


def test_the_manager_overrides_with_a_reason_and_both_versions_show(app, client, ready, make_partner, make_user):
    partner = make_partner(name="Alpine Systems")
    deal = ready(originator="vendor", vendor_strength=4)
    route(client, deal)
    manager = app.test_client()
    manager.submit("/login", {"email": make_user("admin").email, "password": "correct horse battery"})
    form = {"leader": f"partner:{partner.id}", "fulfilment": f"partner:{partner.id}", "reason": "Customer asked us."}
    assert manager.submit(f"/admin/deals/{deal.id}/override", {**form, "reason": " "}).status_code == 400
    assert manager.submit(f"/admin/deals/{deal.id}/override", form).status_code == 302
    versions = db.session.scalars(select(Decision).where(Decision.deal_id == deal.id).order_by(Decision.version)).all()
    assert [v.kind for v in versions] == ["engine", "override"]
    assert versions[0].output["leader"] == {"kind": "vendor"}  # the first version is untouched
    assert versions[1].proposal["leader"] == {"kind": "vendor"}
    assert versions[1].output["leader"] == {"kind": "partner", "partner_id": partner.id}
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "The engine proposed" in page and "Customer asked us." in page and "All versions" in page


def test_reps_cannot_override_or_resolve(client, ready):
    deal = ready()
    assert client.get(f"/admin/deals/{deal.id}/override").status_code == 403
    assert client.get(f"/admin/deals/{deal.id}/resolve").status_code == 403


def test_the_rep_confirms_a_recommended_partner(client, ready, make_partner):
    local = make_partner(name="Local One", countries=["DE"], tier="silver")
    other = make_partner(name="Far Away", countries=["FR"], tier="platinum")
    deal = ready(fulfilment="any_partner", originator="vendor", vendor_strength=2)
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "Confirm the partner to recommend" in page
    assert page.index("Local One") < page.index("Far Away")  # country match ranks first
    assert route(client, deal, partner_id=str(999999)).status_code == 302
    assert db.session.get(Deal, deal.id).decisions == []  # not one of the recommended: nothing decided
    route(client, deal, partner_id=str(other.id))
    decision = db.session.get(Deal, deal.id).decisions[-1]
    assert decision.kind == "recommendation"
    assert decision.output["fulfilment"] == {"kind": "partner", "partner_id": other.id}
    assert decision.proposal["fulfilment"] == {"kind": "partner", "partner_id": local.id}


def test_rules_of_engagement_are_set_and_kept_with_each_decision(app, client, ready, make_partner, make_user):
    partner = make_partner()
    manager = app.test_client()
    manager.submit("/login", {"email": make_user("admin").email, "password": "correct horse battery"})
    assert manager.submit("/admin/rules", {"threshold": "2", "ties": "vendor"}).status_code == 302
    assert manager.submit("/admin/rules", {"threshold": "9", "ties": "nobody"}).status_code == 400
    deal = ready(partner=partner, strength=2, originator="vendor", vendor_strength=1)
    route(client, deal)
    decision = db.session.get(Deal, deal.id).decisions[-1]
    assert decision.rules == {"threshold": 2, "ties": "vendor"}
    assert decision.output["fulfilment"] == {"kind": "partner", "partner_id": partner.id}  # 2 now counts


def test_a_rep_cannot_route_another_reps_deal(client, ready, make_user):
    deal = ready(owner=make_user("rep"))
    assert route(client, deal).status_code == 404
    assert db.session.get(Deal, deal.id).decisions == []


def test_a_routed_deal_is_not_routed_twice(client, ready):
    deal = ready(originator="vendor", vendor_strength=3)
    route(client, deal)
    again = route(client, deal)
    assert again.status_code == 409 and "This deal has already been routed." in again.get_data(as_text=True)
    assert len(db.session.get(Deal, deal.id).decisions) == 1


def test_routing_explain_prints_the_decision_and_its_trace(app, client, ready, make_partner):
    deal = ready(partner=make_partner(name="Thames Cloud"), strength=5, originator="customer")
    before = app.test_cli_runner().invoke(args=["routing", "explain", str(deal.id)])
    assert before.exit_code == 0 and "not routed" in before.output and "Thames Cloud leads" in before.output
    route(client, deal)
    after = app.test_cli_runner().invoke(args=["routing", "explain", str(deal.id)])
    assert "decision version 1" in after.output and "- leader:" in after.output
    missing = app.test_cli_runner().invoke(args=["routing", "explain", "999999"])
    assert missing.exit_code == 2


def test_an_override_cannot_name_an_inactive_partner(app, client, ready, make_partner, make_user):
    gone = make_partner(name="Gone Partners", is_active=False)
    deal = ready(originator="vendor", vendor_strength=4)
    route(client, deal)
    manager = app.test_client()
    manager.submit("/login", {"email": make_user("admin").email, "password": "correct horse battery"})
    form = {"leader": f"partner:{gone.id}", "fulfilment": "vendor", "reason": "Try it."}
    response = manager.submit(f"/admin/deals/{deal.id}/override", form)
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    assert [d.kind for d in db.session.get(Deal, deal.id).decisions] == ["engine"]
