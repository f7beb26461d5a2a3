"""Who is told: everyone a change concerns hears of it, by mail through the real SMTP server, and no one else."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from intake.deals import partners
from intake.extensions import db
from intake.models import Deal, OutboxMessage, PartnerRequest
from intake.models.types import utcnow

from .conftest import answer_for, sign_in
from .test_audiences import (
    VENDOR,
    accept_by_link,
    body,
    customer_page,
    decline_by_link,
    html_of,
    mails,
    of_version,
    override,
    party,
    pdf_name,
    request_token,
    sent_to,
    undelivered,
    visible,
)
from .test_routed_mail import deliver
from .test_routing_flow import route


def everything(message) -> str:
    return "\n".join((message["Subject"], body(message), visible(html_of(message))))


# ---------------------------------------------------------------- alignment


@pytest.mark.parametrize("case", ["the vendor found it and a partner leads", "a partner found it and the vendor leads"])
def test_on_alignment_the_finder_and_the_leader_are_told_before_anyone_contacts_the_customer(
    app, client, smtp, rep, ready, thames, manager, case
):
    customer = "pat@customer.example"
    if case == "the vendor found it and a partner leads":
        deal = ready(partner=thames, strength=5, vendor_strength=2, originator="vendor", contact_email=customer)
        says = "The vendor found the deal but Thames Cloud leads it"
    else:
        deal = ready(
            partner=thames,
            strength=1,
            vendor_strength=5,
            originator="partner",
            originator_partner=thames,
            contact_email=customer,
        )
        says = "Thames Cloud found the deal but the vendor leads it"
    route(client, deal)
    assert (db.session.get(Deal, deal.id).status, db.session.get(Deal, deal.id).hold_reason) == (
        "on_hold",
        "needs_alignment",
    )
    queued = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert sorted((m.kind, *m.recipients) for m in queued) == sorted(
        [
            ("alignment_alert", "boss@example.com"),
            ("alignment_notice", rep.email),
            ("alignment_notice", thames.contact_email),
        ]
    )
    deliver(app)
    assert not undelivered()

    notices = mails(smtp, kind="alignment_notice")
    assert sorted(m["To"] for m in notices) == sorted([rep.email, thames.contact_email])
    for notice in notices:
        assert "Align before contacting the customer" in notice["Subject"]
        assert "before anyone contacts the customer" in body(notice) and says in body(notice)
    assert [m["To"] for m in mails(smtp, kind="alignment_alert")] == ["boss@example.com"]
    # Nobody has contacted the customer, nor been asked to.
    assert not sent_to(smtp, customer)
    assert not mails(smtp, kind="routed_partner") and not mails(smtp, kind="routed_vendor")
    assert not db.session.scalars(select(PartnerRequest)).all()

    # Once aligned, the deal goes on: only now may the leader contact the customer.
    proposal = db.session.get(Deal, deal.id).decisions[-1].output
    leader = thames if proposal["leader"]["kind"] == "partner" else "vendor"
    aligned = manager.submit(
        f"/admin/deals/{deal.id}/resolve",
        {"leader": party(leader), "fulfilment": party(thames), "reason": "Agreed on a call."},
    )
    assert aligned.status_code == 302
    deliver(app)
    if leader == "vendor":
        assert [kind for kind, _ in sent_to(smtp, customer)] == ["customer_confirmation"]
    else:
        assert not sent_to(smtp, customer)  # the partner tells them once it accepts
        assert mails(smtp, to=thames.contact_email, kind="routed_partner")


# ---------------------------------------------------------------- conflicts


@pytest.fixture
def rival(make_partner):
    return make_partner(name="Rival Partners", contact_name="Rita Rival", contact_email="rita@rival.example")


@pytest.fixture
def other_rep(make_user):
    return make_user("rep", name="Olga Otherrep", email="olga@example.com")


@pytest.fixture
def make_their_deal(make_account, make_deal, other_rep, rival):
    """A deal another rep qualifies for an account Rival Partners brought: the same company as ours, by its name."""

    def make():
        account = make_account(owner=other_rep, name="CONTESTED AG", domain="contested-b.example")
        return make_deal(
            other_rep,
            account=account,
            status="awaiting_customer",
            originator="partner",
            originator_partner=rival,
            partners=[(rival, 4)],
            contact_name="Bruno Bcontact",
            contact_email="bruno@contested-b.example",
        )

    return make


@pytest.fixture
def our_account(make_account, rep):
    return make_account(owner=rep, name="Contested GmbH", domain="contested-a.example")


OURS = ("Contested GmbH", "contested-a.example", "Thames", "Oliver", "Borealis", "Anna Acontact", "anna@", "Nordlicht")
THEIRS = ("CONTESTED AG", "contested-b.example", "Rival", "Rita", "Olga", "olga@", "Bruno", "bruno@")
REASON = "Secretreason: the other side's meeting came first."


def withdrawn_notices(smtp) -> dict[str, object]:
    return {m["To"]: m for m in mails(smtp, kind="withdrawn_notice")}


def test_the_withdrawn_deals_rep_and_partner_are_told_and_nothing_of_the_deal_that_goes_ahead(
    app, client, smtp, rep, ready, thames, our_account, make_their_deal, other_rep, rival, manager
):
    their_deal = make_their_deal()
    ours = ready(
        account=our_account,
        partner=thames,
        strength=5,
        originator="customer",
        contact_name="Anna Acontact",
        contact_email="anna@contested-a.example",
    )
    route(client, ours)
    assert db.session.get(Deal, ours.id).hold_reason == "conflict"
    resolved = manager.submit(f"/admin/deals/{ours.id}/resolve", {"keep": str(ours.id), "reason": REASON})
    assert resolved.status_code == 302
    assert db.session.get(Deal, their_deal.id).status == "withdrawn"
    deliver(app)

    notices = withdrawn_notices(smtp)
    assert set(notices) == {other_rep.email, rival.contact_email}
    for to, notice in notices.items():
        said = everything(notice)
        assert f"Deal #{their_deal.id}" in said and "CONTESTED AG" in said, to
        for word in (*OURS, rep.name, rep.email, f"#{ours.id}", "Secretreason"):
            assert word not in said, f"the withdrawn notice to {to} names {word!r}:\n{said}"


def test_every_partner_asked_to_accept_the_withdrawn_deal_is_told(
    app, client, smtp, rep, make_deal, thames, borealis, our_account, make_their_deal, other_rep, manager
):
    # Ours was routed first: Thames Cloud leads, Borealis Systems fulfils as the customer wished; both were asked.
    ours = make_deal(
        rep,
        account=our_account,
        status="awaiting_customer",
        originator="customer",
        contact_name="Anna Acontact",
        contact_email="anna@contested-a.example",
    )
    answer_for(ours, rows=[(thames, 5), (borealis, 4)], fulfilment="partner", chosen_row=1)
    route(client, ours)
    output = db.session.get(Deal, ours.id).decisions[-1].output
    assert output["leader"] == {"kind": "partner", "partner_id": thames.id}
    assert output["fulfilment"] == {"kind": "partner", "partner_id": borealis.id}
    # Then Rival Partners' deal for the same company is routed by its rep: it is held, and theirs goes ahead.
    their_deal = make_their_deal()
    route(sign_in(app, other_rep), their_deal)
    assert db.session.get(Deal, their_deal.id).hold_reason == "conflict"
    resolved = manager.submit(f"/admin/deals/{their_deal.id}/resolve", {"keep": str(their_deal.id), "reason": REASON})
    assert resolved.status_code == 302
    assert db.session.get(Deal, ours.id).status == "withdrawn"
    deliver(app)

    notices = withdrawn_notices(smtp)
    assert set(notices) == {rep.email, thames.contact_email, borealis.contact_email}
    for to, notice in notices.items():
        said = everything(notice)
        for word in (*THEIRS, f"#{their_deal.id}", "Secretreason"):
            assert word not in said, f"the withdrawn notice to {to} names {word!r}:\n{said}"


def test_the_partner_that_found_a_held_deal_hears_that_it_was_withdrawn(
    app, client, smtp, rep, make_deal, make_partner, thames, our_account, make_their_deal, manager
):
    their_deal = make_their_deal()
    nordlicht = make_partner(name="Nordlicht IT", contact_name="Jonas Berg", contact_email="jonas@nordlicht.example")
    ours = make_deal(
        rep, account=our_account, status="awaiting_customer", originator="partner", originator_partner=nordlicht
    )
    answer_for(ours, rows=[(thames, 5)])
    route(client, ours)  # held for the conflict; the engine would have Thames Cloud lead it
    assert db.session.get(Deal, ours.id).hold_reason == "conflict"
    deliver(app)
    held = {m["To"] for m in mails(smtp, kind="hold_notice")}
    assert held == {rep.email, nordlicht.contact_email}

    resolved = manager.submit(f"/admin/deals/{ours.id}/resolve", {"keep": str(their_deal.id), "reason": REASON})
    assert resolved.status_code == 302
    deliver(app)
    # Those told it was on hold hear how it ended.
    assert set(withdrawn_notices(smtp)) == held


def test_a_partner_opening_its_link_to_a_withdrawn_deal_reads_that_it_was_withdrawn(
    app, client, smtp, rep, ready, thames, our_account, make_their_deal, other_rep, manager
):
    ours = ready(account=our_account, partner=thames, strength=5, originator="customer")
    route(client, ours)
    deliver(app)
    token = request_token(mails(smtp, to=thames.contact_email, kind="routed_partner")[0])
    their_deal = make_their_deal()
    route(sign_in(app, other_rep), their_deal)
    manager.submit(f"/admin/deals/{their_deal.id}/resolve", {"keep": str(their_deal.id), "reason": REASON})
    assert db.session.get(Deal, ours.id).status == "withdrawn"

    page = visible(app.test_client().get(f"/r/{token}").get_data(as_text=True))
    assert "Accept the deal" not in page
    assert "withdrawn" in page.lower() and "routed again" not in page, page


# ---------------------------------------------------------------- back to routing


@pytest.fixture
def routed(client, ready, thames, borealis):
    """A routed deal: Thames Cloud, the customer's strongest partner, leads and fulfils; Borealis Systems is next."""

    def make():
        deal = ready(partner=thames, strength=5, originator="customer")
        answer_for(deal, rows=[(thames, 5), (borealis, 4)])
        route(client, deal)
        assert db.session.get(Deal, deal.id).decisions[-1].output["leader"] == {
            "kind": "partner",
            "partner_id": thames.id,
        }
        return deal

    return make


