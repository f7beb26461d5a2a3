"""Record routing decisions: the engine's, a rep's confirmed recommendation, a channel manager's own.

Each is a new version of the deal's decision, never an edit: its input, the decision, what the
engine proposed when a person decided otherwise, the rules used, and the deal's snapshot, all
stored together, with the status change and the mail it calls for in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from .. import routing
from ..errors import ChangedMeanwhile, DomainError, FieldErrors, NotNow
from ..extensions import db
from ..matching import no_partner_named, our_partner_named
from ..models import Deal, User
from ..models import Decision as Version
from ..routing.model import VENDOR, partner
from ..vocabulary import OPEN_STATUSES
from . import credit, customer, lifecycle, notify, partner_requests, snapshot
from . import facts as deal_facts


@dataclass(frozen=True)
class Proposal:
    """What the engine would decide for the deal now, from the facts it read."""

    facts: deal_facts.Facts
    decision: routing.Decision


class RemovesRoles(DomainError):
    """A decision in place of the engine's would take a partner's role or credit: the manager confirms first."""

    status = 400

    def __init__(self, removals):
        sentences = " ".join(removal.says for removal in removals)
        super().__init__(f"{sentences} Tick the box to confirm.", field="confirm")
        self.removals = removals


def current(deal: Deal) -> Version | None:
    """The decision version in force, if any."""
    return deal.decisions[-1] if deal.decisions else None


def check_based_on(deal: Deal, based_on: int | None) -> None:
    """Refuse a person's decision made on a version that is no longer the one in force (a double
    submit, a second tab, another manager a moment earlier)."""
    version = current(deal)
    if based_on != (version.version if version else 0):
        raise ChangedMeanwhile("This deal was decided a moment ago: read its new decision before deciding again.")


def propose(deal: Deal, *, also: tuple[int, ...] = ()) -> Proposal:
    """Run the engine on the deal's facts as they are now (`also`: partners a person chose, read too)."""
    facts = deal_facts.gather(deal, also=also)
    return Proposal(facts, routing.decide(facts.input))


def route_deal(deal: Deal, *, actor: User | None, partner_id: int | None = None) -> Version:
    """Decide and record a new version; `partner_id` confirms one of the engine's recommended partners.

    Without an actor, Intake itself routes (a partner's time passed under automatic recycling)
    and confirms the first recommended partner.
    """
    lifecycle.begin(deal, lifecycle.ROUTABLE, "This deal cannot be routed now.", done=("routed", "on_hold"))
    proposal = propose(deal)
    decision = proposal.decision
    if "confirm_recommendation" in decision.flags and decision.recommendations:
        offered = [r.partner_id for r in decision.recommendations]
        chosen = offered[0] if partner_id is None else partner_id
        if chosen not in offered:
            raise FieldErrors({"partner_id": "Choose one of the recommended partners."})
        confirmed = routing.decide_as(
            proposal.facts.input,
            leader=decision.leader,
            fulfilment=partner(chosen),
            decided_by=actor.name if actor else "Intake",
            reason="",
            reason_shared=False,
            kind="recommendation",
        )
        return _record(deal, proposal, confirmed, kind="recommendation", actor=actor)
    return _record(deal, proposal, decision, kind="engine", actor=actor)


def _chosen(value: str, field: str, typed: str = "") -> routing.Party:
    """Read a person's choice of party: `vendor`, or `partner:<id>`; or the partner of ours `typed` names (where
    there are too many partners to list them), which is the choice when given."""
    if typed.strip():
        partner_id = our_partner_named(typed)
        if partner_id is None:
            raise FieldErrors({f"{field}_name": no_partner_named(typed)})
        return partner(partner_id)
    if value == "vendor":
        return VENDOR
    if value.startswith("partner:") and value[8:].isdigit() and len(value) < 20:
        return partner(int(value[8:]))
    raise FieldErrors({field: "Choose the vendor or one of the partners listed."})


def choosable_partners(deal: Deal, partners: Iterable[Any]) -> list[Any]:
    """Of `partners` (anything with an id and is_active), those a channel manager may choose to lead or fulfil:
    active, and neither declined nor lapsed on this deal."""
    declined, lapsed = partner_requests.declined_and_lapsed(deal.id)
    barred = set(declined) | set(lapsed)
    return [p for p in partners if p.is_active and p.id not in barred]


def decide_in_place(
    deal: Deal,
    *,
    leader: str,
    fulfilment: str,
    reason: str,
    reason_shared: bool,
    confirmed: bool,
    actor: User,
    based_on: int | None,
    kind: str = "override",
    leader_name: str = "",
    fulfilment_name: str = "",
) -> Version:
    """A channel manager decides in place of the engine, with a written reason; the engine's proposal is kept.

    `based_on` is the version the manager saw. A decision that takes a partner's role or credit is
    refused until the manager confirms it. A partner typed by name (`leader_name`, `fulfilment_name`) is the
    choice where given.
    """
    reason = (reason or "").strip()
    if not reason:
        raise FieldErrors({"reason": "Write the reason: it is kept with the decision."})
    if kind == "alignment":
        lifecycle.begin(deal, ("on_hold",), "This deal is not waiting for alignment.")
        if deal.hold_reason != "needs_alignment":
            raise NotNow("This deal is not waiting for alignment.")
    else:
        lifecycle.begin(deal, lifecycle.DECIDABLE, "This deal cannot be routed now.")
    if deal.status == "on_hold" and current(deal) is None:
        # A partner's registration held as it came in: its rep takes it up before anyone routes it.
        raise NotNow("This registration waits for its conflict to be resolved before it can be routed.")
    check_based_on(deal, based_on)
    lead, fulfil = _chosen(leader, "leader", leader_name), _chosen(fulfilment, "fulfilment", fulfilment_name)
    proposal = propose(deal, also=tuple(p.partner_id for p in (lead, fulfil) if p.kind == "partner"))
    try:
        decision = routing.decide_as(
            proposal.facts.input,
            leader=lead,
            fulfilment=fulfil,
            decided_by=f"{actor.name}, channel manager",
            reason=reason,
            reason_shared=reason_shared,
            kind=kind,
        )
    except routing.InvalidInput as exc:
        raise FieldErrors({exc.path if exc.path in ("leader", "fulfilment") else "reason": exc.problem}) from None
    names = {pid: p.name for pid, p in proposal.facts.partners.items()}
    removals = routing.removed_roles(proposal.decision, decision, names=names)
    if removals and not confirmed:
        raise RemovesRoles(removals)
    return _record(deal, proposal, decision, kind=kind, actor=actor, reason=reason, reason_shared=reason_shared)


