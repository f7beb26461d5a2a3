"""The channel manager's side of routing: queues, resolutions, overrides and the rules of engagement."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from ...deals import routing
from ...extensions import csrf, db
from ...models import Deal, Partner
from ..forms import opts
from ..pages import attach_errors, render_form
from . import bp

QUEUES = {
    "needs_alignment": "Needs alignment",
    "conflict": "Conflicts",
    "fulfilment": "Fulfilment to decide",
}
REASON = [DataRequired("Write the reason: it is kept with the decision."), Length(max=2000)]


class AlignmentForm(FlaskForm):
    leader = SelectField("Who leads?")
    reason = TextAreaField("Reason", REASON)


class ConflictForm(FlaskForm):
    keep = SelectField("Which deal proceeds?", coerce=int)
    reason = TextAreaField("Reason", REASON)


class OverrideForm(FlaskForm):
    leader = SelectField("Who leads?")
    fulfilment = SelectField("Who fulfils?")
    reason = TextAreaField("Reason", REASON)


class RulesForm(FlaskForm):
    threshold = SelectField(
        "An existing partner relationship counts for fulfilment from",
        coerce=int,
        choices=opts(
            [
                (str(n), f"{n} · {w}")
                for n, w in ((1, "aware"), (2, "transactional"), (3, "working"), (4, "trusted"), (5, "strategic"))
            ]
        ),
    )
    ties = RadioField(
        "After the originator, a tie for the lead goes to",
        choices=opts([("partners", "the partners"), ("vendor", "the vendor")]),
    )


def _deal_or_404(deal_id: int) -> Deal:
    return db.session.get(Deal, deal_id) or abort(404)


def _party_choices(partners: list[Partner]) -> list:
    vendor = f"{_vendor()} (the vendor)"
    return opts([("vendor", vendor)] + [(f"partner:{p.id}", p.name) for p in partners])


def _vendor() -> str:
    from flask import current_app

    return current_app.config["VENDOR_NAME"]


@bp.get("/queues")
def queues_index():
    return redirect(url_for("admin.queue", reason="needs_alignment"))


@bp.get("/queues/<reason>")
def queue(reason: str):
    if reason not in QUEUES:
        abort(404)
    deals = db.session.scalars(
        select(Deal)
        .where(Deal.status == "on_hold", Deal.hold_reason == reason)
        .options(selectinload(Deal.account), selectinload(Deal.rep), selectinload(Deal.decisions))
        .order_by(Deal.updated_at)
    ).all()
    counts = dict(
        db.session.execute(
            select(Deal.hold_reason, func.count()).where(Deal.status == "on_hold").group_by(Deal.hold_reason)
        ).all()
    )
    return render_template("admin/queue.html", deals=deals, reason=reason, queues=QUEUES, counts=counts)


def _involved_partners(deal: Deal) -> list[Partner]:
    decision = routing.current_decision(deal)
    ids = {r.partner_id for r in deal.landscape + deal.customer_relationships if r.partner_id}
    if deal.originator_partner_id:
        ids.add(deal.originator_partner_id)
    if decision:
        for key in ("leader", "fulfilment"):
            party = decision.output.get(key) or {}
            if party.get("kind") == "partner":
                ids.add(party["partner_id"])
    return list(db.session.scalars(select(Partner).where(Partner.id.in_(ids)).order_by(Partner.name))) if ids else []


@bp.route("/deals/<int:deal_id>/resolve", methods=["GET", "POST"])
def resolve(deal_id: int):
    deal = _deal_or_404(deal_id)
    if deal.status != "on_hold" or deal.hold_reason not in ("needs_alignment", "conflict"):
        if deal.status == "on_hold":
            return redirect(url_for("admin.override", deal_id=deal.id))
        flash("This deal is not waiting for a resolution.", "info")
        return redirect(url_for("rep.deal", deal_id=deal.id))
    decision = routing.current_decision(deal)
    if deal.hold_reason == "needs_alignment":
        form = AlignmentForm()
        form.leader.choices = _party_choices(_involved_partners(deal))
        contenders = []
    else:
        form = ConflictForm()
        ids = [deal.id, *decision.output.get("conflicts", [])]
        contenders = db.session.scalars(
            select(Deal)
            .where(Deal.id.in_(ids))
            .options(selectinload(Deal.account), selectinload(Deal.rep))
            .order_by(Deal.id)
        ).all()
        form.keep.choices = opts(
            (str(d.id), f"#{d.id} · {d.title} · {d.rep.name} · {d.status.replace('_', ' ')}") for d in contenders
        )
    if form.validate_on_submit():
        try:
            if deal.hold_reason == "needs_alignment":
                routing.resolve_alignment(deal, leader=form.leader.data, reason=form.reason.data, actor=current_user)
                kept = deal
            else:
                kept = db.session.get(Deal, form.keep.data)
                routing.resolve_conflict(deal, keep=kept, reason=form.reason.data, actor=current_user)
        except routing.BadChoice as exc:
            db.session.rollback()
            attach_errors(form, {"reason": str(exc)})
        else:
            db.session.commit()
            flash("Resolved: the decision and your reason are recorded.", "success")
            return redirect(url_for("rep.deal", deal_id=kept.id, _anchor="routing"))
    return render_form("admin/resolve.html", form, deal=deal, decision=decision, contenders=contenders)


@bp.route("/deals/<int:deal_id>/override", methods=["GET", "POST"])
def override(deal_id: int):
    deal = _deal_or_404(deal_id)
    if deal.account is None or deal.status in ("draft", "won", "lost", "withdrawn"):
        flash("This deal cannot be routed.", "info")
        return redirect(url_for("rep.deal", deal_id=deal.id))
    form = OverrideForm()
    partners = db.session.scalars(select(Partner).where(Partner.is_active.is_(True)).order_by(Partner.name)).all()
    form.leader.choices = form.fulfilment.choices = _party_choices(partners)
    if form.validate_on_submit():
        try:
            routing.override(
                deal,
                leader=form.leader.data,
                fulfilment=form.fulfilment.data,
                reason=form.reason.data,
                actor=current_user,
            )
        except routing.BadChoice as exc:
            db.session.rollback()
            attach_errors(form, {"reason": str(exc)})
        else:
            db.session.commit()
            flash("Overridden: both the engine's proposal and your decision are kept.", "success")
            return redirect(url_for("rep.deal", deal_id=deal.id, _anchor="routing"))
    return render_form("admin/override.html", form, deal=deal, decision=routing.current_decision(deal))


@bp.route("/rules", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token and keeps what was typed
def rules():
    current = routing.current_rules()
    form = RulesForm(data=current)
    if form.validate_on_submit():
        routing.set_rules(threshold=form.threshold.data, ties=form.ties.data, actor=current_user)
        db.session.commit()
        flash("Rules of engagement saved. Decisions already made keep the rules they used.", "success")
        return redirect(url_for("admin.rules"))
    return render_form("admin/rules.html", form, current=current)


@bp.post("/deals/<int:deal_id>/recycle/<int:request_id>")
def recycle(deal_id: int, request_id: int):
    from ...deals import partners
    from ...models import PartnerRequest

    found = db.session.get(PartnerRequest, request_id)
    if found is None or found.deal_id != deal_id:
        abort(404)
    try:
        partners.recycle(found, actor=current_user)
    except partners.RequestGone:
        flash("This partner's deadline has not passed, or it has answered.", "error")
        return redirect(url_for("rep.deal", deal_id=deal_id, _anchor="partners-answers"))
    db.session.commit()
    flash(f"Sent back to routing; {found.partner.name} will not be proposed again.", "success")
    return redirect(url_for("rep.deal", deal_id=deal_id, _anchor="routing"))
