"""Use cases for deals: the only code that changes one. Services flush; the caller commits."""

from datetime import UTC, date, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..errors import ChangedMeanwhile, DomainError, FieldErrors, NotNow
from ..extensions import db
from ..matching import (
    InvalidDomain,
    no_partner_named,
    normalise_company,
    normalise_domain,
    our_partner_named,
    registrable_domain,
)
from ..models import Account, Deal, Partner, Relationship, User
from ..models.types import utcnow
from . import lifecycle, notify
from .questionnaire import missing_answers

ACCOUNT_FIELDS = ("name", "domain", "country", "vertical", "size_band", "vendor_strength", "vendor_since")
CONTACT_FIELDS = ("contact_name", "contact_title", "contact_email", "contact_phone")
SECTION_FIELDS = {
    "origin": ("originator", "originator_partner_id", "origin_channel", "origin_date"),
    "need": (
        "pain_points",
        "pain_other",
        "business_impact",
        "incumbent",
        "solutions",
        "estimated_value",
        "currency",
        "close_date",
    ),
    "qualification": (
        "budget",
        "has_decision_maker",
        "decision_maker",
        "decision_process",
        "competitors",
        "next_step",
        "next_step_date",
    ),
}
ROW_FIELDS = ("partner_id", "partner_name", "strength", "since", "does_what", "notes")


class Incomplete(DomainError):
    """The questionnaire still lacks required answers: {section: {field: reason}}."""

    def __init__(self, missing: dict[str, dict[str, str]]):
        super().__init__("Some required answers are missing.")
        self.missing = missing


def _today() -> date:
    return datetime.now(UTC).date()


def _not_future(errors: dict, field: str, value: date | None, what: str = "This date") -> None:
    if value is not None and value > _today():
        errors[field] = f"{what} cannot be in the future."


def _check_editable(deal: Deal) -> None:
    lifecycle.begin(deal, lifecycle.EDITABLE, "This deal has left the questionnaire; its answers can no longer change.")


def start_deal(*, rep: User) -> Deal:
    """Open a new draft questionnaire for the rep."""
    deal = lifecycle.start(rep=rep)
    audit.record(rep, "deal", deal.id, "created")
    return deal


def find_accounts(query: str, limit: int = 10) -> list[Account]:
    """Search accounts by company name or domain."""
    query = query.strip()
    if not query:
        return []
    name_key = normalise_company(query)
    try:
        domain = normalise_domain(query)
    except InvalidDomain:
        domain = None
    like = f"%{name_key.replace('%', '').replace('_', '')}%"
    conditions = [Account.name_key.like(like)] if name_key else []
    if domain:
        conditions.append(Account.domain == domain)
    conditions.append(Account.domain.like(f"%{query.lower().replace('%', '').replace('_', '')}%"))
    return list(db.session.scalars(select(Account).where(db.or_(*conditions)).order_by(Account.name).limit(limit)))


def may_edit_account(user: User, account: Account | None) -> bool:
    """The account policy: a rep edits an account they own or one with no owner; the channel manager, every one.

    Any rep may still link their deal to another rep's account; its details (the vendor's
    relationship that routing reads among them) are read-only to them.
    """
    return account is None or user.is_admin or account.owner_id in (None, user.id)


def read_only_account_message(account: Account) -> str:
    owner = account.owner.name if account.owner else "its owner"
    return f"{account.name} is {owner}'s account: only they or the channel manager can change its details."


