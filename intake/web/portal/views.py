"""The partner portal's pages: asking for a sign-in link, signing in by it, the partner's requests, signing out.

Every page but the three of signing in needs a partner user's session (`require_partner_user`);
what a page shows is its partner's alone.
"""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from wtforms import EmailField
from wtforms.validators import DataRequired, Length

from ... import partner_users
from ...deals import partner_requests
from ...errors import Gone
from ...extensions import db
from ...i18n import LANGUAGES
from ...models import PartnerRequest
from ...models.types import utcnow
from ..errors import keeps_answers
from ..forms import ButtonForm, IntakeForm
from ..pages import render_form, require_partner_user
from ..security import rotate_csrf_token
from . import bp

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
    return require_partner_user()


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


@bp.get("/")
def home():
    partner = current_user.partner
    requests = db.session.scalars(
        select(PartnerRequest)
        .where(PartnerRequest.partner_id == partner.id)
        .order_by(PartnerRequest.response.is_not(None), PartnerRequest.expires_at.desc())
        .limit(200)
    ).all()
    now = utcnow()
    waiting = [r for r in requests if r.response is None and partner_requests.is_current(r) and r.expires_at > now]
    answered = [r for r in requests if r.response is not None]
    return _page(
        "portal/home.html",
        partner=partner,
        waiting=waiting,
        answered=answered,
        url_of=partner_requests.url,
        sign_out=ButtonForm(),
    )


@bp.post("/logout")
def logout():
    current_user.end_sessions()  # every copy of every cookie of this partner user stops working
    db.session.commit()
    logout_user()
    flash(_l("You are signed out."), "info")
    return redirect(url_for("portal.login"))
