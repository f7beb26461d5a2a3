"""The facts the routing rules read, derived once from the input, and the words they are said in.

Nothing here depends on the order of the input's lists: each statement that counts is the
greatest by a total key, and every choice among parties goes through one total ranking key.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from .model import STRENGTHS, TIERS, Partner, Party, Preference, Relationship, RoutingInput, Rules, partner
from .names import company_key
from .when import instant


@dataclass(frozen=True)
class Known:
    """A relationship's strength and how it is known ("as the customer stated")."""

    strength: int
    how: str


NOTHING_KNOWN = Known(0, "no relationship known")


@dataclass(frozen=True)
class Stranger:
    """A partner named only in words that is not one we list: it keeps its strength, and never leads or fulfils."""

    name: str
    known: Known


@dataclass(frozen=True)
class Facts:
    """What the rules read, derived once from the input."""

    data: RoutingInput
    partners: dict[int, Partner]
    strengths: dict[int, Known]  # every listed partner's strength
    eligible: frozenset[int]  # active, and neither declined nor lapsed on this deal
    named: int | None  # the listed partner the customer named in their preference
    listed: frozenset[int]  # the listed partners the customer stated a relationship with on this deal
    strangers: dict[str, Stranger]  # partners named only in words we do not list, by company key

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
        return self.strengths[party.partner_id].strength

    def in_running(self, pid: int) -> bool:
        """Whether an eligible partner may lead: it has a relationship, found the deal, or the customer named it."""
        return self.strengths[pid].strength > 0 or partner(pid) == self.originator or pid == self.named


def facts_of(data: RoutingInput) -> Facts:
    """Derive the facts: partners by id, each one's strength, who is eligible, whom the customer named or listed."""
    partners = {item.id: item for item in data.partners}
    eligible = frozenset(
        pid
        for pid, item in partners.items()
        if item.active and pid not in data.declined_partner_ids and pid not in data.lapsed_partner_ids
    )
    about: dict[int, list[Relationship]] = {}
    in_words: dict[str, list[Relationship]] = {}
    for rel in data.relationships:
        pid = rel.partner_id if rel.partner_id is not None else by_name(rel.partner_name, partners, eligible)
        if pid is not None:
            about.setdefault(pid, []).append(rel)
        else:
            in_words.setdefault(strangers_key(rel.partner_name), []).append(rel)
    listed = frozenset(
        pid for pid, rels in about.items() if any(rel.source == "customer" and rel.on_this_deal for rel in rels)
    )
    strangers = {key: Stranger(_name_in_words(rels), strength_of(rels)) for key, rels in in_words.items()}
    named = None
    if data.preference is not None:
        named = data.preference.partner_id
        if named is None:
            named = by_name(data.preference.partner_name, partners, eligible)
    return Facts(
        data=data,
        partners=partners,
        strengths={pid: strength_of(about.get(pid, [])) for pid in partners},
        eligible=eligible,
        named=named,
        listed=listed,
        strangers=strangers,
    )


def by_name(text: str | None, partners: dict[int, Partner], eligible: frozenset[int]) -> int | None:
    """The listed partner a name given in words means: equal company keys; the eligible one, then the lower id."""
    key = company_key(text)
    if not key:
        return None
    matches = sorted((pid not in eligible, pid) for pid, item in partners.items() if company_key(item.name) == key)
    return matches[0][1] if matches else None


def strangers_key(text: str | None) -> str:
    return company_key(text) or " ".join((text or "").split()).casefold()


def _name_in_words(rels: list[Relationship]) -> str:
    """How to call a partner we do not know: as the statement that counts most spelt it."""
    best = max(rels, key=lambda rel: (rel.source == "customer", *_counting_key(rel), (rel.partner_name or "").strip()))
    return " ".join((best.partner_name or "").split())


# ---------------------------------------------------------------- strength (PRODUCT.md "Relationship strength")


def _counting_key(rel: Relationship) -> tuple:
    """Which of one source's statements counts: one on this deal, else the most recent; then the higher strength.

    A statement without a time counts as the oldest.
    """
    when = instant(rel.stated_at) if rel.stated_at is not None else None
    return (rel.on_this_deal, when is not None, when or (0, 0), rel.strength)


def _counting(rels: list[Relationship]) -> Relationship:
    return max(rels, key=_counting_key)


