"""Where mail goes: .eml files by default, SMTP with a verified certificate and a timeout, a worker in dev."""

import email
import shutil
import socket
import ssl
import subprocess
from email import policy

import pytest
from sqlalchemy import select

from intake import create_app
from intake.extensions import db
from intake.mail import outbox
from intake.mail.outbox import Stored
from intake.models.outbox import OutboxMessage

from .conftest import SmtpServer, free_port
from .test_mail_worker import deliver, queue, wait_until


@pytest.fixture
def file_sink(app, tmp_path):
    directory = tmp_path / "mail"
    app.config.update(MAIL_SINK="file", MAIL_FILE_DIR=str(directory))
    return directory


def read_eml(path):
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def test_without_an_smtp_server_each_message_becomes_one_eml_file(app, file_sink):
    first = queue(
        to=["customer@example.com"],
        subject="Your preferences",
        text="Plain.",
        html="<p>Rich.</p>",
        attachments=[Stored("summary.pdf", "application/pdf", b"%PDF-1.7 x")],
    )[0]
    second = queue(subject="Second")[0]

    assert deliver(app).sent == 2

    files = sorted(file_sink.glob("*.eml"))
    assert len(files) == 2 and not list(file_sink.glob("*.part"))
    mail = read_eml(files[0])
    assert mail["Message-ID"] == first.message_id and mail["Subject"] == "Your preferences"
    assert mail["To"] == "customer@example.com" and mail["From"] == "Intake <intake@localhost>"
    assert mail.get_body(("plain",)).get_content().strip() == "Plain."
    assert "<p>Rich.</p>" in mail.get_body(("html",)).get_content()
    [attachment] = mail.iter_attachments()
    assert attachment.get_filename() == "summary.pdf" and attachment.get_payload(decode=True) == b"%PDF-1.7 x"
    assert read_eml(files[1])["Message-ID"] == second.message_id

    # Sent again (a retry): the same file is replaced, not a second one written.
    first = db.session.get(OutboxMessage, first.id)
    first.status = "failed"
    outbox.retry(first, actor=None)
    db.session.commit()
    deliver(app)
    assert sorted(file_sink.glob("*.eml")) == files


def test_the_cli_worker_delivers_what_is_due_and_exits(app, file_sink):
    queue(2)
    result = app.test_cli_runner().invoke(args=["outbox", "work", "--once", "--batch", "1"])
    assert result.exit_code == 0, result.output
    assert "2 claimed, 2 sent" in result.output
    assert len(list(file_sink.glob("*.eml"))) == 2


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (certificate file, key file)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_smtp(app, certificate):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer(free_port(), tls_context=context)
    server.start()
    app.config.update(MAIL_SINK="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_USE_TLS=True)
    yield server
    server.stop()


def test_starttls_refuses_a_certificate_it_cannot_verify(app, tls_smtp):
    [message] = queue()

    deliver(app)

    db.session.refresh(message)
    assert message.status == "pending" and "CERTIFICATE_VERIFY_FAILED" in message.last_error
    assert tls_smtp.raw == []


def test_starttls_delivers_when_the_certificate_checks_out(app, tls_smtp, certificate):
    app.config["MAIL_CA_FILE"] = str(certificate[0])
    [message] = queue()

    deliver(app)

    db.session.refresh(message)
    assert message.status == "sent"
    assert tls_smtp.message_ids() == [message.message_id]


def test_a_server_without_starttls_is_not_used_in_plain_text_when_tls_is_asked_for(app, smtp):
    app.config["MAIL_USE_TLS"] = True
    [message] = queue()

    deliver(app)

    db.session.refresh(message)
    assert message.status == "pending" and "STARTTLS" in message.last_error
    assert smtp.raw == []


def test_a_server_that_never_answers_times_out_instead_of_hanging_the_worker(app):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection, never says hello
        app.config.update(
            MAIL_SINK="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=silent.getsockname()[1], MAIL_TIMEOUT=0.2
        )
        [message] = queue()

        deliver(app)

    db.session.refresh(message)
    assert message.status == "pending" and "timed out" in message.last_error


def test_in_development_one_worker_runs_in_the_app_process_and_never_under_tests(app, client, database_url, tmp_path):
    client.get("/login")
    assert "intake.mail_worker" not in app.extensions  # tests start none
    [message] = queue()
    folder = tmp_path / "dev-mail"
    development = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "MAIL_WORKER": True,
            "MAIL_SINK": "file",
            "MAIL_FILE_DIR": str(folder),
            "MAIL_POLL_SECONDS": 0.05,
        }
    )
    assert not development.testing and "intake.mail_worker" not in development.extensions
    try:
        development.test_client().get("/login")  # the first request starts it
        thread, stop = development.extensions["intake.mail_worker"]
        wait_until(lambda: len(list(folder.glob("*.eml"))) == 1, "the embedded worker's delivery")
    finally:
        if "intake.mail_worker" in development.extensions:
            stop.set()
            thread.join(30)
        with development.app_context():
            db.engine.dispose()
    assert not thread.is_alive()
    db.session.expire_all()
    assert db.session.scalars(select(OutboxMessage.status)).all() == ["sent"]
    assert read_eml(next(folder.glob("*.eml")))["Message-ID"] == message.message_id
