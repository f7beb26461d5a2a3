"""The outbox worker against a real SMTP server: delivered once, retried, refused, given up on, taken over."""

import email
import email.policy
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake.extensions import db
from intake.mail import attachments, delivery, outbox, worker
from intake.mail.outbox import Recipe, Stored
from intake.models import AuditEvent
from intake.models.outbox import OutboxMessage
from intake.models.types import utcnow

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = worker.Settings(
    batch=10,
    lease=timedelta(seconds=60),
    max_attempts=3,
    retry_base=timedelta(seconds=10),
    retry_max=timedelta(seconds=80),
    poll_seconds=0,
)


def later(seconds: float = 0):
    return utcnow() + timedelta(seconds=seconds)


def deliver(app, at=None, settings=SETTINGS, sink_factory=None, name=None) -> worker.Report:
    """Run the worker until nothing is due at `at` (default: now)."""
    at = at or later()
    return worker.run(
        settings,
        sink_factory or (lambda: delivery.sink_for(app.config)),
        stop=threading.Event(),
        once=True,
        clock=lambda: at,
        rng=random.Random(5),
        name=name,
    )


def queue(n: int = 1, **overrides) -> list[OutboxMessage]:
    values = {"kind": "test", "to": ["customer@example.com"], "subject": "Hello", "text": "Plain words."}
    values.update(overrides)
    messages = [outbox.enqueue(**values) for _ in range(n)]
    db.session.commit()
    return messages


def statuses() -> Counter:
    return Counter(db.session.scalars(select(OutboxMessage.status)).all())


def wait_until(predicate, what: str, timeout: float = 60) -> None:
    # A guard against hanging, not a timing assertion.
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


@pytest.fixture
def built():
    """Register an attachment builder that counts its calls."""
    calls = []

    def build_summary(params):
        calls.append(params)
        return f"summary-{params['deal']}.pdf", "application/pdf", b"%PDF-1.7 built for " + str(params["deal"]).encode()

    attachments.register("test_summary", build_summary)
    return calls


def test_a_queued_message_is_delivered_with_its_headers_bodies_and_attachments(app, smtp, built):
    # Four recipients: Flask-Mail writes To from a set, so only Intake's own To keeps this order.
    to = ["customer@example.com", "rep@vendor.example", "manager@vendor.example", "alex@partner.example"]
    message = queue(
        to=to,
        subject="Your deal: next steps ✓",
        text="Hello in plain text.",
        html="<p>Hello in <b>HTML</b>.</p>",
        attachments=[
            Stored("notes.txt", "text/plain", b"stored bytes"),
            Recipe("test_summary", {"deal": 7}),
        ],
    )[0]

    report = deliver(app)

    assert (report.claimed, report.sent) == (1, 1)
    [received] = smtp.received
    assert received["Message-ID"] == message.message_id
    assert received["Subject"] == "Your deal: next steps ✓"
    assert received["From"] == "Intake <intake@localhost>"
    assert received["To"] == ", ".join(to)
    assert [address.addr_spec for address in received["To"].addresses] == to
    assert smtp.envelopes == [("intake@localhost", to)]
    assert received.get_body(("plain",)).get_content().strip() == "Hello in plain text."
    assert "<b>HTML</b>" in received.get_body(("html",)).get_content()
    files = {part.get_filename(): part.get_payload(decode=True) for part in received.iter_attachments()}
    assert files == {"notes.txt": b"stored bytes", "summary-7.pdf": b"%PDF-1.7 built for 7"}
    db.session.refresh(message)
    assert (message.status, message.attempts, message.last_error) == ("sent", 1, "")
    assert message.sent_at is not None and message.lease_until is None
    assert built == [{"deal": 7}]
    # The recipe's bytes are stored: a download reads them, nothing renders again.
    assert message.attachments[1].data == b"%PDF-1.7 built for 7" and message.attachments[1].built_at


def test_a_subject_and_bodies_of_any_length_and_characters_arrive_as_written_in_lines_smtp_accepts(app, smtp):
    # One paragraph far past SMTP's 998-character line limit, with what quoted-printable must escape.
    paragraph = "Grüße — " * 300 + "a = b, 100 % sure \t  "
    text = f"{paragraph}\n.\nFrom the customer: ✓\n\n  indented, trailing space \nlast line"
    # A subject longer than a header line, with one word longer than an encoded word may be.
    subject = "Routed: Grüße an " + "Nordwind" * 12 + "—Systems ✓, " + "long subject " * 4
    queue(subject=subject, text=text, html=f"<p>{paragraph}</p>\n<p>.</p>")

    assert deliver(app).sent == 1

    [raw] = smtp.raw
    assert max(len(line) for line in raw.splitlines()) <= 78
    [received] = smtp.received
    assert received["Subject"] == subject.strip()
    plain, html = received.get_body(("plain",)), received.get_body(("html",))
    assert plain["Content-Transfer-Encoding"] == html["Content-Transfer-Encoding"] == "quoted-printable"
    assert plain.get_content_charset() == "utf-8"
    assert plain.get_content().replace("\r\n", "\n") == text
    assert html.get_content().replace("\r\n", "\n") == f"<p>{paragraph}</p>\n<p>.</p>"