def test_the_rep_hears_when_a_partner_declines_and_the_deal_is_back_to_routing(app, smtp, rep, routed, thames, boss):
    deal = routed()
    deliver(app)
    decline_by_link(app, request_token(mails(smtp, to=thames.contact_email)[0]), "No capacity this quarter")
    assert db.session.get(Deal, deal.id).status == "ready_to_route"
    deliver(app)
    [told] = mails(smtp, to=rep.email, kind="partner_declined")
    assert f"Thames Cloud declined deal #{deal.id}" in told["Subject"]
    assert "No capacity this quarter" in body(told) and "back to routing" in body(told)
    assert mails(smtp, to=boss.email, kind="partner_declined")


def test_the_rep_hears_when_the_manager_sends_a_deal_back_after_the_deadline(app, smtp, rep, routed, manager):
    deal = routed()
    request = db.session.scalars(select(PartnerRequest)).one()
    assert partners.sweep(now=request.expires_at + timedelta(minutes=1)) == (0, 1)
    db.session.commit()
    assert db.session.get(Deal, deal.id).status == "routed"  # manual recycling: the manager decides
    db.session.get(PartnerRequest, request.id).expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = manager.submit(f"/admin/deals/{deal.id}/recycle/{request.id}", page=f"/deals/{deal.id}")
    assert response.status_code == 302
    assert db.session.get(Deal, deal.id).status == "ready_to_route"
    deliver(app)
    [told] = mails(smtp, to=rep.email, kind="back_to_routing")
    assert f"Deal #{deal.id} is back to routing" in told["Subject"] and "Thames Cloud" in told["Subject"]
    assert "Route it again from its page" in body(told)
    assert mails(smtp, to="boss@example.com", kind="partner_overdue")


