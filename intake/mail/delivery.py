"""Where mail goes: an SMTP server through Flask-Mail, or `.eml` files in the instance folder.

Flask-Mail builds the MIME message and holds the connection; what it lacks is closed here:
the server's TLS certificate is verified (a real SSL context for STARTTLS and SSL), each
message's whole conversation has a deadline (connecting, greeting, EHLO, STARTTLS, sign-in and
sending; a socket timeout alone bounds one read, and a server trickling a byte a second never
trips it), a stopping worker can cut a conversation short, the Message-ID is the one stored
with the outbox row (Flask-Mail makes a new one each time), the refused-recipients reply is
kept, and every header value comes from `headers`, never from user text as given.
"""

from __future__ import annotations

import binascii
import email.policy
import functools
import os
import smtplib
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.mime.nonmultipart import MIMENonMultipart
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

import flask_mail
from flask import current_app

from ..text import one_line
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
    """Nothing can be delivered now: no connection could be opened (refused, timed out, TLS or
    sign-in failed), or the mail folder cannot be written."""


class Interrupted(Deferred):
    """The worker is stopping and cut the conversation short; the message counts as not sent."""


class Sink(Protocol):
    """A place messages are delivered to, opened once per batch."""

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def send(self, envelope: Envelope) -> str:
        """Deliver one message; return a note for the record (e.g. recipients refused), or ''."""
        ...

    def interrupt(self) -> None:
        """Give up the message in hand at once and send no more: the worker is stopping (called from another thread)."""
        ...


def _text_part(text: str, subtype: str) -> MIMENonMultipart:
    """A UTF-8 body, quoted-printable.

    Flask-Mail registers UTF-8 bodies as unencoded 8-bit text, whose lines SMTP caps at 998
    characters: a long paragraph (a trace step, a customer's reason) would be refused for good.
    Quoted-printable keeps every line short and the text readable. It is encoded by binascii, in C:
    the email package's quoted-printable charset goes a character at a time in Python (0.17 ms for a
    routed deal's two bodies, against 0.05), for the same bytes.
    """
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(binascii.b2a_qp(text.encode("utf-8"), istext=True).decode("ascii"))
    return part


class _Message(flask_mail.Message):
    """Flask-Mail's message with To in the order given (Flask-Mail goes through a set), a Subject encoded
    once, and bodies that are quoted-printable: with the stored Message-ID and the queueing time as Date, a
    resend carries the same headers."""

    def _mimetext(self, text, subtype="plain"):  # type: ignore[no-untyped-def]
        return _text_part(text or "", subtype)

    def _message(self):  # type: ignore[no-untyped-def]
        # Flask-Mail encodes a Subject that is not ASCII with email.header (a character at a time, in
        # Python), and the SMTP policy parses and encodes it again when the message is written: set under
        # that policy, after, it is encoded once, to the same header.
        subject, self.subject = self.subject, None
        try:
            msg = super()._message()
        finally:
            self.subject = subject
        if len(self.recipients) > 1:
            # Flask-Mail set its headers under compat32, which stores a value as given, and switched to the
            # SMTP policy after; replaced under SMTP, To would be parsed into an address list at once, only
            # to be parsed again when the message is written. Stored as given, it is parsed once, then.
            msg.policy = email.policy.compat32
            msg.replace_header("To", ", ".join(flask_mail.sanitize_addresses(self.recipients)))
            msg.policy = email.policy.SMTP
        if subject:
            msg["Subject"] = subject
        return msg