def test_a_subject_that_holds_an_encoded_word_is_read_as_written(app, smtp):
    # A name typed as RFC 2047 text: a mail reader would decode it to "Trusted Bank".
    [message] = queue(subject="New deal for =?utf-8?q?Trusted_Bank?= from =?utf-8?b?QmFuaw==?= (2+2=?)")

    assert deliver(app).sent == 1

    written = "New deal for = ?utf-8?q?Trusted_Bank?= from = ?utf-8?b?QmFuaw==?= (2+2=?)"
    assert message.subject == written
    [received] = smtp.received
    assert received["Subject"].strip() == written  # folded onto its own line, it may start with a space


def test_a_subject_is_checked_again_when_sent_so_a_message_queued_before_reads_as_written(app):
    # A message stored before subjects were checked for encoded words still holds one as typed.
    envelope = delivery.Envelope(
        outbox_id=1,
        message_id="<queued-before@intake.example>",
        created_at=utcnow(),
        recipients=("customer@example.com",),
        subject="New deal for =?utf-8?q?Trusted_Bank?=",
        text="Plain words.",
        html="",
    )

    written = delivery.build_message(envelope, ("Intake", "intake@localhost")).as_bytes()

    received = email.message_from_bytes(written, policy=email.policy.default)
    assert received["Subject"].strip() == "New deal for = ?utf-8?q?Trusted_Bank?="


def test_smtp_down_for_a_while_then_every_message_goes_out_once_with_its_own_message_id(app, smtp, built):
    messages = queue(4) + queue(1, attachments=[Recipe("test_summary", {"deal": 1})])
    stored_ids = [m.message_id for m in messages]
    smtp.stop()

    first = deliver(app)
    assert (first.claimed, first.deferred, first.sent) == (5, 5, 0)
    assert statuses() == {"pending": 5}
    for m in messages:
        db.session.refresh(m)
        assert m.attempts == 1 and "connecting to 127.0.0.1" in m.last_error
        assert m.next_attempt_at > utcnow()
    # Not due again yet: the backoff holds them back.
    assert deliver(app).claimed == 0
    deliver(app, at=later(80))  # still down: a second attempt each
    smtp.start()

    deliver(app, at=later(300))

    assert statuses() == {"sent": 5}
    assert sorted(smtp.message_ids()) == sorted(stored_ids)
    assert [m.attempts for m in db.session.scalars(select(OutboxMessage))] == [3] * 5
    assert built == [{"deal": 1}]  # built once, on the first attempt; the retries read stored bytes


def test_retries_back_off_exponentially_with_jitter(app):
    base, ceiling = SETTINGS.retry_base, SETTINGS.retry_max
    rng = random.Random(1)
    delays = [worker.backoff(attempt, SETTINGS, rng) for attempt in range(1, 7)]
    for attempt, delay in enumerate(delays, start=1):
        full = min(ceiling, base * 2 ** (attempt - 1))
        assert full / 2 <= delay <= full
    assert delays[3] > delays[0] * 2


def test_a_permanent_refusal_fails_at_once_with_the_smtp_reply_and_alerts_the_managers(app, smtp, make_user):
    manager = make_user("admin")
    smtp.refused["nobody@example.com"] = "550 5.1.1 <nobody@example.com>: Recipient address rejected"
    [bounced] = queue(to=["nobody@example.com"])
    [partial] = queue(to=["nobody@example.com", "somebody@example.com"])

    report = deliver(app)

    db.session.refresh(bounced)
    db.session.refresh(partial)
    assert bounced.status == "failed" and bounced.attempts == 1
    assert "550 5.1.1" in bounced.last_error and "Recipient address rejected" in bounced.last_error
    assert partial.status == "sent" and "nobody@example.com: 550 5.1.1" in partial.last_error
    assert report.failed == 1
    # Not retried later.
    deliver(app, at=later(3600))
    db.session.refresh(bounced)
    assert bounced.status == "failed" and bounced.attempts == 1
    alerts = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == outbox.UNDELIVERED)).all()
    assert [a.recipients for a in alerts] == [[manager.email]]
    assert alerts[0].status == "sent"  # delivered in the same run, to the manager
    assert f"#{bounced.id}" in alerts[0].subject and "550 5.1.1" in alerts[0].text_body