def test_under_automatic_recycling_the_sweep_sends_the_deal_back_and_routes_it_without_that_partner(
    app, smtp, rep, routed, thames, borealis, manager
):
    saved = manager.submit("/admin/rules", {"threshold": "3", "ties": "partners", "recycle": "automatic"})
    assert saved.status_code == 302
    deal = routed()
    request = db.session.scalars(select(PartnerRequest)).one()
    assert partners.sweep(now=request.expires_at + timedelta(minutes=1)) == (0, 1)
    db.session.commit()

    deal = db.session.get(Deal, deal.id)
    assert deal.status == "routed" and [d.version for d in deal.decisions] == [1, 2]
    again = deal.decisions[-1]
    assert again.input["lapsed_partner_ids"] == [thames.id]
    assert again.output["leader"] == {"kind": "partner", "partner_id": borealis.id}
    assert thames.id not in again.routing.role_partner_ids()
    assert db.session.get(PartnerRequest, request.id).response == "lapsed"
    deliver(app)
    [told] = mails(smtp, to=rep.email, kind="back_to_routing")
    assert "routed it again at once" in body(told)
    assert [pdf_name(m) for m in mails(smtp, to=rep.email, kind="routed_vendor")] == [
        f"deal-{deal.id}-v1-vendor.pdf",
        f"deal-{deal.id}-v2-vendor.pdf",
    ]
    assert of_version(mails(smtp, to=borealis.contact_email, kind="routed_partner"), 2)
    assert not of_version(mails(smtp, to=thames.contact_email), 2)


