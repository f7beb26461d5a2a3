"""The channel manager's Mail page: every message, its rendering, its attachments, a retry."""

import pytest
from sqlalchemy import select

from intake.extensions import db
from intake.mail.outbox import Stored
from intake.models import AuditEvent

from .test_mail_worker import queue


@pytest.fixture
def messages(app):
    sent, failed = queue(2, to=["customer@example.com", "rep@vendor.example"], subject="Deal routed")
    sent.status = "sent"
    failed.status, failed.attempts, failed.last_error = "failed", 1, "550 5.1.1 no such user"
    [rich] = queue(
        kind="routed_partner",
        subject="Your copy",
        text="Plain text version.",
        html='<p>Hello <b>partner</b></p><script>alert("x")</script><img src="https://tracker.example/p.gif">',
        attachments=[Stored("summary.pdf", "application/pdf", b"%PDF-1.7 stored bytes")],
    )
    db.session.commit()
    return {"sent": sent, "failed": failed, "rich": rich}


def test_the_mail_page_lists_every_message_with_its_status_recipients_and_error(client, admin, messages):
    page = client.get("/admin/mail").get_data(as_text=True)
    for message in messages.values():
        assert f"/admin/mail/{message.id}" in page
    assert "customer@example.com, rep@vendor.example" in page
    assert "550 5.1.1 no such user" in page and "routed_partner" in page
    assert 'href="/admin/mail"' in page  # the nav link

    failed_only = client.get("/admin/mail?status=failed").get_data(as_text=True)
    assert f"/admin/mail/{messages['failed'].id}" in failed_only
    assert f'/admin/mail/{messages["sent"].id}"' not in failed_only


def test_a_message_shows_its_text_and_its_html_only_inside_a_sandboxed_frame(client, admin, messages):
    rich = messages["rich"]
    response = client.get(f"/admin/mail/{rich.id}")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Plain text version." in page and rich.message_id.strip("<>") in page
    frame = f"/admin/mail/{rich.id}/html"
    assert f'<iframe sandbox src="{frame}"' in page
    assert "<script>alert" not in page and "<b>partner</b>" not in page  # never in the page itself
    assert "unsafe" not in response.headers["Content-Security-Policy"]

    body = client.get(frame)
    assert body.get_data(as_text=True) == rich.html_body  # as queued, inside the frame only
    policy = body.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "frame-ancestors 'self'" in policy
    assert "script-src" not in policy  # none: default-src 'none' forbids scripts
    assert body.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert client.get("/admin/mail/999999/html").status_code == 404


def test_an_attachment_downloads_its_stored_bytes(client, admin, messages):
    rich = messages["rich"]
    [attachment] = rich.attachments
    page = client.get(f"/admin/mail/{rich.id}").get_data(as_text=True)
    url = f"/admin/mail/{rich.id}/attachments/{attachment.id}"
    assert url in page

    response = client.get(url)
    assert response.status_code == 200 and response.data == b"%PDF-1.7 stored bytes"
    assert (
        response.headers["Content-Disposition"].startswith("attachment;")
        and "summary.pdf" in response.headers["Content-Disposition"]
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/admin/mail/{messages['sent'].id}/attachments/{attachment.id}").status_code == 404


def test_retry_queues_a_failed_message_again_and_leaves_a_sent_one_alone(client, admin, messages):
    failed, sent = messages["failed"], messages["sent"]
    page = client.get(f"/admin/mail/{failed.id}").get_data(as_text=True)
    assert f"/admin/mail/{failed.id}/retry" in page
    assert f"/admin/mail/{sent.id}/retry" not in client.get(f"/admin/mail/{sent.id}").get_data(as_text=True)

    assert client.post(f"/admin/mail/{failed.id}/retry").status_code == 400  # no CSRF token
    response = client.submit(f"/admin/mail/{failed.id}/retry", page=f"/admin/mail/{failed.id}")
    assert response.status_code == 302
    db.session.refresh(failed)
    assert (failed.status, failed.attempts) == ("pending", 0)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "mail")).one()
    assert (event.entity_id, event.actor_id, event.action) == (failed.id, admin.id, "mail retried")

    client.submit(f"/admin/mail/{sent.id}/retry", page=f"/admin/mail/{sent.id}")
    db.session.refresh(sent)
    assert sent.status == "sent"


MAIL_PAGES = ["/admin/mail", "/admin/mail/{id}", "/admin/mail/{id}/attachments/{attachment}"]


@pytest.mark.parametrize("page", MAIL_PAGES)
def test_a_rep_is_refused_the_mail_pages(client, rep, messages, page):
    rich = messages["rich"]
    assert client.get(page.format(id=rich.id, attachment=rich.attachments[0].id)).status_code == 403


def test_a_rep_cannot_retry_a_message(client, rep, messages):
    failed = messages["failed"]
    assert client.submit(f"/admin/mail/{failed.id}/retry", page="/deals").status_code == 403
    db.session.refresh(failed)
    assert failed.status == "failed"


@pytest.mark.parametrize("page", MAIL_PAGES)
def test_an_anonymous_visitor_is_asked_to_sign_in(client, messages, page):
    rich = messages["rich"]
    response = client.get(page.format(id=rich.id, attachment=rich.attachments[0].id))
    assert response.status_code == 302 and response.location.startswith("/login")
