"""The facts the routing rules read, derived once from the input, and the words they are said in.

Nothing here depends on the order of the input's lists: strengths are maxima, and every
choice among parties goes through one total ranking key.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from .model import STRENGTHS, TIERS, Partner, Party, Preference, RoutingInput, Rules, partner
from .names import company_key


@dataclass(frozen=True)
class Facts:
    """What the rules read, derived once from the input."""

    data: RoutingInput
    partners: dict[int, Partner]
    strengths: dict[int, tuple[int, str]]  # partner id -> (strength, how it is known)
    eligible: frozenset[int]
    named: int | None  # the partner the customer named in their preference, when it is known

    @property
    def originator(self) -> Party:
        return self.data.originator

    @property
    def preference(self) -> Preference | None:
        return self.data.preference

    @property
    def rules(self) -> Rules:
        return self.data.rules

    def strength(self, party: Party) -> int:
        if party.kind == "vendor":
            return self.data.vendor_strength
        return self.strengths[party.partner_id][0]


def facts_of(data: RoutingInput) -> Facts:
    """Derive the facts: partners by id, each partner's strength, who is eligible, whom the customer named."""
    partners = {item.id: item for item in data.partners}
    stated: dict[int, dict[str, int]] = {}
    for rel in data.relationships:
        by_source = stated.setdefault(rel.partner_id, {})
        by_source[rel.source] = max(rel.strength, by_source.get(rel.source, 0))
    eligible = frozenset(pid for pid, item in partners.items() if item.active and pid not in data.declined_partner_ids)
    return Facts(
        data=data,
        partners=partners,
        strengths={pid: _strength_of(stated.get(pid, {})) for pid in partners},
        eligible=eligible,
        named=_named_partner(data.preference, partners, eligible),
    )


def _strength_of(by_source: dict[str, int]) -> tuple[int, str]:
    # What the customer states about a relationship outranks what anyone else estimated.
    if "customer" in by_source:
        return by_source["customer"], "as the customer stated"
    if not by_source:
        return 0, "no relationship known"
    top = max(by_source.values())
    givers = sorted(source for source, strength in by_source.items() if strength == top)
    how = {("rep",): "as the rep estimated", ("partner",): "as the partner stated"}
    return top, how.get(tuple(givers), "as the partner and the rep stated")


def _named_partner(preference: Preference | None, partners: dict[int, Partner], eligible: frozenset[int]) -> int | None:
    if preference is None:
        return None
    if preference.partner_id is not None:
        return preference.partner_id
    key = company_key(preference.partner_name)
    if not key:
        return None
    # Two partners of one name: the eligible one, then the lower id.
    matches = sorted((pid not in eligible, pid) for pid, item in partners.items() if company_key(item.name) == key)
    return matches[0][1] if matches else None


# ---------------------------------------------------------------- ranking and tie-breaks


def _key(facts: Facts, party: Party) -> tuple:
    """Rank parties: strongest first; ties to the originator, the named partner, the side, tier, id."""
    partners_first = facts.rules.ties == "partners"
    if party.kind == "vendor":
        return (-facts.data.vendor_strength, party != facts.originator, True, partners_first, 0, 0)
    item = facts.partners[party.partner_id]
    return (
        -facts.strength(party),
        party != facts.originator,
        item.id != facts.named,
        not partners_first,
        TIERS.index(item.tier),
        item.id,
    )


def rank(facts: Facts, parties: Iterable[Party]) -> list[Party]:
    """Return the parties strongest first, ties broken as the rules say."""
    return sorted(parties, key=lambda party: _key(facts, party))


def pick(facts: Facts, parties: Iterable[Party]) -> tuple[Party, str]:
    """Return the strongest party and, when others tied with it, a sentence saying how the tie broke."""
    ranked = rank(facts, parties)
    winner = ranked[0]
    top = _key(facts, winner)
    tied = [party for party in ranked if _key(facts, party)[0] == top[0]]
    if len(tied) == 1:
        return winner, ""
    decisive = sorted({_first_difference(top, _key(facts, other)) for other in tied[1:]})
    reasons = "; ".join(_tie_reason(facts, index, winner) for index in decisive)
    return winner, f" {names(facts, tied, start=True)} are tied at {words(facts.strength(winner))}: {reasons}."


def _first_difference(a: tuple, b: tuple) -> int:
    return next(index for index, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)


def _tie_reason(facts: Facts, index: int, winner: Party) -> str:
    if index == 1:
        return f"the tie goes to the originator, {name(facts, winner)}"
    if index == 2:
        return f"the tie goes to the partner the customer named, {name(facts, winner)}"
    if index == 3:
        if facts.rules.ties == "partners":
            return "ties go to partners before the vendor (rules of engagement)"
        return "ties go to the vendor before partners (rules of engagement)"
    if index == 4:
        return f"among partners the higher tier wins ({facts.partners[winner.partner_id].tier})"
    return "among partners of one tier the lower id wins"


def ineligible_because(facts: Facts, pid: int) -> str:
    """Say why a partner is not eligible: inactive, declined this deal, or both."""
    reasons = []
    if not facts.partners[pid].active:
        reasons.append("is inactive")
    if pid in facts.data.declined_partner_ids:
        reasons.append("declined this deal")
    return " and ".join(reasons)


def counted_partners(facts: Facts) -> list[Party]:
    """The eligible partners whose relationship counts: at or above the threshold."""
    return [partner(pid) for pid in facts.eligible if facts.strengths[pid][0] >= facts.rules.threshold]


# ---------------------------------------------------------------- words


def party_order(party: Party) -> tuple:
    """Order parties for lists whose order means nothing: the vendor, then partners by id."""
    return (party.kind != "vendor", party.partner_id or 0)


def name(facts: Facts, party: Party, *, start: bool = False) -> str:
    """Name a party as a rep would read it aloud; `start` capitalises "the vendor"."""
    if party.kind == "partner":
        return f"{facts.partners[party.partner_id].name} (partner {party.partner_id})"
    return f"{'The' if start else 'the'} {party.kind}"


def names(facts: Facts, parties: list[Party], *, start: bool = False) -> str:
    """Name several parties: "A, B and C"."""
    said = [name(facts, party, start=start and index == 0) for index, party in enumerate(parties)]
    return said[0] if len(said) == 1 else f"{', '.join(said[:-1])} and {said[-1]}"


def words(strength: int) -> str:
    """Say a strength on the one scale: "working (3)"."""
    return f"{STRENGTHS[strength]} ({strength})"


def strength_words(facts: Facts, party: Party) -> str:
    """Say a party's strength and, for a partner, how it is known."""
    if party.kind == "vendor":
        return words(facts.data.vendor_strength)
    strength, how = facts.strengths[party.partner_id]
    return f"{words(strength)}, {how}"
