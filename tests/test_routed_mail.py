"""A routed deal: both sides hear one story, the partner answers by link, the customer hears one voice."""

import io
import re
from datetime import timedelta

import pytest
from jinja2.filters import do_filesizeformat
from pypdf import PdfReader
from sqlalchemy import select

from intake.deals import partners
from intake.extensions import db
from intake.models import Deal, Document, OutboxMessage, PartnerRequest
from intake.models.outbox import OutboxAttachment
from intake.models.types import utcnow

from .test_routing_flow import route


def deliver(app):
    result = app.test_cli_runner().invoke(args=["outbox", "work", "--once"])
    assert result.exit_code == 0, result.output


def by_recipient(smtp):
    """The first message each recipient got."""
    return {m["To"]: m for m in reversed(smtp.received)}


def pdf_text(message) -> str:
    part = next(p for p in message.iter_attachments() if p.get_content_type() == "application/pdf")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(part.get_content())).pages)


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


@pytest.fixture
def make_seed_deal(ready, thames):
    """The seed's first example: the partner of many years leads when its customer calls us."""

    def make(**overrides):
        values = dict(
            partner=thames,
            strength=5,
            fulfilment="partner",
            originator="customer",
            contact_name="Pat Customer",
            contact_email="pat@customer.example",
            budget="approved",
            competitors="BigCo",
            language="de",
        )
        return ready(**{**values, **overrides})

    return make


@pytest.fixture
def seed_deal(make_seed_deal):
    return make_seed_deal()


def accept(app, token: str):
    partner = app.test_client()
    response = partner.submit(f"/r/{token}/accept", page=f"/r/{token}")
    assert response.status_code == 302, response.status_code


def test_routing_mails_the_vendor_the_partner_and_the_customer(app, client, smtp, rep, seed_deal, thames):
    route(client, seed_deal)
    kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    # The customer hears of their contact only once the leading partner accepts.
    assert kinds == ["routed_vendor", "routed_partner"]
    deliver(app)
    accept(app, _request_token(smtp))
    deliver(app)
    mail = by_recipient(smtp)
    assert set(mail) == {rep.email, "oliver@thames.example", "pat@customer.example"}

    vendor = mail[rep.email]
    assert "Thames Cloud leads" in vendor["Subject"]
    assert "supports: originates no customer contact" in body(vendor)
    text = pdf_text(vendor)
    assert seed_deal.account.name in text and "Vendor notes" in text and "BigCo" in text
    assert re.search(r"Page 1 of \d", text) and "Generated" in text

    partner = mail["oliver@thames.example"]
    link = re.search(r"http://\S+/r/(\S+)", body(partner)).group(1)
    assert "Accept or decline" in partner.get_body(("html",)).get_content()
    text = pdf_text(partner)
    assert "Vendor notes" not in text and "BigCo" not in text and "approved" not in text
    assert "pat@customer.example" in text  # the customer consented to sharing
    assert link and db.session.scalars(select(PartnerRequest)).one().partner_id == thames.id

    customer = mail["pat@customer.example"]
    words = body(customer)
    assert "Ihr Ansprechpartner" in customer["Subject"] and "Oliver Smith bei Thames Cloud" in words
    for internal in ("leads", "credit", "commission", "support", "rule", "partner 3", "Alice"):
        assert internal not in words

    # The PDFs were rendered once per copy, stored, and the deal page serves the stored bytes.
    assert db.session.query(Document).count() == 2
    # Each message that sent one refers to the stored document: no message keeps a copy of its bytes.
    sent = db.session.scalars(select(OutboxAttachment).where(OutboxAttachment.builder == "deal_summary")).all()
    assert sent and all(row.document_id is not None and row.data is None for row in sent)
    assert {row.content for row in sent} == {document.data for document in db.session.scalars(select(Document))}
    pdf = client.get(f"/deals/{seed_deal.id}/decisions/1/vendor.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(f"/deals/{seed_deal.id}/decisions/1/other.pdf").status_code == 404


def test_the_channel_manager_reads_and_downloads_a_summary_sent_by_reference(
    app, client, smtp, make_seed_deal, make_user
):
    deal = make_seed_deal()
    route(client, deal)
    deliver(app)
    row = db.session.scalars(
        select(OutboxAttachment)
        .join(OutboxMessage)
        .where(OutboxMessage.deal_id == deal.id, OutboxMessage.kind == "routed_vendor")
    ).one()
    document = db.session.get(Document, row.document_id)
    manager = app.test_client()
    manager.submit("/login", {"email": make_user("admin").email, "password": "correct horse battery"})
    page = manager.get(f"/admin/mail/{row.outbox_message_id}")
    assert page.status_code == 200
    assert do_filesizeformat(len(document.data)) in page.get_data(as_text=True)  # the stored document's size
    download = manager.get(f"/admin/mail/{row.outbox_message_id}/attachments/{row.id}")
    assert download.status_code == 200 and download.data == document.data


def test_the_partner_copy_hides_the_customer_contact_without_consent(app, client, smtp, make_seed_deal):
    deal = make_seed_deal(consent=False, fulfilment="no_preference")
    route(client, deal)
    deliver(app)
    text = pdf_text(by_recipient(smtp)["oliver@thames.example"])
    assert "pat@customer.example" not in text and "Shared only with the customer's consent" in text


def _request_token(smtp) -> str:
    partner_mail = by_recipient(smtp)["oliver@thames.example"]
    return re.search(r"/r/(\S+)", body(partner_mail)).group(1)


def test_opening_the_link_changes_nothing_and_only_the_post_accepts(app, client, smtp, seed_deal):
    route(client, seed_deal)
    deliver(app)
    token = _request_token(smtp)
    partner = app.test_client()
    for _ in range(3):  # a mail scanner opening the link
        assert partner.get(f"/r/{token}").status_code == 200
    assert db.session.get(Deal, seed_deal.id).status == "routed"
    csrf = partner.csrf_token(f"/r/{token}")
    assert partner.post(f"/r/{token}/accept", data={"csrf_token": csrf}).status_code == 302
    assert db.session.get(Deal, seed_deal.id).status == "accepted"
    again = partner.post(f"/r/{token}/accept", data={"csrf_token": csrf})
    assert again.status_code == 302  # accepting twice is harmless
    assert db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.kind == "partner_accepted")).all() == [
        "partner_accepted"
    ]
    declined_after = partner.post(f"/r/{token}/decline", data={"reason": "changed our mind", "csrf_token": csrf})
    assert declined_after.status_code == 409 and db.session.get(Deal, seed_deal.id).status == "accepted"


