"""What each audience may see of a deal (PRODUCT.md "What each audience sees"), one builder each.

- `staff_view`: the rep and the channel manager see everything of a decision version;
  `staff_summary` is its short form (who leads, who fulfils, the flags), as the API and the
  vendor's webhooks give it.
- `partner_view`: one partner's copy of a version — its own role, who leads and fulfils, why in
  words that hold no strengths, no other partner's decline or lapse, no customer statement;
  the channel manager's reason only when shared; the customer's own statements about it and
  the customer's contact details only when the customer consented for that partner.
- `customer_contact` / `customer_context`: the customer's one contact, and nothing of routing,
  credit or commission. The link page and every customer mail take the contact from here.

Every page, mail and PDF of a version is rendered from what these return, and they read the
version's snapshot (`intake.deals.snapshot`), never the live rows: what a template cannot reach
it cannot leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from .. import routing
from ..extensions import db
from ..models import CustomerContact, Deal
from ..models import Decision as Version
from ..vocabulary import CONTACT, DECISION_KIND, DURATION, FULFILMENT, PARTY_ROLE, country_name, strength_words
from . import snapshot as snapshots


def vendor_name() -> str:
    """The vendor's name, as every audience reads it."""
    return current_app.config["VENDOR_NAME"]


def snapshot_names(snapshot: dict) -> dict[int, str]:
    """The names of the partners a version's snapshot holds, by id."""
    return {int(pid): p["name"] for pid, p in snapshot["partners"].items()}


def party_name(party: routing.Party | None, names: dict[int, str], vendor: str) -> str:
    """A party by name: the vendor's name, or the partner's."""
    if party is None:
        return "not decided yet"
    if party.kind == "partner":
        return names.get(party.partner_id, "a partner")
    return vendor if party.kind == "vendor" else "the customer"


def describe(decision: routing.Decision, names: dict[int, str], vendor: str) -> dict[str, Any]:
    """Who does what, in words: the leader, the fulfiller, each role and what it means."""

    def who(party):
        return party_name(party, names, vendor)

    def role(party, code):
        return {"who": who(party), "partner_id": party.partner_id if party else None, "what": PARTY_ROLE.word(code)}

    roles = [role(decision.leader, "lead"), role(decision.fulfilment, "fulfilment")]
    roles += [role(r.party, r.role) for r in decision.supporting]
    return {
        "leader": who(decision.leader),
        "fulfilment": who(decision.fulfilment),
        "roles": roles,
        "recommendations": [
            {"partner_id": r.partner_id, "name": names.get(r.partner_id, "a partner"), "reason": r.reason}
            for r in decision.recommendations
        ],
    }


def _common(version: Version, snapshot: dict, decision: routing.Decision, audience: str) -> dict[str, Any]:
    account = snapshot["account"]
    contacts = [{"side": snapshot["vendor"], "name": snapshot["rep"]["name"], "email": snapshot["rep"]["email"]}]
    for pid in decision.role_partner_ids():
        partner = snapshot["partners"].get(str(pid))
        if partner:
            contacts.append(
                {"side": partner["name"], "name": partner["contact_name"], "email": partner["contact_email"]}
            )
    return {
        "audience": audience,  # "vendor" or "partner": whose copy this is
        "vendor": snapshot["vendor"],
        "deal_id": snapshot["deal_id"],
        "version": version.version,
        "decided_at": version.decided_at,
        "account": {**account, "country": country_name(account["country"])},
        "need": snapshot["need"],
        "routing": describe(decision, snapshot_names(snapshot), snapshot["vendor"]),
        "status": decision.status,
        "contacts": contacts,
    }


def staff_view(version: Version) -> dict[str, Any]:
    """The rep's and channel manager's copy of a decision version: everything, internal notes included."""
    snapshot = snapshots.of(version)
    decision = version.routing
    customer = snapshot["customer"]
    view = _common(version, snapshot, decision, "vendor")
    proposed = version.proposed
    view.update(
        partner_id=None,
        kind=DECISION_KIND.word(version.kind),
        flags=list(decision.flags),
        why=[{"rule": step.rule, "says": step.says} for step in decision.trace],
        proposed=None
        if proposed is None
        else {
            "routing": describe(proposed, snapshot_names(snapshot), snapshot["vendor"]),
            "why": [{"rule": step.rule, "says": step.says} for step in proposed.trace],
        },
        reason=version.reason or None,
        reason_shared=version.reason_shared,
        customer_said=_customer_said(customer, customer["partners"]) if customer else None,
        customer_contact=snapshot["customer_contact"],
        internal={
            **snapshot["internal"],
            "rep_partners": [
                {**p, "strength": strength_words(p["strength"])} for p in snapshot["internal"]["rep_partners"]
            ],
        },
    )
    return view


