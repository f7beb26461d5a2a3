"""The rep's pages: deal list, the questionnaire sections, the deal page and what a rep does on it."""

import dataclasses
from datetime import UTC, datetime

import pycountry
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ... import charts, exports, tokens
from ...deals import (
    audiences,
    customer,
    dashboard,
    decisions,
    documents,
    lifecycle,
    partner_requests,
    queries,
    services,
)
from ...deals import snapshot as snapshots
from ...deals.questionnaire import SECTION_KEYS, SECTIONS, missing_answers, next_section
from ...errors import DomainError, FieldErrors
from ...extensions import db
from ...models import Partner, User
from ...models.types import utcnow
from ...vocabulary import DEAL_STATUS, ORIGINATOR, country_name
from .. import partner_choices
from ..errors import keeps_answers
from ..forms import ButtonForm, config_choices, country_choices, opts, with_current
from ..inputs import page_number, sent_date, sent_id, sent_int
from ..pages import attach_errors, attempt, pdf, render_form
from . import bp
from .forms import (
    AccountForm,
    CloseForm,
    DealFilterForm,
    LandscapeForm,
    LinkForm,
    NeedForm,
    OriginForm,
    QualificationForm,
)

# The most deals one export holds: a filter narrows a larger list.
EXPORT_LIMIT = 50_000

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
    page = page_number(request.args.get("page"))
    filters = _deal_filters()
    pagination = queries.deal_list(current_user, page=page, **filters)
    return render_template(
        "rep/deals.html",
        form=form,
        pagination=pagination,
        new_form=ButtonForm(),
        scoped=_scope_words(filters["scope"]),
        list_args=_list_args(filters),
    )


def _list_args(filters: dict) -> dict:
    """The query arguments that give this list again (its pages, its export)."""
    args = filters["scope"].args()
    if not current_user.is_admin:
        args.pop("rep", None)  # a rep's list is always their own
    if filters["search"]:
        args["q"] = filters["search"]
    if filters["status"]:
        args["status"] = filters["status"]
    return args


def _scope_words(scope: queries.Scope) -> list[str]:
    """What narrows the list beyond the form's own fields, in words, to show above it."""
    words = []
    if scope.rep_id is not None and current_user.is_admin:
        rep = db.session.get(User, scope.rep_id)
        words.append(f"rep: {rep.name if rep else 'unknown'}")
    if scope.country:
        words.append(f"country: {country_name(scope.country)}")
    if scope.partner_id is not None:
        partner = db.session.get(Partner, scope.partner_id)
        words.append(f"partner: {partner.name if partner else 'unknown'}")
    if scope.start or scope.end:
        words.append(f"started: {scope.start or '…'} to {scope.end or '…'}")
    if scope.waiting is not None:
        low, high = scope.waiting
        waited = f"{low} to {high} days" if high is not None else f"over {low - 1} days"
        words.append(f"waiting for the customer: {waited}")
    return words


def _deal_filters() -> dict:
    """The deal list's filters from the query; nonsense in any is no filter."""
    status = request.args.get("status") or None
    return {
        "status": status if status in DEAL_STATUS else None,
        "search": request.args.get("q", "")[:100],
        "scope": _scope(),
    }


def _scope() -> queries.Scope:
    """Whose deals, from the query (the deal list's and the dashboard's); a rep's are always their own."""
    country = (request.args.get("country") or "").upper()
    start, end = sent_date("from"), sent_date("to")
    if start and end and start > end:
        start, end = end, start
    return queries.scope_for(
        current_user,
        rep_id=sent_id("rep"),
        country=country if len(country) == 2 and pycountry.countries.get(alpha_2=country) is not None else None,
        # Chosen from the filter's list, or typed by name where there are too many partners to list.
        partner_id=sent_id("partner") or partner_choices.named(request.args.get("partner_name", "")),
        start=start,
        end=end,
        waiting=queries.waiting_range(request.args.get("waiting")),
    )


