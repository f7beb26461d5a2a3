"""The outbox part's in-process measurements: the worker against raw Flask-Mail, and the PDF's render time.

    python -m bench.outbox_in_process --messages N --rounds R

Run with the app's INTAKE_* environment on a migrated database with the demo data (bench/outbox.py
does both). It starts bench/smtp_sink.py, a discarding aiosmtpd server, in a process of its own
on a free loopback port and stops it at the end; the app is pointed at it
(INTAKE_MAIL_SERVER=127.0.0.1).

1. Routes a ready demo deal with the app's own decisions.route_deal, as the rep, and drains the
   mail that queues with the real worker: the routed vendor's message is the model for the rest
   (its recipients, subject, text and HTML), and its PDF is built and stored once.
2. Per round and per variant (plain; with the PDF): queue N copies of that message in one
   transaction, then time worker.run(once=True) draining them to the server; then time raw
   Flask-Mail building and sending the same N messages over one connection (mail.connect()).
   With the PDF, each queued message carries the app's recipe Recipe("deal_summary",
   {decision, "vendor"}), whose PDF is already stored: the worker does what it does for every
   message after the first of a decision and copy (look the document up, store the bytes on the
   message, commit, attach); raw Flask-Mail attaches the same bytes. A third variant queues the
   same bytes as Stored(...) attachments, to tell the recipe's cost from the attachment's.
   Rendering is timed apart (3).
   The server's count is checked after every run: every message really arrived.
3. The median time to render the deal summary (template and WeasyPrint, as documents.build does
   the first time) beside a one-line page, render_pdf("<p>hello</p>").

Prints JSON on stdout; progress on stderr.
"""

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
VARIANTS = ("plain", "pdf", "pdf_stored")


