"""The customer's side of a deal: their link, and the answers they give by it."""

from datetime import UTC, datetime

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from .. import audit, tokens
from ..extensions import db
from ..mail import outbox
from ..models import CustomerAnswer, CustomerLink, Deal, Partner, Relationship, User
from .services import FieldErrors

ANSWER_FIELDS = (
    "company_name",
    "contact_name",
    "contact_title",
    "contact_email",
    "contact_phone",
    "works_with_partner",
    "fulfilment",
    "fulfilment_row",
    "fulfilment_reason",
    "contact_preference",
)
TEXT_FIELDS = (
    "company_name",
    "contact_name",
    "contact_title",
    "contact_email",
    "contact_phone",
    "fulfilment_reason",
)
ROW_FIELDS = ("partner_id", "partner_name", "duration", "strength", "does_what")
# The customer may answer, and change their answer, until the deal is routed.
ANSWERABLE_STATUSES = ("awaiting_customer", "ready_to_route")
LINKABLE_STATUSES = ("awaiting_customer", "ready_to_route")


class NotLinkable(Exception):
    """Links are for deals whose questionnaire is complete and that are not routed yet."""


def link_url(link: CustomerLink) -> str:
    """The address the customer opens, built on the configured base URL."""
    return f"{current_app.config['BASE_URL']}/p/{tokens.token_for(link)}"


def create_link(deal: Deal, *, language: str, actor: User) -> CustomerLink:
    """Issue the customer's link for this deal (revoking an earlier one)."""
    if deal.status not in LINKABLE_STATUSES:
        raise NotLinkable()
    link = tokens.issue(deal, language=language, actor=actor)
    audit.record(actor, "deal", deal.id, "customer link created", {"language": [None, language]})
    return link


def revoke_link(link: CustomerLink, *, actor: User) -> None:
    """Stop a link working at once."""
    if link.revoked_at is None:
        link.revoked_at = datetime.now(UTC)
        audit.record(actor, "deal", link.deal_id, "customer link revoked")


def email_link(link: CustomerLink, *, actor: User) -> None:
    """Queue the link to the customer contact, in the link's language."""
    deal = link.deal
    if not deal.contact_email:
        raise FieldErrors({"email": "The deal has no customer contact email: add it in the Account section."})
    context = {
        "deal": deal,
        "contact_name": deal.contact_name,
        "vendor": current_app.config["VENDOR_NAME"],
        "rep_name": deal.rep.name,
        "url": link_url(link),
        "expires_at": link.expires_at,
    }
    with force_locale(link.language):
        subject = _("%(vendor)s: how would you like your solution delivered?", vendor=context["vendor"])
        text = render_template("mail/customer_link.txt", **context)
        html = render_template("mail/customer_link.html", **context)
    outbox.enqueue(
        kind="customer_link", to=[deal.contact_email], subject=subject, text=text, html=html, deal_id=deal.id
    )
    link.emailed_at = datetime.now(UTC)
    audit.record(actor, "deal", deal.id, "customer link emailed", {"to": [None, deal.contact_email]})


def mark_opened(link: CustomerLink) -> bool:
    """Note the first time the customer opens their link; return whether this was it."""
    if link.opened_at is not None:
        return False
    link.opened_at = datetime.now(UTC)
    return True


def customer_contact(deal: Deal) -> dict:
    """The one contact who follows up with the customer.

    Until the deal is routed that is the vendor's rep who sent the link.
    """
    return {"name": deal.rep.name, "email": deal.rep.email, "organisation": current_app.config["VENDOR_NAME"]}


def partner_involved(answer: dict) -> bool:
    """Whether a partner will help the customer, by what they said: then they must consent to sharing."""
    return answer["fulfilment"] in ("partner", "any_partner") or answer["contact_preference"] == "partner"