def test_after_max_attempts_a_message_is_dead_and_every_active_manager_is_alerted(app, smtp, make_user):
    managers = [make_user("admin"), make_user("admin")]
    make_user("admin", is_active=False)
    make_user("rep")
    smtp.data_reply = "451 4.3.0 Mailbox temporarily unavailable"
    [message] = queue(subject="Deal routed")

    for step in range(SETTINGS.max_attempts):
        deliver(app, at=later(step * SETTINGS.retry_max.total_seconds()))

    db.session.refresh(message)
    assert (message.status, message.attempts) == ("dead", SETTINGS.max_attempts)
    assert "451 4.3.0" in message.last_error
    alerts = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == outbox.UNDELIVERED).order_by(OutboxMessage.id)
    ).all()
    assert [a.recipients for a in alerts] == [[m.email] for m in managers]
    assert all(f"#{message.id}" in a.subject and "Deal routed" in a.text_body for a in alerts)
    # An alert that cannot be delivered either dies quietly: no alert about an alert.
    for step in range(SETTINGS.max_attempts):
        deliver(app, at=later((SETTINGS.max_attempts + step) * SETTINGS.retry_max.total_seconds()))
    assert statuses() == {"dead": 3}
    assert smtp.received == []


def test_header_injection_is_impossible(app, smtp):
    with pytest.raises(outbox.BadRecipient):
        outbox.enqueue(kind="test", to=["a@example.com\r\nBcc: victim@evil.example"], subject="x", text="x")
    [queued] = queue(
        subject="Hello\r\nBcc: victim@evil.example\r\n\r\nforged body",
        attachments=[Stored('evil"\r\nX-Injected: 1.txt', "text/plain\r\nX-Injected: 2", b"x")],
    )
    # Rows written some other way are checked again when sent.
    raw = OutboxMessage(
        kind="test",
        recipients=["ok@example.com"],
        subject="Hi\nBcc: victim@evil.example",
        text_body="x",
        message_id="<raw.1@intake.test>",
    )
    bad = OutboxMessage(
        kind="test",
        recipients=["ok@example.com\nBcc: victim@evil.example"],
        subject="Hi",
        text_body="x",
        message_id="<raw.2@intake.test>",
    )
    db.session.add_all([raw, bad])
    db.session.commit()

    deliver(app)

    assert queued.subject == "Hello Bcc: victim@evil.example forged body"
    assert len(smtp.received) == 2
    for received, (_sender, rcpts) in zip(smtp.received, smtp.envelopes, strict=True):
        assert all(part["Bcc"] is None and part["X-Injected"] is None for part in received.walk())
        assert "victim@evil.example" not in rcpts
        assert "\n" not in received["Subject"]
    [part] = smtp.received[0].iter_attachments()
    assert part.get_filename() == "evil_ X-Injected_ 1.txt" and part.get_content_type() == "application/octet-stream"
    db.session.refresh(bad)
    assert bad.status == "failed" and "ok@example.com" in bad.last_error


class StallingSink:
    """The real sink; after each send the clock jumps and `meanwhile` runs (another worker, say)."""

    def __init__(self, app, times: list, step: timedelta, meanwhile):
        self.inner = delivery.sink_for(app.config)
        self.times, self.step, self.meanwhile = times, step, meanwhile

    def __enter__(self):
        self.inner.__enter__()
        return self

    def __exit__(self, *exc):
        self.inner.__exit__(*exc)

    def send(self, envelope):
        note = self.inner.send(envelope)
        self.times.append(self.times[-1] + self.step)
        self.meanwhile(self.times[-1])
        return note


def test_a_slow_batch_renews_its_lease_so_no_other_worker_takes_a_message_over(app, smtp):
    queue(4)
    times = [later()]
    others = []

    def other_worker(at):
        others.append(deliver(app, at=at, name="other"))

    slow = StallingSink(app, times, SETTINGS.lease * 0.6, other_worker)
    report = worker.work_batch(SETTINGS, lambda: slow, clock=lambda: times[-1], name="slow")

    assert report.sent == 4 and report.lost == 0
    assert sum(o.claimed for o in others) == 0
    ids = smtp.message_ids()
    assert len(ids) == len(set(ids)) == 4


def test_a_worker_that_outlives_its_lease_causes_at_most_a_duplicate_with_the_same_message_id(app, smtp):
    messages = queue(3)
    times = [later()]
    taken_over = []

    def other_worker(at):
        if not taken_over:  # the first worker stalls past its lease once, after a send
            taken_over.append(deliver(app, at=at, name="other"))

    stalled = StallingSink(app, times, SETTINGS.lease * 2, other_worker)
    report = worker.work_batch(SETTINGS, lambda: stalled, clock=lambda: times[-1], name="stalled")

    assert taken_over[0].sent == 3
    assert report.sent == 0 and report.lost == 3
    counts = Counter(smtp.message_ids())
    first = messages[0].message_id
    assert counts == {first: 2, messages[1].message_id: 1, messages[2].message_id: 1}
    assert statuses() == {"sent": 3}