@bp.get("/dashboard")
def dashboard_page():
    """Where the deals stand and what waits: the channel manager's pipeline (by rep and country), or a rep's own."""
    scope = dataclasses.replace(_scope(), waiting=None)  # the dashboard shows every age
    reps = (
        db.session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.name)).all()
        if current_user.is_admin
        else []
    )
    by_quarter = dashboard.routes_by_quarter(scope)
    names = {
        ("vendor", "vendor"): "We lead and fulfil",
        ("vendor", "partner"): "We lead, a partner fulfils",
        ("partner", "partner"): "A partner leads and fulfils",
        ("partner", "vendor"): "A partner leads, we fulfil",
    }
    routes_chart = charts.bar_chart(
        "Deals routed per quarter, by route",
        [quarter for quarter, _ in by_quarter],
        [(names[route], [counts[route] for _, counts in by_quarter]) for route in dashboard.ROUTES],
    )
    pipeline = dashboard.pipeline_by_quarter(scope)
    pipeline_chart = charts.bar_chart(
        "Deals started per quarter, by where they stand now",
        [quarter for quarter, _ in pipeline],
        [(stage, [counts[stage] for _, counts in pipeline]) for stage, _ in dashboard.PIPELINE],
    )
    return render_template(
        "rep/dashboard.html",
        d=dashboard.build(scope),
        pipeline=pipeline,
        pipeline_chart=pipeline_chart,
        stages=dashboard.PIPELINE,
        waiting_key=queries.waiting_key,
        filter_partners=partner_choices.for_filter(scope.partner_id),
        by_quarter=by_quarter,
        route_names=names,
        routes_chart=routes_chart,
        scope=scope,
        reps=reps,
        countries=country_choices(),
        now=utcnow(),
    )


@bp.get("/deals.csv", defaults={"fmt": "csv"})
@bp.get("/deals.xlsx", defaults={"fmt": "xlsx"})
def deals_csv(fmt: str):
    """The deals as listed (the same filters), with the decision in force and the credit each party holds."""
    deals = db.session.scalars(queries.filtered_deals(current_user, **_deal_filters()).limit(EXPORT_LIMIT))
    deals = list(deals)
    credits = queries.credits_in_force([d.id for d in deals])
    header = (
        "deal", "account", "domain", "country", "status", "rep", "found by", "finding partner", "estimated value",
        "currency", "expected close", "credit in force", "closed on", "final value", "why lost",
    )  # fmt: skip

    def holder(credit) -> str:
        return credit.partner.name if credit.partner is not None else current_app.config["VENDOR_NAME"]

    def row(deal):
        held: dict[str, list[str]] = {}
        for credit in credits[deal.id]:
            held.setdefault(holder(credit), []).append(credit.credit)
        return (
            deal.id,
            deal.account.name if deal.account else "",
            deal.account.domain if deal.account else "",
            deal.account.country if deal.account else "",
            DEAL_STATUS.word(deal.status),
            deal.rep.name if deal.rep else "",
            ORIGINATOR.word(deal.originator) if deal.originator else "",
            deal.originator_partner.name if deal.originator_partner else "",
            deal.estimated_value,
            deal.currency,
            deal.close_date,
            "; ".join(f"{name}: {', '.join(kinds)}" for name, kinds in held.items()),
            deal.closed_on,
            deal.final_value,
            deal.lost_reason,
        )

    return exports.download(fmt, "deals", header, (row(d) for d in deals))


@bp.post("/deals/new")
def new_deal():
    deal = services.start_deal(rep=current_user)
    db.session.commit()
    return redirect(url_for("rep.section", deal_id=deal.id, key="account"))


def _partner_choices(blank: str, *keep: int | None, other: bool = False) -> tuple[list, bool]:
    """A partner select's choices, and whether every active partner is among them (see partner_choices)."""
    offered = partner_choices.offered(*keep)
    choices = [("", blank)] + [(p.id, p.name if p.is_active else f"{p.name} (inactive)") for p in offered.partners]
    if other:
        choices.append((0, "Other (type the name)"))
    return opts(choices), offered.complete


def _changing_account(deal) -> bool:
    """Whether the account section offers search and creation instead of editing the linked account."""
    return deal.account is None or request.values.get("change") == "1"


def _account_editable(deal) -> bool:
    """Whether the account section edits the linked account's details (the account policy)."""
    return _changing_account(deal) or services.may_edit_account(current_user, deal.account)


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
        form.originator_partner_id.choices, form.partners_listed = _partner_choices(
            "Choose a partner", deal.originator_partner_id
        )
        if not form.partners_listed:
            form.originator_partner_id.description = "Too many partners to list: type the partner's name below."
    elif key == "need":
        # Answers given under an earlier configuration stay visible and selectable.
        form.pain_points.choices = config_choices("PAIN_POINTS", blank=False)
        form.solutions.choices = config_choices("CATALOGUE", blank=False)
        form.pain_points.choices = with_current(form.pain_points.choices, deal.pain_points)
        form.solutions.choices = with_current(form.solutions.choices, deal.solutions)
        form.currency.choices = config_choices("CURRENCIES")
    elif key == "landscape":
        keep = [r.partner_id for r in deal.landscape]
        choices, form.partners_listed = _partner_choices("Choose a partner", *keep, other=True)
        for entry in form.rows.entries:
            entry.form.partner_id.choices = choices
            if not form.partners_listed:
                entry.form.partner_id.description = "Only the partners named here are listed."
                entry.form.partner_name.label.text = "Or type the partner's name"
    return form


