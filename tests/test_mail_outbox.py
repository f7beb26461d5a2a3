"""Queueing mail: checked recipients, one-line subjects, attachments stored or built once by the worker."""

import pytest

from intake.extensions import db
from intake.mail import attachments, outbox
from intake.mail.outbox import BadRecipient, Recipe, Stored
from intake.models.outbox import OutboxMessage

from .test_mail_worker import deliver, queue


@pytest.mark.parametrize(
    "address",
    [
        "",
        "no-at-sign",
        "two@@example.com",
        "a@b@example.com",
        "a b@example.com",
        "<a@example.com>",
        "a@-bad-.com",
        "a@example.com, b@example.com",
        "a@example.com\nBcc: b@example.com",
        "x" * 65 + "@example.com",
    ],
)
def test_an_address_that_cannot_be_sent_to_is_refused_when_queued(app, address):
    with pytest.raises(BadRecipient):
        outbox.enqueue(kind="test", to=[address], subject="s", text="t")


def test_a_message_is_queued_in_the_callers_transaction_with_a_stable_message_id(app):
    message = outbox.enqueue(
        kind="customer_link", to=[" Ana@Bücher.example "], subject="Line one\r\nLine two", text="t", html="<p>h</p>"
    )
    assert message.id is not None and message.status == "pending" and message.attempts == 0
    assert message.recipients == ["Ana@xn--bcher-kva.example"]
    assert message.subject == "Line one Line two"
    assert message.message_id.startswith("<") and message.message_id.endswith("@127.0.0.1>")
    db.session.rollback()  # the caller's transaction decides
    assert db.session.query(OutboxMessage).count() == 0


def test_attachments_are_given_as_stored_bytes_or_recipes_and_checked(app):
    attachments.register("test_doc", lambda params: ("doc.pdf", "application/pdf", b"%PDF"))
    message = outbox.enqueue(
        kind="test",
        to=["a@example.com"],
        subject="s",
        text="t",
        attachments=[
            {"filename": "../../etc/passwd", "content_type": "text/plain", "data": b"x"},
            {"builder": "test_doc", "params": {"deal": 1}},
            Stored("a.bin", "not a type", b"y"),
            Recipe("test_doc"),
        ],
    )
    rows = message.attachments
    assert [(r.filename, r.content_type, r.data) for r in rows[::2]] == [
        ("_.._etc_passwd", "text/plain", b"x"),
        ("a.bin", "application/octet-stream", b"y"),
    ]
    recipes = [(r.builder, r.params, r.data) for r in rows[1::2]]
    assert recipes == [("test_doc", {"deal": 1}, None), ("test_doc", {}, None)]
    assert not rows[1].is_built and rows[0].is_built

    def attach(item):
        outbox.enqueue(kind="t", to=["a@example.com"], subject="s", text="t", attachments=[item])

    with pytest.raises(attachments.UnknownBuilder):
        attach(Recipe("no_such"))
    with pytest.raises(TypeError):  # params must survive JSON, as the worker reads them back
        attach(Recipe("test_doc", {"x": object()}))
    with pytest.raises(TypeError):
        attach(Stored("a", "b/c", "text"))


def test_a_failing_builder_is_retried_and_its_bytes_are_stored_once_it_works(app, smtp):
    calls = []

    def flaky(params):
        calls.append(params)
        if len(calls) == 1:
            raise RuntimeError("renderer out of memory")
        return "summary.pdf", "application/pdf", b"%PDF-1.7 second try"

    attachments.register("test_flaky", flaky)
    [message] = queue(attachments=[Recipe("test_flaky", {"n": 1})])

    deliver(app)
    db.session.refresh(message)
    assert message.status == "pending" and "renderer out of memory" in message.last_error
    assert message.attachments[0].data is None and smtp.raw == []

    deliver(app, at=message.next_attempt_at)
    db.session.refresh(message)
    assert message.status == "sent" and message.attachments[0].data == b"%PDF-1.7 second try"
    assert len(calls) == 2
    [part] = smtp.received[0].iter_attachments()
    assert part.get_payload(decode=True) == b"%PDF-1.7 second try"
