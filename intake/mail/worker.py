"""The outbox worker: claim due messages in batches, send them, record what happened.

Delivery guarantee. A message is claimed (status `sending`, a claim token, a lease) in
a short transaction of its own: `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, so any
number of workers take disjoint batches; one atomic UPDATE on SQLite, where writes are
serialised. The worker then sends with no transaction open and records each outcome in
its own commit, guarded by the claim token. So each message is sent once; the only
duplicate possible is a crash (or a lease outrun) between the server's "250 OK" and that
commit, and the resend carries the same Message-ID. A claim whose lease has run out is
taken up by the next worker.

The worker's unit of work is one message's delivery, hence a commit per outcome rather
than one per batch: a crash can then repeat at most the message in hand.

Faults. A batch cut off by an error outside any one message (the database failing, say)
hands back at once, on a fresh session, what it has not sent, and records what it sent
but could not record; if the database does not answer yet, the worker tries again before
its next batch, and the lease running out remains the fallback. A stop request lets the
message in hand finish for MAIL_STOP_SECONDS, then cuts its conversation short and hands
the batch back.

Other deliveries ride the same loop (the vendor's webhooks, registered with `deliver_also` when
the app is made): after each batch of mail, `run` gives each one batch of its own, which claims
and records its rows the same way.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import selectinload

from .. import background, leases
from ..extensions import db
from ..failures import describe
from ..models.outbox import OutboxAttachment, OutboxMessage
from ..models.types import utcnow
from ..text import one_line
from . import attachments, delivery, headers, outbox
from .delivery import CannotConnect, ConnectionFailed, Deferred, Envelope, Interrupted, Refused

log = logging.getLogger("intake.mail")

Clock = Callable[[], datetime]
SinkFactory = Callable[[], delivery.Sink]


@dataclass(frozen=True)
class Settings:
    """How the worker paces itself; read from INTAKE_MAIL_* settings."""

    batch: int = 50
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 8
    retry_base: timedelta = timedelta(minutes=1)
    retry_max: timedelta = timedelta(hours=1)
    poll_seconds: float = 2.0
    stop_seconds: float = 5.0  # how long a stop request lets the message in hand finish

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(
            batch=max(1, int(config["MAIL_BATCH"])),
            lease=timedelta(seconds=float(config["MAIL_LEASE_SECONDS"])),
            max_attempts=max(1, int(config["MAIL_MAX_ATTEMPTS"])),
            retry_base=timedelta(seconds=float(config["MAIL_RETRY_SECONDS"])),
            retry_max=timedelta(seconds=float(config["MAIL_RETRY_MAX_SECONDS"])),
            poll_seconds=float(config["MAIL_POLL_SECONDS"]),
            stop_seconds=float(config["MAIL_STOP_SECONDS"]),
        )


@dataclass
class Report:
    """What one batch (or a run of them) did."""

    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    dead: int = 0
    released: int = 0
    lost: int = 0
    notes: list[str] = field(default_factory=list)
    # What the other deliveries riding the loop did, by name: each a report with `claimed` and `add`.
    others: dict[str, Any] = field(default_factory=dict)

    def add(self, other: Report) -> None:
        for name in ("claimed", "sent", "deferred", "failed", "dead", "released", "lost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for kind, theirs in other.others.items():
            if kind in self.others:
                self.others[kind].add(theirs)
            else:
                self.others[kind] = theirs

    def __str__(self) -> str:
        mail = (
            f"{self.claimed} claimed, {self.sent} sent, {self.deferred} to retry, "
            f"{self.failed} failed, {self.dead} dead, {self.released} released"
        )
        others = "".join(f"; {kind}: {report}" for kind, report in self.others.items() if report.claimed)
        return mail + others

    @property
    def claimed_anything(self) -> bool:
        return bool(self.claimed or any(report.claimed for report in self.others.values()))


# Deliveries of other kinds the worker's loop also makes, by name: batch(clock=, stop=, name=) -> report.
_ALSO: dict[str, Callable[..., Any]] = {}


def deliver_also(kind: str, batch: Callable[..., Any]) -> None:
    """Have every worker's loop also run `batch` after each batch of mail (registered when the app is made)."""
    _ALSO[kind] = batch