@bp.get("/partners/names")
def partner_names():
    """The names of our partners like what the rep has typed (?q=), for the page to suggest."""
    return {"names": partner_choices.suggested(request.args.get("q", ""))}


def _form_values(form) -> dict:
    return {name: field.data for name, field in form._fields.items() if name != "csrf_token"}


def _save(deal, key: str, form) -> None:
    if key == "account":
        values = _form_values(form)
        if not _account_editable(deal):
            # Another rep's account: its details are not this form's to send, whatever was posted.
            values = {k: v for k, v in values.items() if k not in services.ACCOUNT_FIELDS}
        services.save_account_section(deal, values, actor=current_user, replacing=_changing_account(deal))
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
        account_editable=key != "account" or _account_editable(deal),
        read_only_account=(
            services.read_only_account_message(deal.account)
            if key == "account" and not _account_editable(deal)
            else None
        ),
        complete_form=ButtonForm(),
    )


@bp.route("/deals/<id:deal_id>/<key>", methods=["GET", "POST"])
@keeps_answers
def section(deal_id: int, key: str):
    if key not in SECTION_KEYS:
        abort(404)
    # A save reads only the deal: the account and partner rows are for drawing the page (the stepper).
    submitted = request.method == "POST"
    deal = queries.get_deal_or_404(current_user, deal_id, with_answers=not submitted, to_change=submitted)
    if deal.status not in lifecycle.EDITABLE:
        flash("This deal has left the questionnaire; its answers can no longer be changed here.", "info")
        return redirect(url_for("rep.deal", deal_id=deal.id))
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
    try:
        _save(deal, key, form)
    except FieldErrors as exc:
        db.session.rollback()
        deal = queries.get_deal_or_404(current_user, deal_id)
        existing = exc.context.get("existing_account")
        suggestions = [db.session.get(type(existing), existing.id)] if existing is not None else []
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
    except services.Incomplete as exc:
        db.session.rollback()
        key = next(k for k in SECTION_KEYS if k in exc.missing)
        form = _build_form(deal, key, submitted=False)
        unplaced = attach_errors(form, exc.missing[key])
        body, _ = _render_section(deal, key, form, form_errors=unplaced, incomplete=exc.missing)
        return body, 400
    db.session.commit()
    flash(
        "Questionnaire complete. Next: create the customer's link, so they can say how they want it delivered.",
        "success",
    )
    return redirect(url_for("rep.deal", deal_id=deal.id, _anchor="customer-link"))


@bp.post("/deals/<id:deal_id>/complete")
def complete(deal_id: int):
    return _complete(queries.get_deal_or_404(current_user, deal_id))


@bp.post("/deals/<id:deal_id>/discard")
def discard(deal_id: int):
    deal = queries.get_deal_or_404(current_user, deal_id)
    if not ButtonForm().validate():
        abort(400)
    title = deal.title
    services.discard_draft(deal, actor=current_user)
    db.session.commit()
    flash(f"The draft “{title}” is discarded.", "success")
    return redirect(url_for("rep.deals"))


def _deal_page(deal, *, close_form=None, status: int = 200):
    link = tokens.current_link(deal)
    version = decisions.current(deal)
    proposal = None
    if deal.status in lifecycle.ROUTABLE and deal.account is not None:
        proposal = decisions.propose(deal)
    requests = partner_requests.of_deal(deal.id) if version else []
    body = render_template(
        "rep/deal.html",
        deal=deal,
        sections=SECTIONS,
        missing=missing_answers(deal),
        history=queries.deal_history(deal),
        complete_form=ButtonForm(),
        editable=deal.status in lifecycle.EDITABLE,
        link=link,
        link_state=link.state(datetime.now(UTC)) if link else "none",
        link_url=customer.link_url(link) if link else None,
        link_form=LinkForm(formdata=None, language=link.language if link else "en"),
        linkable=deal.status in lifecycle.ROUTABLE,
        comparison=customer.compare(deal),
        outbox_messages=queries.deal_messages(deal),
        customer_contact=audiences.customer_contact(deal),
        version=version,
        s=audiences.staff_view(version) if version else None,
        proposal=proposal.decision if proposal else None,
        proposal_words=audiences.describe(
            proposal.decision,
            {pid: p.name for pid, p in proposal.facts.partners.items()},
            audiences.vendor_name(),
        )
        if proposal
        else None,
        partner_requests=requests,
        current_requests=[r for r in requests if version and r.decision_id == version.id],
        documents=documents.of_version(version) if version else [],
        copy_labels=_copy_labels(version),
        close_form=close_form or CloseForm(formdata=None, closed_on=datetime.now(UTC).date()),
        closable=deal.status in lifecycle.CLOSABLE,
        now=datetime.now(UTC),
    )
    return body, status


