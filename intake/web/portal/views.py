"""The partner portal's pages: signing in by a mailed link, the partner's requests and the deals it
registered, registering a deal, its own relationships, won or lost on what it fulfils, the partner
user's own API tokens, signing out.

Every page but the two of signing in (asking for a link, using it) needs a partner user's
session (`require_partner_user`); what a page shows is its partner's alone.
"""

import secrets

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import EmailField
from wtforms.validators import DataRequired, Length

from ... import partner_users
from ...deals import documents, lifecycle, partner_requests, partners, registrations
from ...errors import FieldErrors, Gone
from ...extensions import csrf, db
from ...i18n import LANGUAGES
from ...models import Account, Deal, PartnerRequest, Registration
from ...models.types import utcnow
from .. import api_token_pages
from ..errors import keeps_answers
from ..forms import ButtonForm, IntakeForm, config_choices, country_choices
from ..pages import attach_errors, attempt, pdf, render_form, require_partner_user
from ..partner.views import DeclineForm, answer, request_page
from ..security import rotate_csrf_token
from . import bp
from .forms import OutcomeForm, RegistrationForm, StrengthForm, strength_choices

OPEN_PAGES = ("portal.login", "portal.sign_in")


class AskForLinkForm(IntakeForm):
    email = EmailField(_l("Your work email"), [DataRequired(_l("Enter your email.")), Length(max=254)])


@bp.context_processor
def _languages():
    return {"portal_languages": LANGUAGES, "language": str(get_locale())}


@bp.before_request
def _partner_users_only():
    if request.endpoint in OPEN_PAGES:
        return None
    refused = require_partner_user()
    if refused is not None and request.method == "POST":
        # A form that keeps answers checks its token itself; one sent without it by anyone but a
        # partner user is refused as such (400), as every other POST is, before being sent to sign in.
        csrf.protect()
    return refused


def _page(template: str, status: int = 200, **context):
    return render_template(template, vendor=current_app.config["VENDOR_NAME"], **context), status


@bp.route("/login", methods=["GET", "POST"])
@keeps_answers
def login():
    form = AskForLinkForm()
    if form.validate_on_submit():
        try:
            partner_users.ask_for_link(form.email.data, address=request.remote_addr or "unknown")
        except partner_users.AskingTooOften:
            db.session.rollback()
            return _page("portal/login.html", 429, form=form, too_often=True)
        db.session.commit()
        # The same answer for every address, known or not.
        return _page("portal/check_inbox.html")
    return render_form("portal/login.html", form, vendor=current_app.config["VENDOR_NAME"])


@bp.route("/sign-in/<token>", methods=["GET", "POST"])
@keeps_answers
def sign_in(token: str):
    """Opening the link shows a button (mail scanners open links); the button signs in, once."""
    form = ButtonForm()
    try:
        if request.method == "POST" and form.validate():
            user = partner_users.redeem(token)
        else:
            link = partner_users.link_for(token)
            user = None
            if link is not None:
                return _page("portal/sign_in.html", form=form, name=link.partner_user.name)
    except Gone as exc:
        db.session.rollback()
        return _page("portal/problem.html", 410, why=exc.message)
    if user is None:
        return _page("portal/problem.html", 404, why=_l("This sign-in link does not exist. Ask for a new one."))
    db.session.commit()
    login_user(user)
    rotate_csrf_token()
    return redirect(url_for("portal.home"))


def _own_request(request_id: int) -> PartnerRequest:
    """One of this partner's requests; another partner's is not found, as if there were none."""
    found = db.session.get(PartnerRequest, request_id)
    if found is None or found.partner_id != current_user.partner_id:
        abort(404)
    return found


def _request_page(found: PartnerRequest, *, decline_form=None, outcome_form=None, status=200):
    copy = f"partner-{found.partner_id}"
    closable = found.deal.status in lifecycle.CLOSABLE and partners.fulfils(found)
    return request_page(
        found,
        layout="portal/base.html",
        accept_url=url_for("portal.accept", request_id=found.id),
        decline_url=url_for("portal.decline", request_id=found.id),
        decline_form=decline_form,
        status=status,
        outcome_form=(outcome_form or OutcomeForm(formdata=None)) if closable else None,
        outcome_url=url_for("portal.outcome", request_id=found.id),
        pdf_url=url_for("portal.summary_pdf", request_id=found.id)
        if documents.stored(found.decision_id, copy)
        else None,
    )