def worker_name() -> str:
    """Which process holds a claim, for people reading the Mail page."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def backoff(attempts: int, settings: Settings, rng: random.Random | Any = random) -> timedelta:
    """Exponential delay before the next attempt, with jitter so a crowd of retries spreads out."""
    ceiling = min(settings.retry_max, settings.retry_base * (2 ** max(0, attempts - 1)))
    return ceiling * rng.uniform(0.5, 1.0)


# Claiming ---------------------------------------------------------------------


def _due(now: datetime, settings: Settings):
    return or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(
            OutboxMessage.status == "sending",
            OutboxMessage.lease_until < now,
            OutboxMessage.attempts < settings.max_attempts,
        ),
    )


def bury_abandoned(settings: Settings, now: datetime) -> list[int]:
    """Mark dead the claims that ran out of lease on their last attempt, and alert (the caller commits).

    A message whose worker died on every attempt (one that crashes the renderer, say)
    is not taken up forever.
    """
    ids = db.session.scalars(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == "sending",
            OutboxMessage.lease_until < now,
            OutboxMessage.attempts >= settings.max_attempts,
        )
        .values(
            status="dead",
            lease_until=None,
            last_error=f"the worker stopped during attempt {settings.max_attempts} and its lease ran out",
        )
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    for message_id in ids:
        message = db.session.get(OutboxMessage, message_id, populate_existing=True)
        if message is not None:
            outbox.alert_undelivered(message)
    return list(ids)


def claim(settings: Settings, *, token: str, now: datetime) -> list[int]:
    """Claim up to a batch of due messages for `token` and commit; return their ids."""
    buried = bury_abandoned(settings, now)
    if buried:
        log.warning("outbox: %d abandoned message(s) out of attempts, marked dead", len(buried))
    values = {
        "status": "sending",
        "claimed_by": token,
        "lease_until": now + settings.lease,
        "last_attempt_at": now,
        "attempts": OutboxMessage.attempts + 1,
    }
    pick = (
        select(OutboxMessage.id)
        .where(_due(now, settings))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(settings.batch)
    )
    return leases.claim(OutboxMessage, pick, _due(now, settings), values)


# Sending ----------------------------------------------------------------------


@dataclass
class _Job:
    id: int
    kind: str
    attempts: int
    envelope: Envelope | None  # None until its attachments are built


def _envelope(message: OutboxMessage) -> Envelope | None:
    contents = [row.content for row in message.attachments]
    if any(content is None for content in contents):
        return None
    return Envelope(
        outbox_id=message.id,
        message_id=message.message_id,
        created_at=message.created_at,
        recipients=tuple(message.recipients),
        subject=message.subject,
        text=message.text_body,
        html=message.html_body,
        attachments=tuple(
            (row.filename, row.content_type, data) for row, data in zip(message.attachments, contents, strict=True)
        ),
    )


def _load(ids: list[int], token: str, now: datetime) -> list[_Job]:
    """The claimed messages, ready to send where they can be: recipes whose document is stored refer to it now
    (the caller commits), so only a document not rendered yet is built message by message (`_build`)."""
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == token)
        .options(selectinload(OutboxMessage.attachments).selectinload(OutboxAttachment.document))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    ).all()
    attachments.refer([row for message in messages for row in message.attachments], now)
    return [_Job(m.id, m.kind, m.attempts, _envelope(m)) for m in messages]


def _build(job: _Job, now: datetime) -> Envelope:
    """Build the message's attachment recipes, store the bytes and commit, so nothing is built twice."""
    message = db.session.get(OutboxMessage, job.id, populate_existing=True)
    assert message is not None
    for row in message.attachments:
        attachments.build(row, now)
    envelope = _envelope(message)  # before the commit expires what it reads
    db.session.commit()
    assert envelope is not None
    return envelope


def _finish(job: _Job, token: str, **values: Any) -> bool:
    """Record an outcome if the claim is still ours (the caller commits); False when another worker took it over."""
    return leases.finish(OutboxMessage, job.id, token, **values)


_outbox = OutboxMessage.__table__
# Built once: it runs once per message sent, and a prepared statement skips compiling.
_MARK_SENT = (
    update(_outbox)
    .where(_outbox.c.id == bindparam("row"), _outbox.c.claimed_by == bindparam("token"), _outbox.c.status == "sending")
    .values(status="sent", sent_at=bindparam("sent_at"), last_error=bindparam("note"), lease_until=None)
)