def save_account_section(deal: Deal, data: dict, *, actor: User, replacing: bool = False) -> None:
    """Link or create the deal's account, update its details and the customer contact.

    With `replacing`, the account fields describe a new account to create instead of
    edits to the linked one (the rep chose to use a different account).
    """
    _check_editable(deal)
    errors: dict[str, str] = {}
    account = None if replacing else deal.account
    chosen_id = data.get("account_id")
    switching = bool(chosen_id) and chosen_id != deal.account_id
    if switching:
        account = db.session.get(Account, chosen_id)
        if account is None:
            errors["account_id"] = "That account does not exist; search again."

    if not switching and account is not None and not may_edit_account(actor, account):
        # Its details stay as they are; the contact, which is the deal's, is saved.
        if any(field in data for field in ACCOUNT_FIELDS):
            raise FieldErrors({"account": read_only_account_message(account)})
        _record_deal_changes(deal, _contact_values(data), actor)
        return

    values = _account_values(data, errors)
    existing = None
    if not switching:
        if (
            account is None
            and not values["name"]
            and any(values[f] not in (None, "") for f in ACCOUNT_FIELDS if f != "name")
        ):
            errors["name"] = "Give the company name to create the account."
        elif account is not None and not values["name"]:
            errors["name"] = "The company name cannot be empty."
        existing = _domain_taken(values, account, errors)
    if errors:
        raise FieldErrors(errors, existing_account=existing)

    if switching:
        deal.account = account
        audit.record(actor, "deal", deal.id, "account linked", {"account": [None, account.name]})
    elif values["name"]:
        values["name_key"] = normalise_company(values["name"])
        values["domain_key"] = registrable_domain(values["domain"]) if values["domain"] else None
        if account is None:
            account = Account(owner=actor, **values)
            db.session.add(account)
            _flush_account(account)
            deal.account = account
            audit.record(actor, "account", account.id, "created", {k: [None, v] for k, v in values.items()})
            audit.record(actor, "deal", deal.id, "account linked", {"account": [None, account.name]})
        else:
            changes = audit.apply_changes(account, values)
            _flush_account(account)
            if changes:
                audit.record(actor, "account", account.id, "updated", changes)

    _record_deal_changes(deal, _contact_values(data), actor)


def _account_values(data: dict, errors: dict) -> dict:
    """An account's details as sent, cleaned: the domain in its normal form; reasons go in `errors`."""
    values = {field: data.get(field) for field in ACCOUNT_FIELDS}
    values["name"] = (values["name"] or "").strip()
    if values["domain"]:
        try:
            values["domain"] = normalise_domain(values["domain"])
        except InvalidDomain:
            errors["domain"] = "Enter a web domain such as example.com."
    else:
        values["domain"] = None
    _not_future(errors, "vendor_since", values["vendor_since"])
    return values


def _domain_taken(values: dict, account: Account | None, errors: dict) -> Account | None:
    """One company, one account: another account with the same registrable domain is the same company."""
    if not values["domain"] or "domain" in errors:
        return None
    existing = db.session.scalar(
        select(Account)
        .where(
            Account.domain_key == registrable_domain(values["domain"]),
            Account.id != (account.id if account else -1),
        )
        .limit(1)
    )
    if existing is not None:
        errors["domain"] = f"“{existing.name}” already has this domain: use that account instead."
    return existing


def edit_account(account: Account, data: dict, *, actor: User) -> None:
    """Change an account's details from its own page, under the account policy."""
    if not may_edit_account(actor, account):
        raise FieldErrors({"account": read_only_account_message(account)})
    errors: dict[str, str] = {}
    values = _account_values(data, errors)
    if not values["name"]:
        errors["name"] = "The company name cannot be empty."
    existing = _domain_taken(values, account, errors)
    if errors:
        raise FieldErrors(errors, existing_account=existing)
    values["name_key"] = normalise_company(values["name"])
    values["domain_key"] = registrable_domain(values["domain"]) if values["domain"] else None
    changes = audit.apply_changes(account, values)
    _flush_account(account)
    if changes:
        audit.record(actor, "account", account.id, "updated", changes)


