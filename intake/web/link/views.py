"""The customer's form at /p/<token>."""

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from ... import tokens
from ...deals import audiences, customer, lifecycle
from ...errors import DomainError, FieldErrors
from ...extensions import db
from ...i18n import LANGUAGES
from ...models import CustomerLink, Deal
from .. import partner_choices
from ..errors import keeps_answers
from ..forms import opts
from ..pages import attach_errors, has_errors
from . import bp
from .forms import AnswerForm


def _problem(status: int):
    """A page that says what to do and nothing about any deal."""
    db.session.commit()  # keep the record of a miss
    return render_template("link/problem.html", status=status, vendor=current_app.config["VENDOR_NAME"]), status


def _page_reads() -> tuple:
    """What the customer's page reads of the deal, in the link's own statement. An answer reads none of it
    before the deal's write lock (see lifecycle), so that what it changes is read as it is now. (A function:
    tokens builds the statement with them on first use; built at import, they would configure every mapper
    as the module loads.)"""
    return (
        joinedload(CustomerLink.deal).joinedload(Deal.account),
        joinedload(CustomerLink.deal).joinedload(Deal.customer_answer),
        joinedload(CustomerLink.deal).joinedload(Deal.customer_relationships),
        # The customer's contact, until they are told of another, is the rep who sent the link.
        joinedload(CustomerLink.deal).joinedload(Deal.rep),
    )


def _load(token: str, reads=None):
    try:
        link = tokens.resolve(token, address=request.remote_addr or "unknown", reads=reads)
    except tokens.Guessing:
        return None, _problem(429)
    except tokens.LinkGone:
        return None, _problem(410)
    if link is None:
        return None, _problem(404)
    g.link_language = link.language
    return link, None


def _partner_choices(deal, named: list[int | None]) -> tuple[list, bool]:
    """The select's choices, those serving the customer's country first, and whether every partner is among them
    (if not, the customer types the name of any other: see partner_choices)."""
    country = deal.account.country if deal.account else None
    # Their names and countries are all the choices show: no partner objects for the session to track.
    offered = partner_choices.offered(*named, active_only=True)
    local = [p for p in offered.partners if country and country in p.countries]
    local_ids = {p.id for p in local}
    others = [p for p in offered.partners if p.id not in local_ids]
    choices = opts([("", _("Choose a partner…"))])
    choices += [c for p in local for c in opts([(p.id, p.name)])]
    for c in choices[1:]:
        c.optgroup = _("In your country")
    rest = opts([(p.id, p.name) for p in others])
    for c in rest:
        c.optgroup = _("Other partners") if local else None
    return choices + rest, offered.complete


def _initial(deal) -> dict:
    answer = deal.customer_answer
    if answer is not None:
        data = {field: getattr(answer, field) for field in customer.ANSWER_FIELDS}
        rows = deal.customer_relationships
        data["rows"] = [
            {
                "partner_id": r.partner_id,
                "partner_name": r.partner_name,
                "duration": r.duration,
                "strength": r.strength,
                "does_what": r.does_what,
            }
            for r in rows
        ] or [{}]
        # The chosen partner is kept by identity; on the page it is the row that names it.
        data["fulfilment_row"] = next(
            (
                index
                for index, r in enumerate(rows)
                if answer.fulfilment == "partner"
                and (
                    (r.partner_id and r.partner_id == answer.fulfilment_partner_id)
                    or (not r.partner_id and r.partner_name == answer.fulfilment_partner_name)
                )
            ),
            None,
        )
        data["consent"] = answer.consented_at is not None
        return data
    return {
        "company_name": deal.account.name if deal.account else "",
        "contact_name": deal.contact_name,
        "contact_title": deal.contact_title,
        "contact_email": deal.contact_email,
        "contact_phone": deal.contact_phone,
        "rows": [{}],
    }


def _build_form(deal, submitted: bool) -> AnswerForm:
    form = AnswerForm() if submitted else AnswerForm(formdata=None, data=_initial(deal))
    return _set_rows(form)


def _set_rows(form: AnswerForm) -> AnswerForm:
    """Which row delivers: one choice per partner row."""
    form.fulfilment_row.choices = opts((str(i), str(i)) for i in range(len(form.rows.entries)))
    return form