class _Deliveries:
    """A connection held for the batch that records each delivery in a commit of its own.

    That is the one write per message sent: on a held connection it is an UPDATE and a
    COMMIT, no pool checkout. On PostgreSQL these commits do not wait for the WAL flush
    (synchronous_commit off, on this connection only): a worker crash loses none of them,
    and a database crash at most the last fraction of a second's — each then sent again,
    once, with its Message-ID.
    """

    def __enter__(self) -> _Deliveries:
        self.connection = db.engine.connect()
        self.is_postgres = self.connection.dialect.name == "postgresql"
        if self.is_postgres:
            self.connection.exec_driver_sql("SET synchronous_commit TO OFF")
            self.connection.commit()
        return self

    def sent(self, job: _Job, token: str, *, now: datetime, note: str) -> bool:
        result = self.connection.execute(_MARK_SENT, {"row": job.id, "token": token, "sent_at": now, "note": note})
        self.connection.commit()
        return result.rowcount == 1

    def __exit__(self, *exc: object) -> None:
        try:
            self.connection.rollback()
            if self.is_postgres:
                # Back to the pool as it came: other work keeps synchronous commits.
                self.connection.exec_driver_sql("RESET synchronous_commit")
                self.connection.commit()
        except DBAPIError:
            self.connection.invalidate()
        finally:
            self.connection.close()


def _give_up(job: _Job, token: str, status: str, reason: str, report: Report) -> None:
    if not _finish(job, token, status=status, last_error=reason):
        report.lost += 1
        return
    setattr(report, status, getattr(report, status) + 1)
    message = db.session.get(OutboxMessage, job.id, populate_existing=True)
    if message is not None:
        outbox.alert_undelivered(message)
    log.warning("outbox: message %s %s: %s", job.id, status, reason)


def _defer(job: _Job, token: str, reason: str, settings: Settings, now: datetime, rng: Any, report: Report) -> None:
    if job.attempts >= settings.max_attempts:
        _give_up(job, token, "dead", f"{reason} (gave up after {job.attempts} attempts)", report)
        return
    retry_at = now + backoff(job.attempts, settings, rng)
    if _finish(job, token, status="pending", last_error=reason, next_attempt_at=retry_at):
        report.deferred += 1
    else:
        report.lost += 1


def _release(jobs: list[_Job], token: str, report: Report) -> None:
    """Hand back claimed messages that were not attempted, without counting an attempt."""
    report.released += leases.release(OutboxMessage, [job.id for job in jobs], token)
    db.session.commit()


def _renew(jobs: list[_Job], token: str, settings: Settings, now: datetime, report: Report) -> list[_Job]:
    """Extend the lease of the messages still to send; drop any another worker has taken over."""
    kept = leases.renew(OutboxMessage, [job.id for job in jobs], token, now + settings.lease)
    report.lost += len(jobs) - len(kept)
    return [job for job in jobs if job.id in kept]


@dataclass
class _Unfinished:
    """What a batch cut off by a failure still owes the outbox."""

    token: str
    reason: str
    lease_until: datetime
    sent: list[tuple[_Job, datetime, str]] = field(default_factory=list)  # delivered, not recorded
    attempted: list[_Job] = field(default_factory=list)  # in hand, not sent: the attempt counts
    untouched: list[_Job] = field(default_factory=list)  # never tried: handed back as if unclaimed


class BatchInterrupted(Exception):
    """A batch stopped by an error outside any one message; its cause is the error."""

    def __init__(self, unfinished: _Unfinished, report: Report) -> None:
        super().__init__(unfinished.reason)
        self.unfinished = unfinished
        self.report = report


def _settle(unfinished: _Unfinished, settings: Settings, now: datetime, rng: Any) -> Report:
    """Record what an interrupted batch sent and hand back the rest, in one commit."""
    report = Report()
    token = unfinished.token
    for job, sent_at, note in unfinished.sent:
        if _finish(job, token, status="sent", sent_at=sent_at, last_error=note):
            report.sent += 1
        else:
            report.lost += 1
    for job in unfinished.attempted:
        _defer(job, token, unfinished.reason, settings, now, rng, report)
    _release(unfinished.untouched, token, report)  # commits
    return report


def _start_over() -> None:
    """Drop the session's failed transaction; the next statement takes a connection afresh."""
    try:
        db.session.rollback()
    except DBAPIError:
        db.session.close()