def test_forged_and_expired_partner_links_change_nothing(app, client, smtp, seed_deal):
    route(client, seed_deal)
    deliver(app)
    token = _request_token(smtp)
    partner = app.test_client()
    assert partner.get(f"/r/{'x' * 32}").status_code == 404
    csrf = partner.csrf_token(f"/r/{token}")
    assert partner.post(f"/r/{'x' * 32}/accept", data={"csrf_token": csrf}).status_code == 404
    request = db.session.scalars(select(PartnerRequest)).one()
    request.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert partner.post(f"/r/{token}/accept", data={"csrf_token": csrf}).status_code == 410
    assert db.session.get(Deal, seed_deal.id).status == "routed"


def test_a_decline_needs_a_reason_and_sends_the_deal_back_without_that_partner(app, client, smtp, seed_deal, thames):
    route(client, seed_deal)
    deliver(app)
    token = _request_token(smtp)
    partner = app.test_client()
    refused = partner.submit(f"/r/{token}/decline", {"reason": ""}, page=f"/r/{token}")
    assert refused.status_code == 400 and "Tell us why" in refused.get_data(as_text=True)
    assert (
        partner.submit(f"/r/{token}/decline", {"reason": "No capacity this quarter"}, page=f"/r/{token}").status_code
        == 302
    )
    deal = db.session.get(Deal, seed_deal.id)
    assert deal.status == "ready_to_route"
    kinds = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.kind == "partner_declined")).all()
    assert kinds == ["partner_declined"]
    route(client, deal)
    decision = db.session.get(Deal, seed_deal.id).decisions[-1]
    assert decision.input["declined_partner_ids"] == [thames.id]
    assert {"kind": "partner", "partner_id": thames.id} not in (
        decision.output["leader"],
        decision.output["fulfilment"],
    )
    # Having declined, the partner cannot accept by the old link.
    assert partner.get(f"/r/{token}").status_code == 200
    assert partner.post(f"/r/{token}/accept", data={"csrf_token": partner.csrf_token("/login")}).status_code == 409


