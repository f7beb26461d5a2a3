"""Rule 7: a person's decision in place of the engine's, and what it takes away from a partner.

A channel manager overriding the engine, aligning a finder and a leader, resolving a conflict,
or a rep confirming one of the engine's recommended partners fixes who leads and who fulfils;
the rest follows the rules: roles as rule 4 gives them, a trace that ends with the routable
status, and, when the decision removes a role or credit the engine's own decision gave a
partner, a step that says so. Decisions are versioned by the app, never edited in place.
"""

from collections.abc import Mapping
from dataclasses import replace

from .engine import assign_roles, decide, routable_step
from .facts import Facts, facts_of, ineligible_because, joined, name
from .model import PERSON_KINDS, Decision, Party, Removal, RoutingInput, Step
from .parse import InvalidInput, validate

_TOOK = {
    "lead": "led",
    "fulfilment": "fulfilled",
    "origination_credit": "kept origination credit for finding the deal",
    "relationship_credit": "kept relationship credit for its relationship with the customer",
}
_LOST = {
    "lead": "lead",
    "fulfilment": "fulfilment",
    "origination_credit": "origination credit",
    "relationship_credit": "relationship credit",
}


def decide_as(
    data: RoutingInput,
    *,
    leader: Party,
    fulfilment: Party,
    decided_by: str,
    reason: str,
    reason_shared: bool,
    kind: str,
) -> Decision:
    """Return a person's decision for the deal: `leader` and `fulfilment` as they fixed them, the rest by the rules.

    `kind` is one of `PERSON_KINDS`; `decided_by` says who ("Morgan Channel, channel manager");
    `reason` is theirs, and partners read it only when `reason_shared`. Leader and fulfilment are
    each the vendor or an eligible partner listed in the input; a recommendation confirmed
    (`kind="recommendation"`) must be one the engine recommended.
    """
    validate(data)
    if kind not in PERSON_KINDS:
        raise InvalidInput("kind", f"must be one of {', '.join(PERSON_KINDS)}; got {kind!r}")
    if not isinstance(decided_by, str) or not decided_by.strip():
        raise InvalidInput("decided_by", "say who decided")
    if not isinstance(reason, str) or (kind != "recommendation" and not reason.strip()):
        raise InvalidInput("reason", "a written reason is required")
    facts = facts_of(data)
    _check_party(facts, leader, "leader")
    _check_party(facts, fulfilment, "fulfilment")
    engine = decide(data)
    if kind == "recommendation" and fulfilment.partner_id not in {rec.partner_id for rec in engine.recommendations}:
        raise InvalidInput("fulfilment", "is not one of the partners the engine recommended")
    kept = frozenset(role.party for role in engine.supporting if role.role == "relationship_credit")
    supporting, roles = assign_roles(facts, leader, fulfilment, kept)
    flags = ()
    if fulfilment.kind == "vendor" and (leader.kind == "partner" or any(r.party.kind == "partner" for r in supporting)):
        flags = ("partner_credit",)
    decision = Decision(
        leader=leader,
        fulfilment=fulfilment,
        supporting=supporting,
        status="routable",
        flags=flags,
        conflicts=(),
        recommendations=(),
        trace=(),
    )
    trace = [_decided(facts, decision, decided_by=decided_by, reason=reason, shared=reason_shared, kind=kind), roles]
    removals = removed_roles(engine, decision, names={pid: item.name for pid, item in facts.partners.items()})
    if removals:
        still = set(decision.role_partner_ids())
        trace.append(
            Step(
                "removed",
                " ".join(removal.says for removal in removals),
                " ".join(removal.says for removal in removals if removal.partner_id in still),
            )
        )
    trace.append(routable_step(facts, leader))
    return replace(decision, trace=tuple(trace))


def _check_party(facts: Facts, party: Party, path: str) -> None:
    if not isinstance(party, Party) or party.kind not in ("vendor", "partner"):
        raise InvalidInput(path, "must be the vendor or a partner")
    if party.kind == "vendor":
        if party.partner_id is not None:
            raise InvalidInput(path, "the vendor names no partner_id")
        return
    if party.partner_id not in facts.partners:
        raise InvalidInput(path, f"partner {party.partner_id} is not in partners")
    if party.partner_id not in facts.eligible:
        why = ineligible_because(facts, party.partner_id)
        raise InvalidInput(path, f"{facts.partners[party.partner_id].name} is not eligible: it {why}")


def _decided(facts: Facts, decision: Decision, *, decided_by: str, reason: str, shared: bool, kind: str) -> Step:
    who = " ".join(decided_by.split())
    if "," in who:  # "Morgan Channel, channel manager": the title is set off on both sides
        who += ","
    leader, fulfiller = decision.leader, decision.fulfilment
    if kind == "recommendation":
        what = f"{who} confirmed {name(facts, fulfiller)} from the recommended partners."
    elif leader == fulfiller:
        what = f"{who} decided that {name(facts, leader)} leads and fulfils."
    else:
        what = f"{who} decided that {name(facts, leader)} leads and {name(facts, fulfiller)} fulfils."
    reason = " ".join(reason.split())
    if not reason:
        return Step(kind, what, what)
    because = f"{what} Reason: {reason}{'' if reason[-1] in '.!?' else '.'}"
    return Step(kind, because, because if shared else what)


def removed_roles(
    before: Decision,
    after: Decision,
    *,
    names: Mapping[int, str] | None = None,
    before_is: str = "the engine's proposal",
) -> tuple[Removal, ...]:
    """Per partner, the roles and credit (`CREDITS`) it had in `before` and lacks in `after`, by partner id.

    Origination and relationship credit are what rule 4 keeps for a partner with no other role: a
    partner that now leads or fulfils instead has lost nothing. Each removal says so in a sentence,
    naming the partner by `names` (partner id → name) and the earlier decision by `before_is`:
    "This decision removes Nordlicht IT GmbH's role: in the engine's proposal it led the deal."
    """
    removals = []
    for pid in sorted(before.role_partner_ids()):
        now = after.roles_of(pid)
        acting = bool({"lead", "fulfilment"} & set(now))
        lost = tuple(
            credit
            for credit in before.roles_of(pid)
            if credit not in now and not (acting and credit in ("origination_credit", "relationship_credit"))
        )
        if not lost:
            continue
        whose = f"{names[pid]}'s" if names and pid in names else "this partner's"
        what = joined([_LOST[credit] for credit in lost]) if now else "role"
        acts = [_TOOK[credit] for credit in lost if credit in ("lead", "fulfilment")]
        took = [f"{joined(acts)} the deal"] if acts else []
        took += [_TOOK[credit] for credit in lost if credit not in ("lead", "fulfilment")]
        says = f"This decision removes {whose} {what}: in {before_is} it {joined(took)}."
        removals.append(Removal(pid, lost, says))
    return tuple(removals)