@contextmanager
def _cut_short_on_stop(stop: threading.Event | None, sink: delivery.Sink, grace: float) -> Iterator[None]:
    """While the batch runs, interrupt the sink if a stop request outlasts `grace` seconds."""
    interrupt = getattr(sink, "interrupt", None)
    if stop is None or interrupt is None:
        yield
        return
    finished = threading.Event()

    def watch() -> None:
        # Event.wait cannot wait for two events: look at `stop` a few times a second.
        while not finished.is_set():
            if stop.wait(0.2):
                if not finished.wait(grace):
                    log.warning("outbox: stopping; the message in hand took over %g s, so it is cut short", grace)
                    interrupt()
                return

    threading.Thread(target=watch, name="intake-outbox-stop", daemon=True).start()
    try:
        yield
    finally:
        finished.set()


def work_batch(
    settings: Settings,
    sink_factory: SinkFactory,
    *,
    clock: Clock = utcnow,
    rng: Any = random,
    stop: threading.Event | None = None,
    name: str | None = None,
) -> Report:
    """Claim one batch and deliver it over one connection; return what happened.

    Raises BatchInterrupted, with what the batch still owes, when something other than a
    message's own delivery fails (the database, mostly).
    """
    report = Report()
    token = f"{name or worker_name()}:{secrets.token_hex(4)}"
    # Made before claiming (it connects only when first used): a sink that cannot be
    # made, say a malformed sender, leaves nothing claimed.
    sink = sink_factory()
    claimed_at = clock()
    ids = claim(settings, token=token, now=claimed_at)
    report.claimed = len(ids)
    if not ids:
        return report
    lease_until = claimed_at + settings.lease
    jobs: list[_Job] | None = None
    in_hand: _Job | None = None  # popped from `jobs`, its outcome not yet recorded
    sent_at: datetime | None = None  # set once the message in hand is delivered
    note = ""
    try:
        jobs = _load(ids, token, claimed_at)
        db.session.commit()  # the snapshot is taken: hold no transaction open while sending
        with _cut_short_on_stop(stop, sink, settings.stop_seconds), sink, _Deliveries() as deliveries:
            while jobs:
                if stop is not None and stop.is_set():
                    _release(jobs, token, report)
                    break
                now = clock()
                # Less than half the lease left: renew it before starting a message.
                if now >= lease_until - settings.lease / 2:
                    jobs = _renew(jobs, token, settings, now, report)
                    lease_until = now + settings.lease
                    if not jobs:
                        break
                job = in_hand = jobs.pop(0)
                try:
                    envelope = job.envelope or _build(job, now)
                    note = sink.send(envelope)
                except Interrupted:
                    # Stopped mid-conversation: it did not go out, so it is handed back with the rest.
                    _release([job, *jobs], token, report)
                    in_hand = None
                    break
                except ConnectionFailed as exc:
                    _defer(job, token, str(exc), settings, clock(), rng, report)
                    db.session.commit()
                    in_hand = None
                    if isinstance(exc, CannotConnect):
                        # Nothing can be delivered now: everything else in the batch waits its turn too.
                        for other in jobs:
                            _defer(other, token, str(exc), settings, clock(), rng, report)
                        db.session.commit()
                    else:
                        # The connection broke mid-batch: hand the rest back for a fresh connection.
                        _release(jobs, token, report)
                    break
                except (Refused, headers.BadRecipient, headers.BadHeader, attachments.UnknownBuilder) as exc:
                    db.session.rollback()
                    _give_up(job, token, "failed", one_line(str(exc), 500) or type(exc).__name__, report)
                except Deferred as exc:
                    _defer(job, token, str(exc), settings, clock(), rng, report)
                except Exception as exc:  # a builder or template failing: retried, and dead in the end
                    db.session.rollback()
                    log.exception("outbox: message %s could not be prepared", job.id)
                    reason = one_line(f"{type(exc).__name__}: {exc}", 500)
                    _defer(job, token, reason, settings, clock(), rng, report)
                else:
                    sent_at = clock()
                    if deliveries.sent(job, token, now=sent_at, note=note):
                        report.sent += 1
                    else:
                        report.lost += 1
                        log.warning("outbox: message %s was sent after its claim passed to another worker", job.id)
                    in_hand = sent_at = None
                    continue
                db.session.commit()
                in_hand = None
    except Exception as exc:
        what = "a database failure" if isinstance(exc, DBAPIError) else "a failure"
        unfinished = _Unfinished(token, f"interrupted by {what}: {describe(exc)}", lease_until)
        if jobs is None:  # not even loaded: every claim is handed back
            unfinished.untouched = [_Job(message_id, "", 0, None) for message_id in ids]
        else:
            unfinished.untouched = list(jobs)
        if in_hand is not None and sent_at is not None:
            unfinished.sent.append((in_hand, sent_at, note))
        elif in_hand is not None:
            unfinished.attempted.append(in_hand)
        raise BatchInterrupted(unfinished, report) from exc
    return report


