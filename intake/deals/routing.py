"""The imperative shell around the routing engine: gather a deal's facts, decide, record versions.

Loading uses indexed lookups: the account's relationships by relationships.account_id, other
open deals on the same account by accounts.domain (unique index), accounts.name_key (index) and
deals.account_id, their decisions by decisions.deal_id, and the partners the facts mention by
primary key. Only when the customer asks us to recommend a partner (`any_partner`), or names
theirs only in their own words, are all partners read: any one may be the match.
"""

from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import audit, routing
from ..extensions import db
from ..models import Account, Deal, Decision, Partner, Relationship, RulesOfEngagement, User
from ..models.deals import OPEN_STATUSES
from . import notify

ROUTABLE_STATUSES = ("awaiting_customer", "ready_to_route")
ROLE_MEANING = {
    "leader": "leads: the one voice to the customer, who owns every customer contact",
    "fulfilment": "fulfils: delivers the solution and takes the order",
    "support": "supports: originates no customer contact and coordinates through the leader",
    "origination_credit": "keeps origination credit for finding the deal",
}


class NotRoutable(Exception):
    """The deal is not in a state that can be routed."""


class BadChoice(Exception):
    """A person's choice (leader, partner, deal) is not one of those offered; the message says why."""


def current_rules() -> dict:
    """The rules of engagement in force, as the engine takes them."""
    rules = db.session.scalar(select(RulesOfEngagement).order_by(RulesOfEngagement.id.desc()).limit(1))
    if rules is None:
        return {"threshold": 3, "ties": "partners"}
    return {"threshold": rules.threshold, "ties": rules.ties}


def set_rules(*, threshold: int, ties: str, actor: User) -> RulesOfEngagement:
    """Record new rules of engagement; decisions already made keep the rules they used."""
    rules = RulesOfEngagement(threshold=threshold, ties=ties, created_by_id=actor.id)
    db.session.add(rules)
    db.session.flush()
    audit.record(actor, "rules", rules.id, "changed", {"threshold": [None, threshold], "ties": [None, ties]})
    return rules


def _party(kind: str | None, partner_id: int | None) -> dict:
    if kind == "partner" and partner_id is not None:
        return {"kind": "partner", "partner_id": partner_id}
    if kind == "customer":
        return {"kind": "customer"}
    return {"kind": "vendor"}


def current_decision(deal: Deal) -> Decision | None:
    return deal.decisions[-1] if deal.decisions else None


def _deal_partner(deal: Deal) -> int | None:
    """The partner a deal is with: the one fulfilling or leading it, else the one that found it."""
    decision = current_decision(deal)
    if decision is not None:
        for key in ("fulfilment", "leader"):
            party = decision.output.get(key) or {}
            if party.get("kind") == "partner":
                return party["partner_id"]
    return deal.originator_partner_id


def _open_deals(deal: Deal) -> list[dict]:
    account = deal.account
    same = [Account.id == account.id, Account.name_key == account.name_key]
    if account.domain:
        same.append(Account.domain == account.domain)
    others = db.session.scalars(
        select(Deal)
        .join(Deal.account)
        .where(db.or_(*same), Deal.id != deal.id, Deal.status.in_(OPEN_STATUSES))
        .options(selectinload(Deal.account), selectinload(Deal.decisions))
    )
    return [
        {
            "id": other.id,
            "account_domain": other.account.domain,
            "account_name": other.account.name,
            "originator": _party(other.originator, other.originator_partner_id),
            "partner_id": _deal_partner(other),
        }
        for other in others
    ]


def _preference(deal: Deal) -> dict | None:
    answer = deal.customer_answer
    if answer is None:
        return None
    preference = {
        "fulfilment": answer.fulfilment,
        "partner_id": None,
        "partner_name": None,
        "contact": answer.contact_preference,
    }
    rows = deal.customer_relationships
    if answer.fulfilment == "partner" and rows:
        row = rows[min(answer.fulfilment_row or 0, len(rows) - 1)]
        preference["partner_id"] = row.partner_id
        preference["partner_name"] = row.partner_name or None
    return preference


def declined_partner_ids(deal: Deal) -> list[int]:
    """Partners that declined this deal (or let its deadline pass): never proposed for it again."""
    from .partners import declined_partner_ids

    return declined_partner_ids(deal.id)