def test_a_partner_that_declined_is_not_told_again_that_it_has_no_role_but_one_taken_off_is(
    app, client, smtp, rep, ready, thames, borealis, manager
):
    deal = ready(partner=thames, strength=5, originator="customer")
    answer_for(deal, rows=[(thames, 5), (borealis, 4)])
    route(client, deal)
    deliver(app)
    [asked] = mails(smtp, to=thames.contact_email, kind="routed_partner")
    decline_by_link(app, request_token(asked), "No capacity this quarter")
    route(client, deal)  # routed again, now to Borealis
    deliver(app)
    assert db.session.get(Deal, deal.id).decisions[-1].output["leader"]["partner_id"] == borealis.id
    assert not mails(smtp, to=thames.contact_email, kind="role_withdrawn")

    override(manager, deal, leader="vendor", fulfilment="vendor", reason="The customer asked us.", confirm=True)
    deliver(app)
    [told] = mails(smtp, to=borealis.contact_email, kind="role_withdrawn")
    assert "Borealis Systems no longer has a role in it" in body(told)
    assert not mails(smtp, to=thames.contact_email, kind="role_withdrawn")


# ---------------------------------------------------------------- the customer's contact changes


def test_when_the_manager_makes_the_vendor_lead_the_customer_hears_once_in_german_that_their_contact_changed(
    app, client, smtp, rep, ready, thames, manager
):
    customer = "pat@kunde.example"
    deal = ready(
        partner=thames,
        strength=5,
        fulfilment="partner",
        originator="customer",
        language="de",
        contact_name="Pat Kunde",
        contact_email=customer,
    )
    route(client, deal)
    deliver(app)
    accept_by_link(app, request_token(mails(smtp, to=thames.contact_email)[0]))
    deliver(app)
    [(kind, confirmation)] = sent_to(smtp, customer)
    assert kind == "customer_confirmation"
    assert "Ihr Ansprechpartner für diese Lösung ist Oliver Smith bei Thames Cloud" in body(confirmation)
    assert "Oliver Smith" in customer_page(app, deal)

    override(manager, deal, leader="vendor", fulfilment="vendor", reason="The customer asked us.", confirm=True)
    deliver(app)
    told = sent_to(smtp, customer)
    assert [kind for kind, _ in told] == ["customer_confirmation", "customer_contact_changed"]
    changed = told[1][1]
    words = body(changed)
    assert rep.name in words and VENDOR in words and "Oliver Smith" in words  # who now, in place of whom
    page = customer_page(app, deal)
    assert rep.name in page and "Oliver Smith" not in page
    # In the customer's language, as their confirmation was.
    assert "Guten Tag Pat Kunde," in words and "Mit freundlichen Grüßen" in words
    for english in ("Your contact for this solution has changed", "in place of", "who will be in touch"):
        assert english not in words, f"English in a German mail: {english!r}\n{words}"
    assert "your contact has changed" not in changed["Subject"], changed["Subject"]


def test_when_another_partner_takes_the_lead_the_customer_hears_once_it_accepts_that_their_contact_changed(
    app, client, smtp, rep, ready, thames, borealis, manager
):
    customer = "pat@customer.example"
    deal = ready(partner=thames, strength=5, originator="customer", contact_name="Pat Customer", contact_email=customer)
    answer_for(deal, rows=[(thames, 5), (borealis, 4)], contact_name="Pat Customer", contact_email=customer)
    route(client, deal)
    deliver(app)
    accept_by_link(app, request_token(mails(smtp, to=thames.contact_email)[0]))
    deliver(app)
    assert [kind for kind, _ in sent_to(smtp, customer)] == ["customer_confirmation"]

    override(manager, deal, leader=borealis, fulfilment=borealis, reason="Borealis is local.", confirm=True)
    deliver(app)
    # Borealis Systems has not accepted yet: the customer's contact is still Oliver Smith, and they hear nothing.
    assert [kind for kind, _ in sent_to(smtp, customer)] == ["customer_confirmation"]
    assert "Oliver Smith" in customer_page(app, deal)

    accept_by_link(app, request_token(mails(smtp, to=borealis.contact_email, kind="routed_partner")[0]))
    deliver(app)
    told = sent_to(smtp, customer)
    assert [kind for kind, _ in told] == ["customer_confirmation", "customer_contact_changed"]
    words = body(told[1][1])
    assert "has changed" in words and "has changed" in told[1][1]["Subject"]
    assert "Bea Bor at Borealis Systems" in words and "bea@borealis.example" in words  # who now
    assert "in place of Oliver Smith" in words  # in place of whom
    page = customer_page(app, deal)
    assert "Bea Bor" in page and "Borealis Systems" in page and "Oliver Smith" not in page