def log(message: str) -> None:
    print(f"  [mail] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """bench/smtp_sink.py in its own process: start, ask how many messages arrived, stop."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH / "smtp_sink.py"), str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self.process.stdout.readline().strip() != "ready":
            self.stop()
            raise RuntimeError("the SMTP server did not start")

    def count(self) -> tuple[int, int]:
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        messages, size = self.process.stdout.readline().split()
        return int(messages), int(size)

    def stop(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()


def median_ms(fn, repetitions: int) -> float:
    fn()  # warm: fonts, stylesheets, templates
    times = []
    for _ in range(repetitions):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1)


def measure(args, sink: SmtpSink) -> dict:
    import os

    os.environ.update(
        INTAKE_MAIL_SERVER="127.0.0.1",
        INTAKE_MAIL_PORT=str(sink.port),
        INTAKE_MAIL_WORKER="0",
        INTAKE_PARTNER_SWEEP="0",
    )
    import flask_mail
    from flask import render_template
    from sqlalchemy import select

    from intake import create_app
    from intake.deals import decisions, documents
    from intake.extensions import db
    from intake.mail import delivery, outbox, worker
    from intake.mail.attachments import Recipe, Stored
    from intake.models import Deal, OutboxMessage
    from intake.models.types import utcnow
    from intake.pdf import render_pdf

    app = create_app()
    with app.app_context():
        settings = worker.Settings.from_config(app.config)
        expected = 0

        def drain() -> worker.Report:
            return worker.run(settings, lambda: delivery.sink_for(app.config), stop=threading.Event(), once=True)

        def arrived(n: int) -> None:
            nonlocal expected
            expected += n
            got = sink.count()[0]
            if got != expected:
                raise RuntimeError(f"the SMTP server has {got} messages, expected {expected}")

        # 1. A real routed deal and its mail.
        decision = None
        for deal in db.session.scalars(select(Deal).where(Deal.status == "ready_to_route").order_by(Deal.id)):
            if decisions.propose(deal).decision.status == "routable":
                decision = decisions.route_deal(deal, actor=deal.rep)
                db.session.commit()
                break
        if decision is None:
            raise RuntimeError("no demo deal ready to route routes cleanly")
        model = db.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.deal_id == decision.deal_id, OutboxMessage.kind == "routed_vendor"
            )
        )
        if model is None:
            raise RuntimeError(f"routing deal {decision.deal_id} queued no routed_vendor message")
        model_id = model.id
        pending = db.session.query(OutboxMessage).filter(OutboxMessage.status == "pending").count()
        started = time.perf_counter()
        first = drain()
        first_s = time.perf_counter() - started
        if first.sent != pending:
            raise RuntimeError(f"first drain: {first}, of {pending} queued")
        arrived(pending)
        model = db.session.get(OutboxMessage, model_id, populate_existing=True)
        to, subject, text, html = list(model.recipients), model.subject, model.text_body, model.html_body
        pdf_name, pdf = model.attachments[0].filename, model.attachments[0].content
        recipe = Recipe("deal_summary", {"decision_id": decision.id, "copy": "vendor"})
        stored = Stored(pdf_name, "application/pdf", pdf)
        log(f"deal {decision.deal_id} routed; its {pending} messages sent in {first_s:.2f} s (PDFs built)")

        mail = flask_mail.Mail(app)
        sender = delivery.configured_sender(app.config)

        def raw_send(with_pdf: bool) -> None:
            with mail.connect() as connection:
                for _ in range(args.messages):
                    message = flask_mail.Message(subject=subject, recipients=to, body=text, html=html, sender=sender)
                    if with_pdf:
                        message.attach(filename=pdf_name, content_type="application/pdf", data=pdf)
                    connection.send(message)

        runs: dict = {variant: {"worker": [], "raw": [], "queue_ms_per_message": []} for variant in VARIANTS}
        for round_ in range(args.rounds):
            for variant in VARIANTS:
                started = time.perf_counter()
                for _ in range(args.messages):
                    outbox.enqueue(
                        kind="bench",
                        to=to,
                        subject=subject,
                        text=text,
                        html=html,
                        deal_id=decision.deal_id,
                        attachments={"plain": [], "pdf": [recipe], "pdf_stored": [stored]}[variant],
                    )
                db.session.commit()
                runs[variant]["queue_ms_per_message"].append((time.perf_counter() - started) * 1000 / args.messages)
                started = time.perf_counter()
                report = drain()
                elapsed = time.perf_counter() - started
                if report.sent != args.messages:
                    raise RuntimeError(f"worker: {report}, of {args.messages} queued")
                arrived(args.messages)
                runs[variant]["worker"].append(args.messages / elapsed)
                started = time.perf_counter()
                raw_send(variant != "plain")
                elapsed = time.perf_counter() - started
                arrived(args.messages)
                runs[variant]["raw"].append(args.messages / elapsed)
                log(
                    f"round {round_ + 1}, {variant}: worker {runs[variant]['worker'][-1]:.0f} msg/s, "
                    f"raw Flask-Mail {runs[variant]['raw'][-1]:.0f} msg/s"
                )

        throughput = {}
        for variant, r in runs.items():
            worker_mps, raw_mps = statistics.median(r["worker"]), statistics.median(r["raw"])
            throughput[variant] = {
                "worker_msg_s": round(worker_mps, 1),
                "raw_flask_mail_msg_s": round(raw_mps, 1),
                "ratio": round(worker_mps / raw_mps, 2),
                "worker_runs": [round(x, 1) for x in r["worker"]],
                "raw_runs": [round(x, 1) for x in r["raw"]],
                "queue_ms_per_message": round(statistics.median(r["queue_ms_per_message"]), 3),
            }

        # 3. Rendering.
        def render_summary() -> bytes:
            copy = documents.view(decision, "vendor")
            return render_pdf(render_template("pdf/deal_summary.html", s=copy, generated_at=utcnow()))

        summary_ms = median_ms(render_summary, args.renders)
        hello_ms = median_ms(lambda: render_pdf("<p>hello</p>"), args.renders)
        messages, size = sink.count()
        return {
            "messages": args.messages,
            "rounds": args.rounds,
            "batch": settings.batch,
            "deal_id": decision.deal_id,
            "decision_id": decision.id,
            "message": {
                "recipients": len(to),
                "subject": subject,
                "text_bytes": len(text.encode()),
                "html_bytes": len(html.encode()),
                "pdf_bytes": len(pdf),
            },
            "first_drain": {"messages": pending, "seconds": round(first_s, 2)},
            "plain": throughput["plain"],
            "pdf": throughput["pdf"],
            "pdf_stored": throughput["pdf_stored"],
            "render": {
                "repetitions": args.renders,
                "summary_ms": summary_ms,
                "hello_ms": hello_ms,
                "ratio": round(summary_ms / hello_ms, 1),
            },
            "server": {"messages": messages, "megabytes": round(size / 1e6, 1)},
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--renders", type=int, default=7)
    args = parser.parse_args()
    sink = SmtpSink()
    try:
        data = measure(args, sink)
    finally:
        sink.stop()
    print(json.dumps(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
