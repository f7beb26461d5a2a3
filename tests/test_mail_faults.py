"""The outbox worker on a faulty network: a trickling server, a stop, an unwritable folder, a failing database.

Each fault ends the same way: once the fault is gone, every message queued is delivered, and
none twice.
"""

import email
import itertools
import logging
import signal
import socket
import sqlite3
import ssl
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from email import policy

import psycopg
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import event, select

from intake.extensions import db
from intake.mail import delivery, worker
from intake.models.outbox import OutboxMessage

from .conftest import SmtpServer, free_port
from .test_mail_sinks import certificate  # noqa: F401  (a fixture)
from .test_mail_worker import SETTINGS, deliver, later, queue, start_worker, statuses, wait_until, worker_env


class TrickleServer:
    """A loopback SMTP server that answers one byte at a time, a byte every `interval` seconds.

    At `stage="greeting"` it trickles its greeting; at `stage="data"` it greets and answers
    at once, then trickles its reply to the message. Each connection ends after
    `for_seconds`, so a worker that never gives up fails its test rather than hanging it.
    """

    def __init__(self, stage: str = "greeting", interval: float = 1.5, for_seconds: float = 30.0):
        self.stage, self.interval, self.for_seconds = stage, interval, for_seconds
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connected = threading.Event()
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.closed.set()
        self.listener.close()

    def _accept(self) -> None:
        self.listener.settimeout(0.1)
        while not self.closed.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection) -> None:
        with connection:
            connection.settimeout(self.for_seconds)
            self.connected.set()
            try:
                if self.stage == "data":
                    self._converse(connection)
                    self._trickle(connection, b"250 ")
                else:
                    self._trickle(connection, b"220 ")
            except OSError:
                return  # the client went away

    def _converse(self, connection) -> None:
        """Answer at once up to the end of the message."""
        connection.sendall(b"220 trickle.test ready\r\n")
        lines = connection.makefile("rb")
        for line in lines:
            command = line[:4].upper()
            if command == b"DATA":
                connection.sendall(b"354 go ahead\r\n")
                for body_line in lines:
                    if body_line == b".\r\n":
                        return
            else:
                connection.sendall(b"250 trickle.test\r\n")

    def _trickle(self, connection, start: bytes) -> None:
        ends_at = time.monotonic() + self.for_seconds
        for byte in itertools.chain(start, itertools.cycle(b"slowly ")):
            if self.closed.is_set() or time.monotonic() > ends_at:
                return
            connection.sendall(bytes([byte]))
            self.closed.wait(self.interval)


@pytest.fixture
def trickle(app):
    """Factory: a trickling server the test app's mail goes to, with 2 s per message.

    A byte comes every 1.5 s, within the socket timeout (also 2 s), so by the deadline two
    bytes of the reply have come: "25" cannot pass for an answer.
    """
    servers = []

    def start(stage: str = "greeting") -> TrickleServer:
        server = TrickleServer(stage)
        servers.append(server)
        app.config.update(MAIL_SINK="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_TIMEOUT=2)
        return server

    yield start
    for server in servers:
        server.close()


# A trickling server ------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "count", "said"),
    [
        ("greeting", 3, "connecting to 127.0.0.1:{port}: timed out waiting for the greeting"),
        ("data", 1, "timed out sending"),
    ],
    ids=["greeting", "reply"],
)
def test_a_server_that_trickles_its_answer_is_given_up_on_at_the_deadline_then_each_message_goes_out_once(
    app, trickle, smtp_server, stage, count, said
):
    messages = queue(count)
    server = trickle(stage)

    started = time.monotonic()
    report = deliver(app)
    took = time.monotonic() - started

    # Each read gets a byte within the socket timeout; only the deadline for the whole conversation ends it.
    assert took < 10, f"the worker was held {took:.1f} s"
    assert (report.claimed, report.deferred, report.sent) == (count, count, 0)
    for message in messages:
        db.session.refresh(message)
        assert (message.status, message.attempts, message.lease_until) == ("pending", 1, None)
        assert said.format(port=server.port) in message.last_error
        assert "not done within 2 s in all (INTAKE_MAIL_TIMEOUT)" in message.last_error
        assert message.next_attempt_at > later()  # retried with backoff, not at once

    app.config["MAIL_PORT"] = smtp_server.port
    deliver(app, at=later(SETTINGS.retry_max.total_seconds()))

    assert statuses() == {"sent": count}
    assert Counter(smtp_server.message_ids()) == Counter(m.message_id for m in messages)


def test_sigterm_stops_a_worker_held_by_a_trickling_server_within_seconds_and_hands_its_batch_back(
    app, trickle, smtp_server, database_url, tmp_path
):
    messages = queue(3)
    server = trickle("greeting")
    # A minute's budget: it is the stop request, not the deadline, that ends the conversation.
    env = worker_env(database_url, server, tmp_path, INTAKE_MAIL_TIMEOUT="60", INTAKE_MAIL_STOP_SECONDS="1")
    process = start_worker(env)
    try:
        assert server.connected.wait(60), "the worker never connected"
        asked_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        took = time.monotonic() - asked_at
    finally:
        process.kill()
    assert process.returncode == 0, output
    assert took < 10, f"stopped {took:.1f} s after SIGTERM:\n{output}"
    assert "3 claimed, 0 sent, 0 to retry, 0 failed, 0 dead, 3 released" in output
    db.session.expire_all()
    # Handed back as if never claimed: no attempt spent, due now.
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert [(m.status, m.attempts, m.lease_until) for m in rows] == [("pending", 0, None)] * 3

    app.config["MAIL_PORT"] = smtp_server.port
    deliver(app)

    assert statuses() == {"sent": 3}
    assert Counter(smtp_server.message_ids()) == Counter(m.message_id for m in messages)


