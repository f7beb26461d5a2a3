"""The channel manager's pages: users and partners."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ... import partner_users
from ...admin import services
from ...deals import services as deal_services
from ...extensions import db
from ...models import Account, Partner, PartnerUser, User
from ..errors import keeps_answers
from ..forms import ButtonForm, config_choices, country_name, with_current
from ..pages import attach_errors, attempt, render_form
from ..rep.accounts import account_page, merge_form
from . import bp
from .forms import PartnerForm, PartnerUserForm, PasswordForm, SearchForm, UserCreateForm, UserEditForm


def _like(term: str) -> str:
    # As long as the search box allows (a longer one would only be refused by SQLite's LIKE).
    return "%" + term.strip()[:100].lower().replace("%", "").replace("_", "") + "%"


@bp.get("/")
def index():
    return redirect(url_for("admin.partners"))


# Users ---------------------------------------------------------------------


@bp.get("/users")
def users():
    search = SearchForm(request.args)
    query = select(User).order_by(User.is_active.desc(), User.name)
    if search.q.data:
        query = query.where(
            db.or_(func.lower(User.name).like(_like(search.q.data)), User.email.like(_like(search.q.data)))
        )
    return render_template("admin/users.html", users=db.session.scalars(query.limit(200)).all(), search=search)


@bp.route("/users/new", methods=["GET", "POST"])
@keeps_answers
def new_user():
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                password=form.password.data,
                actor=current_user,
            )
        except services.Refused as exc:
            attach_errors(form, {exc.field: exc.message})
        else:
            db.session.commit()
            flash(f"{user.name} can now sign in as {user.email}.", "success")
            return redirect(url_for("admin.users"))
    return render_form("admin/user_new.html", form)


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
@keeps_answers
def edit_user(user_id: int):
    user = _user_or_404(user_id)
    form = UserEditForm(obj=user)
    if form.validate_on_submit():
        try:
            services.update_user(
                user, name=form.name.data, role=form.role.data, is_active=form.is_active.data, actor=current_user
            )
        except services.Refused as exc:
            attach_errors(form, {exc.field: exc.message})
        else:
            db.session.commit()
            flash("User saved.", "success")
            return redirect(url_for("admin.users"))
    return render_form("admin/user_edit.html", form, user=user, password_form=PasswordForm(formdata=None))


@bp.post("/users/<id:user_id>/password")
@keeps_answers
def user_password(user_id: int):
    user = _user_or_404(user_id)
    password_form = PasswordForm()
    if password_form.validate_on_submit():
        services.change_password(user, password_form.password.data, actor=current_user)
        db.session.commit()
        if user.id == current_user.id:
            flash("Password changed: sign in again with the new one.", "success")
            return redirect(url_for("auth.login"))
        flash(f"Password changed; {user.name} is signed out everywhere.", "success")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    form = UserEditForm(formdata=None, obj=user)
    return render_template("admin/user_edit.html", form=form, user=user, password_form=password_form), 400


# Partners ------------------------------------------------------------------


@bp.get("/partners")
def partners():
    search = SearchForm(request.args)
    query = select(Partner).order_by(Partner.is_active.desc(), Partner.name)
    if search.q.data:
        query = query.where(func.lower(Partner.name).like(_like(search.q.data)))
    return render_template(
        "admin/partners.html",
        partners=db.session.scalars(query.limit(500)).all(),
        search=search,
        button=ButtonForm(),
        country_name=country_name,
    )


def _partner_form(partner: Partner | None) -> PartnerForm:
    if request.method == "POST":
        form = PartnerForm()
    elif partner is not None:
        form = PartnerForm(formdata=None, obj=partner)
        form.countries.data = ", ".join(partner.countries)
    else:
        form = PartnerForm(formdata=None)
    form.verticals.choices = config_choices("VERTICALS", blank=False)
    if partner is not None:
        form.verticals.choices = with_current(form.verticals.choices, partner.verticals)
    return form


@bp.route("/partners/new", methods=["GET", "POST"], defaults={"partner_id": None})
@bp.route("/partners/<id:partner_id>", methods=["GET", "POST"])
@keeps_answers
def edit_partner(partner_id: int | None):
    partner = None if partner_id is None else (db.session.get(Partner, partner_id) or abort(404))
    form = _partner_form(partner)
    if form.validate_on_submit():
        values = dict(form.data, countries=form.countries.codes)
        try:
            partner = services.save_partner(partner, values, actor=current_user)
        except services.Refused as exc:
            attach_errors(form, {exc.field: exc.message})
        else:
            db.session.commit()
            flash(f"Partner {partner.name} saved.", "success")
            return redirect(url_for("admin.partners"))
    return _partner_page(partner, form)


def _partner_page(partner: Partner | None, form: PartnerForm, invite: PartnerUserForm | None = None, status=None):
    users = []
    if partner is not None:
        users = db.session.scalars(
            select(PartnerUser).where(PartnerUser.partner_id == partner.id).order_by(PartnerUser.name)
        ).all()
    body, default_status = render_form(
        "admin/partner_edit.html",
        form,
        partner=partner,
        button=ButtonForm(),
        partner_users=users,
        invite=invite or PartnerUserForm(formdata=None),
    )
    return body, status or default_status


@bp.post("/partners/<id:partner_id>/users")
@keeps_answers
def invite_partner_user(partner_id: int):
    partner = db.session.get(Partner, partner_id) or abort(404)
    invite = PartnerUserForm()
    if invite.validate() and attempt(
        invite, partner_users.invite, partner, name=invite.name.data, email=invite.email.data, actor=current_user
    ):
        db.session.commit()
        flash(f"{invite.name.data.strip()} can now sign in to the partner portal with their email.", "success")
        return redirect(url_for("admin.edit_partner", partner_id=partner_id, _anchor="partner-users"))
    return _partner_page(partner, _partner_form(partner), invite, status=400)


@bp.post("/partners/<id:partner_id>/users/<id:partner_user_id>/active")
def partner_user_active(partner_id: int, partner_user_id: int):
    user = db.session.get(PartnerUser, partner_user_id)
    if user is None or user.partner_id != partner_id:
        abort(404)
    make_active = request.form.get("active") == "1"
    partner_users.set_active(user, make_active, actor=current_user)
    db.session.commit()
    flash(f"{user.name} is now {'active' if make_active else 'deactivated: every session has ended'}.", "success")
    return redirect(url_for("admin.edit_partner", partner_id=partner_id, _anchor="partner-users"))


@bp.post("/partners/<id:partner_id>/active")
def partner_active(partner_id: int):
    partner = db.session.get(Partner, partner_id) or abort(404)
    make_active = request.form.get("active") == "1"
    services.set_partner_active(partner, make_active, actor=current_user)
    db.session.commit()
    flash(f"{partner.name} is now {'active' if make_active else 'inactive'}.", "success")
    return redirect(
        request.referrer
        if request.referrer and request.referrer.startswith(request.host_url)
        else url_for("admin.partners")
    )


@bp.post("/accounts/<id:account_id>/merge")
@keeps_answers
def merge_account(account_id: int):
    keep = db.session.get(Account, account_id) or abort(404)
    form = merge_form(keep, formdata=request.form)
    if form.validate():
        if not form.confirm.data:
            form.confirm.errors = [*form.confirm.errors, "Tick the box to confirm they are the same company."]
        else:
            gone = db.session.get(Account, form.other_id.data) if form.other_id.data else None
            if gone is None:
                form.other_id.errors = [*form.other_id.errors, "Choose an account."]
            elif attempt(form, deal_services.merge_accounts, keep, gone, actor=current_user):
                db.session.commit()
                flash("Merged: its deals and relationships are on this account now.", "success")
                return redirect(url_for("rep.account", account_id=keep.id))
    return account_page(keep, merge=form, status=400)
