"""A stored decision read back (`parse_decision`), and the questions the app asks of a decision."""

import copy

import pytest

from intake.routing import InvalidInput, Party, parse_decision

from .builders import by_partner, pref, rel, route, said
from .test_json_form import EXAMPLE_OUTPUT


def test_a_stored_decision_reads_back_as_the_decision_it_was():
    decision = parse_decision(EXAMPLE_OUTPUT)
    assert decision.to_dict() == EXAMPLE_OUTPUT
    assert decision.fulfilment == Party("partner", 12)


def _broken(change) -> dict:
    data = copy.deepcopy(EXAMPLE_OUTPUT)
    change(data)
    return data


@pytest.mark.parametrize(
    "data, path",
    [
        (None, "decision"),
        ([], "decision"),
        (_broken(lambda d: d.pop("leader")), "leader"),
        (_broken(lambda d: d.update(leader={"kind": "customer"})), "leader.kind"),
        (_broken(lambda d: d.update(leader={"kind": "partner"})), "leader.partner_id"),
        (_broken(lambda d: d.update(leader={"kind": "vendor", "partner_id": 1})), "leader.partner_id"),
        (_broken(lambda d: d.update(fulfilment={"kind": "partner", "partner_id": "12"})), "fulfilment.partner_id"),
        (
            _broken(lambda d: d.update(supporting=[{"party": {"kind": "vendor"}, "role": "cheer"}])),
            "supporting[0].role",
        ),
        (_broken(lambda d: d.update(status="pending")), "status"),
        (_broken(lambda d: d.update(flags=["conflict", "urgent"])), "flags[1]"),
        (_broken(lambda d: d.update(conflicts=[301, "302"])), "conflicts[1]"),
        (_broken(lambda d: d.update(recommendations=[{"partner_id": 12}])), "recommendations[0].reason"),
        (_broken(lambda d: d["trace"][0].pop("partner_says")), "trace[0].partner_says"),
        (_broken(lambda d: d["trace"][1].update(rule="gossip")), "trace[1].rule"),
        (_broken(lambda d: d["trace"][2].update(says=None)), "trace[2].says"),
        (_broken(lambda d: d.update(trace="leader")), "trace"),
        (_broken(lambda d: d.update(version=2)), "version"),
    ],
    ids=[
        "null",
        "a_list",
        "leader_missing",
        "customer_leads",
        "partner_without_id",
        "vendor_with_id",
        "partner_id_as_text",
        "role_unknown",
        "status_unknown",
        "flag_unknown",
        "conflict_id_as_text",
        "recommendation_without_reason",
        "step_without_partner_says",
        "step_rule_unknown",
        "step_says_null",
        "trace_not_a_list",
        "field_unknown",
    ],
)
def test_a_malformed_stored_decision_is_refused_naming_the_field(data, path):
    with pytest.raises(InvalidInput) as refused:
        parse_decision(data)
    assert refused.value.path == path


def test_acting_partners_are_the_leader_then_the_fulfiller_each_once():
    both = route(vendor_strength=1, relationships=[said(2, 4)])
    assert both.acting_partner_ids() == (2,)
    apart = route(vendor_strength=1, relationships=[said(2, 4)], preference=pref("partner", partner_id=1))
    assert apart.acting_partner_ids() == (2, 1)
    assert route(vendor_strength=5).acting_partner_ids() == ()


def test_role_partners_are_every_partner_leading_fulfilling_or_supporting():
    decision = route(
        originator=by_partner(3),
        vendor_strength=1,
        relationships=[said(2, 4)],
        preference=pref("partner", partner_id=1),
    )
    assert decision.role_partner_ids() == (2, 1, 3)
    assert decision.roles_of(2) == ("lead",)
    assert decision.roles_of(1) == ("fulfilment",)
    assert decision.roles_of(3) == ("origination_credit",)
    assert decision.roles_of(9) == ()


def test_roles_of_a_partner_kept_by_direct_is_its_relationship_credit():
    decision = route(vendor_strength=5, relationships=[rel(1, 4)], preference=pref("direct"))
    assert decision.role_partner_ids() == (1,)
    assert decision.roles_of(1) == ("relationship_credit",)
