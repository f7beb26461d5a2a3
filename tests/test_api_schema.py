"""The API keeps the promises of its own OpenAPI document, and the engine answers the same by API and CLI.

Schemathesis reads `/api/v1/openapi.json` from the app itself and calls every operation in-process
(WSGI), with a small fixed number of generated requests each: no answer is a server error, every
status is one the document lists for the operation, and every body has the documented media type
and shape. Staff operations carry the channel manager's write token, the partner's side a partner
user's, so that each request gets past the token to the view.
"""

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from intake import create_app
from intake.extensions import db
from intake.models import PartnerUser

from .routing.builders import CUSTOMER, by_partner, partner, pref, rel, routing_input, said
from .test_api import Api, token_for

PARTNER_SIDE = ("/api/v1/requests", "/api/v1/registrations", "/api/v1/relationships")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def tokens(app, boss, thames) -> dict[str, str]:
    """The channel manager's write token, for the staff's side; a user of Thames Cloud's, for the partner's."""
    app.config["API_RATE_LIMIT"] = "100000 per minute"  # hundreds of calls a minute, from one token
    partner_user = db.session.scalar(select(PartnerUser).where(PartnerUser.partner_id == thames.id))
    return {"staff": token_for(boss), "partner": token_for(partner_user)}


def _document_reader():
    """An app of its own that only serves the document: the operations are known when the tests are collected."""
    return create_app({"TESTING": True, "SECRET_KEY": "schema", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


# The document is read once, by an app that serves only it; each test then calls its operation on the
# test's own app (`app=`), on each engine. (`schemathesis.pytest.from_fixture`, which would read it from
# the test's app, does not run under pytest 9: its lazy loader reads `Function._nodeid`, gone in pytest 9.)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _document_reader())


@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_document_says(app, tokens, case):
    audience = "partner" if case.operation.path.startswith(PARTNER_SIDE) else "staff"
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {tokens[audience]}"}, checks=CHECKS)


# ---------------------------------------------------------------- the engine, by API and by CLI

SIMULATIONS = {
    # We found it, we lead, the customer has said nothing yet: the strongest partner at the threshold fulfils.
    "vendor_originator": routing_input(vendor_strength=5, relationships=[rel(1, 4), rel(2, 3)]),
    # A partner found it and the customer is closer to another: that one leads, the finder keeps credit.
    "partner_originator_needs_alignment": routing_input(
        originator=by_partner(1), vendor_strength=1, relationships=[said(2, 5), rel(1, 2, "partner")]
    ),
    # The customer came in and wants to buy from the vendor: the partner that holds the relationship keeps credit.
    "customer_direct": routing_input(
        originator=CUSTOMER, vendor_strength=3, relationships=[said(3, 4)], preference=pref("direct")
    ),
    # The customer wants a partner, any: none at the threshold, so the best match by country is proposed.
    "any_partner_recommendation": routing_input(
        originator=CUSTOMER,
        vendor_strength=1,
        partners=[partner(1, countries=["FR"]), partner(2, countries=["DE"], tier="silver"), partner(3)],
        preference=pref("any_partner"),
    ),
}
INVALID = routing_input(relationships=[rel(42, 3)])  # no partner 42 is known
INVALID_PATH = "relationships[0].partner_id"


def cli_simulate(app, data: dict):
    return app.test_cli_runner().invoke(args=["routing", "simulate", "-"], input=json.dumps(data))


@pytest.mark.parametrize("name", SIMULATIONS)
def test_the_api_and_the_cli_simulate_to_the_same_bytes(app, make_user, name):
    api = Api(app, token_for(make_user("rep"), scope="read"))
    data = SIMULATIONS[name]
    by_cli = cli_simulate(app, data)
    assert by_cli.exit_code == 0, by_cli.output
    by_api = api("POST", "/routing/simulate", data)
    assert by_api.status_code == 200, by_api.get_data(as_text=True)
    assert by_api.get_data() == by_cli.stdout_bytes


def test_each_simulation_is_the_case_it_is_named_after():
    from intake.routing import decide, parse_input

    decided = {name: decide(parse_input(data)) for name, data in SIMULATIONS.items()}
    assert decided["vendor_originator"].status == "routable"
    assert decided["partner_originator_needs_alignment"].status == "needs_alignment"
    assert "partner_credit" in decided["customer_direct"].flags
    assert "confirm_recommendation" in decided["any_partner_recommendation"].flags


def test_an_invalid_input_names_the_same_field_by_api_and_by_cli(app, make_user):
    api = Api(app, token_for(make_user("rep"), scope="read"))
    by_cli = cli_simulate(app, INVALID)
    assert by_cli.exit_code == 2 and by_cli.stdout == ""
    assert by_cli.stderr.startswith(f"Error: {INVALID_PATH}: ")
    by_api = api("POST", "/routing/simulate", INVALID)
    assert by_api.status_code == 422 and by_api.mimetype == "application/problem+json"
    error = by_api.get_json()["errors"][0]
    assert error["field"] == INVALID_PATH
    assert by_cli.stderr == f"Error: {error['field']}: {error['reason']}\n"