def routing_input(deal: Deal) -> dict:
    """The engine's input for this deal, in its JSON form."""
    account = deal.account
    relationships = db.session.scalars(
        select(Relationship).where(
            Relationship.account_id == account.id,
            Relationship.partner_id.is_not(None),
            Relationship.strength.is_not(None),
        )
    )
    relationships = list(relationships)
    preference = _preference(deal)
    open_deals = sorted(_open_deals(deal), key=lambda d: d["id"])
    named_only = preference and preference["partner_name"] and not preference["partner_id"]
    if preference and (preference["fulfilment"] == "any_partner" or named_only):
        # Any partner may be the one to recommend, or the one the customer named in their own words.
        partners = db.session.scalars(select(Partner))
    else:
        ids = {r.partner_id for r in relationships}
        ids.update(p for p in (deal.originator_partner_id, preference and preference["partner_id"]) if p)
        partners = db.session.scalars(select(Partner).where(Partner.id.in_(ids))) if ids else []
    return {
        "originator": _party(deal.originator, deal.originator_partner_id),
        "vendor_strength": account.vendor_strength or 0,
        "relationships": sorted(
            ({"partner_id": r.partner_id, "strength": r.strength, "source": r.source} for r in relationships),
            key=lambda r: (r["partner_id"], r["source"], r["strength"]),
        ),
        "preference": preference,
        "partners": [
            {
                "id": p.id,
                "name": p.name,
                "active": p.is_active,
                "countries": sorted(p.countries),
                "verticals": sorted(p.verticals),
                "tier": p.tier,
            }
            for p in sorted(partners, key=lambda p: p.id)
        ],
        "account": {
            "country": account.country,
            "vertical": account.vertical,
            "domain": account.domain,
            "name": account.name,
        },
        "open_deals": open_deals,
        "declined_partner_ids": declined_partner_ids(deal),
        "rules": current_rules(),
    }


def propose(deal: Deal) -> tuple[dict, dict]:
    """Run the engine on the deal's facts now: (input, decision), both in JSON form."""
    if deal.account is None:
        raise NotRoutable()
    data = routing_input(deal)
    return data, routing.decide(routing.parse_input(data)).to_dict()


def _record(
    deal: Deal, *, kind: str, data: dict, output: dict, actor: User, proposal: dict | None = None, reason: str = ""
) -> Decision:
    version = (deal.decisions[-1].version + 1) if deal.decisions else 1
    decision = Decision(
        deal=deal,
        version=version,
        kind=kind,
        input=data,
        output=output,
        proposal=proposal,
        rules=data["rules"],
        reason=reason,
        decided_by_id=actor.id,
        decided_at=datetime.now(UTC),
    )
    db.session.add(decision)
    before = deal.status
    if output["status"] == "routable":
        deal.status, deal.hold_reason = "routed", None
    else:
        deal.status = "on_hold"
        flags = output["flags"]
        deal.hold_reason = (
            "conflict"
            if "conflict" in flags
            else "needs_alignment"
            if output["status"] == "needs_alignment"
            else "fulfilment"
        )
    db.session.flush()
    audit.record(
        actor,
        "deal",
        deal.id,
        f"routed ({kind})",
        {
            "status": [before, deal.status],
            "version": [None, version],
            **({"reason": [None, reason]} if reason else {}),
        },
    )
    notify.decision_recorded(deal, decision)
    return decision


def route_deal(deal: Deal, *, actor: User, partner_id: int | None = None) -> Decision:
    """Decide and record a new version; `partner_id` confirms one of the engine's recommendations."""
    if deal.status not in ROUTABLE_STATUSES:
        raise NotRoutable()
    data, output = propose(deal)
    kind = "engine"
    if "confirm_recommendation" in output["flags"] and output["recommendations"]:
        offered = [r["partner_id"] for r in output["recommendations"]]
        chosen = partner_id if partner_id is not None else offered[0]
        if chosen not in offered:
            raise BadChoice("Choose one of the recommended partners.")
        proposal = output
        output = {
            **output,
            "fulfilment": {"kind": "partner", "partner_id": chosen},
            "trace": output["trace"]
            + [
                {
                    "rule": "recommendation",
                    "says": (f"{actor.name} confirmed {_partner_name(chosen)} from the recommended partners."),
                }
            ],
        }
        return _record(deal, kind="recommendation", data=data, output=output, actor=actor, proposal=proposal)
    return _record(deal, kind=kind, data=data, output=output, actor=actor)


def _partner_name(partner_id: int) -> str:
    partner = db.session.get(Partner, partner_id)
    return partner.name if partner else f"partner {partner_id}"


def _supporting(leader: dict, fulfilment: dict | None, originator: dict) -> list[dict]:
    roles = []
    if leader["kind"] != "vendor":
        roles.append({"party": {"kind": "vendor"}, "role": "support"})
    if originator.get("kind") == "partner" and originator not in (leader, fulfilment):
        roles.append({"party": originator, "role": "origination_credit"})
    return roles


def _parse_party(value: str, *, allow_none: bool = False) -> dict | None:
    if value == "vendor":
        return {"kind": "vendor"}
    if allow_none and value == "":
        return None
    if value.startswith("partner:") and value[8:].isdigit():
        partner = db.session.get(Partner, int(value[8:]))
        if partner is None or not partner.is_active:
            raise BadChoice("Choose an active partner.")
        return {"kind": "partner", "partner_id": partner.id}
    raise BadChoice("Choose the vendor or one of the partners.")


