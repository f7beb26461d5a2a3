"""Properties that hold for every valid input, checked with Hypothesis."""

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from intake.routing import (
    CONTACTS,
    FULFILMENTS,
    SOURCES,
    STRENGTHS,
    TIERS,
    Decision,
    Party,
    decide,
    decide_as,
    parse_decision,
    parse_input,
    removed_roles,
)
from intake.routing.facts import facts_of
from intake.routing.names import company_key
from intake.routing.when import instant

# No example database: the engine is pure and the runs must leave no files behind.
PROPERTY = settings(max_examples=80, deadline=None, database=None)

COUNTRIES = ["DE", "AT", "FR"]
VERTICALS = ["Retail", "Health", "Finance"]
DOMAINS = [None, "acme.example", "https://www.Acme.example/", "eu.acme.example", "other.example", "shop.acme.co.uk"]
COMPANIES = [None, "Acme GmbH", "ACME, Inc.", "Acme Co., Ltd.", "Other Ltd", "Müller Logistik GmbH & Co. KG"]
# Names hold no digit (a digit in a sentence would read as an id) and none is part of another.
BASES = ["Alpha Systems", "Bravo Networks", "Charlie Cloud", "Delta Data", "Echo Services"]
LEGAL_FORMS = [" GmbH", " Ltd", " AG", " Inc."]
STRANGERS = ["Zulu Consulting", "Yankee Partners"]
# Two of these are one instant, written in two time zones.
TIMES = [None, "2024-01-01", "2025-06-01T08:00:00Z", "2025-06-01T10:00:00+02:00", "2026-01-12"]


