"""The customer's side of a deal: their link, the answers they give by it, and the contact they are told of."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, tokens
from ..errors import FieldErrors
from ..extensions import db
from ..mail import outbox
from ..matching import our_partner_named
from ..models import CustomerAnswer, CustomerContact, CustomerLink, Deal, Partner, Relationship, User
from ..models import Decision as Version
from ..vocabulary import DURATION, strength_words
from . import audiences, events, lifecycle, notify

ANSWER_FIELDS = (
    "company_name",
    "contact_name",
    "contact_title",
    "contact_email",
    "contact_phone",
    "works_with_partner",
    "fulfilment",
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


def link_url(link: CustomerLink) -> str:
    """The address the customer opens, built on the configured base URL."""
    return f"{current_app.config['BASE_URL']}/p/{tokens.token_for(link)}"


def create_link(deal: Deal, *, language: str, actor: User) -> CustomerLink:
    """Issue the customer's link for this deal (revoking an earlier one)."""
    lifecycle.begin(deal, lifecycle.ROUTABLE, "Complete the questionnaire first: the customer's link comes after it.")
    link = tokens.issue(deal, language=language, actor=actor)
    audit.record(actor, "deal", deal.id, "customer link created", {"language": [None, language]})
    return link


def revoke_link(link: CustomerLink, *, actor: User) -> None:
    """Stop a link working at once."""
    if link.revoked_at is None:
        link.revoked_at = datetime.now(UTC)
        audit.record(actor, "deal", link.deal_id, "customer link revoked")


def email_link(link: CustomerLink, *, actor: User) -> None:
    """Queue the link to the customer contact, in the link's language, from their one contact so far."""
    deal = link.deal
    if not deal.contact_email:
        raise FieldErrors({"email": "The deal has no customer contact email: add it in the Account section."})
    context = audiences.customer_context(
        deal, audiences.customer_contact(deal), url=link_url(link), expires_at=link.expires_at, lang=link.language
    )
    context["customer_name"] = deal.contact_name
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


def partner_involved(answer: dict) -> bool:
    """Whether a partner will help the customer, by what they said: then they must consent to sharing."""
    return answer.get("fulfilment") in ("partner", "any_partner") or answer.get("contact_preference") == "partner"


def _clean(answer: dict, rows: list[dict]) -> tuple[dict, list[tuple[int, dict]]]:
    values = {field: answer.get(field) for field in ANSWER_FIELDS}
    for field in TEXT_FIELDS:
        values[field] = (values[field] or "").strip()
    values["contact_email"] = values["contact_email"].lower()
    filled = []
    if values["works_with_partner"] == "yes":
        for index, row in enumerate(rows):
            row = {field: row.get(field) for field in ROW_FIELDS}
            row["partner_name"] = (row["partner_name"] or "").strip()
            row["does_what"] = (row["does_what"] or "").strip()
            if row["partner_id"] is None and row["partner_name"]:
                # A partner of ours typed by name is that partner, as the engine reads it too.
                row["partner_id"] = our_partner_named(row["partner_name"])
            if row["partner_id"] is not None:
                row["partner_name"] = ""
            filled.append((index, row))
    return values, filled


def answer_errors(
    answer: dict, rows: list[dict], *, chosen_row: int | None, consent: bool, ours: dict[int, Partner] | None = None
) -> dict[str, str]:
    """Every rule the answer breaks, by field, so the customer sees them all in one round.

    `ours` are the partners the rows name, when the caller has read them (`_partners_named`).
    """
    values, filled = _clean(answer, rows)
    errors: dict[str, str] = {}
    named = []
    if ours is None:
        ours = _partners_named([row for _, row in filled])
    for index, row in filled:
        if row["partner_id"] is None and not row["partner_name"]:
            if row["strength"] is not None or row["duration"] or row["does_what"]:
                errors[f"rows-{index}-partner_id"] = _("Choose the partner, or type its name.")
            continue
        if row["partner_id"] is not None:
            partner = ours.get(row["partner_id"])
            if partner is None or not partner.is_active:
                errors[f"rows-{index}-partner_id"] = _("Choose a partner from the list.")
        if row["strength"] is None:
            errors[f"rows-{index}-strength"] = _("Tell us how you would describe the relationship.")
        named.append(index)
    if values["works_with_partner"] == "yes" and not named and not errors:
        errors["rows-0-partner_id"] = _("Name at least one partner, or answer “No” above.")
    if values["fulfilment"] == "partner":
        if not named:
            errors["fulfilment"] = _("Name the partner above first, or choose another way.")
        elif chosen_row not in named and len(named) > 1:
            errors["fulfilment_row"] = _("Choose which of your partners should deliver the solution.")
    if partner_involved(values) and not consent:
        errors["consent"] = _("To involve a partner we need your consent to share these answers with them.")
    return errors


