"""The channel manager's side of routing: queues, resolutions, overrides and the rules of engagement.

Every form here starts from the engine's proposal, and a decision that takes a partner's role or
credit says so and waits for the manager to confirm it.
"""

from datetime import UTC, datetime, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ...deals import audiences, dashboard, decisions, lifecycle, partner_requests, partners, registrations, whatif
from ...deals import rules as engagement
from ...extensions import db
from ...models import Deal, PartnerRequest, User
from ...models.types import utcnow
from ...routing import Party
from ...vocabulary import DEAL_STATUS, HOLD_REASON, RECYCLE, STRENGTH, TIES_WORDS
from .. import partner_choices
from ..errors import keeps_answers
from ..forms import IntakeForm, optional_int, opts, vocabulary_choices
from ..inputs import sent_int
from ..pages import attempt, render_form
from . import bp

REASON = [DataRequired("Write the reason: it is kept with the decision."), Length(max=2000)]
SHARE = "Share this reason with the partners (otherwise only the vendor side reads it)"
CONFIRM = "I confirm: this decision removes a partner's role or credit, as said above"


class AssignForm(IntakeForm):
    """Give a partner's registration a rep."""

    deal_id = HiddenField(filters=[optional_int])
    rep_id = SelectField("Rep", [DataRequired("Choose a rep.")], coerce=optional_int)


class DecideForm(IntakeForm):
    """Who leads and who fulfils, decided by the channel manager (an override, or an alignment)."""

    # The decision version the manager saw: a second submit, or a second tab, is refused.
    based_on = HiddenField(filters=[optional_int])
    leader = SelectField("Who leads?")
    # With too many partners to list (partner_choices), another partner is typed by name: it is the choice then.
    leader_name = StringField("Or another partner to lead, by name", [Length(max=160)])
    fulfilment = SelectField("Who fulfils?")
    fulfilment_name = StringField("Or another partner to fulfil, by name", [Length(max=160)])
    reason = TextAreaField("Reason", REASON)
    reason_shared = BooleanField(SHARE)
    confirm = BooleanField(CONFIRM)


class ConflictForm(IntakeForm):
    based_on = HiddenField(filters=[optional_int])
    keep = SelectField("Which deal proceeds?", coerce=int)
    reason = TextAreaField("Reason", REASON)
    reason_shared = BooleanField(SHARE)


class RulesForm(IntakeForm):
    threshold = SelectField(
        "An existing partner relationship counts for fulfilment from",
        coerce=int,
        choices=vocabulary_choices(STRENGTH, only=range(1, 6)),
    )
    ties = RadioField("After the originator, a tie for the lead goes to", choices=vocabulary_choices(TIES_WORDS))
    recycle = RadioField("When a partner lets its time to answer pass", choices=vocabulary_choices(RECYCLE))


class WhatIfForm(IntakeForm):
    """Rules to try on the decisions of a period, without saving them (a GET form)."""

    class Meta:
        csrf = False

    threshold = SelectField(RulesForm.threshold.args[0], coerce=int, choices=RulesForm.threshold.kwargs["choices"])
    ties = RadioField(RulesForm.ties.args[0], choices=RulesForm.ties.kwargs["choices"])
    since = DateField("Decisions made from", [DataRequired("Give the first day.")])
    until = DateField("to", [DataRequired("Give the last day.")])


def _deal_or_404(deal_id: int) -> Deal:
    return db.session.get(Deal, deal_id) or abort(404)


def _choice(party: Party | None) -> str:
    if party is None or party.kind != "partner":
        return "vendor"
    return f"partner:{party.partner_id}"


def _based_on(deal: Deal) -> int:
    version = decisions.current(deal)
    return version.version if version else 0


def _decide_form(deal: Deal, proposal: decisions.Proposal) -> DecideForm:
    """The form, its choices the vendor and the partners that may take the deal, its answers the engine's proposal.

    When the engine could not decide who fulfils, no one is chosen for the manager: they choose.
    """
    # Every active partner while there are few enough to list; else those the proposal's facts name.
    offered = partner_choices.offered(*proposal.facts.partners, active_only=True)
    parties = [("vendor", f"{audiences.vendor_name()} (the vendor)")]
    parties += [(f"partner:{p.id}", p.name) for p in decisions.choosable_partners(deal, offered.partners)]
    undecided = proposal.decision.fulfilment is None
    form = DecideForm(
        data={
            "based_on": _based_on(deal),
            "leader": _choice(proposal.decision.leader),
            "fulfilment": "" if undecided else _choice(proposal.decision.fulfilment),
        }
    )
    form.leader.choices = opts(parties)
    form.fulfilment.choices = opts(([("", "— choose who fulfils —")] if undecided else []) + parties)
    form.partners_listed = offered.complete
    return form