def _party(draw, ids):
    kinds = ["vendor", "customer"] + (["partner"] if ids else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "partner":
        return {"kind": "partner", "partner_id": draw(st.sampled_from(ids))}
    return {"kind": kind}


def _in_words(draw, partners):
    """A partner named in words: a listed one spelt another way, or one we do not know."""
    listed = [item["name"].split(" ")[0].upper() + " " + item["name"].split(" ")[1] for item in partners]
    return draw(st.sampled_from(listed + STRANGERS))


@st.composite
def routing_inputs(draw):
    """A valid routing input in its JSON form: up to six partners and everything that refers to them."""
    ids = sorted(draw(st.sets(st.integers(1, 30), max_size=6)))
    names = draw(
        st.lists(st.tuples(st.sampled_from(BASES), st.sampled_from(LEGAL_FORMS)), min_size=len(ids), max_size=len(ids))
        .map(lambda pairs: ["".join(pair) for pair in pairs])
        .filter(lambda names: len(set(names)) == len(names))
    )
    partners = [
        {
            "id": pid,
            "name": names[index],
            "active": draw(st.booleans()),
            "countries": draw(st.lists(st.sampled_from(COUNTRIES), unique=True)),
            "verticals": draw(st.lists(st.sampled_from(VERTICALS), unique=True)),
            "tier": draw(st.sampled_from(TIERS)),
        }
        for index, pid in enumerate(ids)
    ]
    relationships = []
    for _ in range(draw(st.integers(0, 10))):
        by_id = bool(ids) and draw(st.booleans())
        relationships.append(
            {
                "partner_id": draw(st.sampled_from(ids)) if by_id else None,
                "partner_name": None if by_id else _in_words(draw, partners),
                "strength": draw(st.integers(0, 5)),
                "source": draw(st.sampled_from(SOURCES)),
                "on_this_deal": draw(st.booleans()),
                "stated_at": draw(st.sampled_from(TIMES)),
            }
        )
    preference = None
    if draw(st.booleans()):
        fulfilment = draw(st.sampled_from(FULFILMENTS))
        partner_id = draw(st.none() | st.sampled_from(ids)) if ids else None
        partner_name = None
        if partner_id is None and (fulfilment == "partner" or draw(st.booleans())):
            partner_name = draw(st.sampled_from([*(item["name"].upper() for item in partners), "Nobody We Know"]))
        preference = {
            "fulfilment": fulfilment,
            "partner_id": partner_id,
            "partner_name": partner_name,
            "contact": draw(st.sampled_from(CONTACTS)),
        }
    deal_ids = draw(st.sets(st.integers(1, 40), max_size=4))
    open_deals = [
        {
            "id": deal_id,
            "account_domain": draw(st.sampled_from(DOMAINS)),
            "account_name": draw(st.sampled_from(COMPANIES)),
            "originator": _party(draw, ids),
            "partner_id": draw(st.none() | st.sampled_from(ids)) if ids else None,
        }
        for deal_id in sorted(deal_ids)
    ]
    return {
        "originator": _party(draw, ids),
        "vendor_strength": draw(st.integers(0, 5)),
        "relationships": relationships,
        "preference": preference,
        "partners": partners,
        "account": {
            "country": draw(st.sampled_from([None, *COUNTRIES])),
            "vertical": draw(st.sampled_from([None, *VERTICALS])),
            "domain": draw(st.sampled_from(DOMAINS)),
            "name": draw(st.sampled_from(COMPANIES)),
        },
        "open_deals": open_deals,
        # Partners no longer listed may have declined or lapsed: 99 is never listed.
        "declined_partner_ids": sorted(draw(st.sets(st.sampled_from([*ids, 99])))),
        "lapsed_partner_ids": sorted(draw(st.sets(st.sampled_from([*ids, 99])))),
        "rules": {"threshold": draw(st.integers(1, 5)), "ties": draw(st.sampled_from(["partners", "vendor"]))},
    }


def _ineligible(data: dict) -> set[int]:
    inactive = {item["id"] for item in data["partners"] if not item["active"]}
    return inactive | set(data["declined_partner_ids"]) | set(data["lapsed_partner_ids"])


def _eligible(data: dict) -> set[int]:
    return {item["id"] for item in data["partners"]} - _ineligible(data)


# ---------------------------------------------------------------- the rules


@PROPERTY
@given(routing_inputs())
def test_an_ineligible_partner_never_leads_or_fulfils(data):
    decision = decide(parse_input(data))
    for party in (decision.leader, decision.fulfilment):
        assert party is None or party.kind == "vendor" or party.partner_id in _eligible(data)


def _by_name(data: dict, text: str | None) -> int | None:
    """A name in words means the listed partner of that company key: the eligible one, then the lower id."""
    key = company_key(text)
    matches = sorted(
        (item["id"] not in _eligible(data), item["id"])
        for item in data["partners"]
        if key and company_key(item["name"]) == key
    )
    return matches[0][1] if matches else None


def _strengths(data: dict) -> dict[int, tuple[int, str]]:
    """Each partner's strength as PRODUCT.md defines it, written out again independently of the engine."""
    about: dict[int, list[dict]] = {item["id"]: [] for item in data["partners"]}
    for rel in data["relationships"]:
        pid = rel["partner_id"] if rel["partner_id"] is not None else _by_name(data, rel["partner_name"])
        if pid is not None:
            about[pid].append(rel)

    def when(rel):
        return (0, (0, 0)) if rel["stated_at"] is None else (1, instant(rel["stated_at"]))

    def counting(rels):
        on_deal = [rel for rel in rels if rel["on_this_deal"]]
        pool = on_deal or rels
        latest = max(when(rel) for rel in pool)
        return max(rel["strength"] for rel in pool if when(rel) == latest), bool(on_deal)

    result = {}
    for pid, rels in about.items():
        customer = [rel for rel in rels if rel["source"] == "customer"]
        if customer:
            strength, on_deal = counting(customer)
            result[pid] = (strength, "as the customer stated" + ("" if on_deal else " on an earlier deal"))
            continue
        by_source = {src: [rel for rel in rels if rel["source"] == src] for src in ("rep", "partner")}
        others = {src: counting(theirs)[0] for src, theirs in by_source.items() if theirs}
        if not others:
            result[pid] = (0, "no relationship known")
            continue
        top = max(others.values())
        givers = [src for src in ("rep", "partner") if others.get(src) == top]
        words = {"rep": "the rep estimated", "partner": "the partner stated"}
        result[pid] = (top, "as " + " and ".join(words[src] for src in givers))
    return result


@PROPERTY
@given(routing_inputs())
def test_strength_follows_the_order_of_sources(data):
    strengths = facts_of(parse_input(data)).strengths
    assert {pid: (known.strength, known.how) for pid, known in strengths.items()} == _strengths(data)


@PROPERTY
@given(routing_inputs())
def test_customers_named_main_contact_that_can_lead_always_leads(data):
    preference = data["preference"]
    leader = decide(parse_input(data)).leader
    contact = preference["contact"] if preference else "no_preference"
    if contact == "vendor":
        assert leader.kind == "vendor"
    elif contact == "partner":
        named = preference["partner_id"]
        if named is None:
            named = _by_name(data, preference["partner_name"])
        if named in _eligible(data):
            assert leader.partner_id == named
        elif any(_strengths(data)[pid][0] > 0 for pid in _eligible(data)):
            # The strongest eligible partner leads; which one is the leader rule's tie-breaks.
            assert leader.kind == "partner"


@PROPERTY
@given(routing_inputs())
def test_a_zero_strength_partner_leads_only_as_finder_or_named(data):
    decision = decide(parse_input(data))
    leader = decision.leader
    if leader.kind == "partner" and _strengths(data)[leader.partner_id][0] == 0:
        preference = data["preference"] or {}
        named = preference.get("partner_id") or _by_name(data, preference.get("partner_name"))
        assert leader.to_dict() == data["originator"] or leader.partner_id == named


@PROPERTY
@given(routing_inputs())
def test_direct_always_gives_vendor_fulfilment_and_never_cuts_the_partner_out(data):
    decision = decide(parse_input(data))
    if data["preference"] and data["preference"]["fulfilment"] == "direct":
        assert decision.to_dict()["fulfilment"] == {"kind": "vendor"}
        kept = [pid for pid in decision.role_partner_ids()]
        assert ("partner_credit" in decision.flags) is bool(kept)


@PROPERTY
@given(routing_inputs())
def test_partner_that_originated_never_ends_with_no_role(data):
    decision = decide(parse_input(data))
    finder = data["originator"]
    if finder["kind"] == "partner":
        assert decision.roles_of(finder["partner_id"])


@PROPERTY
@given(routing_inputs())
def test_status_follows_from_flags_and_fulfilment(data):
    decision = decide(parse_input(data))
    held = decision.fulfilment is None or "conflict" in decision.flags
    if held:
        assert decision.status == "on_hold"
    elif "needs_alignment" in decision.flags:
        assert decision.status == "needs_alignment"
    else:
        assert decision.status == "routable"
    assert [step.rule for step in decision.trace] == [
        "leader",
        "alignment",
        "fulfilment",
        "roles",
        "conflict",
        "status",
    ]


# ---------------------------------------------------------------- the words


STRENGTH_SAID = re.compile(rf"\b({'|'.join(STRENGTHS.values())}) \([0-5]\)")
CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def _names_without_a_role(data: dict, decision: Decision) -> list[str]:
    holders = set(decision.role_partner_ids())
    return [item["name"] for item in data["partners"] if item["id"] not in holders] + STRANGERS + ["Nobody We Know"]


def _check_words(data: dict, decision: Decision) -> None:
    for step in decision.trace:
        for text in (step.says, step.partner_says):
            # (a) No code and no id: the only digits are the strengths, said as "working (3)".
            assert not CODE.search(text), text
            assert not re.search(r"\d", STRENGTH_SAID.sub("", text)), text
        # (b) A partner reads no strength, no statement of the customer's, nothing about who declined,
        # lapsed or is inactive, and no partner that has no part in the decision.
        said = step.partner_says
        assert not STRENGTH_SAID.search(said) and not re.search(r"\d", said), said
        for words in ("as the customer stated", "declined", "lapsed", "inactive", "time to answer", "listed"):
            assert words not in said, said
        for name in _names_without_a_role(data, decision):
            assert name not in said, (name, said)


@PROPERTY
@given(routing_inputs())
def test_trace_sentences_hold_no_codes_or_ids_and_partners_read_only_what_they_may(data):
    _check_words(data, decide(parse_input(data)))


# ---------------------------------------------------------------- determinism and the JSON form


@PROPERTY
@given(routing_inputs(), st.randoms(use_true_random=False))
def test_decision_is_deterministic_whatever_the_order_of_the_lists(data, random):
    expected = decide(parse_input(data)).to_json()
    shuffled = json.loads(json.dumps(data))
    for field in ("partners", "relationships", "open_deals", "declined_partner_ids", "lapsed_partner_ids"):
        random.shuffle(shuffled[field])
    for item in shuffled["partners"]:
        random.shuffle(item["countries"])
        random.shuffle(item["verticals"])
    assert decide(parse_input(shuffled)).to_json() == expected
    assert decide(parse_input(data)).to_json() == expected


@PROPERTY
@given(routing_inputs())
def test_a_decision_reads_back_from_its_json_form(data):
    decision = decide(parse_input(data))
    assert parse_decision(decision.to_dict()) == decision
    assert parse_decision(json.loads(decision.to_json())) == decision


# ---------------------------------------------------------------- a person's decision


@st.composite
def persons_decisions(draw):
    data = draw(routing_inputs())
    choices = [{"kind": "vendor"}] + [{"kind": "partner", "partner_id": pid} for pid in sorted(_eligible(data))]
    leader, fulfilment = draw(st.sampled_from(choices)), draw(st.sampled_from(choices))
    return data, leader, fulfilment, draw(st.sampled_from(["override", "alignment", "conflict"])), draw(st.booleans())


def _party_of(value: dict) -> Party:
    return Party(value["kind"], value.get("partner_id"))


@PROPERTY
@given(persons_decisions())
def test_a_persons_decision_is_routable_keeps_the_finder_and_says_what_it_removes(case):
    data, leader, fulfilment, kind, shared = case
    routing = parse_input(data)
    reason = "Secret reasons of the channel manager."
    decision = decide_as(
        routing,
        leader=_party_of(leader),
        fulfilment=_party_of(fulfilment),
        decided_by="Morgan Channel, channel manager",
        reason=reason,
        reason_shared=shared,
        kind=kind,
    )
    assert decision.status == "routable" and decision.conflicts == () and decision.recommendations == ()
    assert decision.trace[0].rule == kind and decision.trace[-1].rule == "status"
    assert decision.trace[-1].says.startswith("Routable:")
    assert (reason in decision.trace[0].partner_says) is shared
    removals = removed_roles(decide(routing), decision)
    assert ("removed" in [step.rule for step in decision.trace]) is bool(removals)
    if data["originator"]["kind"] == "partner":
        assert decision.roles_of(data["originator"]["partner_id"])
    _check_words(data, decision)
    assert parse_decision(decision.to_dict()) == decision
