"""Who gets what from the JSON API, by token: one access matrix, generated from the app's URL map.

API_ACCESS says who may use each endpoint of the API's blueprints (`api_*`; the reference page
is tests/test_access.py's, open to anyone); WHO_GETS_WHAT says, for each kind of endpoint, what
each token's holder gets. One test per visitor calls every endpoint with every method it takes, in
tests/test_access.py's world: two reps, each with a routed deal that has its customer's link and
its partner's request, a deal the first deal's partner registered, and the channel manager. The
endpoints name the first rep's deal ("the deal"), its partner's request and the registration.

Every body sent is `{}`, as JSON: a visitor who may use the endpoint gets what the endpoint does
with it, a 422 for a body it needs more of included. Every refusal is a problem document, and
nothing is ever a 5xx.

A new API endpoint without a row fails `test_every_api_endpoint_has_a_row_in_the_matrix`.
"""

import pytest
from sqlalchemy import select

from intake import api_tokens
from intake.extensions import db
from intake.models import PartnerUser

from .test_access import CellCount, url_for_rule, what_stands
from .test_access import world as world  # the fixture: tests/test_access.py's world
from .test_api import token_for

# Who may use each endpoint:
#   staff       — a token of the vendor's staff (a rep or the channel manager)
#   engine      — staff; a read-only token too, since a simulation changes nothing
#   own deal    — staff, on a deal that is theirs (the channel manager: every deal)
#   admin       — the channel manager's token
#   partner     — a partner user's token (its own partner's list, or a registration of its own)
#   partner request      — a partner user's token, on a request to its own partner
#   partner registration — a partner user's token, on a deal its own partner registered
#   partner account      — a partner user's token, on an account its own partner works with here
API_ACCESS = {
    "api_deals.deals": "staff",
    "api_deals.create_deal": "staff",
    "api_deals.deal": "own deal",
    "api_deals.update_deal": "own deal",
    "api_deals.complete": "own deal",
    "api_deals.discard": "own deal",
    "api_deals.close": "own deal",
    "api_deals.customer_link": "own deal",
    "api_deals.create_customer_link": "own deal",
    "api_deals.send_customer_link": "own deal",
    "api_deals.revoke_customer_link": "own deal",
    "api_deals.route": "own deal",
    "api_deals.deal_decisions": "own deal",
    "api_routing.simulate": "engine",
    "api_accounts.accounts": "staff",
    "api_accounts.account": "staff",
    "api_accounts.update_account": "staff",
    "api_partners.partners": "staff",
    "api_partners.partner": "staff",
    "api_partners.create_partner": "admin",
    "api_partners.update_partner": "admin",
    "api_reports.reciprocity_ledger": "admin",
    "api_reports.partner_scorecards": "admin",
    "api_reports.partner_scorecard": "admin",
    "api_requests.requests": "partner",
    "api_requests.request_detail": "partner request",
    "api_requests.accept": "partner request",
    "api_requests.decline": "partner request",
    "api_requests.outcome": "partner request",
    "api_registrations.register": "partner",
    "api_registrations.registration": "partner registration",
    "api_relationships.relationships": "partner",
    "api_relationships.state_relationship": "partner account",
}

VISITORS = (
    "rep",  # the deal's rep, with a write token
    "other_rep",  # the other deal's rep, with a write token
    "channel_manager",  # with a write token
    "rep_reader",  # the deal's rep, with a read-only token
    "partner_user",  # a user of the deal's partner (who registered the registration)
    "other_partner_user",  # a user of the other deal's partner
    "revoked",  # the deal's rep's token, revoked
    "no_token",  # no Authorization header at all
)

