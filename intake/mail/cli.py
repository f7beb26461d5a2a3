"""`flask --app intake outbox work`: deliver queued mail."""

import signal
import threading
from dataclasses import replace

import click
from flask import current_app

from . import delivery, worker


@click.group(help="Deliver the mail queued in the outbox.")
def outbox():
    pass


@outbox.command("work")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--batch", type=click.IntRange(1, 1000), help="Messages claimed at a time (INTAKE_MAIL_BATCH).")
def work(once: bool, batch: int | None):
    """Claim due messages in batches and send them; SIGTERM stops after the message in hand."""
    config = current_app.config
    settings = worker.Settings.from_config(config)
    if batch:
        settings = replace(settings, batch=batch)
    stop = threading.Event()

    def request_stop(signum, frame):
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    name = worker.worker_name()
    if config["INTAKE_ENV"] == "production" and config["MAIL_SINK"] == "file":
        # Not refused: a file sink is a valid way to hold mail back, but rarely what is meant.
        click.echo("Warning: INTAKE_MAIL_SERVER is not set, so mail is written to files, not sent.", err=True)
    click.echo(f"Outbox worker {name} started: {worker.describe_sink(config)}, batches of {settings.batch}.", err=True)
    try:
        report = worker.run(settings, lambda: delivery.sink_for(config), stop=stop, once=once, name=name)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"Outbox worker {name} stopped: {report}.", err=True)
