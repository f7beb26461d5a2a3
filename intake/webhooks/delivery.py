"""Deliver due webhooks: claim them, sign and POST each, record every attempt.

The outbox worker calls `work_batch` beside the mail's, with the same guarantee. A delivery is
claimed (status `sending`, a claim token, a lease) in a short transaction of its own —
`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, one atomic UPDATE on SQLite — then POSTed with
no transaction open, and its outcome recorded in its own commit, guarded by the claim token. So
each delivery is sent once; a worker that dies between the receiver's 2xx and that commit leaves
the claim to run out, and the resend carries the same `Intake-Delivery` id for the receiver to
recognise. Only deliveries to active endpoints are claimed: a disabled endpoint's wait for it.
"""

from __future__ import annotations

import http.client
import logging
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, render_template
from sqlalchemy import and_, or_, select, update

from .. import leases
from ..extensions import db
from ..failures import describe
from ..mail import outbox
from ..models import User, WebhookDelivery, WebhookEndpoint
from ..models.types import utcnow
from ..text import one_line
from . import signing, targets

log = logging.getLogger("intake.webhooks")

Clock = Callable[[], datetime]
USER_AGENT = "Intake-Webhooks/1"
# How long each attempt waits after a failed one: a receiver that is down for a deploy hears
# again within minutes, one down for a day still hears, and a dead one is not hammered.
RETRY_SCHEDULE = tuple(timedelta(minutes=m) for m in (1, 5, 30, 120, 360, 720, 1440))  # then daily
# What is kept of a receiver's answer: its status tells, and its body is not ours to store.
RESPONSE_BYTES = 64 * 1024
DISABLED = "webhook_disabled"


@dataclass(frozen=True)
class Settings:
    """How the worker delivers webhooks; read from INTAKE_WEBHOOK_* settings."""

    batch: int = 20
    lease: timedelta = timedelta(minutes=2)
    max_attempts: int = 8
    timeout: float = 5.0
    disable_after: int = 10

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(
            batch=max(1, int(config["WEBHOOK_BATCH"])),
            lease=timedelta(seconds=float(config["WEBHOOK_LEASE_SECONDS"])),
            max_attempts=max(1, int(config["WEBHOOK_MAX_ATTEMPTS"])),
            timeout=float(config["WEBHOOK_TIMEOUT"]),
            disable_after=max(1, int(config["WEBHOOK_DISABLE_AFTER"])),
        )