# What a visitor gets:
#   OK       — allowed: what the endpoint does with `{}`: 2xx, or a refusal of the body (422), of
#              the deal's state (409) or of a change without its ETag (428)
#   READS    — allowed to read (GET); any other method is 403 `read_only_token`
#   NOTHING  — the channel manager's endpoint, with a rep's read-only token: 403 either way,
#              `read_only_token` for a write (before the view), `channel_manager_only` for a read
#   MANAGER  — 403 `channel_manager_only`
#   AUDIENCE — 403 `wrong_audience`: a token for the other side of the API
#   MISSING  — 404 `not_found`, as if there were nothing there
#   NO_TOKEN — 401 `unauthenticated`
OK, READS, NOTHING = "allowed", "reads only", "reads nothing"
MANAGER, AUDIENCE, MISSING, NO_TOKEN = "manager only", "wrong audience", "not found", "no token"

# fmt: off
WHO_GETS_WHAT = {
    # columns: rep, other_rep, channel_manager, rep_reader, partner_user, other_partner_user, revoked, no_token
    "staff":                (OK,       OK,       OK,       READS,    AUDIENCE, AUDIENCE, NO_TOKEN, NO_TOKEN),
    "engine":               (OK,       OK,       OK,       OK,       AUDIENCE, AUDIENCE, NO_TOKEN, NO_TOKEN),
    "own deal":             (OK,       MISSING,  OK,       READS,    AUDIENCE, AUDIENCE, NO_TOKEN, NO_TOKEN),
    "admin":                (MANAGER,  MANAGER,  OK,       NOTHING,  AUDIENCE, AUDIENCE, NO_TOKEN, NO_TOKEN),
    "partner":              (AUDIENCE, AUDIENCE, AUDIENCE, AUDIENCE, OK,       OK,       NO_TOKEN, NO_TOKEN),
    "partner request":      (AUDIENCE, AUDIENCE, AUDIENCE, AUDIENCE, OK,       MISSING,  NO_TOKEN, NO_TOKEN),
    "partner registration": (AUDIENCE, AUDIENCE, AUDIENCE, AUDIENCE, OK,       MISSING,  NO_TOKEN, NO_TOKEN),
    "partner account":      (AUDIENCE, AUDIENCE, AUDIENCE, AUDIENCE, OK,       MISSING,  NO_TOKEN, NO_TOKEN),
}
# fmt: on

# Each refusal: its status and its problem document's code.
REFUSALS = {
    MANAGER: (403, "channel_manager_only"),
    AUDIENCE: (403, "wrong_audience"),
    MISSING: (404, "not_found"),
    NO_TOKEN: (401, "unauthenticated"),
}
READ_ONLY = (403, "read_only_token")
# What a visitor who may use an endpoint gets, sending `{}`: it did it, or it refused the body or the state.
ALLOWED_STATUSES = {200, 201, 204, 409, 422, 428}
# A body each endpoint that reads one accepts: sent again when a refused visitor's `{}` got a 422, to
# say in the failure whether the refusal comes once the body passes (the check runs after the body's).
VALID_BODIES = {
    "api_partners.create_partner": {"name": "Fjord Systems"},
    "api_deals.close": {"outcome": "lost", "lost_reason": "They chose a competitor."},
    "api_requests.decline": {"reason": "No capacity this quarter."},
    "api_requests.outcome": {"outcome": "lost", "lost_reason": "They chose a competitor."},
    "api_relationships.state_relationship": {"strength": 3},
}
# The visitors who may change nothing of the deal: every write of theirs is refused before it acts.
MAY_NOT_CHANGE_THE_DEAL = {"other_rep", "rep_reader", "other_partner_user", "revoked", "no_token"}


def api_endpoint(endpoint: str) -> bool:
    return endpoint.startswith("api_") and not endpoint.startswith("api_reference.")


def expected(endpoint: str, visitor: str, method: str) -> tuple[set[int], str | None]:
    """The statuses a visitor may get from this endpoint with this method, and the refusal's code."""
    got = WHO_GETS_WHAT[API_ACCESS[endpoint]][VISITORS.index(visitor)]
    if got == READS:
        got = OK if method == "GET" else READ_ONLY
    elif got == NOTHING:
        got = REFUSALS[MANAGER] if method == "GET" else READ_ONLY
    if got == OK:
        return ALLOWED_STATUSES, None
    status, code = got if isinstance(got, tuple) else REFUSALS[got]
    return {status}, code