def staff_summary(version: Version) -> dict[str, Any]:
    """A version in short, for the vendor's own systems: its status, who leads and who fulfils (kind, id and
    name), and the engine's flags."""
    snapshot = snapshots.of(version)
    decision = version.routing
    names = snapshot_names(snapshot)

    def party(who: routing.Party | None) -> dict[str, Any] | None:
        if who is None:
            return None
        return {"kind": who.kind, "partner_id": who.partner_id, "name": party_name(who, names, snapshot["vendor"])}

    return {
        "version": version.version,
        "status": decision.status,
        "leader": party(decision.leader),
        "fulfiller": party(decision.fulfilment),
        "flags": list(decision.flags),
    }


def consents(snapshot: dict, decision: routing.Decision, partner_id: int) -> bool:
    """Whether the customer consented to sharing with this partner: they agreed to share with the
    partner who helps them, which is the one that leads or fulfils — never a partner that only
    keeps a credit."""
    customer = snapshot["customer"]
    return bool(customer and customer["consented"]) and partner_id in decision.acting_partner_ids()


def partner_view(version: Version, partner_id: int) -> dict[str, Any]:
    """One partner's copy of a decision version."""
    snapshot = snapshots.of(version)
    decision = version.routing
    customer = snapshot["customer"]
    shared = consents(snapshot, decision, partner_id)
    view = _common(version, snapshot, decision, "partner")
    about_it = [p for p in customer["partners"] if p["partner_id"] == partner_id] if customer else []
    if customer and customer["fulfilment"] == "partner" and customer["chosen_partner_id"] != partner_id:
        # The customer chose another partner to deliver: who, and why, is not this partner's to read.
        customer = {**customer, "fulfilment": None, "chosen": "", "reason": ""}
    view.update(
        partner_id=partner_id,
        partner=snapshot["partners"].get(str(partner_id), {"name": "", "contact_name": "", "contact_email": ""}),
        why=[{"rule": step.rule, "says": step.partner_says} for step in decision.trace if step.partner_says],
        reason=version.reason if version.reason and version.reason_shared else None,
        customer_said=_customer_said(customer, about_it) if shared else None,
        customer_contact=snapshot["customer_contact"] if shared else None,
        internal=None,
    )
    return view


def _customer_said(customer: dict, partners: list[dict]) -> dict[str, Any]:
    return {
        "fulfilment": FULFILMENT.word(customer["fulfilment"]) if customer["fulfilment"] else None,
        "chosen": customer["chosen"],
        "reason": customer["reason"],
        "contact": CONTACT.word(customer["contact"]),
        "partners": [
            {
                "name": p["name"],
                "strength": strength_words(p["strength"]),
                "duration": DURATION.word(p["duration"]) if p["duration"] else "",
                "does": p["does"],
            }
            for p in partners
        ],
    }


# ---------------------------------------------------------------- the customer


@dataclass(frozen=True)
class Contact:
    """The one person the customer hears from."""

    name: str
    email: str
    organisation: str
    partner_id: int | None = None


def customer_contact(deal: Deal) -> Contact:
    """The customer's one contact: the one they were last told of, else the rep who sent their link."""
    told = db.session.scalar(
        select(CustomerContact).where(CustomerContact.deal_id == deal.id).order_by(CustomerContact.id.desc()).limit(1)
    )
    if told is not None:
        return Contact(told.name, told.email, told.organisation, told.partner_id)
    if deal.rep is None:
        # A partner's registration waiting for a rep: nobody has contacted the customer yet.
        return Contact("", "", vendor_name())
    return Contact(deal.rep.name, deal.rep.email, vendor_name())


def leader_person(version: Version) -> Contact:
    """The leader's named person in a decision version: the partner's contact, or the vendor's rep."""
    snapshot = snapshots.of(version)
    leader = version.routing.leader
    if leader.kind == "partner":
        partner = snapshot["partners"][str(leader.partner_id)]
        return Contact(
            partner["contact_name"] or partner["name"], partner["contact_email"], partner["name"], leader.partner_id
        )
    return Contact(snapshot["rep"]["name"], snapshot["rep"]["email"], snapshot["vendor"])


def customer_context(deal: Deal, contact: Contact, **extra) -> dict[str, Any]:
    """What a mail or page to the customer may use: their name, their one contact, the vendor's name."""
    answer = deal.customer_answer
    return {
        "vendor": vendor_name(),
        "customer_name": answer.contact_name if answer and answer.contact_name else deal.contact_name,
        "contact": contact,
        **extra,
    }