def resolve_conflict(
    deal: Deal, *, keep: Deal, reason: str, reason_shared: bool, actor: User, based_on: int | None
) -> Deal:
    """Let one of the conflicting deals proceed; the others are withdrawn and keep their origination credit.

    The kept deal, when it waited for this conflict too, is decided again now that it stands
    alone; a kept deal that was not held goes on where it was.
    """
    reason = (reason or "").strip()
    if not reason:
        raise FieldErrors({"reason": "Write the reason: it is kept with the decision."})
    resolved = ChangedMeanwhile("This conflict was resolved a moment ago.")
    check_based_on(deal, based_on)  # said early, and checked again under the locks below
    if deal.status != "on_hold" or deal.hold_reason != "conflict":
        raise resolved
    contenders = [d.id for d in conflict_contenders(deal)]
    if keep.id not in contenders:
        raise FieldErrors({"keep": "Choose one of the conflicting deals."})
    # Every contender is locked, in one order, before anything changes: two managers resolving
    # the same conflict from its two sides are applied one after the other.
    found = {deal_id: deal if deal_id == deal.id else db.session.get(Deal, deal_id) for deal_id in contenders}
    for contender in found.values():
        if contender is not None:
            lifecycle.lock(contender)
    check_based_on(deal, based_on)
    if deal.status != "on_hold" or deal.hold_reason != "conflict" or keep.status not in OPEN_STATUSES:
        raise resolved  # another manager decided it a moment ago, perhaps the other way round
    for deal_id, other in found.items():
        if other is not None and deal_id != keep.id and other.status in OPEN_STATUSES:
            lifecycle.withdraw(other, kept=keep, reason=reason, actor=actor)
            notify.withdrawn(other)
    if keep.status == "on_hold" and keep.hold_reason == "conflict" and current(keep) is None:
        # A partner's registration held as it came in: it goes on as a draft for its rep to take up.
        lifecycle.released(keep, reason=reason, actor=actor)
    elif keep.status == "on_hold" and keep.hold_reason == "conflict":
        db.session.flush()
        proposal = propose(keep)
        _record(
            keep, proposal, proposal.decision, kind="conflict", actor=actor, reason=reason, reason_shared=reason_shared
        )
    return keep


def conflict_contenders(deal: Deal) -> list[Deal]:
    """The deals in a conflict with this held one, itself included, by id.

    A decided deal's are those its decision in force names; a partner's registration held as it
    came in (no decision yet) is in conflict with the open deals on the same account now.
    """
    version = current(deal)
    if version is not None:
        ids = {deal.id, *version.routing.conflicts}
    else:
        ids = {deal.id, *(other.id for other in deal_facts.open_deals_on(deal.account, besides=deal.id))}
    return list(db.session.scalars(select(Deal).where(Deal.id.in_(ids)).order_by(Deal.id)))


def _record(
    deal: Deal,
    proposal: Proposal,
    decision: routing.Decision,
    *,
    kind: str,
    actor: User | None,
    reason: str = "",
    reason_shared: bool = False,
) -> Version:
    before = current(deal)
    version = Version(
        deal=deal,
        version=(before.version + 1) if before else 1,
        kind=kind,
        input=proposal.facts.data,
        output=decision.to_dict(),
        proposal=proposal.decision.to_dict() if decision != proposal.decision else None,
        rules=proposal.facts.data["rules"],
        reason=reason,
        reason_shared=reason_shared,
        summary=snapshot.build(deal, proposal.facts, decision, proposal.decision),
        decided_by_id=actor.id if actor else None,
        decided_at=datetime.now(UTC),
    )
    db.session.add(version)
    db.session.flush()
    lifecycle.decided(deal, decision, actor=actor, kind=kind, version=version.version, reason=reason)
    credit.record(deal, version, decision, proposal.facts.input.originator)
    requests = {}
    if decision.status == "routable":
        # The partners that lead or fulfil are asked to accept; one with no address still gets a
        # request, so its time can pass and the deal return to routing.
        for partner_id in decision.acting_partner_ids():
            requests[partner_id] = partner_requests.ask(deal, version, proposal.facts.partners[partner_id])
    notify.decision_recorded(deal, version, proposal.facts.partners, requests, previous=before)
    if decision.status == "routable" and decision.leader.kind == "vendor":
        # The vendor leads: the customer's contact is settled now (a partner's, when it accepts).
        customer.settle_contact(deal, version)
    return version
