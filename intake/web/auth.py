"""Sign-in and sign-out."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from .. import auth
from ..extensions import csrf, db
from .pages import render_form

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", [DataRequired("Enter your email."), Length(max=254)])
    password = PasswordField("Password", [DataRequired("Enter your password."), Length(max=200)])
    remember = BooleanField("Keep me signed in on this device")


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never bounce a rep to another host after sign-in.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("rep.deals")


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, so a failure keeps what was typed
def login():
    if current_user.is_authenticated:
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
                login_user(user, remember=form.remember.data)
                return redirect(_safe_next(request.args.get("next")))
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
