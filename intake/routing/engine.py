"""The routing rules of PRODUCT.md, applied in order: leader, alignment, fulfilment, roles, conflict, status.

Every rule reads `Facts`, which are derived from the input without regard to the order of its
lists, and every list the decision holds is sorted or ranked by a total key: the same input
always gives the same decision. Each rule says why twice: in full for the vendor's side, and in
general words any partner may read (`Step.partner_says`).
"""

from dataclasses import dataclass

from .facts import (
    Facts,
    count_words,
    facts_of,
    ineligible_because,
    joined,
    known_words,
    name,
    party_order,
    pick,
    rank,
    strength_words,
)
from .fulfilment import decide_fulfilment
from .model import CUSTOMER, VENDOR, Decision, Party, Role, RoutingInput, Step, partner
from .names import company_key, domain_key
from .parse import validate


def decide(data: RoutingInput) -> Decision:
    """Decide who leads, who fulfils and who supports the deal, and say why, rule by rule."""
    validate(data)
    facts = facts_of(data)
    leader = _leader(facts)
    needs_alignment, alignment = _alignment(facts, leader.party)
    fulfilment = decide_fulfilment(facts, leader.party)
    kept = frozenset({fulfilment.relationship_credit} - {None})
    supporting, roles = assign_roles(facts, leader.party, fulfilment.party, kept)
    conflicts, conflict = _conflicts(facts, leader.party, fulfilment.party)
    flags = set(fulfilment.flags)
    if needs_alignment:
        flags.add("needs_alignment")
    if conflicts:
        flags.add("conflict")
    status, status_step = _status(facts, leader.party, conflicts, fulfilment.party is None, needs_alignment)
    return Decision(
        leader=leader.party,
        fulfilment=fulfilment.party,
        supporting=supporting,
        status=status,
        flags=tuple(sorted(flags)),
        conflicts=conflicts,
        recommendations=fulfilment.recommendations,
        trace=(
            leader.step,
            alignment,
            Step("fulfilment", fulfilment.says, fulfilment.partner_says),
            roles,
            conflict,
            status_step,
        ),
    )


# ---------------------------------------------------------------- 1. leader


@dataclass(frozen=True)
class _Leader:
    party: Party
    step: Step


def _leader(facts: Facts) -> _Leader:
    contact = facts.preference.contact if facts.preference else "no_preference"
    strangers = _strangers(facts)
    if contact == "vendor":
        return _Leader(
            VENDOR,
            Step(
                "leader",
                "The customer named the vendor as their main contact, so the vendor leads." + strangers,
                "The vendor leads, at the customer's wish.",
            ),
        )
    opening = ""
    if contact == "partner":
        if facts.named in facts.eligible:
            named = partner(facts.named)
            return _Leader(
                named,
                Step(
                    "leader",
                    f"The customer named {name(facts, named)} as their main contact, so it leads." + strangers,
                    f"{name(facts, named)} leads, at the customer's wish.",
                ),
            )
        why = _why_not_named(facts)
        theirs = [partner(pid) for pid in facts.listed & facts.eligible if facts.in_running(pid)]
        others = [partner(pid) for pid in facts.eligible if facts.in_running(pid)]
        if theirs or others:
            chosen = pick(facts, theirs or others)
            which = "of those they listed " if theirs else ""
            if not theirs and facts.listed:
                why += " and none of the partners they listed can lead"
            return _Leader(
                chosen.party,
                Step(
                    "leader",
                    f"The customer wants a partner as their main contact and {why}, so the strongest eligible "
                    f"partner {which}leads: {name(facts, chosen.party)}, {strength_words(facts, chosen.party)}."
                    f"{chosen.tie}{_cannot_lead(facts, facts.strength(chosen.party))}{strangers}",
                    f"{name(facts, chosen.party)} leads: the customer wants a partner as their main contact.",
                ),
            )
        opening = (
            f"The customer wants a partner as their main contact, but {why} and no eligible partner has a "
            "relationship with them, so the strongest relationship decides. "
        )
    # A partner with no relationship is in the running only as the finder or the customer's choice.
    candidates = [VENDOR, *(partner(pid) for pid in facts.eligible if facts.in_running(pid))]
    chosen = pick(facts, candidates)
    leader = chosen.party
    says = f"{name(facts, leader, start=True)} has the strongest relationship with the customer, "
    says += f"{strength_words(facts, leader)}, so it leads.{chosen.tie}"
    if not chosen.tie and len(candidates) > 1:
        runner_up = rank(facts, candidates)[1]
        says += f" Next comes {name(facts, runner_up)}, {strength_words(facts, runner_up)}."
    if chosen.tie_reasons:
        partner_says = (
            f"{name(facts, leader, start=True)} leads: its relationship with the customer is as strong as any, and "
            f"{joined(list(chosen.tie_reasons))}."
        )
    else:
        partner_says = f"{name(facts, leader, start=True)} has the strongest relationship with the customer, so it "
        partner_says += "leads."
    says = opening + says + _cannot_lead(facts, facts.strength(leader)) + strangers
    return _Leader(leader, Step("leader", says, partner_says))