def run(
    settings: Settings,
    sink_factory: SinkFactory,
    *,
    stop: threading.Event,
    once: bool = False,
    clock: Clock = utcnow,
    rng: Any = random,
    name: str | None = None,
) -> Report:
    """Deliver batches until `stop` is set; with `once`, until nothing is due.

    After a failure it logs one line (a traceback only for what is not a database error)
    and tries again, waiting longer each time up to half a minute, so it carries on by
    itself once the database answers again.
    """
    total = Report()
    owed: list[_Unfinished] = []
    failures = 0
    while not stop.is_set():
        try:
            _settle_owed(owed, settings, clock, rng, total)
            report = work_batch(settings, sink_factory, clock=clock, rng=rng, stop=stop, name=name)
            # The other deliveries ride the same loop: one batch of each after each batch of mail.
            for kind, batch in _ALSO.items():
                report.others[kind] = batch(clock=clock, stop=stop, name=name or worker_name())
        except Exception as exc:
            cause: BaseException = exc
            _start_over()
            if isinstance(exc, BatchInterrupted):
                total.add(exc.report)
                owed.append(exc.unfinished)
                cause = exc.__cause__ or exc
                try:  # at once, if the database answers
                    _settle_owed(owed, settings, clock, rng, total)
                except Exception:
                    _start_over()
            failures += 1
            wait = min(30.0, max(settings.poll_seconds, 0.5) * 2 ** min(failures - 1, 6))
            _log_failure(cause, wait, owed, interrupted=isinstance(exc, BatchInterrupted))
            if once:
                raise cause
            stop.wait(wait)
            continue
        if failures:
            log.info("outbox: delivering again after %d failed tries", failures)
            failures = 0
        total.add(report)
        if not report.claimed_anything:
            if once:
                break
            stop.wait(settings.poll_seconds)
    if owed:
        try:  # stopping: one last try before the lease is the fallback
            _settle_owed(owed, settings, clock, rng, total)
        except Exception:
            _start_over()
            log.warning("outbox: %d interrupted batch(es) left to their leases", len(owed))
    return total


def _settle_owed(owed: list[_Unfinished], settings: Settings, clock: Clock, rng: Any, total: Report) -> None:
    """Settle interrupted batches, oldest first; one whose lease ran out is left to the next worker."""
    while owed:
        now = clock()
        if owed[0].lease_until <= now:
            log.warning("outbox: an interrupted batch's lease ran out; its claims pass to the next worker")
            owed.pop(0)
            continue
        total.add(_settle(owed[0], settings, now, rng))
        owed.pop(0)


def _log_failure(cause: BaseException, wait: float, owed: list[_Unfinished], *, interrupted: bool) -> None:
    owing = sum(len(u.sent) + len(u.attempted) + len(u.untouched) for u in owed)
    if owing:
        tail = f"; {owing} claimed message(s) not yet handed back"
    else:
        tail = "; the batch's claims are settled" if interrupted else ""
    if isinstance(cause, DBAPIError):
        log.warning("outbox: the database failed (%s); trying again in %g s%s", describe(cause), wait, tail)
    else:
        log.error("outbox: batch failed; trying again in %g s%s", wait, tail, exc_info=cause)


# The embedded worker ----------------------------------------------------------


def init_app(app: Flask) -> None:
    """In development, run one worker thread inside the app process, started by the first request."""
    if not app.config["MAIL_WORKER"] or app.testing:
        return
    background.start_on_first_request(app, "intake.mail_worker", lambda stop: start_thread(app, stop))


def start_thread(app: Flask, stop: threading.Event | None = None) -> threading.Thread:
    """Start a daemon thread delivering the outbox for `app` until `stop` is set."""
    stop = stop or threading.Event()

    def deliver() -> None:
        with app.app_context():
            settings = Settings.from_config(app.config)
            current_app.logger.info("Outbox worker started in the app process (%s).", describe_sink(app.config))
            run(settings, lambda: delivery.sink_for(app.config), stop=stop)

    thread = threading.Thread(target=deliver, name="intake-outbox", daemon=True)
    thread.start()
    return thread


def describe_sink(config: Mapping[str, Any]) -> str:
    if config["MAIL_SINK"] == "smtp":
        return f"SMTP {config['MAIL_SERVER']}:{config['MAIL_PORT']}"
    return f"files in {config['MAIL_FILE_DIR']}"