def build_message(envelope: Envelope, sender: tuple[str, str]) -> flask_mail.Message:
    """Build the Flask-Mail message with headers made only from checked single-line values."""
    recipients = [headers.address(address) for address in envelope.recipients]
    if not recipients:
        raise Refused("no recipient")
    message = _Message(
        subject=headers.subject(envelope.subject),
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


class _Watchdog:
    """Shuts an SMTP conversation's socket when it runs past its deadline, or when the worker stops it.

    Shutting the socket down from this thread makes the read or write blocked on it fail at
    once, whatever the server does. It holds a duplicate of the socket's descriptor, which
    outlives the TLS wrap (STARTTLS replaces the socket object, not the socket).
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._socket: socket.socket | None = None
        self._deadline: float | None = None  # time.monotonic()
        self._budget = 0.0
        self._is_closed = False
        self.phase = "connecting"  # what the conversation is doing, for the reason given
        self.cut_reason: str | None = None  # set when the current connection was cut
        self.cut_phase = ""  # what it was doing then
        self.is_stopped = False
        threading.Thread(target=self._watch, name="intake-smtp-watchdog", daemon=True).start()

    def arm(self, seconds: float) -> None:
        """Cut the connection if what follows takes more than `seconds` in all."""
        with self._changed:
            self._budget = seconds
            self._deadline = time.monotonic() + seconds
            self._changed.notify()

    def disarm(self) -> None:
        with self._changed:
            self._deadline = None

    def stop(self) -> None:
        """Cut the connection now, and any later one as soon as it is made."""
        with self._changed:
            self.is_stopped = True
            self._cut(f"the worker stopped it while {self.phase}")

    def close(self) -> None:
        with self._changed:
            self._is_closed = True
            self._forget()
            self._changed.notify()

    def connect(self, host: str, port: int, timeout: float, source_address: Any) -> socket.socket:
        """Open a TCP connection as `socket.create_connection` does, watched before it connects."""
        error: OSError | None = None
        for family, kind, protocol, _name, address in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
            sock = socket.socket(family, kind, protocol)
            try:
                self._watch_socket(sock)
                sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(address)
                self.phase = "waiting for the greeting"
                return sock
            except OSError as exc:
                sock.close()
                error = exc
                if self.cut_reason is not None:
                    break
        raise error or OSError(f"no address found for {host}")

    def _watch_socket(self, sock: socket.socket) -> None:
        with self._changed:
            self._forget()
            self._socket = sock.dup()
            self.cut_reason = None
            self.phase = "connecting"
            if self.is_stopped:
                self._cut("the worker is stopping")
                raise OSError(self.cut_reason)

    def _forget(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _cut(self, reason: str) -> None:
        if self.cut_reason is None:
            self.cut_reason = reason
            self.cut_phase = self.phase
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # not connected yet, or already gone

    def _watch(self) -> None:
        with self._changed:
            while not self._is_closed:
                if self._deadline is None:
                    self._changed.wait()
                    continue
                remaining = self._deadline - time.monotonic()
                if remaining > 0:
                    self._changed.wait(remaining)
                    continue
                self._deadline = None
                self._cut(f"timed out {self.phase}: not done within {self._budget:g} s in all (INTAKE_MAIL_TIMEOUT)")


class _WatchedSMTP(smtplib.SMTP):
    """smtplib's client on a socket the watchdog sees from before it connects."""

    watchdog: _Watchdog

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return self.watchdog.connect(host, port, timeout, self.source_address)


class _WatchedSMTPSSL(smtplib.SMTP_SSL, _WatchedSMTP):
    """The same over TLS from the start; SMTP_SSL wraps the socket `_WatchedSMTP` opens."""


class _SecureConnection(flask_mail.Connection):
    """Flask-Mail's connection with a verified TLS context, a timeout and a watchdog.

    It always connects: whether mail really goes out is chosen by the sink in use,
    not by Flask-Mail's MAIL_SUPPRESS_SEND (on under TESTING).
    """

    def __init__(self, mail: Any, *, timeout: float, context: ssl.SSLContext, watchdog: _Watchdog) -> None:
        super().__init__(mail)
        self.timeout = timeout
        self.context = context
        self.watchdog = watchdog

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
        host: _WatchedSMTP
        # Made without a host, then connected: smtplib would otherwise connect and read the
        # greeting in its constructor, before the watchdog could see the socket.
        if mail.use_ssl:
            host = _WatchedSMTPSSL(timeout=self.timeout, context=self.context)
        else:
            host = _WatchedSMTP(timeout=self.timeout)
        host.watchdog = self.watchdog
        host._host = mail.server  # the name TLS verifies, which smtplib sets only when its constructor connects
        try:
            code, greeting = host.connect(mail.server, mail.port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, greeting)
            if mail.use_tls:
                # Checks the certificate against MAIL_SERVER; a server without STARTTLS is an
                # error, never a silent fall back to plain text.
                self.watchdog.phase = "starting TLS"
                host.starttls(context=self.context)
            if mail.username and mail.password:
                self.watchdog.phase = "signing in"
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
    return one_line(f"{code} {text}", 500)


@functools.lru_cache(maxsize=4)
def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """A context that verifies the server's certificate and name: the system's CAs, or the CA file given.

    Loading the CAs takes tens of milliseconds, so contexts are made once and shared.
    """
    return ssl.create_default_context(cafile=ca_file)


class SmtpSink:
    """An SMTP server, reached over one connection per batch, opened on the first message.

    Each message has MAIL_TIMEOUT seconds in all, opening the connection included when it
    has to; past that the connection is cut and the message is deferred.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.mail = flask_mail.Mail().init_mail(config)
        self.sender = configured_sender(config)
        self.timeout = float(config["MAIL_TIMEOUT"])
        self.ca_file: str | None = config.get("MAIL_CA_FILE") or None
        self.connection: _SecureConnection | None = None
        self.watchdog: _Watchdog | None = None
        self.is_interrupted = False

    def __enter__(self) -> Self:
        self.watchdog = _Watchdog()
        if self.is_interrupted:  # interrupted before it opened
            self.watchdog.stop()
        return self

    def __exit__(self, *exc: object) -> None:
        self._drop()
        if self.watchdog is not None:
            self.watchdog.close()
            self.watchdog = None

    def interrupt(self) -> None:
        self.is_interrupted = True
        if self.watchdog is not None:
            self.watchdog.stop()

    def _connect(self, watchdog: _Watchdog) -> _SecureConnection:
        where = f"connecting to {self.mail.server}:{self.mail.port}"
        try:
            connection = _SecureConnection(
                self.mail, timeout=self.timeout, context=tls_context(self.ca_file), watchdog=watchdog
            )
            connection.__enter__()
        except (smtplib.SMTPException, OSError) as exc:
            if watchdog.cut_reason is not None:
                raise self._cut_short(watchdog) from exc
            if isinstance(exc, smtplib.SMTPResponseException):
                raise CannotConnect(f"{where}: {_reply(exc.smtp_code, exc.smtp_error)}") from exc
            raise CannotConnect(f"{where}: {_describe(exc)}") from exc
        if watchdog.cut_reason is not None:
            # Cut while smtplib read the greeting: a greeting read in part can parse as a whole one.
            connection.close()
            raise self._cut_short(watchdog)
        return connection

    def _cut_short(self, watchdog: _Watchdog) -> Deferred:
        """The failure for a conversation the watchdog cut; cut before sending, nothing can be delivered now."""
        reason = str(watchdog.cut_reason)
        if watchdog.is_stopped:
            return Interrupted(reason)
        if watchdog.cut_phase == "sending":
            return ConnectionFailed(reason)
        return CannotConnect(f"connecting to {self.mail.server}:{self.mail.port}: {reason}")

    def _drop(self) -> None:
        if self.connection is None:
            return
        watchdog = self.connection.watchdog
        watchdog.arm(self.timeout)  # QUIT is bounded like the rest
        try:
            self.connection.close()
        finally:
            watchdog.disarm()
            self.connection = None

    def send(self, envelope: Envelope) -> str:
        message = build_message(envelope, self.sender)
        if self.watchdog is None:  # used without `with`
            self.__enter__()
        watchdog = self.watchdog
        assert watchdog is not None
        if watchdog.is_stopped:
            raise Interrupted("the worker is stopping")
        if watchdog.cut_reason is not None:
            self._drop()  # cut after its last reply: start afresh
        watchdog.arm(self.timeout)
        try:
            if self.connection is None:
                self.connection = self._connect(watchdog)
            watchdog.phase = "sending"
            refused = self.connection.deliver(message)
        except (smtplib.SMTPException, OSError, flask_mail.BadHeaderError) as exc:
            if watchdog.cut_reason is not None:
                # Whatever smtplib made of the cut (a reply read in part can parse as one), it is the cut.
                self._drop()
                raise self._cut_short(watchdog) from exc
            raise self._outcome(exc) from exc
        finally:
            watchdog.disarm()
        if refused:
            return "refused by the server: " + "; ".join(
                f"{address}: {_reply(code, text)}" for address, (code, text) in sorted(refused.items())
            )
        return ""

    def _outcome(self, exc: Exception) -> Deferred | Refused:
        """What a failed delivery means for the message."""
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            replies = {address: _reply(code, text) for address, (code, text) in exc.recipients.items()}
            summary = "; ".join(f"{address}: {reply}" for address, reply in sorted(replies.items()))
            if all(500 <= code < 600 for code, _ in exc.recipients.values()):
                return Refused(f"every recipient refused: {summary}")
            return Deferred(f"recipients refused for now: {summary}")
        if isinstance(exc, smtplib.SMTPResponseException):
            reply = _reply(exc.smtp_code, exc.smtp_error)
            if exc.smtp_code == 421:
                self._drop()
                return ConnectionFailed(reply)
            if 500 <= exc.smtp_code < 600:
                return Refused(reply)
            return Deferred(reply)
        if isinstance(exc, flask_mail.BadHeaderError):
            return Refused(str(exc))
        self._drop()
        return ConnectionFailed(_describe(exc))


def _describe(exc: BaseException) -> str:
    return one_line(f"{type(exc).__name__}: {exc}", 500)


class FileSink:
    """A folder with one `.eml` file per message, named after the outbox row so a retry overwrites it.

    A folder that cannot be made or written is an outage, as an unreachable server is: the
    message is deferred with the system's reason, and goes out once the folder is fixed.
    """

    def __init__(self, directory: str | os.PathLike[str], config: Mapping[str, Any]) -> None:
        self.directory = Path(directory)
        self.sender = configured_sender(config)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def interrupt(self) -> None:
        return None  # a file is written in a moment: nothing to cut short

    def path_for(self, envelope: Envelope) -> Path:
        return self.directory / f"{envelope.created_at:%Y%m%d-%H%M%S}-{envelope.outbox_id:08d}.eml"

    def send(self, envelope: Envelope) -> str:
        data = build_message(envelope, self.sender).as_bytes()
        target = self.path_for(envelope)
        temporary: str | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Written aside and renamed, so a reader never sees half a message.
            fd, temporary = tempfile.mkstemp(dir=self.directory, suffix=".part")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, target)
        except BaseException as exc:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise CannotConnect(f"cannot write to the mail folder {self.directory}: {_describe(exc)}") from exc
            raise
        return ""


def sink_for(config: Mapping[str, Any]) -> SmtpSink | FileSink:
    """The sink the settings ask for: SMTP when INTAKE_MAIL_SERVER is set, else the file sink."""
    if config["MAIL_SINK"] == "smtp":
        return SmtpSink(config)
    return FileSink(config["MAIL_FILE_DIR"], config)
