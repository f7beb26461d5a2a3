"""Where mail goes: an SMTP server through Flask-Mail, or `.eml` files in the instance folder.

Flask-Mail builds the MIME message and holds the connection; what it lacks is closed here:
the server's TLS certificate is verified (a real SSL context for STARTTLS and SSL), the
connection has a timeout, the Message-ID is the one stored with the outbox row (Flask-Mail
makes a new one each time), the refused-recipients reply is kept, and every header value
comes from `headers`, never from user text as given.
"""

from __future__ import annotations

import email.charset
import functools
import os
import smtplib
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.mime.text import MIMEText
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

import flask_mail
from flask import current_app

from . import headers


@dataclass(frozen=True)
class Envelope:
    """Everything needed to send one outbox message, read from its row."""

    outbox_id: int
    message_id: str
    created_at: datetime
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str
    attachments: tuple[tuple[str, str, bytes], ...] = ()


class Refused(Exception):
    """The message will never go out as it is: a 5xx reply, or nothing left to send it to."""


class Deferred(Exception):
    """The message did not go out this time; it may next time (a 4xx reply)."""


class ConnectionFailed(Deferred):
    """The server could not be reached or dropped the connection; the rest of the batch waits too."""


class CannotConnect(ConnectionFailed):
    """No connection could be opened (refused, timed out, TLS or sign-in failed)."""


class Sink(Protocol):
    """A place messages are delivered to, opened once per batch."""

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def send(self, envelope: Envelope) -> str:
        """Deliver one message; return a note for the record (e.g. recipients refused), or ''."""
        ...


def _quoted_printable_utf8() -> email.charset.Charset:
    # Flask-Mail registers UTF-8 bodies as unencoded 8-bit text, whose lines SMTP caps at 998
    # characters: a long paragraph (a trace step, a customer's reason) would be refused for good.
    # Quoted-printable keeps every line short and the text readable.
    utf8 = email.charset.Charset("utf-8")
    utf8.body_encoding = email.charset.QP
    return utf8


_UTF8 = _quoted_printable_utf8()


class _Message(flask_mail.Message):
    """Flask-Mail's message with To in the order given (Flask-Mail goes through a set), and bodies
    that are quoted-printable: with the stored Message-ID and the queueing time as Date, a resend
    carries the same headers."""

    def _mimetext(self, text, subtype="plain"):  # type: ignore[no-untyped-def]
        return MIMEText(text or "", _subtype=subtype, _charset=_UTF8)

    def _message(self):  # type: ignore[no-untyped-def]
        msg = super()._message()
        if len(self.recipients) > 1:
            msg.replace_header("To", ", ".join(flask_mail.sanitize_addresses(self.recipients)))
        return msg


def build_message(envelope: Envelope, sender: tuple[str, str]) -> flask_mail.Message:
    """Build the Flask-Mail message with headers made only from checked single-line values."""
    recipients = [headers.address(address) for address in envelope.recipients]
    if not recipients:
        raise Refused("no recipient")
    message = _Message(
        subject=headers.one_line(envelope.subject, 200),
        recipients=recipients,
        body=envelope.text,
        html=envelope.html or None,
        sender=sender,
        date=envelope.created_at.timestamp(),
    )
    # The stored Message-ID: a retry, or a resend after a crash, is the same message to the receiver.
    message.msgId = headers.message_id(envelope.message_id)
    for name, kind, data in envelope.attachments:
        message.attach(filename=headers.filename(name), content_type=headers.content_type(kind), data=data)
    return message


def configured_sender(config: Mapping[str, Any]) -> tuple[str, str]:
    return headers.sender(config["MAIL_DEFAULT_SENDER"])


