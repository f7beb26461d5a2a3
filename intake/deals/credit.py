"""Credit records: what each party earned from a decision version, kept so history is never re-derived.

A routed decision earns the leader `lead`, the fulfiller `fulfilment`, the party that found the
deal `origination` (a partner, or the vendor; a customer coming in earns none) and a partner kept
for its relationship `relationship`. A new version supersedes the credit of the one before; won
or lost closes the credit in force with the date and the final value; a deal that goes back to
routing ends it (the partner that declined or lapsed earns nothing from it), and a withdrawn deal
closes it as withdrawn. Written in the transaction of the change, by the modules that make it.

The deal keeps the route of the credit in force beside it (`routed_at`, `route_leader`,
`route_fulfiller`), set and cleared here with that credit and nowhere else: the dashboard counts
routes from these columns by index instead of joining each lead credit to its fulfilment credit.
"""

from __future__ import annotations

from sqlalchemy import update

from ..extensions import db
from ..models import Credit, Deal
from ..models import Decision as Version
from ..routing import Decision, Party


def earned(decision: Decision, originator: Party) -> list[tuple[Party, str]]:
    """(party, credit) for each credit a routed decision earns, each once, in a fixed order."""
    found = [(decision.leader, "lead")]
    if decision.fulfilment is not None:
        found.append((decision.fulfilment, "fulfilment"))
    if originator.kind in ("vendor", "partner"):
        found.append((originator, "origination"))
    found += [(role.party, "relationship") for role in decision.supporting if role.role == "relationship_credit"]
    return list(dict.fromkeys(found))


def record(deal: Deal, version: Version, decision: Decision, originator: Party) -> None:
    """The credit of a routed decision version; the credit of the version before is superseded.

    A held decision (alignment, conflict, fulfilment to decide) earns nothing until it is routed.
    """
    _end(deal)
    if decision.status != "routable":
        return
    deal.routed_at = version.decided_at
    deal.route_leader = decision.leader.kind
    # A routed decision that names no fulfiller counts as the vendor fulfilling.
    deal.route_fulfiller = decision.fulfilment.kind if decision.fulfilment is not None else "vendor"
    for party, credit in earned(decision, originator):
        db.session.add(
            Credit(
                deal_id=deal.id,
                decision_id=version.id,
                party=party.kind,
                partner_id=party.partner_id if party.kind == "partner" else None,
                credit=credit,
                originator=originator.kind,
                value=deal.estimated_value,
                currency=deal.currency,
                decided_at=version.decided_at,
            )
        )


def _end(deal: Deal) -> None:
    deal.routed_at = deal.route_leader = deal.route_fulfiller = None
    db.session.execute(
        update(Credit)
        .where(Credit.deal_id == deal.id, Credit.in_force.is_(True), Credit.outcome.is_(None))
        .values(in_force=False)
        .execution_options(synchronize_session=False)
    )


def back_to_routing(deal: Deal) -> None:
    """The decision in force no longer holds: its credit ends with it."""
    _end(deal)


def closed(deal: Deal, outcome: str) -> None:
    """Won, lost or withdrawn closes the credit in force, with the date and final value when there are."""
    db.session.execute(
        update(Credit)
        .where(Credit.deal_id == deal.id, Credit.in_force.is_(True), Credit.outcome.is_(None))
        .values(outcome=outcome, closed_on=deal.closed_on, final_value=deal.final_value)
        .execution_options(synchronize_session=False)
    )
