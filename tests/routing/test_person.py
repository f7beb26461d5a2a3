"""Rule 7: a person's decision in place of the engine's, the roles it keeps, and what it removes."""

import pytest

from intake.routing import (
    Decision,
    InvalidInput,
    Party,
    Role,
    decide,
    decide_as,
    parse_decision,
    parse_input,
    removed_roles,
)

from .builders import CUSTOMER, by_partner, deal, partner, pref, rel, routing_input, said

VENDOR = Party("vendor")
MANAGER = "Morgan Channel, channel manager"
NORDLICHT, THAMES = 2, 3
PARTNERS = [partner(1), partner(NORDLICHT, name="Nordlicht IT GmbH"), partner(THAMES, name="Thames Cloud Ltd")]


def data(**overrides):
    return parse_input(routing_input(**{"partners": PARTNERS, **overrides}))


def as_manager(routing, *, leader, fulfilment, kind="override", reason="The customer asked us directly.", shared=False):
    return decide_as(
        routing,
        leader=leader,
        fulfilment=fulfilment,
        decided_by=MANAGER,
        reason=reason,
        reason_shared=shared,
        kind=kind,
    )


def step(decision: Decision, rule: str):
    return next(step for step in decision.trace if step.rule == rule)


def test_an_override_fixes_leader_and_fulfilment_and_says_who_decided_and_why():
    routing = data(vendor_strength=1, relationships=[said(NORDLICHT, 5)])
    assert decide(routing).leader == Party("partner", NORDLICHT)
    decision = as_manager(routing, leader=Party("partner", THAMES), fulfilment=Party("partner", THAMES))
    assert decision.leader == decision.fulfilment == Party("partner", THAMES)
    assert decision.supporting == (Role(VENDOR, "support"),)
    assert decision.status == "routable"
    assert decision.flags == ()
    assert decision.conflicts == () and decision.recommendations == ()
    assert [s.rule for s in decision.trace] == ["override", "roles", "removed", "status"]
    assert step(decision, "override").says == (
        "Morgan Channel, channel manager, decided that Thames Cloud Ltd leads and fulfils. Reason: The customer "
        "asked us directly."
    )
    assert step(decision, "override").partner_says == (
        "Morgan Channel, channel manager, decided that Thames Cloud Ltd leads and fulfils."
    )
    assert step(decision, "removed").says == (
        "This decision removes Nordlicht IT GmbH's role: in the engine's proposal it led and fulfilled the deal."
    )
    assert step(decision, "removed").partner_says == ""  # Nordlicht IT GmbH has no role left to read it by
    assert decision.trace[-1].says == "Routable: Thames Cloud Ltd can contact the customer, as the one voice they hear."


def test_a_shared_reason_is_told_to_partners():
    routing = data(vendor_strength=1, relationships=[said(NORDLICHT, 5)])
    decision = as_manager(routing, leader=VENDOR, fulfilment=Party("partner", NORDLICHT), shared=True)
    assert step(decision, "override").partner_says == (
        "Morgan Channel, channel manager, decided that the vendor leads and Nordlicht IT GmbH fulfils. Reason: The "
        "customer asked us directly."
    )
    assert step(decision, "removed").says == (
        "This decision removes Nordlicht IT GmbH's lead: in the engine's proposal it led the deal."
    )
    assert step(decision, "removed").partner_says == step(decision, "removed").says


def test_removing_a_lead_is_said_plainly():
    routing = data(vendor_strength=1, relationships=[said(NORDLICHT, 5)], preference=pref("direct"))
    assert decide(routing).leader == Party("partner", NORDLICHT)
    decision = as_manager(routing, leader=Party("partner", THAMES), fulfilment=VENDOR)
    assert step(decision, "removed").says == (
        "This decision removes Nordlicht IT GmbH's role: in the engine's proposal it led the deal."
    )
    assert decision.flags == ("partner_credit",)


def test_a_resolved_alignment_ends_routable_and_the_finder_keeps_origination_credit():
    routing = data(originator=by_partner(1), vendor_strength=5, relationships=[rel(1, 1)])
    assert decide(routing).status == "needs_alignment"
    decision = as_manager(routing, leader=VENDOR, fulfilment=VENDOR, kind="alignment", reason="Agreed on a call.")
    assert decision.status == "routable"
    assert decision.supporting == (Role(Party("partner", 1), "origination_credit"),)
    assert decision.flags == ("partner_credit",)
    assert [s.rule for s in decision.trace] == ["alignment", "roles", "status"]
    assert decision.trace[-1].rule == "status" and decision.trace[-1].says.startswith("Routable:")
    assert "Needs alignment" not in " ".join(s.says for s in decision.trace)


def test_a_resolved_conflict_holds_no_conflicts():
    routing = data(vendor_strength=5, open_deals=[deal(7, originator=CUSTOMER)])
    assert decide(routing).conflicts == (7,)
    decision = as_manager(routing, leader=VENDOR, fulfilment=VENDOR, kind="conflict", reason="The other deal is lost.")
    assert (decision.conflicts, decision.status, decision.flags) == ((), "routable", ())


