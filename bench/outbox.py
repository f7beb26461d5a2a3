"""The decision's mail: the outbox worker against raw Flask-Mail, and the time to render its PDF.

In process (bench/outbox_in_process.py) against a discarding aiosmtpd server on loopback in a
process of its own (bench/smtp_sink.py): a demo deal is routed and its routed-vendor message (text
and HTML) queued N times; the real worker (worker.run(once=True)) drains them, and raw Flask-Mail
sends the same N messages over one connection, in the same run: messages/s and the ratio worker /
raw. Three variants: no attachment; the PDF as the app queues it (a deal_summary recipe whose PDF is
already stored, so rendering is left out); the same PDF bytes queued as stored bytes. Raw Flask-Mail
attaches the same bytes. Then the median time to render the deal summary PDF beside a one-line
WeasyPrint page. --messages and --rounds size it.

Targets: worker / raw >= 0.8x, with the PDF as the app queues it and for text and HTML alone.
"""

import sys
from pathlib import Path

from bench.servers import in_process, prepare_database, server_env
from bench.summary import PartResult, at_least

MARK = 0.8
VARIANTS = (
    ("plain", "text + HTML"),
    ("pdf", "+ PDF, as queued (stored recipe)"),
    ("pdf_stored", "+ PDF, queued as bytes"),
)


def add_arguments(parser) -> None:
    parser.add_argument("--messages", type=int, default=300, help="outbox: messages per run")
    parser.add_argument("--rounds", type=int, default=3, help="outbox: runs per variant (the median is shown)")


def run(options, workdir: Path) -> PartResult:
    print("outbox: migrating, demo data, then the worker against raw Flask-Mail", file=sys.stderr, flush=True)
    env = server_env(workdir, f"sqlite:///{workdir}/outbox.sqlite")
    prepare_database(env)
    arguments = ["--messages", str(options.messages), "--rounds", str(options.rounds)]
    details = in_process("outbox_in_process", env, *arguments, timeout=600)
    pdf, plain = details["pdf"], details["plain"]
    rows = [
        at_least(
            "outbox",
            "outbox worker, PDF as the app queues it, vs raw Flask-Mail",
            pdf["ratio"],
            MARK,
            note=f"{pdf['worker_msg_s']:.0f} vs {pdf['raw_flask_mail_msg_s']:.0f} msg/s",
        ),
        at_least(
            "outbox",
            "outbox worker, text + HTML, vs raw Flask-Mail",
            plain["ratio"],
            MARK,
            note=f"{plain['worker_msg_s']:.0f} vs {plain['raw_flask_mail_msg_s']:.0f} msg/s",
        ),
    ]
    return PartResult(rows, details)


def report(details: dict) -> None:
    m = details["message"]
    print(
        "\nMail: the outbox worker to a local SMTP server (aiosmtpd on 127.0.0.1, its own process) against raw "
        f"Flask-Mail over one connection; {details['messages']} messages per run, median of {details['rounds']} runs, "
        f"worker batches of {details['batch']}"
    )
    print(
        f"  The routed-vendor message of deal {details['deal_id']}: {m['text_bytes']:,} B text + "
        f"{m['html_bytes']:,} B HTML, {m['recipients']} recipient(s); the PDF {m['pdf_bytes']:,} B\n"
    )
    header = f"  {'message':<34}{'worker msg/s':>14}{'raw msg/s':>11}{'worker / raw':>14}{'queue ms/msg':>14}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for key, text in VARIANTS:
        r = details[key]
        print(
            f"  {text:<34}{r['worker_msg_s']:>14.1f}{r['raw_flask_mail_msg_s']:>11.1f}{r['ratio']:>13.2f}x"
            f"{r['queue_ms_per_message']:>14.2f}"
        )
    print(
        '  (the mark is >= 0.80x. "As queued": each message carries the app\'s deal_summary recipe for one'
        " decision whose PDF is already rendered and stored, so the worker refers the batch's messages to the"
        " stored document (one lookup per recipe), as for every message after the first of a decision and copy;"
        " raw Flask-Mail"
        " attaches the same bytes, already in memory. Rendering is not in these runs: see below.)"
    )
    r = details["render"]
    print(
        f"  PDF rendering, median of {r['repetitions']}: the deal summary (template + WeasyPrint) "
        f"{r['summary_ms']:.0f} ms, a one-line page (render_pdf('<p>hello</p>')) {r['hello_ms']:.0f} ms: "
        f"{r['ratio']:.1f}x"
    )
    print(
        f"  The routing request's mail is queued, not sent: its first drain ({details['first_drain']['messages']} "
        f"messages, PDFs rendered) took {details['first_drain']['seconds']:.2f} s in the worker, outside the request."
    )