def record_answer(
    link: CustomerLink, answer: dict, rows: list[dict], *, consent: bool, consent_text: str, language: str
) -> bool:
    """Record the customer's answer (a resubmission replaces it); return whether anything changed.

    The first complete answer moves the deal to ready_to_route. What the customer says
    about a relationship is kept beside the rep's estimate, never over it.
    """
    deal = link.deal
    now = datetime.now(UTC)
    errors: dict[str, str] = {}
    values = {field: answer.get(field) for field in ANSWER_FIELDS}
    for field in TEXT_FIELDS:
        values[field] = (values[field] or "").strip()
    values["contact_email"] = values["contact_email"].lower()

    clean_rows = []
    if values["works_with_partner"] == "yes":
        for i, row in enumerate(rows):
            row = {field: row.get(field) for field in ROW_FIELDS}
            row["partner_name"] = (row["partner_name"] or "").strip()
            row["does_what"] = (row["does_what"] or "").strip()
            if row["partner_id"] is None and not row["partner_name"]:
                if row["strength"] is not None or row["duration"] or row["does_what"]:
                    errors[f"rows-{i}-partner_id"] = _("Choose the partner, or type its name.")
                continue
            if row["partner_id"] is not None:
                partner = db.session.get(Partner, row["partner_id"])
                if partner is None or not partner.is_active:
                    errors[f"rows-{i}-partner_id"] = _("Choose a partner from the list.")
                row["partner_name"] = ""
            if row["strength"] is None:
                errors[f"rows-{i}-strength"] = _("Tell us how you would describe the relationship.")
            clean_rows.append(row)
        if not clean_rows and not errors:
            errors["rows-0-partner_id"] = _("Name at least one partner, or answer “No” above.")
    if values["fulfilment"] == "partner":
        if not clean_rows:
            errors["fulfilment"] = _("Name the partner above first, or choose another way.")
        elif values["fulfilment_row"] is None or not 0 <= values["fulfilment_row"] < len(clean_rows):
            values["fulfilment_row"] = 0
    else:
        values["fulfilment_row"] = None
    if partner_involved(values) and not consent:
        errors["consent"] = _("To involve a partner we need your consent to share these answers with them.")
    if errors:
        raise FieldErrors(errors)

    existing = deal.customer_answer
    before = _summary(existing, deal.customer_relationships) if existing else None
    if existing is None:
        existing = CustomerAnswer(deal=deal, **values)
        db.session.add(existing)
    else:
        for field, value in values.items():
            setattr(existing, field, value)
    if consent and partner_involved(values):
        if existing.consented_at is None or existing.consent_text != consent_text:
            existing.consented_at = now
            existing.consent_text = consent_text
    existing.language = language
    after = _summary_values(values, clean_rows)
    if before == after:
        return False  # a replayed or repeated submission: one answer, no new history

    for old in deal.customer_relationships:
        db.session.delete(old)
    db.session.flush()
    for position, row in enumerate(clean_rows):
        db.session.add(
            Relationship(account_id=deal.account_id, deal_id=deal.id, source="customer", position=position, **row)
        )
    existing.updated_at = now
    if link.answered_at is None:
        link.answered_at = now
    changes = {"answer": [before, after]}
    if deal.status == "awaiting_customer":
        deal.status = "ready_to_route"
        changes["status"] = ["awaiting_customer", "ready_to_route"]
    db.session.flush()
    db.session.expire(deal, ["customer_relationships"])
    audit.record(None, "deal", deal.id, "customer answered" if before is None else "customer changed answer", changes)
    return True


def _summary_values(values: dict, rows: list[dict]) -> dict:
    return {
        **{k: values[k] for k in ANSWER_FIELDS},
        "partners": [[r["partner_id"], r["partner_name"], r["strength"], r["duration"], r["does_what"]] for r in rows],
    }


def _summary(answer: CustomerAnswer, rows: list[Relationship]) -> dict:
    values = {k: getattr(answer, k) for k in ANSWER_FIELDS}
    return _summary_values(
        values,
        [
            {
                "partner_id": r.partner_id,
                "partner_name": r.partner_name,
                "strength": r.strength,
                "duration": r.duration,
                "does_what": r.does_what,
            }
            for r in rows
        ],
    )


def compare(deal: Deal) -> dict:
    """The customer's answers beside the rep's: each partner with both strengths, and changed details."""

    def key(row: Relationship) -> str:
        return f"id:{row.partner_id}" if row.partner_id else "name:" + " ".join(row.partner_name.lower().split())

    merged: dict[str, dict] = {}
    for row in deal.landscape:
        merged.setdefault(key(row), {"name": row.display_name, "rep": None, "customer": None})["rep"] = row
    for row in deal.customer_relationships:
        merged.setdefault(key(row), {"name": row.display_name, "rep": None, "customer": None})["customer"] = row
    partners = []
    for item in merged.values():
        rep_strength = item["rep"].strength if item["rep"] else None
        customer_strength = item["customer"].strength if item["customer"] else None
        partners.append(
            {
                **item,
                "rep_strength": rep_strength,
                "customer_strength": customer_strength,
                # The customer's word counts where they gave it (PRODUCT.md).
                "strength": customer_strength if customer_strength is not None else rep_strength,
                "differs": item["rep"] is None or item["customer"] is None or rep_strength != customer_strength,
            }
        )
    answer = deal.customer_answer
    details = []
    if answer is not None:
        pairs = [
            ("Company", deal.account.name if deal.account else "", answer.company_name),
            ("Contact", deal.contact_name, answer.contact_name),
            ("Title", deal.contact_title, answer.contact_title),
            ("Email", deal.contact_email, answer.contact_email),
            ("Phone", deal.contact_phone, answer.contact_phone),
        ]
        details = [{"label": label, "rep": rep, "customer": said, "differs": rep != said} for label, rep, said in pairs]
    return {"partners": partners, "details": details}