def _copy_labels(version) -> dict[str, str]:
    if version is None:
        return {}
    names = audiences.snapshot_names(snapshots.of(version))
    return {"vendor": "vendor copy", **{f"partner-{pid}": f"{name}'s copy" for pid, name in names.items()}}


@bp.get("/deals/<id:deal_id>")
def deal(deal_id: int):
    return _deal_page(queries.get_deal_or_404(current_user, deal_id, for_page=True))


@bp.post("/deals/<id:deal_id>/link")
def create_link(deal_id: int):
    deal = queries.get_deal_or_404(current_user, deal_id)
    form = LinkForm()
    if not form.validate():
        flash("Choose the customer's language.", "error")
        return redirect(url_for("rep.deal", deal_id=deal_id))
    customer.create_link(deal, language=form.language.data, actor=current_user)
    db.session.commit()
    flash("The customer's link is ready: copy it, or have Intake email it.", "success")
    return redirect(url_for("rep.deal", deal_id=deal_id, _anchor="customer-link"))


def _live_link_or_redirect(deal):
    link = tokens.current_link(deal)
    if link is None or link.state(datetime.now(UTC)) in ("revoked", "expired"):
        flash("There is no live link: create a new one.", "error")
        return None
    return link


@bp.post("/deals/<id:deal_id>/link/email")
def email_link(deal_id: int):
    deal = queries.get_deal_or_404(current_user, deal_id)
    link = _live_link_or_redirect(deal)
    if link is not None:
        try:
            customer.email_link(link, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(f"Email to {deal.contact_email} queued: it goes out with the next mail run.", "success")
    return redirect(url_for("rep.deal", deal_id=deal_id, _anchor="customer-link"))


@bp.post("/deals/<id:deal_id>/link/revoke")
def revoke_link(deal_id: int):
    deal = queries.get_deal_or_404(current_user, deal_id)
    link = _live_link_or_redirect(deal)
    if link is not None:
        customer.revoke_link(link, actor=current_user)
        db.session.commit()
        flash("The link no longer works. Create a new one when you need it.", "success")
    return redirect(url_for("rep.deal", deal_id=deal_id, _anchor="customer-link"))


@bp.get("/deals/<id:deal_id>/decisions/<id:version>/<copy>.pdf")
def summary_pdf(deal_id: int, version: int, copy: str):
    """The stored summary PDF of a decision version: read, never rendered, in a request."""
    deal = queries.get_deal_or_404(current_user, deal_id)
    found = next((d for d in deal.decisions if d.version == version), None)
    document = documents.stored(found.id, copy) if found and copy in documents.copies(found) else None
    if document is None:
        abort(404)
    return pdf(document, f"deal-{deal.id}-v{found.version}-{copy}.pdf")


@bp.post("/deals/<id:deal_id>/route")
def route(deal_id: int):
    deal = queries.get_deal_or_404(current_user, deal_id)
    form = ButtonForm()
    if not form.validate():
        abort(400)
    partner_id = sent_int("partner_id")
    try:
        decisions.route_deal(deal, actor=current_user, partner_id=partner_id)
    except FieldErrors as exc:
        db.session.rollback()
        flash(exc.message if not exc.fields else next(iter(exc.fields.values())), "error")
        return redirect(url_for("rep.deal", deal_id=deal_id, _anchor="routing"))
    db.session.commit()
    if deal.status == "on_hold":
        flash("The deal is on hold for the channel manager: see below what it waits for.", "info")
    else:
        flash("Routed: both sides have been told.", "success")
    return redirect(url_for("rep.deal", deal_id=deal_id, _anchor="routing"))


@bp.post("/deals/<id:deal_id>/close")
@keeps_answers
def close(deal_id: int):
    deal = queries.get_deal_or_404(current_user, deal_id)
    form = CloseForm()
    if form.validate() and attempt(
        form,
        services.close_deal,
        deal,
        outcome=form.outcome.data,
        closed_on=form.closed_on.data,
        final_value=form.final_value.data,
        reason=form.lost_reason.data,
        actor=current_user,
    ):
        db.session.commit()
        flash(f"Recorded: the deal is {deal.status}.", "success")
        return redirect(url_for("rep.deal", deal_id=deal_id))
    return _deal_page(queries.get_deal_or_404(current_user, deal_id, for_page=True), close_form=form, status=400)