def test_a_rep_confirms_one_of_the_recommended_partners():
    routing = data(vendor_strength=5, preference=pref("any_partner"))
    engine = decide(routing)
    assert [rec.partner_id for rec in engine.recommendations] == [1, NORDLICHT, THAMES]
    decision = decide_as(
        routing,
        leader=engine.leader,
        fulfilment=Party("partner", NORDLICHT),
        decided_by="Alice Rep",
        reason="",
        reason_shared=False,
        kind="recommendation",
    )
    assert decision.fulfilment == Party("partner", NORDLICHT)
    assert (
        step(decision, "recommendation").says == "Alice Rep confirmed Nordlicht IT GmbH from the recommended partners."
    )
    assert step(decision, "removed").says == (
        "This decision removes Alpha Systems's role: in the engine's proposal it fulfilled the deal."
    )
    assert "confirm_recommendation" not in decision.flags


def test_a_partner_with_relationship_credit_in_the_engines_decision_keeps_it():
    routing = data(originator=CUSTOMER, vendor_strength=5, relationships=[rel(NORDLICHT, 4)], preference=pref("direct"))
    assert Role(Party("partner", NORDLICHT), "relationship_credit") in decide(routing).supporting
    decision = as_manager(routing, leader=Party("partner", THAMES), fulfilment=VENDOR)
    assert decision.roles_of(NORDLICHT) == ("relationship_credit",)
    assert "removed" not in [s.rule for s in decision.trace]
    fulfils = as_manager(routing, leader=VENDOR, fulfilment=Party("partner", NORDLICHT))
    assert fulfils.roles_of(NORDLICHT) == ("fulfilment",)
    assert removed_roles(decide(routing), fulfils) == ()  # fulfilling it has lost nothing


@pytest.mark.parametrize(
    "changes, path",
    [
        (dict(leader=Party("partner", 99)), "leader"),
        (dict(leader=Party("customer")), "leader"),
        (dict(leader="vendor"), "leader"),
        (dict(fulfilment=Party("partner", 1)), "fulfilment"),  # declined
        (dict(fulfilment=Party("partner", NORDLICHT)), "fulfilment"),  # lapsed
        (dict(fulfilment=Party("partner", THAMES)), "fulfilment"),  # inactive
        (dict(kind="engine"), "kind"),
        (dict(reason="  "), "reason"),
        (dict(decided_by=""), "decided_by"),
        (dict(kind="recommendation", fulfilment=VENDOR, reason=""), "fulfilment"),
    ],
    ids=[
        "unknown_partner_leads",
        "customer_leads",
        "not_a_party",
        "declined_partner_fulfils",
        "lapsed_partner_fulfils",
        "inactive_partner_fulfils",
        "not_a_persons_kind",
        "override_without_a_reason",
        "nobody_decided",
        "recommendation_not_recommended",
    ],
)
def test_a_persons_decision_is_refused_naming_the_field(changes, path):
    routing = data(
        partners=[partner(1), partner(NORDLICHT), partner(THAMES, active=False)],
        declined_partner_ids=[1],
        lapsed_partner_ids=[NORDLICHT],
    )
    values = dict(leader=VENDOR, fulfilment=VENDOR, decided_by=MANAGER, reason="Why.", reason_shared=False)
    values.update({"kind": "override", **changes})
    with pytest.raises(InvalidInput) as refused:
        decide_as(routing, **values)
    assert refused.value.path == path


def test_removed_roles_lists_each_partner_by_id_with_a_sentence():
    routing = data(originator=by_partner(THAMES), vendor_strength=1, relationships=[said(NORDLICHT, 5)])
    before = decide(routing)
    assert before.roles_of(NORDLICHT) == ("lead", "fulfilment")
    assert before.roles_of(THAMES) == ("origination_credit",)
    after = Decision(
        leader=VENDOR,
        fulfilment=Party("partner", NORDLICHT),
        supporting=(),
        status="routable",
        flags=(),
        conflicts=(),
        recommendations=(),
        trace=(),
    )
    removals = removed_roles(before, after, names={NORDLICHT: "Nordlicht IT GmbH"}, before_is="the last version")
    assert [(r.partner_id, r.roles) for r in removals] == [(NORDLICHT, ("lead",)), (THAMES, ("origination_credit",))]
    assert removals[0].says == "This decision removes Nordlicht IT GmbH's lead: in the last version it led the deal."
    assert removals[1].says == (
        "This decision removes this partner's role: in the last version it kept origination credit for finding the "
        "deal."
    )


def test_a_persons_decision_reads_back_from_its_json_form():
    routing = data(vendor_strength=1, relationships=[said(NORDLICHT, 5)])
    decision = as_manager(routing, leader=VENDOR, fulfilment=VENDOR)
    assert parse_decision(decision.to_dict()) == decision
