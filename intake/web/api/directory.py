"""Accounts and partners by API: the vendor's staff read them; the channel manager keeps the partners."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...admin import services as admin_services
from ...deals import services as deal_services
from ...errors import FieldErrors
from ...extensions import db
from ...models import Account, Partner
from . import STAFF, access_first, acting, admin_only, blueprint
from . import schemas as s
from .idempotency import idempotent
from .paging import cursor_page

accounts_bp = blueprint("accounts", STAFF, "Accounts: the customers, one per company.")
accounts_bp.url_part = "/accounts"
partners_bp = blueprint("partners", STAFF, "Partners: read by the vendor's staff, kept by the channel manager.")
partners_bp.url_part = "/partners"
BLUEPRINTS = (accounts_bp, partners_bp)

AccountPage = s.page_of(s.AccountOut, "AccountPage")
PartnerPage = s.page_of(s.PartnerOut, "PartnerPage")


@accounts_bp.get("")
@accounts_bp.arguments(s.ListArgs, location="query")
@accounts_bp.response(200, AccountPage)
def accounts(args):
    """Every account, by last change: accounts are the vendor's, shared by its staff."""
    # Each account shows its owner: read for the whole page, not account by account.
    found, next_cursor = cursor_page(select(Account).options(selectinload(Account.owner)), Account, args)
    return {"items": found, "next_cursor": next_cursor}


@accounts_bp.get("/<id:account_id>")
@accounts_bp.response(200, s.AccountOut)
def account(account_id: int):
    return db.get_or_404(Account, account_id)


@accounts_bp.patch("/<id:account_id>")
@access_first(lambda account_id: db.get_or_404(Account, account_id))
@accounts_bp.arguments(s.AccountIn)
@accounts_bp.response(200, s.AccountOut)
def update_account(data, account_id: int):
    """Change an account's details, under the account policy: a rep changes an account they own or one
    with no owner; the channel manager, every one. Only the fields sent change."""
    account = db.get_or_404(Account, account_id)
    current = {f: getattr(account, f) for f in deal_services.ACCOUNT_FIELDS}
    deal_services.edit_account(account, {**current, **data}, actor=acting())
    db.session.commit()
    return account


@partners_bp.get("")
@partners_bp.arguments(s.ListArgs, location="query")
@partners_bp.response(200, PartnerPage)
def partners(args):
    """Every partner, by id."""
    found, next_cursor = cursor_page(select(Partner), Partner, args)
    return {"items": found, "next_cursor": next_cursor}


@partners_bp.get("/<id:partner_id>")
@partners_bp.response(200, s.PartnerOut)
def partner(partner_id: int):
    return db.get_or_404(Partner, partner_id)


def _save(partner: Partner | None, data: dict) -> Partner:
    try:
        saved = admin_services.save_partner(partner, data, actor=acting())
    except admin_services.Refused as exc:
        raise FieldErrors({exc.field: str(exc)}) from None
    if "is_active" in data:
        admin_services.set_partner_active(saved, data["is_active"], actor=acting())
    return saved


@partners_bp.post("")
@access_first(admin_only)
@idempotent
@partners_bp.arguments(s.PartnerIn)
@partners_bp.response(201, s.PartnerOut)
def create_partner(data):
    """Add a partner (the channel manager); its contact is invited to the portal."""
    admin_only()
    return _save(None, {"countries": [], "verticals": [], **data}), 201


@partners_bp.patch("/<id:partner_id>")
@access_first(admin_only)
@partners_bp.arguments(s.PartnerPatch)
@partners_bp.response(200, s.PartnerOut)
def update_partner(data, partner_id: int):
    """Change a partner (the channel manager): only the fields sent change; partners are deactivated, never deleted."""
    admin_only()
    partner = db.session.get(Partner, partner_id) or abort(404)
    current = {f: getattr(partner, f) for f in admin_services.PARTNER_FIELDS}
    saved = _save(partner, {**current, **data})
    db.session.commit()
    return saved
