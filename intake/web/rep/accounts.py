"""Accounts: the list, an account's page (its deals, its relationships by source, its owner), and its edit
under the account policy (a rep edits an account they own or one with no owner; the channel manager, any)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ...deals import queries, services
from ...extensions import db
from ...matching import normalise_company
from ...models import Account, Deal, Relationship
from ...vocabulary import OPEN_STATUSES, SOURCE
from ..errors import keeps_answers
from ..forms import config_choices, country_choices
from ..inputs import page_number
from ..pages import attempt, render_form
from . import bp
from .forms import AccountDetailsForm

DETAILS = services.ACCOUNT_FIELDS


@bp.get("/accounts")
def accounts():
    search = request.args.get("q", "")[:100].strip()
    query = select(Account).options(selectinload(Account.owner)).order_by(Account.name, Account.id)
    if search:
        key = normalise_company(search).replace("%", "").replace("_", "")
        term = search.lower().replace("%", "").replace("_", "")
        query = query.where(db.or_(Account.name_key.like(f"%{key}%"), Account.domain.like(f"%{term}%")))
    pagination = db.paginate(query, page=page_number(request.args.get("page")), per_page=25, error_out=False)
    ids = [a.id for a in pagination.items]
    open_deals = dict(
        db.session.execute(
            select(Deal.account_id, func.count())
            .where(Deal.account_id.in_(ids), Deal.status.in_(OPEN_STATUSES))
            .group_by(Deal.account_id)
        ).all()
    )
    return render_template("rep/accounts.html", pagination=pagination, open_deals=open_deals, q=search)


def _account_or_404(account_id: int) -> Account:
    return db.session.get(Account, account_id) or abort(404)


@bp.get("/accounts/<id:account_id>")
def account(account_id: int):
    found = _account_or_404(account_id)
    deals = db.session.scalars(
        queries.visible_deals(current_user)
        .where(Deal.account_id == found.id)
        .options(selectinload(Deal.rep))
        .order_by(Deal.updated_at.desc(), Deal.id.desc())
    ).all()
    # Relationships as each source stated them, newest first: the engine reads them in PRODUCT.md's order.
    rows = db.session.scalars(
        select(Relationship)
        .where(Relationship.account_id == found.id)
        .options(selectinload(Relationship.partner))
        .order_by(Relationship.created_at.desc(), Relationship.id.desc())
    ).all()
    by_source = {source: [r for r in rows if r.source == source] for source in SOURCE}
    return render_template(
        "rep/account.html",
        account=found,
        deals=deals,
        by_source=by_source,
        may_edit=services.may_edit_account(current_user, found),
    )


@bp.route("/accounts/<id:account_id>/edit", methods=["GET", "POST"])
@keeps_answers
def edit_account(account_id: int):
    found = _account_or_404(account_id)
    if not services.may_edit_account(current_user, found):
        flash(services.read_only_account_message(found), "info")
        return redirect(url_for("rep.account", account_id=found.id))
    submitted = request.method == "POST"
    form = AccountDetailsForm() if submitted else AccountDetailsForm(formdata=None, obj=found)
    form.country.choices = country_choices()
    form.vertical.choices = config_choices("VERTICALS")
    if submitted and form.validate() and attempt(
        form, services.edit_account, found, {f: form[f].data for f in DETAILS}, actor=current_user
    ):
        db.session.commit()
        flash("Account saved.", "success")
        return redirect(url_for("rep.account", account_id=found.id))
    return render_form("rep/account_edit.html", form, account=found)