def merge_accounts(keep: Account, gone: Account, *, actor: User) -> None:
    """The channel manager makes two accounts that are the same company one: `gone`'s deals and the
    relationships stated on it move to `keep`, details `keep` lacks are taken from `gone`, and `gone`
    is deleted. Open deals of both are now on one account: routing holds them as a conflict."""
    if not actor.is_admin:
        raise NotNow("Only the channel manager merges accounts.")
    if keep.id == gone.id:
        raise FieldErrors({"other_id": "Choose another account to merge into this one."})
    # Both accounts' rows are locked in one order, so two managers merging them cross-wise wait for each other.
    keep_id, gone_id = keep.id, gone.id  # read before the session forgets them: one may be gone by then
    for account_id in sorted((keep_id, gone_id)):
        db.session.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    db.session.expire_all()
    keep, gone = db.session.get(Account, keep_id), db.session.get(Account, gone_id)
    if keep is None or gone is None:
        raise ChangedMeanwhile("These accounts were merged a moment ago.")
    moved = db.session.scalars(select(Deal.id).where(Deal.account_id == gone.id)).all()
    db.session.execute(
        update(Deal)
        .where(Deal.account_id == gone.id)
        .values(account_id=keep.id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Relationship)
        .where(Relationship.account_id == gone.id)
        .values(account_id=keep.id)
        .execution_options(synchronize_session=False)
    )
    taken = {field: getattr(gone, field) for field in ACCOUNT_FIELDS if getattr(keep, field) in (None, "")}
    if keep.owner_id is None and gone.owner_id is not None:
        taken["owner_id"] = gone.owner_id
    name, domain = gone.name, gone.domain
    db.session.delete(gone)
    db.session.flush()  # the domain is free once the merged account is gone
    if "domain" in taken:
        taken["domain_key"] = registrable_domain(taken["domain"]) if taken["domain"] else None
    changes = audit.apply_changes(keep, taken)
    db.session.flush()
    audit.record(
        actor, "account", keep.id, "merged", {"merged": [None, f"{name} ({domain or 'no domain'})"], **changes}
    )
    for deal_id in moved:
        audit.record(actor, "deal", deal_id, "account merged", {"account": [name, keep.name]})


def _contact_values(data: dict) -> dict:
    contact = {field: (data.get(field) or "").strip() for field in CONTACT_FIELDS}
    contact["contact_email"] = contact["contact_email"].lower()
    return contact


def _flush_account(account: Account) -> None:
    # Two reps creating the same domain at once: the unique index decides, the loser is told.
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise FieldErrors({"domain": "Another account took this domain a moment ago: search for it."}) from None


def _record_deal_changes(deal: Deal, values: dict, actor: User) -> None:
    changes = audit.apply_changes(deal, values)
    if "originator_partner_id" in changes:
        # The history names the partner that found the deal, as the rep chose it.
        changes["originator_partner"] = [_partner_name(pid) for pid in changes.pop("originator_partner_id")]
    if changes:
        deal.updated_at = datetime.now(UTC)
        audit.record(actor, "deal", deal.id, "updated", changes)


def _partner_name(partner_id: int | None) -> str | None:
    partner = db.session.get(Partner, partner_id) if partner_id else None
    return partner.name if partner else None


def save_section(deal: Deal, section: str, data: dict, *, actor: User) -> None:
    """Save the answers of the origin, need or qualification section; drafts may be partial."""
    _check_editable(deal)
    values = {field: data.get(field) for field in SECTION_FIELDS[section]}
    errors: dict[str, str] = {}
    if section == "origin":
        typed = (data.get("originator_partner_name") or "").strip()
        if values["originator"] == "partner" and values["originator_partner_id"] is None and typed:
            # A partner typed by name (when there are too many to list) is the partner of ours it names.
            values["originator_partner_id"] = our_partner_named(typed)
            if values["originator_partner_id"] is None:
                errors["originator_partner_name"] = no_partner_named(typed)
        if values["originator"] != "partner":
            values["originator_partner_id"] = None
        elif (
            values["originator_partner_id"] is not None
            and db.session.get(Partner, values["originator_partner_id"]) is None
        ):
            errors["originator_partner_id"] = "Choose one of our partners."
        _not_future(errors, "origin_date", values["origin_date"])
        for field, label in (("close_date", "expected close date"), ("next_step_date", "next step date")):
            later = getattr(deal, field)
            if values["origin_date"] and later and later < values["origin_date"]:
                errors["origin_date"] = f"The deal cannot be found after its {label} ({later.isoformat()})."
    elif section == "need":
        for key in ("pain_other", "business_impact", "incumbent"):
            values[key] = (values[key] or "").strip()
        values["pain_points"] = list(values["pain_points"] or [])
        values["solutions"] = list(values["solutions"] or [])
        if values["close_date"] and deal.origin_date and values["close_date"] < deal.origin_date:
            errors["close_date"] = f"The close date is before the deal was found ({deal.origin_date.isoformat()})."
    elif section == "qualification":
        for key in ("decision_maker", "decision_process", "competitors", "next_step"):
            values[key] = (values[key] or "").strip()
        if values["has_decision_maker"] is False:
            values["decision_maker"] = ""
        if values["next_step_date"] and deal.origin_date and values["next_step_date"] < deal.origin_date:
            errors["next_step_date"] = f"The next step is before the deal was found ({deal.origin_date.isoformat()})."
    if errors:
        raise FieldErrors(errors)
    _record_deal_changes(deal, values, actor)