def _decided(form: DecideForm, deal: Deal, *, kind: str) -> bool:
    """Record the channel manager's decision from a submitted form; a broken rule goes beside its field."""
    return form.validate_on_submit() and attempt(
        form,
        decisions.decide_in_place,
        deal,
        leader=form.leader.data,
        fulfilment=form.fulfilment.data,
        leader_name=form.leader_name.data or "",
        fulfilment_name=form.fulfilment_name.data or "",
        reason=form.reason.data,
        reason_shared=form.reason_shared.data,
        confirmed=form.confirm.data,
        actor=current_user,
        based_on=form.based_on.data,
        kind=kind,
    )


@bp.get("/queues")
def queues_index():
    return redirect(url_for("admin.queue", reason="needs_alignment"))


@bp.get("/queues/<reason>")
def queue(reason: str):
    if reason not in HOLD_REASON:
        abort(404)
    deals = db.session.scalars(
        select(Deal)
        .where(Deal.status == "on_hold", Deal.hold_reason == reason)
        .options(selectinload(Deal.account), selectinload(Deal.rep), selectinload(Deal.decisions))
        .order_by(Deal.updated_at)
    ).all()
    return render_template("admin/queue.html", deals=deals, reason=reason, queues=HOLD_REASON, counts=_queue_counts())


def _queue_counts() -> dict[str, int]:
    counts = dict(
        db.session.execute(
            select(Deal.hold_reason, func.count()).where(Deal.status == "on_hold").group_by(Deal.hold_reason)
        ).all()
    )
    counts["registrations"] = registrations.waiting_for_a_rep()
    counts["responses"] = db.session.scalar(
        select(func.count())
        .select_from(PartnerRequest)
        .join(Deal, Deal.id == PartnerRequest.deal_id)
        .where(*partner_requests.AWAITED, PartnerRequest.expires_at <= utcnow())
    )
    return counts


RESPONSES_LISTED = 500


@bp.get("/responses")
def responses():
    """The partner answers awaited, overdue first: what the sweep recycles, or the manager does."""
    now = utcnow()
    awaited = dashboard.awaited(dashboard.Scope(), limit=RESPONSES_LISTED)
    return render_template(
        "admin/responses.html",
        requests=[(dashboard.deadline(r, now), r) for r in awaited],
        limit=RESPONSES_LISTED,
        recycle=engagement.in_force().recycle,
        queues=HOLD_REASON,
        counts=_queue_counts(),
    )


@bp.route("/registrations", methods=["GET", "POST"], endpoint="registrations")
@keeps_answers
def registrations_to_assign():
    """Partners' registrations for accounts without a rep: the channel manager gives each one."""
    deals = registrations.to_assign()
    reps = db.session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.name)).all()
    form = AssignForm()
    form.rep_id.choices = opts([("", "Choose a rep")] + [(str(u.id), u.name) for u in reps])
    if form.validate_on_submit():
        deal = db.session.get(Deal, form.deal_id.data) if form.deal_id.data is not None else None
        if deal is None or deal.registration is None:
            abort(404)
        rep = db.session.get(User, form.rep_id.data)
        if attempt(form, registrations.assign, deal, rep, actor=current_user):
            db.session.commit()
            flash(f"Deal #{deal.id} is now {rep.name}'s to take up; they are told.", "success")
            return redirect(url_for("admin.registrations"))
    return render_form(
        "admin/registrations.html",
        form,
        deals=deals,
        reason="registrations",
        queues=HOLD_REASON,
        counts=_queue_counts(),
    )


@bp.route("/deals/<id:deal_id>/resolve", methods=["GET", "POST"])
@keeps_answers
def resolve(deal_id: int):
    deal = _deal_or_404(deal_id)
    if request.method == "POST":
        # A second submit, or another manager a moment earlier: say so rather than send them away.
        decisions.check_based_on(deal, sent_int("based_on"))
    if deal.status != "on_hold":
        flash("This deal is not waiting for a resolution.", "info")
        return redirect(url_for("rep.deal", deal_id=deal.id))
    if deal.hold_reason == "fulfilment":
        return redirect(url_for("admin.override", deal_id=deal.id))
    version = decisions.current(deal)
    view = audiences.staff_view(version) if version else None
    if deal.hold_reason == "needs_alignment":
        form = _decide_form(deal, decisions.propose(deal))
        if _decided(form, deal, kind="alignment"):
            db.session.commit()
            flash("Aligned: the decision and your reason are recorded, and both sides are told.", "success")
            return redirect(url_for("rep.deal", deal_id=deal_id, _anchor="routing"))
        return render_form("admin/resolve.html", form, deal=deal, s=view, contenders=[])

    form = ConflictForm(data={"based_on": _based_on(deal)})
    contenders = decisions.conflict_contenders(deal)
    form.keep.choices = opts(
        (str(d.id), f"#{d.id} · {d.title} · {_found_by(d)} · {DEAL_STATUS.word(d.status)}") for d in contenders
    )
    if form.validate_on_submit():
        kept = db.session.get(Deal, form.keep.data)
        if attempt(
            form,
            decisions.resolve_conflict,
            deal,
            keep=kept,
            reason=form.reason.data,
            reason_shared=form.reason_shared.data,
            actor=current_user,
            based_on=form.based_on.data,
        ):
            db.session.commit()
            flash("Resolved: the other deals are withdrawn, and their reps and partners told.", "success")
            return redirect(url_for("rep.deal", deal_id=form.keep.data, _anchor="routing"))
    return render_form("admin/resolve.html", form, deal=deal, s=view, contenders=contenders)


