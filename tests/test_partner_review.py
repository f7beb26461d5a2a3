"""The partner review: the channel manager asks for a partner's quarter, the outbox worker renders the one-page
PDF and mails it to them; the scorecard as it stood at a moment, and its sparkline of requests per quarter.

The quarter is counted by hand (as in test_ledger.py), every deal routed, accepted, declined, won or lost through
the services a user's action goes through; the mail goes through the real worker to a real SMTP server.
"""

import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from intake import charts, quarters
from intake.deals import reviews, scorecards
from intake.errors import DomainError
from intake.extensions import db
from intake.models import OutboxMessage
from intake.models.types import utcnow

from .deal_steps import route
from .test_routed_mail import deliver

TODAY = date.today()
QUARTER = quarters.of(utcnow())
SVG = {"svg": "http://www.w3.org/2000/svg"}


def reviews_queued() -> list[OutboxMessage]:
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "partner_review").order_by(OutboxMessage.id)
    ).all()


def ask(manager, partner_id: int, quarter: str):
    """The manager chooses a quarter on the scorecard and presses the button."""
    return manager.submit(
        f"/admin/partners/{partner_id}/review", {"quarter": quarter}, page=f"/admin/partners/{partner_id}/scorecard"
    )


def flashes(page: str) -> list[str]:
    return [" ".join(m.split()) for m in re.findall(r'<div class="alert alert-\w+" role="\w+">(.*?)</div>', page, re.S)]


def pdf_words(data: bytes) -> tuple[int, str]:
    """The PDF's number of pages, and its text with the spacing made single (pypdf may put NULs between letters)."""
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages).replace("\x00", "")
    return len(reader.pages), " ".join(text.split())


def test_the_manager_asks_for_a_quarter_and_one_review_is_queued_for_them(app, quarter, manager, boss, thames):
    page = manager.get(f"/admin/partners/{thames.id}/scorecard").get_data(as_text=True)
    assert f'<option value="{QUARTER}">{QUARTER}</option>' in page  # the quarter with a ledger line: this one
    response = ask(manager, thames.id, QUARTER)
    assert response.status_code == 302
    assert response.location == f"/admin/partners/{thames.id}/scorecard?quarter={QUARTER}"  # it stays chosen
    shown = manager.get(response.location).get_data(as_text=True)
    assert f"The review of Thames Cloud for {QUARTER} is on its way to {boss.email}." in flashes(shown)

    [message] = reviews_queued()
    assert message.recipients == [boss.email] and message.status == "pending" and message.deal_id is None
    assert message.subject == f"Partner review: Thames Cloud, {QUARTER}"
    assert f"The review of Thames Cloud for {QUARTER} is attached" in message.text_body
    [attachment] = message.attachments
    assert (attachment.builder, attachment.params, attachment.data) == (
        "partner_review",
        {"partner_id": thames.id, "quarter": QUARTER},
        None,  # rendered by the worker, not in the request
    )

    # The same request again, a second click or a second tab: nothing more is queued.
    again = ask(manager, thames.id, QUARTER)
    assert again.status_code == 302
    words = flashes(manager.get(again.location).get_data(as_text=True))
    assert f"The review of Thames Cloud for {QUARTER} is already on its way to you." in words
    assert [m.id for m in reviews_queued()] == [message.id]


