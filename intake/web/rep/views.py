"""The rep's pages: deal list, the questionnaire sections, the deal page."""

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ... import tokens
from ...deals import customer, partners, queries, routing, services, summary
from ...deals.questionnaire import SECTION_KEYS, SECTIONS, missing_answers, next_section
from ...extensions import csrf, db
from ...models import Partner
from ...models.accounts import STRENGTHS
from ...models.deals import STATUSES
from ..forms import ButtonForm, config_choices, country_choices, country_name, opts, with_current
from ..link.forms import DURATION_WORDS, STRENGTH_WORDS
from ..pages import attach_errors, render_form
from . import bp
from .forms import (
    AccountForm,
    DealFilterForm,
    LandscapeForm,
    LinkForm,
    NeedForm,
    OriginForm,
    QualificationForm,
)

FORMS = {
    "account": AccountForm,
    "origin": OriginForm,
    "need": NeedForm,
    "qualification": QualificationForm,
    "landscape": LandscapeForm,
}


@bp.get("/")
def index():
    return redirect(url_for("rep.deals"))


@bp.get("/deals")
def deals():
    form = DealFilterForm(request.args)
    status = request.args.get("status") or None
    if status not in STATUSES:
        status = None
    page = request.args.get("page", 1, type=int)
    pagination = queries.deal_list(current_user, status=status, search=request.args.get("q", "")[:100], page=page)
    return render_template("rep/deals.html", form=form, pagination=pagination, new_form=ButtonForm())


@bp.post("/deals/new")
def new_deal():
    deal = services.start_deal(rep=current_user)
    db.session.commit()
    return redirect(url_for("rep.section", deal_id=deal.id, key="account"))


def _partner_choices(blank: str, *keep: int | None, other: bool = False) -> list:
    partners = db.session.scalars(
        select(Partner)
        .where(db.or_(Partner.is_active.is_(True), Partner.id.in_([k for k in keep if k])))
        .order_by(Partner.name)
    )
    choices = [("", blank)] + [(p.id, p.name if p.is_active else f"{p.name} (inactive)") for p in partners]
    if other:
        choices.append((0, "Other (type the name)"))
    return opts(choices)


def _changing_account(deal) -> bool:
    """Whether the account section offers search and creation instead of editing the linked account."""
    return deal.account is None or request.values.get("change") == "1"


def _initial(deal, key: str) -> dict:
    if key == "account":
        data = {f: getattr(deal, f) for f in services.CONTACT_FIELDS}
        if deal.account and not _changing_account(deal):
            data.update({f: getattr(deal.account, f) for f in services.ACCOUNT_FIELDS})
            data["account_id"] = deal.account.id
        return data
    if key == "landscape":
        rows = [
            {
                "partner_id": r.partner_id if r.partner_id else (0 if r.partner_name else None),
                "partner_name": r.partner_name,
                "strength": r.strength,
                "since": r.since,
                "does_what": r.does_what,
                "notes": r.notes,
            }
            for r in deal.landscape
        ]
        return {"partners_known": deal.partners_known, "rows": rows + [{}]}
    data = {f: getattr(deal, f) for f in services.SECTION_FIELDS[key]}
    if key == "qualification" and deal.has_decision_maker is not None:
        data["has_decision_maker"] = deal.has_decision_maker
    return data


def _build_form(deal, key: str, submitted: bool):
    form_class = FORMS[key]
    form = form_class() if submitted else form_class(formdata=None, data=_initial(deal, key))
    if key == "account":
        form.country.choices = country_choices()
        form.vertical.choices = config_choices("VERTICALS")
    elif key == "origin":
        form.originator_partner_id.choices = _partner_choices("Choose a partner", deal.originator_partner_id)
    elif key == "need":
        # Answers given under an earlier configuration stay visible and selectable.
        form.pain_points.choices = config_choices("PAIN_POINTS", blank=False)
        form.solutions.choices = config_choices("CATALOGUE", blank=False)
        form.pain_points.choices = with_current(form.pain_points.choices, deal.pain_points)
        form.solutions.choices = with_current(form.solutions.choices, deal.solutions)
        form.currency.choices = config_choices("CURRENCIES")
    elif key == "landscape":
        keep = [r.partner_id for r in deal.landscape]
        choices = _partner_choices("Choose a partner", *keep, other=True)
        for entry in form.rows.entries:
            entry.form.partner_id.choices = choices
    return form


def _form_values(form) -> dict:
    return {name: field.data for name, field in form._fields.items() if name != "csrf_token"}


def _save(deal, key: str, form) -> None:
    if key == "account":
        services.save_account_section(deal, _form_values(form), actor=current_user, replacing=_changing_account(deal))
    elif key == "landscape":
        rows = [
            {k: v for k, v in entry.form.data.items() if k != "remove"}
            for entry in form.rows.entries
            if not entry.form.remove.data
        ]
        services.save_landscape(deal, form.partners_known.data or None, rows, actor=current_user)
    else:
        services.save_section(deal, key, _form_values(form), actor=current_user)