@bp.get("/requests/<id:request_id>")
def request_detail(request_id: int):
    return _request_page(_own_request(request_id))


def _answer(request_id: int, decline_form: DeclineForm | None = None):
    found = _own_request(request_id)
    try:
        answer(found, decline_form=decline_form)
    except partners.RequestGone as exc:
        flash(exc.message, "info")
    return redirect(url_for("portal.request_detail", request_id=request_id))


@bp.post("/requests/<id:request_id>/accept")
def accept(request_id: int):
    return _answer(request_id)


@bp.post("/requests/<id:request_id>/decline")
@keeps_answers
def decline(request_id: int):
    form = DeclineForm()
    if not form.validate():
        return _request_page(_own_request(request_id), decline_form=form, status=400)
    return _answer(request_id, form)


@bp.post("/requests/<id:request_id>/outcome")
@keeps_answers
def outcome(request_id: int):
    """The partner that fulfils the deal records it won or lost."""
    found = _own_request(request_id)
    form = OutcomeForm()
    if form.validate() and attempt(
        form,
        partners.record_outcome,
        found,
        current_user,
        outcome=form.outcome.data,
        closed_on=form.closed_on.data,
        final_value=form.final_value.data,
        reason=form.lost_reason.data,
    ):
        db.session.commit()
        flash(_l("Recorded: thank you. The vendor's team is told."), "success")
        return redirect(url_for("portal.request_detail", request_id=request_id))
    return _request_page(_own_request(request_id), outcome_form=form, status=400)


@bp.get("/requests/<id:request_id>/summary.pdf")
def summary_pdf(request_id: int):
    """The partner's own copy of the decision's summary, as the worker rendered and stored it."""
    found = _own_request(request_id)
    document = documents.stored(found.decision_id, f"partner-{found.partner_id}")
    if document is None:
        abort(404)
    return pdf(document, f"deal-{found.deal_id}-request-{found.id}.pdf")


@bp.get("/")
def home():
    partner = current_user.partner
    requests = db.session.scalars(
        select(PartnerRequest)
        .where(PartnerRequest.partner_id == partner.id)
        # Where each stands reads its deal and the deal's decisions: loaded in two queries, not two per row.
        .options(selectinload(PartnerRequest.deal).selectinload(Deal.decisions))
        .order_by(PartnerRequest.response.is_not(None), PartnerRequest.expires_at.desc())
        .limit(200)
    ).all()
    registered = db.session.scalars(
        select(Registration)
        .where(Registration.partner_id == partner.id)
        .options(selectinload(Registration.deal).selectinload(Deal.account))
        .order_by(Registration.registered_at.desc(), Registration.id.desc())
        .limit(200)
    ).all()
    now = utcnow()
    standing = {r.id: partner_requests.standing(r, now=now) for r in requests}
    return _page(
        "portal/home.html",
        partner=partner,
        waiting=[r for r in requests if standing[r.id] == "open"],
        others=[r for r in requests if standing[r.id] != "open"],
        registered=registered,
        stage=registrations.stage,
        sign_out=ButtonForm(),
    )


def _registration_form() -> RegistrationForm:
    form = RegistrationForm()
    form.country.choices = country_choices()
    form.vertical.choices = config_choices("VERTICALS")
    form.solutions.choices = config_choices("CATALOGUE", blank=False)
    form.currency.choices = config_choices("CURRENCIES")
    form.strength.choices = strength_choices()
    if request.method == "GET":
        form.form_key.data = secrets.token_urlsafe(24)
    return form