def test_the_worker_mails_a_one_page_pdf_of_the_quarters_ledger_and_scorecard(
    app, quarter, manager, boss, thames, smtp
):
    assert ask(manager, thames.id, QUARTER).status_code == 302
    deliver(app)

    [mail] = [m for m in smtp.received if m["Subject"] == f"Partner review: Thames Cloud, {QUARTER}"]
    assert mail["To"] == boss.email
    assert f"Hello {boss.name}," in mail.get_body(("plain",)).get_content()
    [part] = [p for p in mail.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert part.get_filename() == f"partner-review-thames-cloud-{QUARTER}.pdf"
    pages, text = pdf_words(part.get_content())
    assert pages == 1
    vendor = app.config["VENDOR_NAME"]
    for said in (
        "Thames Cloud",
        f"Reciprocity in {QUARTER}",
        # The ledger's line, hand-counted: Thames brought us one deal (pipeline 50,000), we brought it two (one won).
        f"Thames Cloud brought {vendor} 1 50,000 EUR —",
        f"{vendor} brought Thames Cloud 2 — 70,000 EUR",
        "Balance -1 (the partner was brought more than it brought)",
        # The quarters before, oldest first: nothing then, and this quarter's line.
        " ".join(f"{q} 0 0" for q in quarters.up_to(QUARTER, 4)[:-1]) + f" {QUARTER} 1 2",
        f"Scorecard at the end of {QUARTER}",
        # The scorecard: three requests, one accepted (of one answered), none declined, none let pass.
        "Requests 3",
        "Accepted 1 (100%)",
        "Declined 0",
        "Let the time pass 0",
        "won 1, lost 1 (win rate 50%)",
        "4 · trusted — 1",
        "5 · strategic — 2",
    ):
        assert said in text, f"{said!r} not in the PDF: {text}"
    assert "Borealis" not in text and "No capacity" not in text  # another partner's

    message = reviews_queued()[0]
    db.session.refresh(message)
    assert message.status == "sent" and message.attachments[0].data.startswith(b"%PDF")
    # Once it is sent, asking again sends a new one.
    assert ask(manager, thames.id, QUARTER).status_code == 302
    assert len(reviews_queued()) == 2


@pytest.mark.parametrize("quarter_asked", ["2026-Q5", "x", "", "1999-Q1", "2026-q1", f"{QUARTER} "])
def test_a_quarter_that_is_not_offered_is_refused_with_a_message_and_nothing_queued(
    quarter, manager, thames, quarter_asked
):
    response = ask(manager, thames.id, quarter_asked)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = re.search(r'<p class="field-error" id="quarter-error">(.*?)</p>', page)
    assert error and error.group(1).strip(), "the message sits beside the quarter"
    assert "Some answers need another look" in page
    assert reviews_queued() == []


def test_a_review_is_never_queued_for_a_quarter_that_does_not_exist(app, boss, thames):
    for nonsense in ("2026-Q5", "2026-Q0", "x", "", "0999-Q1", "3000-Q1"):
        with pytest.raises(DomainError, match="Choose a quarter, such as 2026-Q3."):
            reviews.mail_to(boss, thames, nonsense)
    assert reviews_queued() == []


def test_an_unknown_partners_review_is_not_found(manager, thames):
    token = manager.csrf_token(f"/admin/partners/{thames.id}/scorecard")
    response = manager.post("/admin/partners/999999/review", data={"csrf_token": token, "quarter": QUARTER})
    assert response.status_code == 404
    assert reviews_queued() == []


def test_the_scorecard_until_a_moment_leaves_out_the_requests_made_after_it(app, rep, ready, thames):
    route(ready(partner=thames, strength=5, originator="customer"), rep)
    between = utcnow()
    route(ready(partner=thames, strength=4, originator="customer"), rep)
    route(ready(partner=thames, strength=5, originator="customer"), rep)

    assert scorecards.scorecard(thames.id).requests == 3
    then = scorecards.scorecards([thames.id], until=between)[thames.id]
    assert (then.requests, then.requests_by_quarter) == (1, {QUARTER: 1})
    assert then.customer_strengths == {5: 1}  # the statements given since are left out too
    start, end = quarters.bounds(QUARTER)
    assert scorecards.scorecards([thames.id], until=start)[thames.id].requests == 0  # before this quarter
    assert scorecards.scorecards([thames.id], until=end)[thames.id].requests_by_quarter == {QUARTER: 3}


def test_quarter_bounds_and_the_quarters_before_one():
    assert quarters.bounds("2026-Q4") == (datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert quarters.bounds("2026-Q1")[1] == datetime(2026, 4, 1, tzinfo=UTC)
    assert quarters.up_to("2026-Q2", 4) == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    assert quarters.of_month(2026, 12) == "2026-Q4" and quarters.start(datetime(2026, 2, 5, tzinfo=UTC), 1) == datetime(
        2025, 10, 1, tzinfo=UTC
    )
    for nonsense in ("2026-Q5", "2026-q1", "0999-Q1", "3000-Q1", "", None):
        assert not quarters.is_one(nonsense)
    with pytest.raises(ValueError):
        quarters.bounds("2026-Q0")


def test_the_scorecards_sparkline_is_svg_with_one_dot_per_quarter(app, rep, ready, thames, manager):
    for strength in (5, 4):
        route(ready(partner=thames, strength=strength, originator="customer"), rep)
    page = manager.get(f"/admin/partners/{thames.id}/scorecard").get_data(as_text=True)
    start = page.index('<svg xmlns="http://www.w3.org/2000/svg" class="sparkline"')
    drawn = ET.fromstring(page[start : page.index("</svg>", start) + len("</svg>")])
    shown = quarters.up_to(QUARTER, reviews.CHART_QUARTERS)
    title = ", ".join(f"{q} 0" for q in shown[:-1]) + f", {QUARTER} 2"
    assert drawn.find("svg:title", SVG).text == f"Requests per quarter: {title}"
    dots = [(int(c.get("cx")), int(c.get("cy"))) for c in drawn.findall("svg:circle", SVG)]
    assert len(dots) == len(shown) == 4
    assert [x for x, _ in dots] == sorted(x for x, _ in dots)  # oldest quarter first, left to right
    height = int(drawn.get("height"))
    assert [y for _, y in dots] == [height - 4] * 3 + [4]  # none, none, none, then the most: at the top
    assert drawn.find("svg:polyline", SVG).get("points") == " ".join(f"{x},{y}" for x, y in dots)
    assert f"per quarter, {shown[0]} to {shown[-1]}" in page


def test_a_sparkline_scales_to_its_largest_value_and_lies_flat_when_all_are_none():
    line = charts.sparkline("t", ["a", "b", "c"], [0, 5, 10], width=108, height=28)
    assert line.dots == ((4, 24), (54, 14), (104, 4))
    flat = charts.sparkline("t", ["a", "b"], [0, 0])
    assert {y for _, y in flat.dots} == {flat.height - 4}
    assert len(charts.sparkline("t", ["a"], [3]).dots) == 1