def _render_section(deal, key: str, form, *, form_errors=(), incomplete=None, suggestions=()):
    missing = missing_answers(deal)
    search = request.args.get("q", "").strip()[:100]
    results = list(suggestions)
    if key == "account" and search:
        results += [a for a in services.find_accounts(search) if a not in results]
    return render_form(
        "rep/section.html",
        form,
        deal=deal,
        key=key,
        section=SECTIONS[SECTION_KEYS.index(key)],
        sections=SECTIONS,
        missing=missing,
        incomplete=incomplete,
        form_errors=list(form_errors),
        search=search,
        results=results,
        changing=key == "account" and _changing_account(deal),
        complete_form=ButtonForm(),
        strengths=STRENGTHS,
        country_name=country_name,
    )


@bp.route("/deals/<int:deal_id>/<key>", methods=["GET", "POST"])
@csrf.exempt  # the section form checks its own token, so a failure keeps every answer
def section(deal_id: int, key: str):
    deal = queries.get_deal_or_404(current_user, deal_id, with_answers=True)
    if key not in SECTION_KEYS:
        abort(404)
    if deal.status not in services.EDITABLE_STATUSES:
        flash("This deal has left the questionnaire; its answers can no longer be changed here.", "info")
        return redirect(url_for("rep.deal", deal_id=deal.id))
    submitted = request.method == "POST"
    form = _build_form(deal, key, submitted)
    if not submitted:
        return _render_section(deal, key, form)

    action = request.form.get("action", "save")
    if key == "landscape" and action == "add_row":
        if len(form.rows.entries) < form.rows.max_entries:
            form.rows.append_entry()
            form.rows.entries[-1].form.partner_id.choices = form.rows.entries[0].form.partner_id.choices
        return _render_section(deal, key, form)
    if not form.validate():
        return _render_section(deal, key, form)
    suggestions = []
    try:
        _save(deal, key, form)
    except services.FieldErrors as exc:
        db.session.rollback()
        deal = queries.get_deal_or_404(current_user, deal_id)
        if exc.existing_account is not None:
            suggestions.append(db.session.get(type(exc.existing_account), exc.existing_account.id))
        unplaced = attach_errors(form, exc.errors)
        return _render_section(
            deal, key, form, form_errors=unplaced or ["Some answers need another look."], suggestions=suggestions
        )
    db.session.commit()
    if action == "complete":
        return _complete(deal)
    # deal_id, not deal.id: the commit expired the deal and reading it would cost a query.
    if action == "next" and next_section(key):
        return redirect(url_for("rep.section", deal_id=deal_id, key=next_section(key)))
    if action == "review":
        return redirect(url_for("rep.deal", deal_id=deal_id))
    flash("Draft saved.", "success")
    return redirect(url_for("rep.section", deal_id=deal_id, key=key))


def _complete(deal):
    """Complete the questionnaire, or show the first section with missing answers beside their fields."""
    try:
        services.complete_deal(deal, actor=current_user)
    except services.NotEditable:
        flash("This deal is already complete.", "info")
        return redirect(url_for("rep.deal", deal_id=deal.id))
    except services.Incomplete as exc:
        key = next(k for k in SECTION_KEYS if k in exc.missing)
        form = _build_form(deal, key, submitted=False)
        unplaced = attach_errors(form, exc.missing[key])
        body, _ = _render_section(deal, key, form, form_errors=unplaced, incomplete=exc.missing)
        return body, 400
    db.session.commit()
    flash("Questionnaire complete: the deal now awaits the customer's answers.", "success")
    return redirect(url_for("rep.deal", deal_id=deal.id))


@bp.post("/deals/<int:deal_id>/complete")
def complete(deal_id: int):
    return _complete(queries.get_deal_or_404(current_user, deal_id))


@bp.get("/deals/<int:deal_id>")
def deal(deal_id: int):
    deal = queries.get_deal_or_404(current_user, deal_id)
    link = tokens.current_link(deal)
    return render_template(
        "rep/deal.html",
        **_routing_context(deal),
        deal=deal,
        sections=SECTIONS,
        missing=missing_answers(deal),
        history=queries.deal_history(deal),
        strengths=STRENGTHS,
        country_name=country_name,
        complete_form=ButtonForm(),
        editable=deal.status in services.EDITABLE_STATUSES,
        link=link,
        link_state=link.state(datetime.now(UTC)) if link else "none",
        link_url=customer.link_url(link) if link else None,
        link_form=LinkForm(formdata=None, language=link.language if link else "en"),
        linkable=deal.status in customer.LINKABLE_STATUSES,
        comparison=customer.compare(deal),
        strength_words=STRENGTH_WORDS,
        duration_words=DURATION_WORDS,
        outbox_messages=queries.deal_messages(deal),
    )


