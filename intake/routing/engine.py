"""The routing rules of PRODUCT.md, applied in order: leader, alignment, fulfilment, roles, conflict, status.

Every rule reads `Facts`, which are derived from the input without regard to the order of its
lists, and every list the decision holds is sorted or ranked by a total key: the same input
always gives the same decision.
"""

from .facts import Facts, facts_of, ineligible_because, name, party_order, pick, rank, strength_words
from .fulfilment import decide_fulfilment
from .model import CUSTOMER, VENDOR, Decision, Party, Role, RoutingInput, Step, partner
from .names import company_key, domain_key
from .parse import validate


def decide(data: RoutingInput) -> Decision:
    """Decide who leads, who fulfils and who supports the deal, and say why, rule by rule."""
    validate(data)
    facts = facts_of(data)
    leader, leader_says = _leader(facts)
    needs_alignment, alignment_says = _alignment(facts, leader)
    fulfilment = decide_fulfilment(facts, leader)
    supporting, roles_says = _roles(facts, leader, fulfilment.party)
    conflicts, conflict_says = _conflicts(facts, leader, fulfilment.party)
    flags = set(fulfilment.flags)
    if needs_alignment:
        flags.add("needs_alignment")
    if conflicts:
        flags.add("conflict")
    status, status_says = _status(facts, leader, conflicts, fulfilment.party is None, needs_alignment)
    return Decision(
        leader=leader,
        fulfilment=fulfilment.party,
        supporting=supporting,
        status=status,
        flags=tuple(sorted(flags)),
        conflicts=conflicts,
        recommendations=fulfilment.recommendations,
        trace=(
            Step("leader", leader_says),
            Step("alignment", alignment_says),
            Step("fulfilment", fulfilment.says),
            Step("roles", roles_says),
            Step("conflict", conflict_says),
            Step("status", status_says),
        ),
    )


# ---------------------------------------------------------------- 1. leader


def _leader(facts: Facts) -> tuple[Party, str]:
    contact = facts.preference.contact if facts.preference else "no_preference"
    if contact == "vendor":
        return VENDOR, "The customer named the vendor as their main contact, so the vendor leads."
    opening = ""
    if contact == "partner":
        if facts.named in facts.eligible:
            named = partner(facts.named)
            says = f"The customer named {name(facts, named)} as their main contact and it is eligible, so it leads."
            return named, says
        theirs = [partner(pid) for pid in facts.eligible if facts.strengths[pid][0] > 0]
        if theirs:
            leader, tie = pick(facts, theirs)
            return leader, (
                f"The customer wants a partner as their main contact and {_why_not_named(facts)}, so their "
                f"strongest eligible partner leads: {name(facts, leader)}, {strength_words(facts, leader)}.{tie}"
            )
        opening = (
            f"The customer wants a partner as their main contact, but {_why_not_named(facts)} and no other "
            "eligible partner has a relationship with them. "
        )
    # A partner with no relationship is in the running only as the finder or the customer's choice.
    in_running = [
        partner(pid)
        for pid in facts.eligible
        if facts.strengths[pid][0] > 0 or partner(pid) == facts.originator or pid == facts.named
    ]
    candidates = [VENDOR, *in_running]
    leader, tie = pick(facts, candidates)
    says = f"{name(facts, leader, start=True)} has the strongest relationship with the customer, "
    says += f"{strength_words(facts, leader)}, so it leads.{tie}"
    if not tie and len(candidates) > 1:
        runner_up = rank(facts, candidates)[1]
        says += f" Next comes {name(facts, runner_up)}, {strength_words(facts, runner_up)}."
    return leader, opening + says + _cannot_lead(facts, facts.strength(leader))


def _why_not_named(facts: Facts) -> str:
    if facts.named is not None:
        return f"{name(facts, partner(facts.named))} {ineligible_because(facts, facts.named)}"
    if facts.preference and (facts.preference.partner_name or "").strip():
        return f"no known partner is called '{facts.preference.partner_name.strip()}'"
    return "they named no partner"