@bp.route("/register", methods=["GET", "POST"])
@keeps_answers
def register():
    """Register a deal the partner found; it is told at once whether the account is already claimed."""
    form = _registration_form()
    status = None
    if form.validate_on_submit():
        try:
            registration = registrations.register(current_user, form.answers(), form_key=form.form_key.data)
        except FieldErrors as exc:
            db.session.rollback()
            form.form_errors = attach_errors(form, exc.fields)
        except registrations.RegisteringTooOften as exc:
            db.session.rollback()
            form.form_errors, status = [exc.message], 429
        else:
            db.session.commit()
            return redirect(url_for("portal.registration", registration_id=registration.id))
    page, code = render_form("portal/register.html", form, vendor=current_app.config["VENDOR_NAME"])
    return page, status or code


@bp.get("/registrations/<id:registration_id>")
def registration(registration_id: int):
    found = db.session.get(Registration, registration_id)
    if found is None or found.partner_id != current_user.partner_id:
        abort(404)
    asked = db.session.scalars(
        select(PartnerRequest)
        .where(PartnerRequest.deal_id == found.deal_id, PartnerRequest.partner_id == found.partner_id)
        .order_by(PartnerRequest.id.desc())
        .limit(1)
    ).first()
    return _page(
        "portal/registration.html",
        registration=found,
        deal=found.deal,
        stage=registrations.stage(found.deal),
        asked=asked,
    )


def _apart(form: StrengthForm, account_id: int) -> StrengthForm:
    """One form per account on one page: each field's id (and its label's) is made its own."""
    for field in (form.strength, form.since):
        field.id = field.label.field_id = f"{field.name}-{account_id}"
    return form


def _strength_forms(accounts: list[Account], stated: dict, sent: tuple[int, StrengthForm] | None = None) -> dict:
    forms = {}
    for account in accounts:
        if sent is not None and sent[0] == account.id:
            form = sent[1]
        else:
            row = stated.get(account.id)
            data = {"strength": row.strength, "since": row.since} if row else {}
            form = StrengthForm(formdata=None, data=data)
        form.strength.choices = strength_choices()
        forms[account.id] = _apart(form, account.id)
    return forms


@bp.get("/relationships")
def relationships():
    """The partner's own relationships with the accounts it works with here (source `partner`)."""
    return _relationships_page()


def _relationships_page(sent: tuple[int, StrengthForm] | None = None, status: int = 200):
    """The relationships page; `sent` is the one form just sent with its errors, shown as sent."""
    accounts = registrations.partner_accounts(current_user.partner_id)
    stated = registrations.stated_strengths(current_user.partner_id, accounts)
    forms = _strength_forms(accounts, stated, sent)
    return _page("portal/relationships.html", status, accounts=accounts, stated=stated, forms=forms)


@bp.post("/relationships/<id:account_id>")
@keeps_answers
def state_relationship(account_id: int):
    accounts = registrations.partner_accounts(current_user.partner_id)
    account = next((a for a in accounts if a.id == account_id), None)
    if account is None:
        abort(404)  # an account this partner does not work with here is as good as missing
    form = StrengthForm()
    form.strength.choices = strength_choices()
    if form.validate() and attempt(
        form, registrations.state_strength, current_user, account, strength=form.strength.data, since=form.since.data
    ):
        db.session.commit()
        flash(_l("Saved: your relationship with %(account)s.", account=account.name), "success")
        return redirect(url_for("portal.relationships"))
    return _relationships_page(sent=(account_id, form), status=400)


@bp.route("/tokens", methods=["GET", "POST"])
@keeps_answers
def tokens():
    """The partner user's own API tokens: each acts for this partner user alone."""
    return api_token_pages.settings(
        current_user._get_current_object(),
        audience="partner",
        template="portal/tokens.html",
        revoke_endpoint="portal.revoke_token",
        vendor=current_app.config["VENDOR_NAME"],
    )


@bp.post("/tokens/<id:token_id>/revoke")
def revoke_token(token_id: int):
    return api_token_pages.revoke(current_user._get_current_object(), token_id, back=url_for("portal.tokens"))


@bp.post("/logout")
def logout():
    current_user.end_sessions()  # every copy of every cookie of this partner user stops working
    db.session.commit()
    logout_user()
    flash(_l("You are signed out."), "info")
    return redirect(url_for("portal.login"))