def test_smtp_over_tls_from_the_start_is_verified_and_delivers_through_the_watched_client(app, certificate):  # noqa: F811
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer(free_port())  # conftest's server speaks STARTTLS only: this one is TLS from the start
    controller = Controller(server, hostname="127.0.0.1", port=server.port, ssl_context=context)
    controller.start()
    try:
        app.config.update(MAIL_SINK="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_USE_SSL=True)
        [unverified] = queue()
        deliver(app)
        db.session.refresh(unverified)
        assert unverified.status == "pending" and "CERTIFICATE_VERIFY_FAILED" in unverified.last_error

        app.config["MAIL_CA_FILE"] = str(cert)
        deliver(app, at=later(SETTINGS.retry_max.total_seconds()))
    finally:
        controller.stop()
    assert statuses() == {"sent": 1}
    assert server.message_ids() == [unverified.message_id]


# A mail folder that cannot be written -----------------------------------------


def test_a_mail_folder_that_cannot_be_made_defers_the_mail_with_the_reason_then_it_goes_out_once(app, tmp_path):
    # Tests run as root, whom no permission stops: a file where the folder's parent should be does.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file, not a folder")
    folder = blocker / "mail"
    app.config.update(MAIL_SINK="file", MAIL_FILE_DIR=str(folder))
    messages = queue(3)

    report = deliver(app)

    assert (report.claimed, report.deferred, report.sent) == (3, 3, 0)
    for message in messages:
        db.session.refresh(message)
        assert (message.status, message.attempts, message.lease_until) == ("pending", 1, None)
        assert f"cannot write to the mail folder {folder}" in message.last_error
        assert "NotADirectoryError" in message.last_error
    assert deliver(app).claimed == 0  # the backoff holds them back
    deliver(app, at=later(80))  # still broken: a second attempt each, the same reason
    assert statuses() == {"pending": 3}

    blocker.unlink()  # fixed
    deliver(app, at=later(300))

    assert statuses() == {"sent": 3}
    assert [m.attempts for m in db.session.scalars(select(OutboxMessage))] == [3] * 3
    files = sorted(folder.glob("*.eml"))
    assert not list(folder.glob("*.part"))
    written = Counter(email.message_from_bytes(f.read_bytes(), policy=policy.default)["Message-ID"] for f in files)
    assert written == Counter(m.message_id for m in messages)


# The database failing mid-batch -------------------------------------------------


def run_in_thread(app, settings: worker.Settings, stop: threading.Event) -> threading.Thread:
    """The worker's run loop in a thread of its own, as `make run` has it."""

    def work():
        with app.app_context():
            worker.run(settings, lambda: delivery.sink_for(app.config), stop=stop, name="faulty")

    thread = threading.Thread(target=work, name="faulty-worker", daemon=True)
    thread.start()
    return thread


@contextmanager
def database_failure():
    """Make the worker's next write fail: on SQLite another connection holds the write lock for the
    block; on PostgreSQL every other connection to the database is ended, as a failover would."""
    db.session.rollback()  # the test's own session holds nothing
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(url.database, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.rollback()
            holder.close()
        return
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False)) as admin:
        ended = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]
        admin.commit()
    assert ended, "no worker connection to end"
    yield


@pytest.fixture
def locks_given_up_on_quickly(app):
    """SQLite connections wait a third of a second for a lock rather than the app's ten."""

    def shorten(dbapi_connection, connection_record, connection_proxy):
        if type(dbapi_connection).__module__ == "sqlite3":
            dbapi_connection.execute("PRAGMA busy_timeout=300")

    event.listen(db.engine, "checkout", shorten)
    yield
    event.remove(db.engine, "checkout", shorten)


def test_a_database_failure_mid_batch_hands_the_unsent_claims_back_at_once_and_the_worker_carries_on(
    app, smtp, locks_given_up_on_quickly, caplog
):
    caplog.set_level(logging.INFO, logger="intake.mail")
    messages = queue(4)
    # A ten-minute lease: whatever goes out in this test was handed back, not taken over when it ran out.
    settings = replace(SETTINGS, lease=timedelta(minutes=10), poll_seconds=0.05)
    stop = threading.Event()
    smtp.gate.clear()  # the server holds the first message: the worker is mid-batch
    thread = run_in_thread(app, settings, stop)

    def failures():
        return [r for r in caplog.records if r.name == "intake.mail" and r.levelno >= logging.WARNING]

    try:
        assert smtp.holding.wait(60), "the worker never started sending"
        with database_failure():
            smtp.gate.set()  # accepted: the worker goes to record it, and the database fails it
            wait_until(failures, "the worker to meet the database failure")
        wait_until(lambda: statuses() == {"sent": 4}, "every message delivered")
    finally:
        smtp.gate.set()
        stop.set()
        thread.join(30)
    assert not thread.is_alive()

    assert Counter(smtp.message_ids()) == Counter(m.message_id for m in messages)
    # The one sent before the failure is recorded as sent, not sent again; the three never
    # tried were handed back without spending an attempt.
    assert [m.attempts for m in db.session.scalars(select(OutboxMessage))] == [1] * 4
    lines = failures()
    assert lines and all(r.exc_info is None and "\n" not in r.getMessage() for r in lines), lines
    assert all(r.getMessage().startswith("outbox: the database failed (") for r in lines)
    assert any("delivering again" in r.getMessage() for r in caplog.records)