def _why_not_named(facts: Facts) -> str:
    if facts.named is not None:
        return f"{name(facts, partner(facts.named))} {ineligible_because(facts, facts.named)}"
    if facts.preference and (facts.preference.partner_name or "").strip():
        return f"no partner we know is called '{' '.join(facts.preference.partner_name.split())}'"
    return "they named no partner"


def _cannot_lead(facts: Facts, strength: int) -> str:
    """Name the ineligible partners that would otherwise have been in the running."""
    barred = [
        pid
        for pid in sorted(facts.partners)
        if pid not in facts.eligible and facts.strengths[pid].strength >= max(strength, 1)
    ]
    if not barred:
        return ""
    reasons = "; ".join(f"{name(facts, partner(pid))} {ineligible_because(facts, pid)}" for pid in barred)
    return f" An ineligible partner never leads: {reasons}."


def _strangers(facts: Facts) -> str:
    """Name the partners given only in words that we do not list, with the strength they were given."""
    if not facts.strangers:
        return ""
    ordered = sorted(facts.strangers.items(), key=lambda item: (-item[1].known.strength, item[0]))
    said = joined([f"{stranger.name}, {known_words(stranger.known)}" for _, stranger in ordered])
    if len(ordered) == 1:
        return f" {said}, is not a partner we know, so it cannot lead or fulfil."
    return f" {said}, are not partners we know, so they cannot lead or fulfil."


# ---------------------------------------------------------------- 2. alignment


def _alignment(facts: Facts, leader: Party) -> tuple[bool, Step]:
    finder = facts.originator
    if finder == CUSTOMER:
        says = "The customer came in on their own, so there is no finder to align with."
        return False, Step("alignment", says, says)
    if finder == leader:
        says = f"{name(facts, finder, start=True)} found the deal and leads it, so no alignment is needed."
        return False, Step("alignment", says, says)
    says = (
        f"{name(facts, finder, start=True)} found the deal but {name(facts, leader)} leads it: the deal needs "
        f"alignment between them before anyone contacts the customer, and {name(facts, finder)} keeps "
        "origination credit."
    )
    return True, Step("alignment", says, says)


# ---------------------------------------------------------------- 4. roles


def assign_roles(
    facts: Facts, leader: Party, fulfiller: Party | None, kept: frozenset[Party]
) -> tuple[tuple[Role, ...], Step]:
    """Rule 4: the vendor supports when it does not lead; a finder that neither leads nor fulfils keeps
    origination credit; a partner in `kept` without another role keeps relationship credit."""
    roles = []
    sentences = []
    if leader != VENDOR:
        roles.append(Role(VENDOR, "support"))
        sentences.append(
            f"The vendor supports {name(facts, leader)}: as the supporting party it originates no customer "
            "communication and coordinates through the leader."
        )
    finder = facts.originator
    if finder.kind == "partner" and finder not in (leader, fulfiller):
        roles.append(Role(finder, "origination_credit"))
        sentences.append(
            f"{name(facts, finder, start=True)} found the deal and, neither leading nor fulfilling it, keeps "
            "origination credit; it originates no customer communication."
        )
    for party in sorted(kept, key=party_order):
        if party not in (leader, fulfiller, finder):
            roles.append(Role(party, "relationship_credit"))
            sentences.append(
                f"{name(facts, party, start=True)} keeps relationship credit for its relationship with the "
                "customer; it originates no customer communication."
            )
    if fulfiller is not None and fulfiller != leader:
        sentences.append(
            f"{name(facts, fulfiller, start=True)} fulfils the deal for the leader, {name(facts, leader)}."
        )
    if not sentences:
        sentences.append(f"{name(facts, leader, start=True)} leads with no supporting party.")
    says = " ".join(sentences)
    ordered = tuple(sorted(roles, key=lambda role: (party_order(role.party), role.role)))
    return ordered, Step("roles", says, says)