def _set_partner_choices(form: AnswerForm, deal) -> bool:
    """Set each row's partner choices; return whether every partner is among them."""
    choices, complete = _partner_choices(deal, [entry.form.partner_id.data for entry in form.rows.entries])
    for entry in form.rows.entries:
        entry.form.partner_id.choices = choices
        if not complete:
            entry.form.partner_name.label.text = _("Partner's name")
            entry.form.partner_name.description = _(
                "Type their name: we suggest names as you type, and recognise our partners by name."
            )
    return complete


def _row_names(form: AnswerForm) -> list[str]:
    """Each partner row by the partner's name, once the customer has named it."""
    names = []
    for entry in form.rows.entries:
        row = entry.form
        chosen = {str(c.value): c.label for c in row.partner_id.choices}.get(str(row.partner_id.data))
        names.append(chosen if row.partner_id.data and chosen else (row.partner_name.data or "").strip())
    return names


def _render(link, form, status: int = 200):
    token = request.view_args["token"]
    complete = _set_partner_choices(form, link.deal)
    return render_template(
        "link/answer.html",
        form=form,
        deal=link.deal,
        token=token,
        vendor=current_app.config["VENDOR_NAME"],
        languages=LANGUAGES,
        language=str(get_locale()),
        suggestions=None if complete else url_for("link.partner_names", token=token),
        answered=link.deal.customer_answer is not None,
        expires_at=link.expires_at,
        contact=audiences.customer_contact(link.deal),
        row_names=_row_names(form),
    ), status


def _thanks(link):
    deal = link.deal
    return render_template(
        "link/thanks.html",
        deal=deal,
        contact=audiences.customer_contact(deal),
        vendor=current_app.config["VENDOR_NAME"],
        languages=LANGUAGES,
        language=str(get_locale()),
        token=request.view_args["token"],
    )


@bp.get("/<token>")
def answer(token: str):
    link, problem = _load(token, _page_reads)
    if problem:
        return problem
    if customer.mark_opened(link):
        db.session.commit()
    if not customer.answerable(link.deal):
        return _thanks(link)
    return _render(link, _build_form(link.deal, submitted=False))


@bp.get("/<token>/partners")
def partner_names(token: str):
    """The names of our partners like what the customer has typed (?q=), for the page to suggest."""
    _, problem = _load(token)
    if problem:
        return problem
    return {"names": partner_choices.suggested(request.args.get("q", ""))}


@bp.post("/<token>")
@keeps_answers
def submit(token: str):
    link, problem = _load(token)
    if problem:
        return problem
    adding_a_row = request.form.get("action") == "add_row"
    # An answer changes the deal: its write lock first, so the deal is read once, as it is now (see lifecycle).
    deal = link.deal if adding_a_row else lifecycle.lock_before_reading(link.deal_id)
    if deal is None:
        return _problem(404)
    if not customer.answerable(deal):
        return redirect(url_for("link.answer", token=token))
    form = _build_form(deal, submitted=True)
    if adding_a_row:
        if len(form.rows.entries) < form.rows.max_entries:
            form.rows.append_entry()
        return _render(link, _set_rows(form))
    valid = form.validate()
    answer = {k: v for k, v in form.data.items() if k in customer.ANSWER_FIELDS}
    rows = [entry.form.data for entry in form.rows.entries]
    if not valid:
        # Every problem in one round: the form's own checks and the answer's rules together.
        rules = customer.answer_errors(answer, rows, chosen_row=form.fulfilment_row.data, consent=form.consent.data)
        attach_errors(form, {name: reason for name, reason in rules.items() if not has_errors(form, name)})
        return _render(link, form, 400)
    try:
        # A valid form still has the answer's rules to keep: record_answer checks them (FieldErrors).
        changed = customer.record_answer(
            link,
            answer,
            rows,
            chosen_row=form.fulfilment_row.data,
            consent=form.consent.data,
            consent_text=str(form.consent.label.text).replace("%(vendor)s", current_app.config["VENDOR_NAME"]),
            language=str(get_locale()),
        )
    except FieldErrors as exc:
        db.session.rollback()
        attach_errors(form, exc.errors)
        return _render(link, form, 400)
    except DomainError:
        # The deal moved on a moment ago (it was routed): the page now shows their contact.
        db.session.rollback()
        return redirect(url_for("link.answer", token=token))
    db.session.commit()
    flash(_("Thank you: we have your answers.") if changed else _("Your answers are saved."), "success")
    return redirect(url_for("link.answer", token=token))
