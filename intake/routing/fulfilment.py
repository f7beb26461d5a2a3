"""Rule 3, fulfilment: the customer's preference first."""

from dataclasses import dataclass

from .facts import (
    Facts,
    counted_partners,
    ineligible_because,
    known_words,
    name,
    names,
    party_order,
    pick,
    strangers_key,
    strength_words,
    words,
)
from .model import TIERS, VENDOR, Partner, Party, Recommendation, partner

# A channel manager confirms from a short list; the rest of the ranking adds nothing to read.
MAX_RECOMMENDATIONS = 5
HELD_FOR_THE_CHANNEL_MANAGER = "Who fulfils is for the channel manager to decide; until then the deal is on hold."


@dataclass(frozen=True)
class Fulfilment:
    """Who fulfils (None while the deal is held for the channel manager), why, and what it flags."""

    party: Party | None
    says: str
    partner_says: str
    flags: frozenset[str] = frozenset()
    recommendations: tuple[Recommendation, ...] = ()
    relationship_credit: Party | None = None  # the partner `direct` keeps when none leads or found the deal


def decide_fulfilment(facts: Facts, leader: Party) -> Fulfilment:
    """Decide who fulfils: the customer's preference first, then the leader, the threshold, the vendor."""
    preference = facts.preference
    wish = preference.fulfilment if preference else "no_preference"
    if wish == "partner":
        return _named_fulfilment(facts)
    if wish == "direct":
        return _direct_fulfilment(facts, leader)
    if wish == "any_partner":
        return _recommended_fulfilment(facts)
    return _default_fulfilment(facts, leader)


def _named_fulfilment(facts: Facts) -> Fulfilment:
    if facts.named is None:
        asked = " ".join(facts.preference.partner_name.split())
        stranger = facts.strangers.get(strangers_key(asked))
        said = f"{stranger.name} ({known_words(stranger.known)})" if stranger else f"'{asked}'"
        return Fulfilment(
            None,
            f"The customer wants {said} to fulfil, but it is not a partner we know: the deal is held for the "
            "channel manager.",
            HELD_FOR_THE_CHANNEL_MANAGER,
            frozenset({"unknown_partner"}),
        )
    named = partner(facts.named)
    if facts.named not in facts.eligible:
        return Fulfilment(
            None,
            f"The customer wants {name(facts, named)} to fulfil, but it {ineligible_because(facts, facts.named)}: "
            "the deal is held for the channel manager.",
            HELD_FOR_THE_CHANNEL_MANAGER,
            frozenset({"inactive_partner"}),
        )
    return Fulfilment(
        named,
        f"The customer wants {name(facts, named)} to fulfil, so it fulfils.",
        f"{name(facts, named, start=True)} fulfils, at the customer's wish.",
    )


def _direct_fulfilment(facts: Facts, leader: Party) -> Fulfilment:
    says = "The customer wants to buy directly from the vendor, so the vendor fulfils."
    partner_says = "The vendor fulfils directly, at the customer's wish"
    never = "buying direct never cuts the partner out."
    credited = sorted({party for party in (leader, facts.originator) if party.kind == "partner"}, key=party_order)
    if credited:
        keep = "keeps its" if len(credited) == 1 else "keep their"
        kept = f"{names(facts, credited, start=True)} {keep} role and credit"
        return Fulfilment(
            VENDOR,
            f"{says} {kept}: the customer {never}",
            f"{partner_says}; {kept}: {never}",
            frozenset({"partner_credit"}),
        )
    counted = counted_partners(facts)
    if not counted:
        return Fulfilment(VENDOR, says, f"{partner_says}.")
    chosen = pick(facts, counted)
    kept = f"{name(facts, chosen.party)} keeps relationship credit"
    return Fulfilment(
        VENDOR,
        f"{says} No partner leads or found the deal, so the strongest eligible partner at or above the threshold, "
        f"{words(facts.rules.threshold)}, keeps relationship credit: {name(facts, chosen.party)}, with "
        f"{strength_words(facts, chosen.party)}.{chosen.tie} The customer {never}",
        f"{partner_says}; {kept}: {never}",
        frozenset({"partner_credit"}),
        relationship_credit=chosen.party,
    )