def override(deal: Deal, *, leader: str, fulfilment: str, reason: str, actor: User, kind: str = "override") -> Decision:
    """Decide in place of the engine, with a written reason; the engine's proposal is kept beside it."""
    if not reason.strip():
        raise BadChoice("Say why: an override needs a reason.")
    if deal.account is None or deal.status in ("draft", "won", "lost", "withdrawn"):
        raise NotRoutable()
    data, proposal = propose(deal)
    lead = _parse_party(leader)
    fulfil = _parse_party(fulfilment)
    output = {
        "leader": lead,
        "fulfilment": fulfil,
        "supporting": _supporting(lead, fulfil, data["originator"]),
        "status": "routable",
        "flags": [f for f in proposal["flags"] if f not in ("needs_alignment", "conflict")],
        "conflicts": [],
        "recommendations": [],
        "trace": proposal["trace"]
        + [{"rule": kind, "says": f"{actor.name}, channel manager, decided: {reason.strip()}"}],
    }
    return _record(deal, kind=kind, data=data, output=output, actor=actor, proposal=proposal, reason=reason.strip())


def resolve_alignment(deal: Deal, *, leader: str, reason: str, actor: User) -> Decision:
    """The channel manager picks who leads a deal that needed alignment; fulfilment stays as decided."""
    decision = current_decision(deal)
    if deal.hold_reason != "needs_alignment" or decision is None:
        raise NotRoutable()
    fulfilment = decision.output.get("fulfilment")
    fulfil = "vendor" if not fulfilment or fulfilment["kind"] == "vendor" else f"partner:{fulfilment['partner_id']}"
    return override(deal, leader=leader, fulfilment=fulfil, reason=reason, actor=actor, kind="alignment")


def resolve_conflict(deal: Deal, *, keep: Deal, reason: str, actor: User) -> Decision:
    """Let one of the conflicting deals proceed; the others are withdrawn, their origination credit kept."""
    if not reason.strip():
        raise BadChoice("Say why: resolving a conflict needs a reason.")
    decision = current_decision(deal)
    contenders = {deal.id, *((decision.output.get("conflicts") or []) if decision else [])}
    if keep.id not in contenders:
        raise BadChoice("Choose one of the conflicting deals.")
    for other_id in sorted(contenders - {keep.id}):
        other = db.session.get(Deal, other_id)
        if other is None or other.status not in OPEN_STATUSES:
            continue
        before = other.status
        other.status, other.hold_reason = "withdrawn", None
        audit.record(
            actor,
            "deal",
            other.id,
            "withdrawn in a conflict",
            {
                "status": [before, "withdrawn"],
                "kept_deal": [None, keep.id],
                "reason": [None, reason.strip()],
                "origination": [None, f"{other.originator} credit kept"],
            },
        )
    db.session.flush()
    data, output = propose(keep)
    output = {
        **output,
        "trace": output["trace"]
        + [{"rule": "conflict", "says": f"{actor.name}, channel manager, let this deal proceed: {reason.strip()}"}],
    }
    return _record(keep, kind="conflict", data=data, output=output, actor=actor, reason=reason.strip())


def describe(output: dict, partners: dict[int, str]) -> dict:
    """Who does what, in words, for the deal page, the mail and the PDF."""
    vendor = current_app.config["VENDOR_NAME"]

    def name(party: dict | None) -> str:
        if party is None:
            return "not decided yet"
        if party["kind"] == "partner":
            return partners.get(party["partner_id"], f"partner {party['partner_id']}")
        return vendor if party["kind"] == "vendor" else "the customer"

    roles = [{"who": name(output["leader"]), "what": ROLE_MEANING["leader"]}]
    roles.append({"who": name(output["fulfilment"]), "what": ROLE_MEANING["fulfilment"]})
    roles += [{"who": name(r["party"]), "what": ROLE_MEANING[r["role"]]} for r in output["supporting"]]
    return {
        "leader": name(output["leader"]),
        "fulfilment": name(output["fulfilment"]),
        "roles": roles,
        "recommendations": [
            {
                "partner_id": r["partner_id"],
                "name": name({"kind": "partner", "partner_id": r["partner_id"]}),
                "reason": r["reason"],
            }
            for r in output["recommendations"]
        ],
    }


def role_partners(output: dict) -> list[int]:
    """Partners with any role in a decision, in order: leading, fulfilling, supporting."""
    ids: list[int] = []
    parties = [output.get("leader"), output.get("fulfilment")] + [r["party"] for r in output.get("supporting", [])]
    for party in parties:
        if party and party.get("kind") == "partner" and party["partner_id"] not in ids:
            ids.append(party["partner_id"])
    return ids


def partner_names(*outputs: dict) -> dict[int, str]:
    """Names of every partner these decisions mention, in one query."""
    ids = set()
    for output in outputs:
        ids.update(role_partners(output))
        ids.update(r["partner_id"] for r in output.get("recommendations", []))
    if not ids:
        return {}
    return dict(db.session.execute(select(Partner.id, Partner.name).where(Partner.id.in_(ids))).all())