def _found_by(deal: Deal) -> str:
    rep = deal.rep.name if deal.rep else "no rep yet"
    if deal.registration is not None:
        return f"registered by {deal.registration.partner.name} · {rep}"
    return rep


@bp.route("/deals/<id:deal_id>/override", methods=["GET", "POST"])
@keeps_answers
def override(deal_id: int):
    deal = _deal_or_404(deal_id)
    if deal.account is None or deal.status not in lifecycle.DECIDABLE:
        flash("This deal cannot be routed now.", "info")
        return redirect(url_for("rep.deal", deal_id=deal.id))
    if deal.status == "on_hold" and decisions.current(deal) is None:
        flash("This registration waits for its conflict to be resolved before it can be routed.", "info")
        return redirect(url_for("admin.resolve", deal_id=deal.id))
    proposal = decisions.propose(deal)
    form = _decide_form(deal, proposal)
    if _decided(form, deal, kind="override"):
        db.session.commit()
        flash("Overridden: both the engine's proposal and your decision are kept.", "success")
        return redirect(url_for("rep.deal", deal_id=deal_id, _anchor="routing"))
    names = {pid: p.name for pid, p in proposal.facts.partners.items()}
    return render_form(
        "admin/override.html",
        form,
        deal=deal,
        proposal=proposal.decision,
        proposal_words=audiences.describe(proposal.decision, names, audiences.vendor_name()),
    )


@bp.route("/rules", methods=["GET", "POST"])
@keeps_answers
def rules():
    current = engagement.in_force()
    form = RulesForm(data=current.as_form())
    if form.validate_on_submit() and attempt(
        form,
        engagement.set_rules,
        threshold=form.threshold.data,
        ties=form.ties.data,
        recycle=form.recycle.data,
        actor=current_user,
    ):
        db.session.commit()
        flash("Rules of engagement saved. Decisions already made keep the rules they used.", "success")
        return redirect(url_for("admin.rules"))
    return render_form("admin/rules.html", form, current=current, what_if=_what_if_form(current))


def _what_if_form(current, formdata=None) -> WhatIfForm:
    today = datetime.now(UTC).date()
    defaults = {**current.as_form(), "since": today - timedelta(days=90), "until": today}
    # Its fields are named apart (`try-threshold`) from the rules form's on the same page.
    return WhatIfForm(formdata=formdata, data=defaults, prefix="try")


@bp.get("/rules/what-if")
def what_if():
    """How every decision of a period would have come out under other rules, replayed from what each stored."""
    current = engagement.in_force()
    form = _what_if_form(current, formdata=request.args or None)
    result = None
    if request.args and form.validate():
        if form.until.data < form.since.data:
            form.until.errors = [*form.until.errors, "The last day comes after the first."]
        else:
            result = whatif.replay(
                threshold=form.threshold.data, ties=form.ties.data, since=form.since.data, until=form.until.data
            )
    status = 400 if request.args and form.errors else 200
    page = render_template(
        "admin/what_if.html",
        form=form,
        current=current,
        result=result,
        name_of=_party_namer(),
    )
    return page, status


def _party_namer():
    vendor = current_app.config["VENDOR_NAME"]

    def name_of(party, version) -> str:
        names = {p["id"]: p["name"] for p in version.input.get("partners", [])}
        return audiences.party_name(party, names, vendor) if party is not None else "nobody yet"

    return name_of


@bp.post("/deals/<id:deal_id>/recycle/<id:request_id>")
def recycle(deal_id: int, request_id: int):
    found = db.session.get(PartnerRequest, request_id)
    if found is None or found.deal_id != deal_id:
        abort(404)
    partners.lapse(found, actor=current_user)
    db.session.commit()
    flash(f"Sent back to routing; {found.partner.name} will not be proposed again.", "success")
    return redirect(url_for("rep.deal", deal_id=deal_id, _anchor="routing"))