def test_partners_are_reminded_before_the_deadline_and_the_manager_told_after(app, client, seed_deal, make_user):
    make_user("admin", email="boss@example.com")
    route(client, seed_deal)
    request = db.session.scalars(select(PartnerRequest)).one()
    deadline = request.expires_at
    assert partners.sweep(now=deadline - timedelta(days=3)) == (0, 0)
    assert partners.sweep(now=deadline - timedelta(hours=2)) == (1, 0)
    assert partners.sweep(now=deadline - timedelta(hours=1)) == (0, 0)  # reminded once
    assert partners.sweep(now=deadline + timedelta(minutes=1)) == (0, 1)
    assert partners.sweep(now=deadline + timedelta(hours=5)) == (0, 0)
    db.session.commit()
    overdue = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "partner_overdue")).one()
    assert overdue.recipients == ["boss@example.com"]
    reminder = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "partner_reminder")).one()
    assert reminder.recipients == ["oliver@thames.example"] and "/r/" in reminder.text_body

    manager = app.test_client()
    manager.submit("/login", {"email": "boss@example.com", "password": "correct horse battery"})
    db.session.get(PartnerRequest, request.id).expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = manager.submit(f"/admin/deals/{seed_deal.id}/recycle/{request.id}", page=f"/deals/{seed_deal.id}")
    assert response.status_code == 302
    assert db.session.get(Deal, seed_deal.id).status == "ready_to_route"
    assert db.session.get(PartnerRequest, request.id).response == "lapsed"


def test_needs_alignment_alerts_the_manager_and_tells_both_parties_first(app, client, ready, make_partner, make_user):
    make_user("admin", email="boss@example.com")
    nordlicht = make_partner(name="Nordlicht", contact_email="jonas@nordlicht.example")
    deal = ready(partner=nordlicht, strength=1, vendor_strength=5, originator="partner", originator_partner=nordlicht)
    route(client, deal)
    messages = {m.kind + ":" + ",".join(m.recipients) for m in db.session.scalars(select(OutboxMessage))}
    assert "alignment_alert:boss@example.com" in messages
    assert "alignment_notice:jonas@nordlicht.example" in messages
    assert not [m for m in messages if m.startswith("customer_confirmation")]  # nobody contacts the customer yet


def test_a_conflict_tells_each_party_only_that_its_deal_is_on_hold(
    app, client, rep, ready, make_deal, make_account, make_partner, make_user
):
    make_user("admin", email="boss@example.com")
    rival = make_partner(name="Rival Partners", contact_email="r@rival.example")
    account = make_account(name="Contested GmbH", domain="contested.example", owner=rep)
    make_deal(
        make_user("rep"), account=account, status="awaiting_customer", originator="partner", originator_partner=rival
    )
    deal = ready(account=account, originator="vendor")
    route(client, deal)
    notices = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "hold_notice")).all()
    assert [n.recipients for n in notices] == [[rep.email]]
    for notice in notices:
        assert "Rival" not in notice.text_body + notice.html_body + notice.subject
    alert = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "conflict_alert")).one()
    assert alert.recipients == ["boss@example.com"]


def test_customer_text_cannot_make_the_pdf_read_a_file_or_call_a_server(app, client, smtp, make_seed_deal):
    seed_deal = make_seed_deal(
        business_impact='<img src="file:///etc/passwd"><link rel=stylesheet href="http://127.0.0.1:9/x.css">',
        rep_partners=[("<iframe src=file:///etc/hostname>", 1)],
    )
    route(client, seed_deal)
    deliver(app)
    text = pdf_text(by_recipient(smtp)[seed_deal.rep.email])
    assert "root:" not in text
    assert '<img src="file:///etc/passwd">' in text  # shown as the text it is


def test_the_manager_cannot_recycle_a_deal_before_the_partners_deadline(app, client, seed_deal, make_user):
    make_user("admin", email="boss@example.com")
    route(client, seed_deal)
    request = db.session.scalars(select(PartnerRequest)).one()
    manager = app.test_client()
    manager.submit("/login", {"email": "boss@example.com", "password": "correct horse battery"})
    response = manager.submit(f"/admin/deals/{seed_deal.id}/recycle/{request.id}", page=f"/deals/{seed_deal.id}")
    assert response.status_code == 409 and "has not passed" in response.get_data(as_text=True)
    assert db.session.get(Deal, seed_deal.id).status == "routed"
    assert db.session.get(PartnerRequest, request.id).response is None


def test_a_partner_whose_role_a_new_decision_removes_is_told_so_and_nothing_more(
    app, client, smtp, seed_deal, make_user
):
    route(client, seed_deal)
    manager = app.test_client()
    manager.submit("/login", {"email": make_user("admin").email, "password": "correct horse battery"})
    form = {"leader": "vendor", "fulfilment": "vendor", "reason": "A referral fee dispute.", "confirm": "y"}
    assert manager.submit(f"/admin/deals/{seed_deal.id}/override", form).status_code == 302
    deliver(app)
    to_thames = [m for m in smtp.received if m["To"] == "oliver@thames.example"]
    assert [m["Subject"].split(":")[0] for m in to_thames] == [
        "Northwind Technologies",  # routed to it first
        f"Deal #{seed_deal.id} was routed again",
    ]
    words = body(to_thames[-1])
    assert "no longer has a role" in words and "referral fee" not in words.lower()
    assert "Pat" not in words and "pat@customer.example" not in words