@dataclass
class Report:
    """What one batch (or a run of them) did."""

    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    lost: int = 0
    disabled: int = 0

    def add(self, other: Report) -> None:
        for name in ("claimed", "delivered", "retried", "failed", "released", "lost", "disabled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def __str__(self) -> str:
        return f"{self.delivered} delivered, {self.retried} to retry, {self.failed} given up"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th attempt failed."""
    return RETRY_SCHEDULE[min(attempts, len(RETRY_SCHEDULE)) - 1]


# Claiming ---------------------------------------------------------------------


def _due(now: datetime):
    return or_(
        and_(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now),
        and_(WebhookDelivery.status == "sending", WebhookDelivery.lease_until < now),
    )


def claim(settings: Settings, *, token: str, now: datetime) -> list[int]:
    """Claim up to a batch of due deliveries to active endpoints for `token` and commit; return their ids."""
    active = select(WebhookEndpoint.id).where(WebhookEndpoint.is_active.is_(True))
    pick = (
        select(WebhookDelivery.id)
        .where(_due(now), WebhookDelivery.endpoint_id.in_(active))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(settings.batch)
    )
    values = {
        "status": "sending",
        "claimed_by": token,
        "lease_until": now + settings.lease,
        "attempts": WebhookDelivery.attempts + 1,
    }
    return leases.claim(WebhookDelivery, pick, _due(now), values)


# Sending ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    id: int
    endpoint_id: int
    url: str
    secret: str
    event_type: str
    event_id: str
    body: str
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: a response code (or none), what went wrong (or nothing), how long it took."""

    code: int | None
    error: str
    duration_ms: int

    @property
    def is_delivered(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to by now."""

    def __init__(self, target: targets.Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above over TLS; the certificate is still verified against the host's name."""

    def __init__(self, target: targets.Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self.address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(job: _Job, target: targets.Target, *, timeout: float, clock: Clock) -> Outcome:
    """POST the stored body, signed now; a redirect is an answer like any other, never followed."""
    started = time.monotonic()
    timestamp = int(clock().timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Intake-Event": job.event_type,
        "Intake-Delivery": job.event_id,
        signing.HEADER: signing.signature(job.secret, job.body, timestamp),
    }
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target, timeout)
    try:
        connection.request("POST", target.path, body=job.body.encode(), headers=headers)
        response = connection.getresponse()
        response.read(RESPONSE_BYTES)
        code = response.status
        error = "" if 200 <= code < 300 else one_line(f"{code} {response.reason}", 500)
    except (OSError, http.client.HTTPException) as exc:
        code, error = None, one_line(describe(exc), 500) or type(exc).__name__
    finally:
        connection.close()
    return Outcome(code, error, int((time.monotonic() - started) * 1000))


def _load(ids: list[int], token: str) -> list[_Job]:
    rows = db.session.execute(
        select(WebhookDelivery, WebhookEndpoint.url, WebhookEndpoint.secret)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.id.in_(ids), WebhookDelivery.claimed_by == token)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
    ).all()
    return [
        _Job(d.id, d.endpoint_id, url, secret, d.event_type, d.event_id, d.body, d.attempts) for d, url, secret in rows
    ]


def _finish(job: _Job, token: str, **values: Any) -> bool:
    """Record an outcome if the claim is still ours (the caller commits); False when another worker took it over."""
    return leases.finish(WebhookDelivery, job.id, token, **values)


def _release(jobs: list[_Job], token: str, report: Report, *, until: datetime | None = None) -> None:
    """Hand back claimed deliveries that were not attempted, without counting an attempt."""
    extra = {"next_attempt_at": until} if until is not None else {}
    report.released += leases.release(WebhookDelivery, [job.id for job in jobs], token, **extra)


def _renew(jobs: list[_Job], token: str, settings: Settings, now: datetime) -> list[_Job]:
    """Extend the lease of the deliveries still to send; drop any another worker has taken over."""
    kept = leases.renew(WebhookDelivery, [job.id for job in jobs], token, now + settings.lease)
    return [job for job in jobs if job.id in kept]


def _delivered(job: _Job, token: str, outcome: Outcome, now: datetime, report: Report) -> None:
    recorded = dict(last_response_code=outcome.code, last_duration_ms=outcome.duration_ms, last_attempt_at=now)
    if not _finish(job, token, status="delivered", delivered_at=now, last_error="", **recorded):
        report.lost += 1
        return
    report.delivered += 1
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == job.endpoint_id, WebhookEndpoint.consecutive_failures != 0)
        .values(consecutive_failures=0)
        .execution_options(synchronize_session=False)
    )


def _not_delivered(job: _Job, token: str, outcome: Outcome, settings: Settings, now: datetime, report: Report) -> None:
    recorded = dict(
        last_response_code=outcome.code,
        last_error=outcome.error,
        last_duration_ms=outcome.duration_ms,
        last_attempt_at=now,
    )
    if job.attempts < settings.max_attempts:
        if _finish(job, token, status="pending", next_attempt_at=now + retry_delay(job.attempts), **recorded):
            report.retried += 1
        else:
            report.lost += 1
        return
    if not _finish(job, token, status="failed", **recorded):
        report.lost += 1
        return
    report.failed += 1
    log.warning("webhooks: delivery %s given up after %d attempts: %s", job.id, job.attempts, outcome.error)
    _count_failure(job.endpoint_id, settings, now, report)