# Real worker processes --------------------------------------------------------


def worker_env(database_url: str, smtp_server, tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "FLASK_"))}
    env.update(
        INTAKE_ENV="test",
        INTAKE_DATABASE_URL=database_url,
        INTAKE_INSTANCE_PATH=str(tmp_path / "worker-instance"),
        INTAKE_MAIL_SERVER="127.0.0.1",
        INTAKE_MAIL_PORT=str(smtp_server.port),
        INTAKE_MAIL_LEASE_SECONDS="60",
        INTAKE_MAIL_WORKER="0",
    )
    env.update(extra)
    return env


def start_worker(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "intake", "outbox", "work", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_worker_killed_mid_batch_leaves_the_rest_to_the_next_worker_after_the_lease(
    app, smtp, database_url, tmp_path
):
    messages = queue(6)
    smtp.gate.clear()  # the server holds the first delivery: the worker is mid-batch
    process = start_worker(worker_env(database_url, smtp, tmp_path), "--batch", "4")
    try:
        assert smtp.holding.wait(60), "the worker never started sending"
    finally:
        process.kill()
        process.communicate(timeout=30)
    # The server saw the client go before it answered: that delivery did not happen.
    assert smtp.dropped.wait(30)
    smtp.gate.set()
    db.session.expire_all()
    assert statuses() == {"sending": 4, "pending": 2}

    deliver(app)  # the claim is still leased: only the two unclaimed messages go
    assert statuses() == {"sending": 4, "sent": 2}
    deliver(app, at=later(61))  # the lease has run out: taken up and sent

    assert statuses() == {"sent": 6}
    assert Counter(smtp.message_ids()) == Counter(m.message_id for m in messages)
    taken_up = db.session.scalars(select(OutboxMessage.attempts).order_by(OutboxMessage.id)).all()
    assert sorted(taken_up) == [1, 1, 2, 2, 2, 2]


def test_sigterm_stops_the_worker_after_the_message_in_hand(app, smtp, database_url, tmp_path):
    queue(3)
    smtp.gate.clear()
    process = start_worker(worker_env(database_url, smtp, tmp_path, INTAKE_MAIL_POLL_SECONDS="0.05"))
    try:
        assert smtp.holding.wait(60), "the worker never started sending"
        process.send_signal(signal.SIGTERM)
        smtp.gate.set()
        output, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, output
    assert "1 sent" in output and "2 released" in output
    db.session.expire_all()
    assert statuses() == {"sent": 1, "pending": 2}
    assert db.session.scalar(select(func.sum(OutboxMessage.attempts))) == 1
    assert len(smtp.received) == 1


def test_three_workers_on_postgresql_drain_a_thousand_messages_each_delivered_once(app, smtp, database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers at once need PostgreSQL (SKIP LOCKED); SQLite runs one")
    messages = [
        outbox.enqueue(kind="bulk", to=[f"c{n}@example.com"], subject=f"Message {n}", text="x") for n in range(1000)
    ]
    db.session.commit()
    expected = Counter(m.message_id for m in messages)
    # Hold deliveries until all three workers have a batch in hand: they really run at once.
    smtp.gate.clear()
    env = worker_env(database_url, smtp, tmp_path)
    processes = [start_worker(env, "--once", "--batch", "25") for _ in range(3)]
    try:
        wait_until(lambda: len(smtp.sessions) >= 3, "three workers connected")
        smtp.gate.set()
        outputs = [p.communicate(timeout=120)[0] for p in processes]
    finally:
        for p in processes:
            p.kill()
    assert [p.returncode for p in processes] == [0, 0, 0], outputs

    assert Counter(smtp.message_ids()) == expected  # every one, each exactly once
    db.session.expire_all()
    assert statuses() == {"sent": 1000}
    workers = {c.rsplit(":", 1)[0] for c in db.session.scalars(select(OutboxMessage.claimed_by)).all()}
    assert len(workers) == 3


def test_retrying_from_the_service_queues_a_dead_message_again_with_fresh_attempts(app, smtp, make_user):
    manager = make_user("admin")
    smtp.data_reply = "451 4.3.0 later"
    [message] = queue()
    for step in range(SETTINGS.max_attempts):
        deliver(app, at=later(step * 80))
    db.session.refresh(message)
    assert message.status == "dead"
    smtp.data_reply = None

    assert outbox.retry(message, actor=manager)
    db.session.commit()
    deliver(app)

    db.session.refresh(message)
    assert (message.status, message.attempts) == ("sent", 1)
    assert message.message_id in smtp.message_ids()
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "mail")).all() == ["mail retried"]