def strength_of(rels: list[Relationship]) -> Known:
    """One partner's strength: the customer's statement on this deal; else the customer's most recent
    statement on the account; else the higher of the rep's and the partner's statements, each the one
    on this deal, else its most recent."""
    customer = [rel for rel in rels if rel.source == "customer"]
    if customer:
        stated = _counting(customer)
        how = "as the customer stated" if stated.on_this_deal else "as the customer stated on an earlier deal"
        return Known(stated.strength, how)
    best = {}
    for source in ("rep", "partner"):
        theirs = [rel for rel in rels if rel.source == source]
        if theirs:
            best[source] = _counting(theirs).strength
    if not best:
        return NOTHING_KNOWN
    top = max(best.values())
    givers = tuple(source for source in ("rep", "partner") if best.get(source) == top)
    how = {
        ("rep",): "as the rep estimated",
        ("partner",): "as the partner stated",
        ("rep", "partner"): "as the rep estimated and the partner stated",
    }
    return Known(top, how[givers])


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


@dataclass(frozen=True)
class Pick:
    """The strongest party and, when others tied with it, how the tie broke: in full, and in general words."""

    party: Party
    tie: str = ""  # " A and B are tied at working (3): …", for the vendor's side
    tie_reasons: tuple[str, ...] = ()  # "it found the deal", for any partner


def pick(facts: Facts, parties: Iterable[Party]) -> Pick:
    """Return the strongest party and how a tie with others was broken."""
    ranked = rank(facts, parties)
    winner = ranked[0]
    top = _key(facts, winner)
    tied = [party for party in ranked if _key(facts, party)[0] == top[0]]
    if len(tied) == 1:
        return Pick(winner)
    decisive = sorted({_first_difference(top, _key(facts, other)) for other in tied[1:]})
    reasons = "; ".join(_tie_reason(facts, index, winner) for index in decisive)
    tie = f" {names(facts, tied, start=True)} are tied at {words(facts.strength(winner))}: {reasons}."
    return Pick(winner, tie, tuple(_tie_reason_in_general(facts, index) for index in decisive))


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
    return "among partners of one tier the partner that joined us first wins"


def _tie_reason_in_general(facts: Facts, index: int) -> str:
    if index == 1:
        return "it found the deal"
    if index == 2:
        return "the customer asked for it"
    if index == 3:
        if facts.rules.ties == "partners":
            return "partners go before the vendor under the rules of engagement"
        return "the vendor goes before partners under the rules of engagement"
    if index == 4:
        return "the higher partner tier wins"
    return "the partner that joined us first wins"


def ineligible_because(facts: Facts, pid: int) -> str:
    """Say why a partner is not eligible: inactive, declined this deal, let its time to answer pass."""
    reasons = []
    if not facts.partners[pid].active:
        reasons.append("is inactive")
    if pid in facts.data.declined_partner_ids:
        reasons.append("declined this deal")
    if pid in facts.data.lapsed_partner_ids:
        reasons.append("let its time to answer pass on this deal")
    return " and ".join(reasons)


def counted_partners(facts: Facts) -> list[Party]:
    """The eligible partners whose relationship counts: at or above the threshold."""
    return [partner(pid) for pid in facts.eligible if facts.strengths[pid].strength >= facts.rules.threshold]


# ---------------------------------------------------------------- words


def party_order(party: Party) -> tuple:
    """Order parties for lists whose order means nothing: the vendor, then partners by id."""
    return (party.kind != "vendor", party.partner_id or 0)


def name(facts: Facts, party: Party, *, start: bool = False) -> str:
    """Name a party as a partner would read it: a partner by its name; `start` capitalises "the vendor"."""
    if party.kind == "partner":
        return facts.partners[party.partner_id].name
    return f"{'The' if start else 'the'} {party.kind}"


def names(facts: Facts, parties: list[Party], *, start: bool = False) -> str:
    """Name several parties: "A, B and C"."""
    return joined([name(facts, party, start=start and index == 0) for index, party in enumerate(parties)])


def joined(said: list[str], word: str = "and") -> str:
    """Join phrases: "A", "A and B", "A, B and C"."""
    return said[0] if len(said) == 1 else f"{', '.join(said[:-1])} {word} {said[-1]}"


def words(strength: int) -> str:
    """Say a strength on the one scale: "working (3)"."""
    return f"{STRENGTHS[strength]} ({strength})"


def known_words(known: Known) -> str:
    """Say a strength and how it is known: "working (3), as the customer stated"."""
    return f"{words(known.strength)}, {known.how}"


def strength_words(facts: Facts, party: Party) -> str:
    """Say a party's strength and, for a partner, how it is known."""
    if party.kind == "vendor":
        return words(facts.data.vendor_strength)
    return known_words(facts.strengths[party.partner_id])


_SMALL = (
    "no one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()


def count_words(count: int) -> str:
    """Say a count in words, never in digits (digits in a sentence read as ids): "two", "twenty-one"."""
    if count < len(_SMALL):
        return _SMALL[count]
    if count < 100:
        tens, ones = divmod(count, 10)
        return _TENS[tens - 2] + (f"-{_SMALL[ones]}" if ones else "")
    return "more than ninety-nine"