def _count_failure(endpoint_id: int, settings: Settings, now: datetime, report: Report) -> None:
    """Count a delivery given up on; the one that reaches the limit disables the endpoint and tells the managers."""
    failures = db.session.scalar(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(consecutive_failures=WebhookEndpoint.consecutive_failures + 1)
        .returning(WebhookEndpoint.consecutive_failures)
        .execution_options(synchronize_session=False)
    )
    if failures is None or failures < settings.disable_after:
        return
    # Guarded by is_active, so two workers reaching the limit at once disable it (and mail) once.
    disabled = db.session.scalar(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.is_active.is_(True))
        .values(is_active=False, disabled_at=now)
        .returning(WebhookEndpoint.id)
        .execution_options(synchronize_session=False)
    )
    if disabled is None:
        return
    report.disabled += 1
    endpoint = db.session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
    log.warning("webhooks: endpoint %s disabled after %d deliveries given up on", endpoint_id, failures)
    alert_disabled(endpoint)


def alert_disabled(endpoint: WebhookEndpoint) -> None:
    """Queue a note to every active channel manager that the endpoint was disabled, and how to turn it back on."""
    managers = db.session.scalars(
        select(User.email).where(User.role == "admin", User.is_active.is_(True)).order_by(User.id)
    ).all()
    context = {
        "endpoint": endpoint,
        "url": f"{current_app.config['BASE_URL']}/admin/webhooks/{endpoint.id}",
        "vendor": current_app.config["VENDOR_NAME"],
    }
    for email in managers:
        outbox.enqueue(
            kind=DISABLED,
            to=[email],
            subject=render_template("mail/webhook_disabled.subject.txt", **context).strip(),
            text=render_template("mail/webhook_disabled.txt", **context),
            html=render_template("mail/webhook_disabled.html", **context),
        )


def work_batch(
    settings: Settings,
    *,
    config: Mapping[str, Any],
    clock: Clock = utcnow,
    stop: threading.Event | None = None,
    name: str = "worker",
) -> Report:
    """Claim one batch of due deliveries and attempt each; return what happened."""
    report = Report()
    token = f"{name}:{secrets.token_hex(4)}"
    claimed_at = clock()
    ids = claim(settings, token=token, now=claimed_at)
    report.claimed = len(ids)
    if not ids:
        return report
    jobs = _load(ids, token)
    db.session.commit()  # hold no transaction open while sending
    lease_until = claimed_at + settings.lease
    while jobs:
        if stop is not None and stop.is_set():
            _release(jobs, token, report)
            db.session.commit()
            break
        now = clock()
        # Less than half the lease left: renew it before the next attempt.
        if now >= lease_until - settings.lease / 2:
            jobs = _renew(jobs, token, settings, now)
            lease_until = now + settings.lease
            continue
        job = jobs.pop(0)
        try:
            target = targets.check(job.url, config)
        except targets.UnsafeTarget as exc:
            outcome = Outcome(None, exc.message, 0)
        else:
            outcome = post(job, target, timeout=settings.timeout, clock=clock)
        now = clock()
        if outcome.is_delivered:
            _delivered(job, token, outcome, now, report)
        else:
            _not_delivered(job, token, outcome, settings, now, report)
            if outcome.code is None:
                # Nothing answered there: the endpoint's other deliveries in this batch wait for the
                # same retry rather than each waiting out the timeout now.
                same = [other for other in jobs if other.endpoint_id == job.endpoint_id]
                jobs = [other for other in jobs if other.endpoint_id != job.endpoint_id]
                _release(same, token, report, until=now + retry_delay(max(1, job.attempts)))
        db.session.commit()
    return report


def batch(*, clock: Clock = utcnow, stop: threading.Event | None = None, name: str = "worker") -> Report:
    """One batch as the outbox worker's loop runs it, with this app's settings."""
    return work_batch(
        Settings.from_config(current_app.config), config=current_app.config, clock=clock, stop=stop, name=name
    )
