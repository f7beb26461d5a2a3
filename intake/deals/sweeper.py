"""The partner sweep: reminders and passed deadlines of partner requests, and registrations that wait
without progress. Inside the app process for `make run`.

In production run `flask --app intake partners sweep` every few minutes from a timer instead
(any number of servers may: each request is handled under its deal's lock, once).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from .. import background
from ..extensions import db

log = logging.getLogger("intake.partners")


def init_app(app: Flask) -> None:
    """In development, sweep from a thread inside the app process, started by the first request."""
    if not app.config["PARTNER_SWEEP"] or app.testing:
        return
    background.start_on_first_request(app, "intake.partner_sweep", lambda stop: start_thread(app, stop))


def start_thread(app: Flask, stop: threading.Event) -> threading.Thread:
    """Start a daemon thread sweeping partner deadlines for `app` until `stop` is set."""
    thread = threading.Thread(target=_run, args=(app, stop), name="intake-partner-sweep", daemon=True)
    thread.start()
    return thread


def sweep() -> tuple[int, int, int, int]:
    """One sweep: (request reminders, request deadlines passed, registration reminders, registrations expired)."""
    from . import partners, registrations

    reminders, passed = partners.sweep()
    reminded, expired = registrations.sweep()
    return reminders, passed, reminded, expired


def _run(app: Flask, stop: threading.Event) -> None:
    seconds = float(app.config["PARTNER_SWEEP_SECONDS"])
    with app.app_context():
        log.info("Partner sweep started in the app process (every %.0f s).", seconds)
        while not stop.is_set():
            try:
                counts = sweep()
                db.session.commit()
                if any(counts):
                    log.info(
                        "Partner sweep: %d reminder(s), %d deadline(s) passed, %d registration reminder(s), "
                        "%d registration(s) expired.",
                        *counts,
                    )
            except Exception:
                db.session.rollback()
                log.exception("Partner sweep failed; trying again in %.0f s", seconds)
            finally:
                db.session.remove()
            stop.wait(seconds)