def _recommended_fulfilment(facts: Facts) -> Fulfilment:
    opening = "The customer wants a partner we recommend"
    counted = counted_partners(facts)
    if counted:
        chosen = pick(facts, counted)
        said = name(facts, chosen.party)
        return Fulfilment(
            chosen.party,
            f"{opening}: {said} is the strongest eligible partner at or above the threshold, "
            f"{words(facts.rules.threshold)}, with {strength_words(facts, chosen.party)}, so it fulfils.{chosen.tie}",
            f"{said} fulfils: the customer asked for a partner we recommend, and its relationship with the customer "
            "counts under the rules of engagement.",
        )
    ranked = sorted(facts.eligible, key=lambda pid: _recommendation_key(facts, pid))[:MAX_RECOMMENDATIONS]
    if not ranked:
        return Fulfilment(
            None,
            f"{opening}, but no partner is eligible: the deal is held for the channel manager to find one.",
            HELD_FOR_THE_CHANNEL_MANAGER,
            frozenset({"confirm_recommendation"}),
        )
    recommendations = tuple(Recommendation(pid, _recommendation_reason(facts, pid)) for pid in ranked)
    first = partner(ranked[0])
    return Fulfilment(
        first,
        f"{opening} and no eligible partner reaches the threshold, {words(facts.rules.threshold)}: ranked by "
        f"country, vertical, tier and who joined us first, {name(facts, first)} ({recommendations[0].reason}) is "
        "proposed, to be confirmed.",
        f"{name(facts, first)} is proposed to fulfil, to be confirmed: the customer asked for a partner we recommend.",
        frozenset({"confirm_recommendation"}),
        recommendations,
    )


def _recommendation_key(facts: Facts, pid: int) -> tuple:
    item = facts.partners[pid]
    return (not _covers_country(facts, item), not _serves_vertical(facts, item), TIERS.index(item.tier), pid)


def _recommendation_reason(facts: Facts, pid: int) -> str:
    item = facts.partners[pid]
    account = facts.data.account
    parts = []
    if account.country:
        parts.append(f"covers {account.country}" if _covers_country(facts, item) else f"not in {account.country}")
    if account.vertical:
        parts.append(f"serves {account.vertical}" if _serves_vertical(facts, item) else f"not in {account.vertical}")
    parts.append(f"{item.tier} tier")
    return ", ".join(parts)


def _covers_country(facts: Facts, item: Partner) -> bool:
    country = (facts.data.account.country or "").strip().casefold()
    return bool(country) and country in {c.strip().casefold() for c in item.countries}


def _serves_vertical(facts: Facts, item: Partner) -> bool:
    vertical = (facts.data.account.vertical or "").strip().casefold()
    return bool(vertical) and vertical in {v.strip().casefold() for v in item.verticals}


def _default_fulfilment(facts: Facts, leader: Party) -> Fulfilment:
    if facts.preference is None:
        opening, flags = "The customer has not answered yet", frozenset({"no_customer_answer"})
    else:
        opening, flags = "The customer has no preference for how the solution is delivered", frozenset()
    if leader.kind == "partner":
        said = name(facts, leader)
        return Fulfilment(
            leader, f"{opening}, so the leader, {said}, fulfils.", f"{said} fulfils as the leader.", flags
        )
    counted = counted_partners(facts)
    if counted:
        chosen = pick(facts, counted)
        said = name(facts, chosen.party)
        return Fulfilment(
            chosen.party,
            f"{opening} and the vendor leads, so the strongest eligible partner at or above the threshold, "
            f"{words(facts.rules.threshold)}, fulfils: {said}, with {strength_words(facts, chosen.party)}.{chosen.tie}",
            f"{said} fulfils for the vendor: its relationship with the customer counts under the rules of engagement.",
            flags,
        )
    return Fulfilment(
        VENDOR,
        f"{opening}, the vendor leads and no eligible partner reaches the threshold, "
        f"{words(facts.rules.threshold)}, so the vendor fulfils.",
        "The vendor fulfils as the leader.",
        flags,
    )
