"""`routing simulate FILE`: the decision JSON and exit 0, or one line naming the bad field and exit 2."""

import json

import pytest
from click.testing import CliRunner

from intake.routing.cli import routing

from .builders import rel, routing_input, said
from .test_json_form import EXAMPLE_INPUT, EXAMPLE_OUTPUT


@pytest.fixture
def runner():
    return CliRunner()


def test_simulate_prints_the_decision_for_a_file(runner, tmp_path):
    path = tmp_path / "input.json"
    path.write_text(json.dumps(routing_input(vendor_strength=1, relationships=[rel(1, 4)])), encoding="utf-8")
    result = runner.invoke(routing, ["simulate", str(path)])
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["leader"] == {"kind": "partner", "partner_id": 1}
    assert decision["status"] == "needs_alignment"


def test_simulate_prints_the_worked_example_in_the_new_form(runner):
    result = runner.invoke(routing, ["simulate", "-"], input=json.dumps(EXAMPLE_INPUT))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == EXAMPLE_OUTPUT


def test_simulate_reads_relationships_given_in_words_and_on_this_deal(runner):
    data = routing_input(relationships=[said(None, 5, partner_name="Bravo IT GmbH")], lapsed_partner_ids=[1])
    result = runner.invoke(routing, ["simulate", "-"], input=json.dumps(data))
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["leader"] == {"kind": "partner", "partner_id": 2}
    assert "strategic (5), as the customer stated" in decision["trace"][0]["says"]
    assert (
        decision["trace"][0]["partner_says"]
        == "Bravo IT has the strongest relationship with the customer, so it leads."
    )


def test_simulate_reads_an_input_from_before_the_new_fields(runner):
    data = routing_input(relationships=[{"partner_id": 1, "strength": 4, "source": "rep"}])
    del data["lapsed_partner_ids"]
    result = runner.invoke(routing, ["simulate", "-"], input=json.dumps(data))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["leader"] == {"kind": "partner", "partner_id": 1}


def test_simulate_reads_standard_input_from_dash(runner):
    result = runner.invoke(routing, ["simulate", "-"], input=json.dumps(routing_input()))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["leader"] == {"kind": "vendor"}


def test_simulate_prints_the_same_bytes_for_the_same_input(runner):
    data = json.dumps(routing_input(relationships=[rel(2, 3), rel(1, 3)]))
    first = runner.invoke(routing, ["simulate", "-"], input=data)
    second = runner.invoke(routing, ["simulate", "-"], input=data)
    assert first.stdout == second.stdout


@pytest.mark.parametrize(
    "text, field",
    [
        (json.dumps(routing_input(vendor_strength=9)), "vendor_strength"),
        (json.dumps(routing_input(relationships=[rel(42, 3)])), "relationships[0].partner_id"),
        (json.dumps(routing_input(originator={"kind": "partner", "partner_id": 42})), "originator.partner_id"),
        (json.dumps(routing_input(relationships=[rel(None, 3)])), "relationships[0].partner_id"),
        (json.dumps(routing_input(relationships=[rel(1, 3, stated_at="soon")])), "relationships[0].stated_at"),
        (json.dumps(routing_input(lapsed_partner_ids=[True])), "lapsed_partner_ids[0]"),
        ("{not json", "input"),
        ("", "input"),
    ],
    ids=[
        "strength_out_of_range",
        "relationship_unknown_partner",
        "originator_unknown_partner",
        "relationship_naming_no_partner",
        "stated_at_not_a_time",
        "lapsed_id_not_an_integer",
        "broken",
        "empty",
    ],
)
def test_simulate_refuses_bad_input_with_one_line_naming_the_field(runner, text, field):
    result = runner.invoke(routing, ["simulate", "-"], input=text)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: {field}: ")


def test_simulate_refuses_text_that_is_not_utf8(runner):
    result = runner.invoke(routing, ["simulate", "-"], input=b"\xff\xfe{}")
    assert result.exit_code == 2
    assert result.stderr == "Error: input: not valid UTF-8 text\n"