def record_answer(
    link: CustomerLink,
    answer: dict,
    rows: list[dict],
    *,
    chosen_row: int | None,
    consent: bool,
    consent_text: str,
    language: str,
) -> bool:
    """Record the customer's answer (a resubmission replaces it); return whether anything changed.

    `rows` are the partner rows as the form had them, empty ones included, and `chosen_row` the
    one the customer picked to deliver: it is kept as that partner's identity (one of ours, or
    the name they typed), never as a position. The first answer moves the deal to
    ready_to_route. What the customer says about a relationship is kept beside the rep's
    estimate, never over it.
    """
    deal = link.deal
    lifecycle.begin(deal, lifecycle.ROUTABLE, _("Your answers can no longer be changed: the deal is under way."))
    values, filled = _clean(answer, rows)
    existing = deal.customer_answer
    said_before = [{field: getattr(r, field) for field in ROW_FIELDS} for r in deal.customer_relationships]
    # Every partner the answer and the one it replaces name, read once.
    ours = _partners_named([row for _, row in filled] + said_before, existing and existing.fulfilment_partner_id)
    errors = answer_errors(answer, rows, chosen_row=chosen_row, consent=consent, ours=ours)
    if errors:
        raise FieldErrors(errors)
    named = [(index, row) for index, row in filled if row["partner_id"] is not None or row["partner_name"]]
    values["fulfilment_partner_id"], values["fulfilment_partner_name"] = None, ""
    if values["fulfilment"] == "partner":
        chosen = next((row for index, row in named if index == chosen_row), named[0][1])
        values["fulfilment_partner_id"] = chosen["partner_id"]
        values["fulfilment_partner_name"] = "" if chosen["partner_id"] else chosen["partner_name"]
    clean_rows = [row for _, row in named]

    now = datetime.now(UTC)
    before = _summary(existing, said_before, ours) if existing else None
    after = _summary_values(values, clean_rows, ours)
    consented = consent and partner_involved(values)
    if existing is None:
        existing = CustomerAnswer(deal=deal, **values)
        db.session.add(existing)
    else:
        for field, value in values.items():
            setattr(existing, field, value)
    if consented and (existing.consented_at is None or existing.consent_text != consent_text):
        existing.consented_at, existing.consent_text = now, consent_text
    elif not consented:
        existing.consented_at, existing.consent_text = None, ""
    existing.language = language
    if before == after:
        return False  # a replayed or repeated submission: one answer, no new history

    existing.updated_at = now
    for old in deal.customer_relationships:
        db.session.delete(old)
    db.session.flush()
    for position, row in enumerate(clean_rows):
        db.session.add(
            Relationship(
                account_id=deal.account_id,
                deal_id=deal.id,
                source="customer",
                position=position,
                created_at=now,
                **row,
            )
        )
    if link.answered_at is None:
        link.answered_at = now
    changes = {"answer": [before, after], **lifecycle.customer_answered(deal)}
    db.session.flush()
    db.session.expire(deal, ["customer_relationships"])
    audit.record(None, "deal", deal.id, "customer answered" if before is None else "customer changed answer", changes)
    events.emit("customer.answered", deal=deal, is_first_answer=before is None)
    return True


def _partners_named(rows: list[dict], *ids: int | None) -> dict[int, Partner]:
    """Our partners the rows (and `ids`) name, read in one statement."""
    wanted = {row["partner_id"] for row in rows if row["partner_id"]} | {i for i in ids if i}
    if not wanted:
        return {}
    return {p.id: p for p in db.session.scalars(select(Partner).where(Partner.id.in_(wanted)))}


def _summary_values(values: dict, rows: list[dict], ours: dict[int, Partner]) -> dict:
    """The answer as the history keeps it: in names and codes, so it reads in words later."""

    def name(partner_id: int | None, typed: str) -> str:
        partner = ours.get(partner_id) if partner_id else None
        return partner.name if partner else typed

    partners = []
    for r in rows:
        said = f"{name(r['partner_id'], r['partner_name'])} ({strength_words(r['strength'])}"
        said += f", {DURATION.word(r['duration'])})" if r["duration"] else ")"
        partners.append(said + (f": {r['does_what']}" if r["does_what"] else ""))
    return {
        **{k: values[k] for k in ANSWER_FIELDS},
        "fulfilment_partner": name(values["fulfilment_partner_id"], values["fulfilment_partner_name"]),
        "partners": partners,
    }


def _summary(answer: CustomerAnswer, said: list[dict], ours: dict[int, Partner]) -> dict:
    """The answer kept, with the rows it said (`ROW_FIELDS` of each), as the history keeps it."""
    values = {k: getattr(answer, k) for k in (*ANSWER_FIELDS, "fulfilment_partner_id", "fulfilment_partner_name")}
    return _summary_values(values, said, ours)


def settle_contact(deal: Deal, version: Version) -> None:
    """The customer's one contact is settled: the leader's person. Tell them, or tell them it changed."""
    contact = audiences.leader_person(version)
    previous = db.session.scalar(
        select(CustomerContact).where(CustomerContact.deal_id == deal.id).order_by(CustomerContact.id.desc()).limit(1)
    )
    if previous is not None and (previous.name, previous.email, previous.organisation) == (
        contact.name,
        contact.email,
        contact.organisation,
    ):
        return  # the same person as before: nothing new to tell
    db.session.add(
        CustomerContact(
            deal_id=deal.id,
            decision_id=version.id,
            partner_id=contact.partner_id,
            name=contact.name,
            email=contact.email,
            organisation=contact.organisation,
        )
    )
    audit.record(
        None,
        "deal",
        deal.id,
        "told the customer their contact",
        {
            "contact": [
                f"{previous.name} ({previous.organisation})" if previous else None,
                f"{contact.name} ({contact.organisation})",
            ]
        },
    )
    was = audiences.Contact(previous.name, previous.email, previous.organisation) if previous else None
    notify.customer_told(deal, contact, previous=was)


def answerable(deal: Deal) -> bool:
    """Whether the customer may still give or change their answers."""
    return deal.status in lifecycle.ROUTABLE


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