def _cannot_lead(facts: Facts, strength: int) -> str:
    """Name the ineligible partners that would otherwise have been in the running."""
    barred = [
        pid
        for pid in sorted(facts.partners)
        if pid not in facts.eligible and facts.strengths[pid][0] >= max(strength, 1)
    ]
    if not barred:
        return ""
    reasons = "; ".join(f"{name(facts, partner(pid))} {ineligible_because(facts, pid)}" for pid in barred)
    return f" An ineligible partner never leads: {reasons}."


# ---------------------------------------------------------------- 2. alignment


def _alignment(facts: Facts, leader: Party) -> tuple[bool, str]:
    finder = facts.originator
    if finder == CUSTOMER:
        return False, "The customer came in on their own, so there is no finder to align with."
    if finder == leader:
        return False, f"{name(facts, finder, start=True)} found the deal and leads it, so no alignment is needed."
    return True, (
        f"{name(facts, finder, start=True)} found the deal but {name(facts, leader)} leads it: the deal needs "
        f"alignment between them before anyone contacts the customer, and {name(facts, finder)} keeps "
        "origination credit."
    )


# ---------------------------------------------------------------- 4. roles


def _roles(facts: Facts, leader: Party, fulfiller: Party | None) -> tuple[tuple[Role, ...], str]:
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
    if fulfiller is not None and fulfiller != leader:
        sentences.append(
            f"{name(facts, fulfiller, start=True)} fulfils the deal for the leader, {name(facts, leader)}."
        )
    if not sentences:
        sentences.append(f"{name(facts, leader, start=True)} leads with no supporting party.")
    return tuple(sorted(roles, key=lambda role: party_order(role.party))), " ".join(sentences)


# ---------------------------------------------------------------- 5. conflict


def _conflicts(facts: Facts, leader: Party, fulfiller: Party | None) -> tuple[tuple[int, ...], str]:
    account = facts.data.account
    domain, company = domain_key(account.domain), company_key(account.name)
    # This deal's partner: the one that fulfils, else the one that leads.
    ours = next((party.partner_id for party in (fulfiller, leader) if party and party.kind == "partner"), None)
    conflicting, alike = set(), set()
    for deal in facts.data.open_deals:
        same_domain = bool(domain) and domain_key(deal.account_domain) == domain
        if not (same_domain or (company and company_key(deal.account_name) == company)):
            continue
        if deal.originator != facts.originator or deal.partner_id != ours:
            conflicting.add(deal.id)
        else:
            alike.add(deal.id)
    alike -= conflicting
    sentences = []
    if conflicting:
        sentences.append(
            f"{_deals(conflicting)} on the same account (same domain or company name) with a different "
            "originator or partner: this deal is held until the channel manager resolves the conflict."
        )
    if alike:
        sentences.append(f"{_deals(alike)} on the same account with the same originator and partner: no conflict.")
    if not sentences:
        sentences.append("No other open deal is on this account.")
    return tuple(sorted(conflicting)), " ".join(sentences)


def _deals(ids: set[int]) -> str:
    ordered = sorted(ids)
    if len(ordered) == 1:
        return f"Open deal {ordered[0]} is"
    return f"Open deals {', '.join(map(str, ordered[:-1]))} and {ordered[-1]} are"


# ---------------------------------------------------------------- status


def _status(
    facts: Facts, leader: Party, conflicts: tuple[int, ...], is_held: bool, needs_alignment: bool
) -> tuple[str, str]:
    if conflicts or is_held:
        why = []
        if conflicts:
            why.append("a conflicting open deal")
        if is_held:
            why.append("a fulfilment the channel manager decides")
        return "on_hold", f"On hold for the channel manager: {' and '.join(why)}."
    if needs_alignment:
        return "needs_alignment", (
            f"Needs alignment: {name(facts, facts.originator)} and {name(facts, leader)} agree who leads before "
            "anyone contacts the customer."
        )
    return "routable", f"Routable: {name(facts, leader)} can contact the customer, as the one voice they hear."
