"""The partner review: one page per partner and quarter — its ledger line, its scorecard as it stood at the
quarter's end, and a chart of the quarters before — for the quarterly business review.

The channel manager asks for it; the PDF is a recipe the outbox worker renders and mails to them, like the
deal summaries: never rendered in a web request.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import current_app, render_template
from sqlalchemy import select, update

from .. import charts, quarters
from ..errors import DomainError
from ..extensions import db
from ..mail import outbox
from ..mail.attachments import Recipe
from ..models import OutboxMessage, Partner, User
from ..models.types import utcnow
from . import ledger, scorecards

CHART_QUARTERS = 4


def _bounds(quarter: str) -> tuple[datetime, datetime]:
    try:
        return quarters.bounds(quarter)
    except ValueError:
        raise DomainError("Choose a quarter, such as 2026-Q3.") from None


def quarters_to_choose(partner_id: int) -> list[str]:
    """The quarters a review can be asked for: the current one and each with a ledger line, newest first."""
    found = {line.quarter for line in ledger.lines(partner_id=partner_id)}
    found.add(quarters.of(utcnow()))
    return sorted(found, key=lambda quarter: quarters.bounds(quarter)[0], reverse=True)


def context(partner: Partner, quarter: str) -> dict:
    """What the review page shows, from the credit and requests recorded (never today's deals)."""
    _, end = _bounds(quarter)
    shown = quarters.up_to(quarter, CHART_QUARTERS)
    by_quarter = {line.quarter: line for line in ledger.lines(partner_id=partner.id) if line.quarter in shown}
    line = by_quarter.get(quarter) or ledger.Line(partner.id, partner.name, quarter)
    card = scorecards.scorecards([partner.id], until=end)[partner.id]
    brought = [by_quarter[q].brought.count if q in by_quarter else 0 for q in shown]
    given = [by_quarter[q].given.count if q in by_quarter else 0 for q in shown]
    return {
        "partner": partner,
        "quarter": quarter,
        "line": line,
        "card": card,
        "quarters": [(q, brought[i], given[i]) for i, q in enumerate(shown)],
        "chart": charts.bar_chart(
            f"Deals each side brought the other, {shown[0]} to {shown[-1]}",
            shown,
            [("The partner brought us", brought), ("We brought the partner", given)],
        ),
        "requests_line": charts.sparkline(
            "Requests per quarter", shown, [card.requests_by_quarter.get(q, 0) for q in shown]
        ),
        "vendor": current_app.config["VENDOR_NAME"],
    }


def filename(partner: Partner, quarter: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", partner.name.lower()).strip("-")[:40] or f"partner-{partner.id}"
    return f"partner-review-{slug}-{quarter}.pdf"


def build(params: dict) -> tuple[str, str, bytes]:
    """The attachment builder: the review PDF of (partner, quarter), rendered in the worker."""
    partner = db.session.get(Partner, int(params["partner_id"]))
    if partner is None:
        raise DomainError("That partner is no longer kept in Intake.")
    quarter = params["quarter"]
    from .. import pdf  # WeasyPrint is loaded by the worker that renders, never by a web process

    html = render_template("pdf/partner_review.html", generated_at=utcnow(), **context(partner, quarter))
    return filename(partner, quarter), "application/pdf", pdf.render_pdf(html)


def mail_to(manager: User, partner: Partner, quarter: str) -> bool:
    """Queue the review for the manager who asked for it; the worker renders the PDF and sends it.

    Return False when the same review is already waiting to be sent to them (a second click, a second tab).
    """
    _bounds(quarter)
    # The manager's row lock first: a second click waits for the first, then finds its message.
    db.session.execute(
        update(User).where(User.id == manager.id).values(role=User.role).execution_options(synchronize_session=False)
    )
    mail = {"partner": partner, "quarter": quarter, "manager": manager, "vendor": current_app.config["VENDOR_NAME"]}
    subject = render_template("mail/partner_review.subject.txt", **mail).strip()
    waiting = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == "partner_review", OutboxMessage.status == "pending", OutboxMessage.subject == subject
        )
    )
    if any(manager.email in message.recipients for message in waiting):
        return False
    outbox.enqueue(
        kind="partner_review",
        to=[manager.email],
        subject=subject,
        text=render_template("mail/partner_review.txt", **mail),
        html=render_template("mail/partner_review.html", **mail),
        attachments=[Recipe("partner_review", {"partner_id": partner.id, "quarter": quarter})],
    )
    return True