def save_landscape(deal: Deal, partners_known: str | None, rows: list[dict], *, actor: User) -> None:
    """Replace the rep's view of the customer's partners with these rows."""
    _check_editable(deal)
    errors: dict[str, str] = {}
    clean_rows = []
    for i, row in enumerate(rows):
        values = {field: row.get(field) for field in ROW_FIELDS}
        values["partner_name"] = (values["partner_name"] or "").strip()
        values["does_what"] = (values["does_what"] or "").strip()
        values["notes"] = (values["notes"] or "").strip()
        if values["partner_id"] is None and not values["partner_name"]:
            if any(values[f] not in (None, "") for f in ROW_FIELDS):
                errors[f"rows-{i}-partner_id"] = "Choose a partner, or pick “Other” and type its name."
            continue  # an empty row is no answer
        if values["partner_id"] in (0, None):
            # "Other", or no choice (too many partners to list them): a name typed, which may still be one of
            # ours, as the engine would read it.
            values["partner_id"] = our_partner_named(values["partner_name"]) if values["partner_name"] else None
            if not values["partner_name"]:
                errors[f"rows-{i}-partner_name"] = "Type the partner's name."
            elif values["partner_id"] is not None:
                values["partner_name"] = ""
        elif values["partner_id"] is not None:
            if db.session.get(Partner, values["partner_id"]) is None:
                errors[f"rows-{i}-partner_id"] = "Choose one of our partners."
            values["partner_name"] = ""
        _not_future(errors, f"rows-{i}-since", values["since"])
        clean_rows.append(values)
    if clean_rows and deal.account is None:
        errors["partners_known"] = "Choose the account first (section 1): relationships belong to an account."
    if errors:
        raise FieldErrors(errors)

    before = [_row_summary(r) for r in deal.landscape]
    for old in deal.landscape:
        db.session.delete(old)
    db.session.flush()
    for position, values in enumerate(clean_rows):
        db.session.add(Relationship(account=deal.account, deal_id=deal.id, source="rep", position=position, **values))
    db.session.flush()
    db.session.expire(deal, ["landscape"])
    after = [_row_summary(r) for r in deal.landscape]
    changes = audit.apply_changes(deal, {"partners_known": partners_known})
    if before != after:
        changes["partners"] = [before, after]
    if changes:
        deal.updated_at = datetime.now(UTC)
        audit.record(actor, "deal", deal.id, "updated", changes)


def _row_summary(row: Relationship) -> str:
    since = f", since {row.since.isoformat()}" if row.since else ""
    strength = "?" if row.strength is None else row.strength
    return f"{row.display_name} (strength {strength}{since})"


def complete_deal(deal: Deal, *, actor: User) -> None:
    """Check every required answer and move the deal from draft to awaiting_customer."""
    lifecycle.begin(deal, ("draft",), "This deal is already complete.", done=("awaiting_customer",))
    if deal.rep is None:
        raise NotNow("Give this registration a rep first (Registrations to assign): the rep takes it up.")
    missing = missing_answers(deal)
    if missing:
        raise Incomplete(missing)
    lifecycle.complete(deal, actor=actor)
    if deal.registration is not None:
        notify.registration_approved(deal)


def discard_draft(deal: Deal, *, actor: User) -> None:
    """Throw a draft away, with what its questionnaire recorded; a completed deal cannot be discarded."""
    lifecycle.begin(deal, ("draft",), "Only a draft can be discarded; this deal is under way.")
    if deal.registration is not None:
        raise NotNow(
            f"{deal.registration.partner.name} registered this deal: it cannot be discarded. "
            "If it should not go on, the channel manager can withdraw it."
        )
    lifecycle.discard(deal, actor=actor)


def close_deal(
    deal: Deal, *, outcome: str, closed_on: date | None, final_value, reason: str, actor: User | None
) -> None:
    """Record that a routed deal was won or lost: the date, the final value and, for lost, why."""
    lifecycle.begin(deal, lifecycle.CLOSABLE, "Only a routed deal can be won or lost.", done=lifecycle.OUTCOMES)
    lifecycle.close(deal, outcome=outcome, closed_on=closed_on, final_value=final_value, reason=reason, actor=actor)