def endpoints(app) -> list:
    """(rule, method) for every API endpoint, each method it takes: reading before writing, deleting last."""
    found = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if api_endpoint(rule.endpoint)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    order = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
    return sorted(found, key=lambda cell: (order[cell[1]], cell[0].rule))


def tokens_of(world) -> dict[str, str | None]:
    """Each visitor's token, made as its owner makes one; the revoked one revoked by its owner."""
    rep = world.people["rep"]
    user_of = {
        visitor: db.session.scalar(select(PartnerUser).where(PartnerUser.email == email))
        for visitor, email in world.partner_users.items()
    }
    row, revoked = api_tokens.create(rep, name="Old CRM", scope="write", actor=None)
    api_tokens.revoke(row, actor=rep)
    db.session.commit()
    return {
        "rep": token_for(rep),
        "other_rep": token_for(world.people["other_rep"]),
        "channel_manager": token_for(world.people["channel_manager"]),
        "rep_reader": token_for(rep, scope="read"),
        "partner_user": token_for(user_of["partner_user"]),
        "other_partner_user": token_for(user_of["other_partner_user"]),
        "revoked": revoked,
        "no_token": None,
    }


@pytest.fixture(scope="session")
def cell_count(request) -> CellCount:
    count = CellCount("API access matrix")
    request.config.pluginmanager.register(count, "api-access-matrix-cell-count")
    return count


def test_every_api_endpoint_has_a_row_in_the_matrix(app):
    found = {rule.endpoint for rule in app.url_map.iter_rules() if api_endpoint(rule.endpoint)}
    assert found - set(API_ACCESS) == set(), "add the new API endpoints to API_ACCESS, saying who may use them"
    assert set(API_ACCESS) - found == set(), "these rows name no endpoint"
    assert set(WHO_GETS_WHAT) == set(API_ACCESS.values()), "every kind of endpoint says what each visitor gets"
    assert all(len(row) == len(VISITORS) for row in WHO_GETS_WHAT.values())


@pytest.mark.parametrize("visitor", VISITORS)
def test_every_api_endpoint_answers_each_token_as_the_matrix_says(app, world, visitor, cell_count):
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    token = tokens_of(world)[visitor]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = app.test_client()
    before = what_stands(world.deal.id)
    wrong = []
    for rule, method in endpoints(app):
        url = url_for_rule(rule, world.values)
        body = {} if method != "GET" else None
        response = client.open(url, method=method, headers=headers, json=body)
        db.session.expire_all()
        allowed, code = expected(rule.endpoint, visitor, method)
        cell = f"{method} {rule.rule} ({API_ACCESS[rule.endpoint]})"
        status = response.status_code
        if status not in allowed:
            wrong.append(f"{cell}: expected {' or '.join(map(str, sorted(allowed)))}, got {status}")
            if code and status == 422 and rule.endpoint in VALID_BODIES:
                again = client.open(url, method=method, headers=headers, json=VALID_BODIES[rule.endpoint])
                db.session.expire_all()
                wrong.append(
                    f"{cell}: the body was read before the token's rights; with a valid one: {again.status_code}"
                )
        if status >= 500:
            wrong.append(f"{cell}: a server error: {response.get_data(as_text=True)[:300]}")
        if status >= 400:
            if response.mimetype != "application/problem+json":
                wrong.append(f"{cell}: the {status} is {response.mimetype}, not a problem document")
            elif code and response.get_json().get("code") != code:
                wrong.append(f"{cell}: expected the code {code}, got {response.get_json().get('code')}")
        cell_count.cells[db.engine.dialect.name] += 1
    assert not wrong, f"{visitor}:\n" + "\n".join(wrong)
    if visitor in MAY_NOT_CHANGE_THE_DEAL:
        assert what_stands(world.deal.id) == before, "a token that may not change the deal changed it"
