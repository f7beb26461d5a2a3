"""Sign-in and sign-out, and a member of staff's own settings: their password and their API tokens."""

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from .. import auth
from ..admin import services as admin_services
from ..extensions import db
from . import api_token_pages
from .errors import keeps_answers
from .forms import PASSWORD, IntakeForm
from .inputs import safe_next
from .pages import render_form, require_user
from .security import rotate_csrf_token

bp = Blueprint("auth", __name__)


class LoginForm(IntakeForm):
    email = EmailField("Email", [DataRequired("Enter your email."), Length(max=254)])
    password = PasswordField("Password", [DataRequired("Enter your password."), Length(max=200)])
    remember = BooleanField("Keep me signed in on this device")


class OwnPasswordForm(IntakeForm):
    current = PasswordField("Current password", [DataRequired("Enter your current password."), Length(max=200)])
    password = PasswordField("New password", PASSWORD)
    confirm = PasswordField("Repeat the new password", [EqualTo("password", "The two passwords differ.")])


def _after_sign_in() -> str:
    # Only same-site paths: never bounce a rep to another host after sign-in.
    return safe_next(request.args.get("next")) or url_for("rep.deals")


@bp.route("/login", methods=["GET", "POST"])
@keeps_answers
def login():
    if current_user.is_authenticated and not current_user.is_partner_user:
        return redirect(url_for("rep.deals"))
    form = LoginForm()
    form_errors = []
    status = None
    if form.validate_on_submit():
        try:
            user = auth.authenticate(form.email.data, form.password.data, request.remote_addr or "unknown")
        except auth.Throttled:
            form_errors.append("Too many failed sign-ins. Wait a few minutes, then try again.")
            status = 429
        else:
            db.session.commit()
            if user is not None:
                session.permanent = True  # the cookie expires after PERMANENT_SESSION_LIFETIME
                login_user(user, remember=form.remember.data)
                rotate_csrf_token()  # a token seen before signing in is of no use after
                return redirect(_after_sign_in())
            form_errors.append("That email and password do not match an active account.")
            status = 401
    form.password.data = ""
    body, default_status = render_form("auth/login.html", form, form_errors=form_errors)
    return body, status or default_status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        current_user.end_sessions()  # every copy of every cookie of this user stops working
        db.session.commit()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@keeps_answers
def own_password():
    if (refused := require_user()) is not None:
        return refused
    form = OwnPasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append("That is not your current password.")
        else:
            user = current_user._get_current_object()
            admin_services.change_password(user, form.password.data, actor=user)
            db.session.commit()
            # Every other session of this user has ended; this one carries on with the new token.
            login_user(user)
            flash("Password changed. You are signed out everywhere else.", "success")
            return redirect(url_for("rep.deals"))
    return render_form("auth/password.html", form)


@bp.route("/account/tokens", methods=["GET", "POST"])
@keeps_answers
def own_tokens():
    if (refused := require_user()) is not None:
        return refused
    return api_token_pages.settings(
        current_user._get_current_object(),
        audience="staff",
        template="auth/tokens.html",
        revoke_endpoint="auth.revoke_own_token",
    )


@bp.post("/account/tokens/<id:token_id>/revoke")
def revoke_own_token(token_id: int):
    if (refused := require_user()) is not None:
        return refused
    return api_token_pages.revoke(current_user._get_current_object(), token_id, back=url_for("auth.own_tokens"))
