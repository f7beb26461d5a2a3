"""Accounts: the list, an account's page (its deals, its relationships by source, its owner), and its edit
under the account policy (a rep edits an account they own or one with no owner; the channel manager, any)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, SelectField

from ...deals import queries, services
from ...extensions import db
from ...matching import normalise_company
from ...models import Account, Deal, Relationship
from ...vocabulary import OPEN_STATUSES, SOURCE
from ..errors import keeps_answers
from ..forms import IntakeForm, config_choices, country_choices, optional_int, opts
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
    return account_page(_account_or_404(account_id))


def account_page(found: Account, *, merge=None, status: int = 200):
    """An account's page; for the channel manager with the form that merges another account into it."""
    if merge is None and current_user.is_admin:
        merge = merge_form(found)
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
    page = render_template(
        "rep/account.html",
        account=found,
        deals=deals,
        by_source=by_source,
        may_edit=services.may_edit_account(current_user, found),
        merge=merge,
    )
    return page, status


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
    if (
        submitted
        and form.validate()
        and attempt(form, services.edit_account, found, {f: form[f].data for f in DETAILS}, actor=current_user)
    ):
        db.session.commit()
        flash("Account saved.", "success")
        return redirect(url_for("rep.account", account_id=found.id))
    return render_form("rep/account_edit.html", form, account=found)


class MergeForm(IntakeForm):
    """Merge another account (the same company) into this one."""

    other_id = SelectField("The account to merge into this one", coerce=optional_int)
    confirm = BooleanField(
        "I confirm: they are the same company; the other account's deals move here and it is deleted"
    )


def merge_candidates(account: Account) -> list[Account]:
    """Accounts that may be the same company: found by this one's name, as a search finds them."""
    return [a for a in services.find_accounts(account.name, limit=20) if a.id != account.id]


def merge_form(account: Account, formdata=None) -> MergeForm:
    form = MergeForm(formdata=formdata)
    form.other_id.choices = opts(
        [("", "Choose an account")]
        + [(str(a.id), f"{a.name} ({a.domain or 'no domain'})") for a in merge_candidates(account)]
    )
    return form