# ---------------------------------------------------------------- 5. conflict


def _conflicts(facts: Facts, leader: Party, fulfiller: Party | None) -> tuple[tuple[int, ...], Step]:
    account = facts.data.account
    domain, company = domain_key(account.domain), company_key(account.name)
    # This deal's partner: the one that fulfils, else the one that leads.
    ours = next((party.partner_id for party in (fulfiller, leader) if party and party.kind == "partner"), None)
    conflicting: dict[int, set[str]] = {}
    alike: dict[int, set[str]] = {}
    for deal in facts.data.open_deals:
        same = set()
        if domain and domain_key(deal.account_domain) == domain:
            same.add("web domain")
        if company and company_key(deal.account_name) == company:
            same.add("company name")
        if not same:
            continue
        if deal.originator != facts.originator or deal.partner_id != ours:
            conflicting.setdefault(deal.id, set()).update(same)
        else:
            alike.setdefault(deal.id, set()).update(same)
    for deal_id in conflicting:
        alike.pop(deal_id, None)  # one id listed twice, once alike and once not: it conflicts
    sentences = []
    partner_says = ""
    if conflicting:
        sentences.append(
            f"{_other_deals(len(conflicting))} on the same account ({_alike_by(conflicting)}) with a different "
            "originator or partner: this deal is held until the channel manager resolves the conflict."
        )
        partner_says = (
            f"{_other_deals(len(conflicting))} on the same account: this deal is held until the channel manager "
            "resolves the conflict."
        )
    if alike:
        count = count_words(len(alike))
        verb = "has" if len(alike) == 1 else "have"
        sentences.append(
            f"{count.capitalize()} other open deal{'s' if len(alike) > 1 else ''} on the same account {verb} the "
            "same originator and partner: no conflict."
        )
    if not sentences:
        sentences.append("No other open deal is on this account.")
    return tuple(sorted(conflicting)), Step("conflict", " ".join(sentences), partner_says)


def _other_deals(count: int) -> str:
    if count == 1:
        return "Another open deal is"
    return f"{count_words(count).capitalize()} other open deals are"


def _alike_by(deals: dict[int, set[str]]) -> str:
    """How the deals match this account: "same web domain", "same company name", or both."""
    if all(len(same) == 2 for same in deals.values()):
        return "same web domain and company name"
    for only in ("web domain", "company name"):
        if all(only in same for same in deals.values()):
            return f"same {only}"
    return "same web domain or company name"


# ---------------------------------------------------------------- status


def _status(
    facts: Facts, leader: Party, conflicts: tuple[int, ...], is_held: bool, needs_alignment: bool
) -> tuple[str, Step]:
    if conflicts or is_held:
        why = []
        if conflicts:
            why.append("a conflicting open deal")
        if is_held:
            why.append("a fulfilment the channel manager decides")
        says = f"On hold for the channel manager: {' and '.join(why)}."
        return "on_hold", Step("status", says, says)
    if needs_alignment:
        says = (
            f"Needs alignment: {name(facts, facts.originator)} and {name(facts, leader)} agree who leads before "
            "anyone contacts the customer."
        )
        return "needs_alignment", Step("status", says, says)
    return "routable", routable_step(facts, leader)


def routable_step(facts: Facts, leader: Party) -> Step:
    says = f"Routable: {name(facts, leader)} can contact the customer, as the one voice they hear."
    return Step("status", says, says)
