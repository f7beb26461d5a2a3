"""The reciprocity ledger: per partner and quarter, what each side brought the other, and the deals behind it."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ... import charts, exports, quarters
from ...deals import ledger, reviews, scorecards
from ...extensions import db
from ...models import Partner
from ...models.types import utcnow
from .. import partner_choices
from ..errors import keeps_answers
from ..forms import opts
from ..inputs import page_number, read_id
from ..pages import render_form
from . import bp
from .forms import ReviewForm


def _partner_filter() -> int | None:
    """The partner chosen in the filter; nonsense is no filter at all."""
    raw = request.args.get("partner", "")
    try:
        return read_id(raw) if raw else None
    except ValueError:
        return None


PARTNERS_PER_PAGE = 25


@bp.get("/ledger")
def reciprocity_ledger():
    """The ledger of one partner, or of every partner with credit, a page of partners at a time."""
    # Chosen from the filter's list, or typed by name where there are too many partners to list.
    partner_id = _partner_filter() or partner_choices.named(request.args.get("partner_name", ""))
    pagination = None
    if partner_id is not None:
        lines = ledger.lines(partner_id=partner_id)
    else:
        pagination = ledger.partners_in_it(page=page_number(request.args.get("page")), per_page=PARTNERS_PER_PAGE)
        lines = ledger.lines(partner_ids=[p.id for p in pagination.items]) if pagination.items else []
    return render_template(
        "admin/ledger.html",
        lines=lines,
        filter_partners=partner_choices.for_filter(partner_id),
        chosen=partner_id,
        pagination=pagination,
        chart=_reciprocity_chart(lines),
        totals=ledger.per_partner(lines),
    )


def _reciprocity_chart(lines):
    totals = ledger.per_partner(lines)
    return charts.bar_chart(
        "Deals each side brought the other, per partner",
        [name for name, _, _ in totals],
        [("The partner brought us", [b for _, b, _ in totals]), ("We brought the partner", [g for _, _, g in totals])],
    )


@bp.get("/ledger/<id:partner_id>/<quarter>/<side>")
def ledger_deals(partner_id: int, quarter: str, side: str):
    """The deals behind one number of the ledger."""
    partner = db.session.get(Partner, partner_id)
    if partner is None or not quarters.is_one(quarter) or side not in ledger.SIDES:
        abort(404)
    deals = ledger.deals_behind(partner_id, quarter, side)
    return render_template("admin/ledger_deals.html", partner=partner, quarter=quarter, side=side, deals=deals)


@bp.get("/partners/<id:partner_id>/scorecard")
def scorecard(partner_id: int):
    """How a partner answers its requests, how fast, why it declines, how its deals end, how customers rate it."""
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        abort(404)
    return _scorecard_page(partner, _review_form(partner))


def _review_form(partner: Partner) -> ReviewForm:
    form = ReviewForm()
    form.quarter.choices = opts([(q, q) for q in reviews.quarters_to_choose(partner.id)])
    if request.method == "GET" and request.args.get("quarter") in {c.value for c in form.quarter.choices}:
        form.quarter.data = request.args["quarter"]  # the quarter just asked for stays chosen
    return form


def _scorecard_page(partner: Partner, review_form: ReviewForm):
    card = scorecards.scorecard(partner.id)
    shown = quarters.up_to(quarters.of(utcnow()), reviews.CHART_QUARTERS)
    requests_line = charts.sparkline("Requests per quarter", shown, [card.requests_by_quarter.get(q, 0) for q in shown])
    return render_form(
        "admin/scorecard.html",
        review_form,
        partner=partner,
        card=card,
        requests_line=requests_line,
        lines=ledger.lines(partner_id=partner.id),
    )


@bp.post("/partners/<id:partner_id>/review")
@keeps_answers
def partner_review(partner_id: int):
    """Queue the partner's review PDF of a quarter for the manager asking: the worker renders and mails it."""
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        abort(404)
    form = _review_form(partner)
    if form.validate_on_submit():
        queued = reviews.mail_to(current_user, partner, form.quarter.data)
        db.session.commit()
        if queued:
            flash(
                f"The review of {partner.name} for {form.quarter.data} is on its way to {current_user.email}.",
                "success",
            )
        else:
            flash(f"The review of {partner.name} for {form.quarter.data} is already on its way to you.", "info")
        return redirect(url_for("admin.scorecard", partner_id=partner.id, quarter=form.quarter.data))
    return _scorecard_page(partner, form)


def _amounts(amounts) -> str:
    return " ".join(f"{amount:.2f} {currency}".strip() for currency, amount in sorted(amounts.items()))


@bp.get("/ledger.csv", defaults={"fmt": "csv"})
@bp.get("/ledger.xlsx", defaults={"fmt": "xlsx"})
def ledger_csv(fmt: str):
    """The ledger as on screen (the same partner filter), one row per partner and quarter."""
    header = (
        "partner",
        "quarter",
        "brought us: deals",
        "brought us: pipeline",
        "brought us: won",
        "we brought: deals",
        "we brought: pipeline",
        "we brought: won",
        "balance",
    )
    rows = (
        (
            line.partner_name,
            line.quarter,
            line.brought.count,
            _amounts(line.brought.pipeline),
            _amounts(line.brought.won),
            line.given.count,
            _amounts(line.given.pipeline),
            _amounts(line.given.won),
            line.balance,
        )
        for line in ledger.lines(partner_id=_partner_filter())
    )
    return exports.download(fmt, "reciprocity-ledger", header, rows)


@bp.get("/scorecards.csv", defaults={"fmt": "csv"})
@bp.get("/scorecards.xlsx", defaults={"fmt": "xlsx"})
def scorecards_csv(fmt: str):
    """Every partner's scorecard, one row each."""
    header = (
        "partner",
        "requests",
        "accepted",
        "declined",
        "lapsed",
        "acceptance rate",
        "median hours to accept",
        "fulfilled won",
        "fulfilled lost",
        "win rate",
        "declines by reason",
        "customer-stated strengths",
    )

    partners = db.session.scalars(select(Partner).order_by(Partner.name, Partner.id)).all()
    cards = scorecards.scorecards([p.id for p in partners])

    def row(partner: Partner):
        card = cards[partner.id]
        hours = card.median_to_accept.total_seconds() / 3600 if card.median_to_accept is not None else None
        return (
            partner.name,
            card.requests,
            card.accepted,
            card.declined,
            card.lapsed,
            None if card.acceptance_rate is None else f"{card.acceptance_rate:.2f}",
            None if hours is None else f"{hours:.1f}",
            card.fulfilled_won,
            card.fulfilled_lost,
            None if card.win_rate is None else f"{card.win_rate:.2f}",
            "; ".join(f"{reason} ({count})" for reason, count in card.declines_by_reason),
            "; ".join(f"{strength}: {count}" for strength, count in card.customer_strengths.items()),
        )

    return exports.download(fmt, "partner-scorecards", header, (row(p) for p in partners))
