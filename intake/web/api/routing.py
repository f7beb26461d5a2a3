"""The routing engine by API: the same input JSON as `flask --app intake routing simulate`, the same decision."""

from __future__ import annotations

import json

from flask import current_app, request

from ...routing import InvalidInput, decide, parse_input
from ..errors import Problem
from . import STAFF, blueprint, reads_only

bp = blueprint("routing", STAFF, "The routing engine: try an input and read its decision, rule by rule.")
bp.url_part = "/routing"
BLUEPRINTS = (bp,)


@bp.post("/simulate")
@bp.doc(
    requestBody={
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "The engine's input, as `routing simulate` reads it (see the README's routing input).",
    },
    responses={
        "200": {
            "description": "The decision, exactly as `routing simulate` prints it.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        "422": {"$ref": "#/components/responses/UNPROCESSABLE_ENTITY"},
    },
)
@reads_only
def simulate():
    """Decide on a routing input without recording anything."""
    try:
        data = json.loads(request.get_data(as_text=True))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Problem(400, "malformed_json", "The body is not valid JSON.") from None
    try:
        decision = decide(parse_input(data))
    except InvalidInput as exc:
        raise Problem(
            422, "invalid_routing_input", str(exc), errors=[{"field": exc.path, "in": "body", "reason": exc.problem}]
        ) from None
    return current_app.response_class(decision.to_json() + "\n", mimetype="application/json")