@bp.post("/deals/<int:deal_id>/link")
def create_link(deal_id: int):
    deal = queries.get_deal_or_404(current_user, deal_id)
    form = LinkForm()
    if not form.validate():
        flash("Choose the customer's language.", "error")
        return redirect(url_for("rep.deal", deal_id=deal_id))
    try:
        customer.create_link(deal, language=form.language.data, actor=current_user)
    except customer.NotLinkable:
        flash("Complete the questionnaire first: the customer's link comes after it.", "error")
        return redirect(url_for("rep.deal", deal_id=deal_id))
    db.session.commit()
    flash("The customer's link is ready: copy it, or have Intake email it.", "success")
    return redirect(url_for("rep.deal", deal_id=deal_id, _anchor="customer-link"))


def _live_link_or_redirect(deal):
    link = tokens.current_link(deal)
    if link is None or link.state(datetime.now(UTC)) in ("revoked", "expired"):
        flash("There is no live link: create a new one.", "error")
        return None
    return link


@bp.post("/deals/<int:deal_id>/link/email")
def email_link(deal_id: int):
    deal = queries.get_deal_or_404(current_user, deal_id)
    link = _live_link_or_redirect(deal)
    if link is not None:
        try:
            customer.email_link(link, actor=current_user)
        except services.FieldErrors as exc:
            flash(next(iter(exc.errors.values())), "error")
        else:
            db.session.commit()
            flash(f"Email to {deal.contact_email} queued: it goes out with the next mail run.", "success")
    return redirect(url_for("rep.deal", deal_id=deal_id, _anchor="customer-link"))


@bp.post("/deals/<int:deal_id>/link/revoke")
def revoke_link(deal_id: int):
    deal = queries.get_deal_or_404(current_user, deal_id)
    link = _live_link_or_redirect(deal)
    if link is not None:
        customer.revoke_link(link, actor=current_user)
        db.session.commit()
        flash("The link no longer works. Create a new one when you need it.", "success")
    return redirect(url_for("rep.deal", deal_id=deal_id, _anchor="customer-link"))


def _routing_context(deal) -> dict:
    """The decision in force, its versions, and the engine's proposal while the deal can be routed."""
    decision = routing.current_decision(deal)
    proposal = None
    if deal.status in routing.ROUTABLE_STATUSES and deal.account is not None:
        _, proposal = routing.propose(deal)
    outputs = [
        o for o in (proposal, decision.output if decision else None, decision.proposal if decision else None) if o
    ]
    names = routing.partner_names(*outputs)
    return {
        "decision": decision,
        "decision_words": routing.describe(decision.output, names) if decision else None,
        "engine_words": routing.describe(decision.proposal, names) if decision and decision.proposal else None,
        "proposal": proposal,
        "proposal_words": routing.describe(proposal, names) if proposal else None,
        "route_form": ButtonForm(),
        "partner_requests": partners.open_requests(deal.id),
        "documents": summary.documents_for(decision) if decision else [],
        "now": datetime.now(UTC),
    }


@bp.get("/deals/<int:deal_id>/decisions/<int:version>/<copy>.pdf")
def summary_pdf(deal_id: int, version: int, copy: str):
    """The stored summary PDF of a decision version: read, never rendered, in a request."""
    deal = queries.get_deal_or_404(current_user, deal_id)
    decision = next((d for d in deal.decisions if d.version == version), None)
    document = summary.stored(decision.id, copy) if decision and copy in summary.COPIES else None
    if document is None:
        abort(404)
    return (
        document.data,
        200,
        {
            "Content-Type": "application/pdf",
            # Built from the checked route values, never from stored text.
            "Content-Disposition": f'inline; filename="deal-{deal.id}-v{version}-{copy}.pdf"',
        },
    )


@bp.post("/deals/<int:deal_id>/route")
def route(deal_id: int):
    deal = queries.get_deal_or_404(current_user, deal_id)
    partner_id = request.form.get("partner_id", type=int)
    try:
        routing.route_deal(deal, actor=current_user, partner_id=partner_id)
    except routing.NotRoutable:
        flash("This deal cannot be routed now.", "error")
        return redirect(url_for("rep.deal", deal_id=deal_id))
    except routing.BadChoice as exc:
        flash(str(exc), "error")
        return redirect(url_for("rep.deal", deal_id=deal_id, _anchor="routing"))
    db.session.commit()
    messages = {
        "routed": "Routed.",
        "on_hold": "The deal is on hold for the channel manager: see the routing below.",
    }
    flash(messages.get(deal.status, "Routed."), "success" if deal.status == "routed" else "info")
    return redirect(url_for("rep.deal", deal_id=deal_id, _anchor="routing"))