class _SecureConnection(flask_mail.Connection):
    """Flask-Mail's connection with a verified TLS context and a timeout.

    It always connects: whether mail really goes out is chosen by the sink in use,
    not by Flask-Mail's MAIL_SUPPRESS_SEND (on under TESTING).
    """

    def __init__(self, mail: Any, *, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(mail)
        self.timeout = timeout
        self.context = context

    def __enter__(self) -> Self:
        self.host = self.configure_host()
        self.num_emails = 0
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self.host is None:
            return
        try:
            self.host.quit()
        except (smtplib.SMTPException, OSError):
            self.host.close()
        self.host = None

    def configure_host(self) -> smtplib.SMTP:
        mail = self.mail
        host: smtplib.SMTP
        if mail.use_ssl:
            host = smtplib.SMTP_SSL(mail.server, mail.port, timeout=self.timeout, context=self.context)
        else:
            host = smtplib.SMTP(mail.server, mail.port, timeout=self.timeout)
        try:
            if mail.use_tls:
                # Checks the certificate against MAIL_SERVER; a server without STARTTLS is an
                # error, never a silent fall back to plain text.
                host.starttls(context=self.context)
            if mail.username and mail.password:
                host.login(mail.username, mail.password)
        except BaseException:
            host.close()
            raise
        return host

    def deliver(self, message: flask_mail.Message) -> dict[str, tuple[int, bytes]]:
        """Send one message; return the recipients the server refused while accepting others."""
        if message.has_bad_headers():
            raise flask_mail.BadHeaderError("a header value spans lines")
        assert self.host is not None
        refused = self.host.sendmail(
            flask_mail.sanitize_address(message.sender),
            flask_mail.sanitize_addresses(message.recipients),
            message.as_bytes(),
        )
        flask_mail.email_dispatched.send(current_app._get_current_object(), message=message)
        return refused


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return headers.one_line(f"{code} {text}", 500)


@functools.lru_cache(maxsize=4)
def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """A context that verifies the server's certificate and name: the system's CAs, or the CA file given.

    Loading the CAs takes tens of milliseconds, so contexts are made once and shared.
    """
    return ssl.create_default_context(cafile=ca_file)


class SmtpSink:
    """An SMTP server, reached over one connection per batch, opened on the first message."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.mail = flask_mail.Mail().init_mail(config)
        self.sender = configured_sender(config)
        self.timeout = float(config["MAIL_TIMEOUT"])
        self.ca_file: str | None = config.get("MAIL_CA_FILE") or None
        self.connection: _SecureConnection | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _connect(self) -> _SecureConnection:
        try:
            connection = _SecureConnection(self.mail, timeout=self.timeout, context=tls_context(self.ca_file))
            return connection.__enter__()
        except smtplib.SMTPResponseException as exc:
            reply = _reply(exc.smtp_code, exc.smtp_error)
            raise CannotConnect(f"connecting to {self.mail.server}:{self.mail.port}: {reply}")
        except (smtplib.SMTPException, OSError) as exc:
            raise CannotConnect(f"connecting to {self.mail.server}:{self.mail.port}: {_describe(exc)}")

    def _drop(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def send(self, envelope: Envelope) -> str:
        message = build_message(envelope, self.sender)
        if self.connection is None:
            self.connection = self._connect()
        try:
            refused = self.connection.deliver(message)
        except smtplib.SMTPRecipientsRefused as exc:
            replies = {address: _reply(code, text) for address, (code, text) in exc.recipients.items()}
            summary = "; ".join(f"{address}: {reply}" for address, reply in sorted(replies.items()))
            if all(500 <= code < 600 for code, _ in exc.recipients.values()):
                raise Refused(f"every recipient refused: {summary}")
            raise Deferred(f"recipients refused for now: {summary}")
        except smtplib.SMTPResponseException as exc:
            reply = _reply(exc.smtp_code, exc.smtp_error)
            if exc.smtp_code == 421:
                self._drop()
                raise ConnectionFailed(reply)
            if 500 <= exc.smtp_code < 600:
                raise Refused(reply)
            raise Deferred(reply)
        except flask_mail.BadHeaderError as exc:
            raise Refused(str(exc))
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise ConnectionFailed(_describe(exc))
        if refused:
            return "refused by the server: " + "; ".join(
                f"{address}: {_reply(code, text)}" for address, (code, text) in sorted(refused.items())
            )
        return ""


def _describe(exc: BaseException) -> str:
    return headers.one_line(f"{type(exc).__name__}: {exc}", 500)


class FileSink:
    """A folder with one `.eml` file per message, named after the outbox row so a retry overwrites it."""

    def __init__(self, directory: str | os.PathLike[str], config: Mapping[str, Any]) -> None:
        self.directory = Path(directory)
        self.sender = configured_sender(config)

    def __enter__(self) -> Self:
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def path_for(self, envelope: Envelope) -> Path:
        return self.directory / f"{envelope.created_at:%Y%m%d-%H%M%S}-{envelope.outbox_id:08d}.eml"

    def send(self, envelope: Envelope) -> str:
        data = build_message(envelope, self.sender).as_bytes()
        target = self.path_for(envelope)
        # Written aside and renamed, so a reader never sees half a message.
        fd, temporary = tempfile.mkstemp(dir=self.directory, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return ""


def sink_for(config: Mapping[str, Any]) -> SmtpSink | FileSink:
    """The sink the settings ask for: SMTP when INTAKE_MAIL_SERVER is set, else the file sink."""
    if config["MAIL_SINK"] == "smtp":
        return SmtpSink(config)
    return FileSink(config["MAIL_FILE_DIR"], config)
