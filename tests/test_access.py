"""Who gets what, route by route: one access matrix, generated from the app's URL map.

ACCESS says who may use each route; WHO_GETS_WHAT says, for each kind of route, what each
visitor gets. One test per visitor walks every route with every method it takes, in a world of
its own: two reps, each with a routed deal that has its customer's link and its partner's
request, a deal the first deal's partner registered in the portal, and the channel manager. The
routes name the first rep's deal ("the deal"), and the registration and its account.

A new route without a row fails `test_every_route_has_a_row_in_the_access_matrix`.
"""

import re
from collections import Counter
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from intake import api_tokens, tokens
from intake.deals import customer, decisions, partner_requests, registrations
from intake.extensions import db
from intake.models import (
    CustomerLink,
    Deal,
    Decision,
    OutboxMessage,
    PartnerRequest,
    PartnerUser,
    Registration,
    WebhookDelivery,
)
from intake.webhooks import endpoints

from .conftest import answer_for, sign_in, sign_in_partner
from .test_routed_mail import deliver

# Who may use each route:
#   anyone   — no sign-in (sign-in itself, static files)
#   user     — a signed-in rep or channel manager
#   own deal — a signed-in user, on a deal that is theirs (the channel manager: every deal)
#   admin    — the channel manager
#   link     — whoever holds the customer's personal link (one deal)
#   link, no deal — whoever holds a customer's personal link, for what shows no deal (names of our partners)
#   request  — whoever holds the partner's signed request link (one request)
#   sign-in link — whoever holds a partner user's one-time sign-in link (no visitor here does)
#   portal   — a signed-in partner user (its own partner's pages)
#   portal request — a signed-in partner user, on a request of its own partner's
#   portal registration — a signed-in partner user, on a deal its own partner registered
#   portal account — a signed-in partner user, on an account its own partner works with here
#   own token — a signed-in rep or channel manager, on an API token of their own
#   portal token — a signed-in partner user, on an API token of their own
#   api token — the JSON API: only a bearer token opens it (tests/test_api_access.py says whose), never a
#               cookie, so every visitor here gets its 401 problem document
ACCESS = {
    "static": "anyone",
    "auth.login": "anyone",
    "auth.logout": "anyone",
    "auth.own_password": "user",
    "rep.index": "user",
    "rep.deals": "user",
    "rep.deals_csv": "user",
    "rep.dashboard_page": "user",
    "rep.accounts": "user",
    "rep.account": "user",
    "rep.edit_account": "user",
    "rep.new_deal": "user",
    "rep.partner_names": "user",
    "rep.deal": "own deal",
    "rep.section": "own deal",
    "rep.complete": "own deal",
    "rep.discard": "own deal",
    "rep.close": "own deal",
    "rep.create_link": "own deal",
    "rep.email_link": "own deal",
    "rep.revoke_link": "own deal",
    "rep.route": "own deal",
    "rep.summary_pdf": "own deal",
    "admin.index": "admin",
    "admin.users": "admin",
    "admin.new_user": "admin",
    "admin.edit_user": "admin",
    "admin.user_password": "admin",
    "admin.partners": "admin",
    "admin.edit_partner": "admin",
    "admin.partner_active": "admin",
    "admin.queues_index": "admin",
    "admin.queue": "admin",
    "admin.responses": "admin",
    "admin.resolve": "admin",
    "admin.override": "admin",
    "admin.rules": "admin",
    "admin.recycle": "admin",
    "admin.mail": "admin",
    "admin.mail_message": "admin",
    "admin.mail_html": "admin",
    "admin.mail_attachment": "admin",
    "admin.mail_retry": "admin",
    "link.answer": "link",
    "link.partner_names": "link, no deal",
    "link.submit": "link",
    "partner.show": "request",
    "partner.accept": "request",
    "partner.decline": "request",
    "admin.invite_partner_user": "admin",
    "admin.partner_user_active": "admin",
    "portal.login": "anyone",
    "portal.sign_in": "sign-in link",
    "portal.home": "portal",
    "portal.logout": "portal",
    "portal.request_detail": "portal request",
    "portal.accept": "portal request",
    "portal.decline": "portal request",
    "portal.summary_pdf": "portal request",
    "portal.outcome": "portal request",
    "portal.register": "portal",
    "portal.registration": "portal registration",
    "portal.relationships": "portal",
    "portal.state_relationship": "portal account",
    "admin.registrations": "admin",
    "admin.reciprocity_ledger": "admin",
    "admin.ledger_deals": "admin",
    "admin.scorecard": "admin",
    "admin.partner_review": "admin",
    "admin.what_if": "admin",
    "admin.merge_account": "admin",
    "admin.ledger_csv": "admin",
    "admin.scorecards_csv": "admin",
    "admin.import_page": "admin",
    "admin.webhooks": "admin",
    "admin.new_webhook": "admin",
    "admin.webhook": "admin",
    "admin.webhook_active": "admin",
    "admin.delete_webhook": "admin",
    "admin.retry_webhook_delivery": "admin",
    "auth.own_tokens": "user",
    "auth.revoke_own_token": "own token",
    "portal.tokens": "portal",
    "portal.revoke_token": "portal token",
    # The JSON API's document and its reference page are public: they describe the API, they open nothing.
    "api-docs.openapi_json": "anyone",
    "api_reference.page": "anyone",
    "api_reference.static": "anyone",
}
# Every route of the JSON API's own blueprints (`api_*`) is for a bearer token's holder.
API_PREFIX = "api_"
API_PUBLIC = ("api_reference.",)

# The visitors. The customer and the partner hold their link's token and put it wherever a route
# takes one; the others hold none and try one that was never issued. A token signs no one in: on
# every other route its holder is a visitor who has not signed in.
VISITORS = (
    "anonymous",  # not signed in, holding no token
    "rep",  # the deal's rep
    "other_rep",  # the other deal's rep
    "channel_manager",
    "customer",  # the deal's customer, with their personal link
    "other_customer",  # the other deal's customer, with theirs
    "partner",  # the deal's partner, with its request link
    "other_partner",  # the other deal's partner, with its own
    "partner_user",  # a user of the deal's partner, signed in to the portal
    "other_partner_user",  # a user of the other deal's partner, signed in to the portal
)

# What a visitor gets:
#   opens     — the page, or what its form does with a POST that carries only its CSRF token
#   its own   — opens, for the visitor's own deal: the page shows that deal and nothing of this one
#   sign in   — sent to sign in and come back
#   forbidden — 403: not for their role
#   not found — 404: as if there were nothing there
#   no token  — 401: the API's problem document asking for a bearer token (a cookie is no token)
OPENS, ITS_OWN, SIGN_IN, FORBIDDEN, NOT_FOUND = "opens", "its own", "sign in", "forbidden", "not found"
NO_TOKEN = "no token"

# fmt: off
WHO_GETS_WHAT = {
    #                       anonymous  rep        other_rep  channel_manager  customer   other_customer  partner    other_partner  partner_user  other_partner_user
    "anyone":               (OPENS,     OPENS,     OPENS,     OPENS,           OPENS,     OPENS,          OPENS,     OPENS,         OPENS,        OPENS),
    "user":                 (SIGN_IN,   OPENS,     OPENS,     OPENS,           SIGN_IN,   SIGN_IN,        SIGN_IN,   SIGN_IN,       SIGN_IN,      SIGN_IN),
    "own deal":             (SIGN_IN,   OPENS,     NOT_FOUND, OPENS,           SIGN_IN,   SIGN_IN,        SIGN_IN,   SIGN_IN,       SIGN_IN,      SIGN_IN),
    "admin":                (SIGN_IN,   FORBIDDEN, FORBIDDEN, OPENS,           SIGN_IN,   SIGN_IN,        SIGN_IN,   SIGN_IN,       SIGN_IN,      SIGN_IN),
    "link":                 (NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND,       OPENS,     ITS_OWN,        NOT_FOUND, NOT_FOUND,     NOT_FOUND,    NOT_FOUND),
    "link, no deal":        (NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND,       OPENS,     OPENS,          NOT_FOUND, NOT_FOUND,     NOT_FOUND,    NOT_FOUND),
    "request":              (NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND,       NOT_FOUND, NOT_FOUND,      OPENS,     ITS_OWN,       NOT_FOUND,    NOT_FOUND),
    "sign-in link":         (NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND,       NOT_FOUND, NOT_FOUND,      NOT_FOUND, NOT_FOUND,     NOT_FOUND,    NOT_FOUND),
    "portal":               (SIGN_IN,   SIGN_IN,   SIGN_IN,   SIGN_IN,         SIGN_IN,   SIGN_IN,        SIGN_IN,   SIGN_IN,       OPENS,        OPENS),
    "portal request":       (SIGN_IN,   SIGN_IN,   SIGN_IN,   SIGN_IN,         SIGN_IN,   SIGN_IN,        SIGN_IN,   SIGN_IN,       OPENS,        NOT_FOUND),
    "portal registration":  (SIGN_IN,   SIGN_IN,   SIGN_IN,   SIGN_IN,         SIGN_IN,   SIGN_IN,        SIGN_IN,   SIGN_IN,       OPENS,        NOT_FOUND),
    "portal account":       (SIGN_IN,   SIGN_IN,   SIGN_IN,   SIGN_IN,         SIGN_IN,   SIGN_IN,        SIGN_IN,   SIGN_IN,       OPENS,        NOT_FOUND),
    "own token":            (SIGN_IN,   OPENS,     NOT_FOUND, NOT_FOUND,       SIGN_IN,   SIGN_IN,        SIGN_IN,   SIGN_IN,       SIGN_IN,      SIGN_IN),
    "portal token":         (SIGN_IN,   SIGN_IN,   SIGN_IN,   SIGN_IN,         SIGN_IN,   SIGN_IN,        SIGN_IN,   SIGN_IN,       OPENS,        NOT_FOUND),
    "api token":            (NO_TOKEN,  NO_TOKEN,  NO_TOKEN,  NO_TOKEN,        NO_TOKEN,  NO_TOKEN,       NO_TOKEN,  NO_TOKEN,      NO_TOKEN,     NO_TOKEN),
}
# fmt: on

# The statuses each outcome allows. A page that opens may send the visitor on (302: the
# questionnaire of a routed deal goes to the deal). A POST carries only its CSRF token, so the
# form it reaches may act and send the visitor on (302), refuse what it was sent (400) or refuse
# the deal's state (409: a routed deal is not routed again).
STATUSES = {
    OPENS: {"GET": {200, 302}, "POST": {302, 400, 409}},
    ITS_OWN: {"GET": {200, 302}, "POST": {302, 400, 409}},
    SIGN_IN: {"GET": {SIGN_IN}, "POST": {SIGN_IN}},
    FORBIDDEN: {"GET": {403}, "POST": {403}},
    NOT_FOUND: {"GET": {404}, "POST": {404}},
    # The API's routes also take PUT, PATCH and DELETE; without a bearer token every one is the same 401.
    NO_TOKEN: {method: {401} for method in ("GET", "POST", "PUT", "PATCH", "DELETE")},
}

# Who may read the deal at all; no other visitor ever reads its account's name or its rep's.
READERS_OF_THE_DEAL = {"rep", "channel_manager", "customer", "partner", "partner_user"}
# Who may read what a partner registered: the partner's own users and the channel manager (the
# registration waits for a rep), never another partner, a rep, a customer or a request's link.
READERS_OF_THE_REGISTRATION = {"channel_manager", "partner_user"}

# A token shaped like ours that was never issued: what a visitor who holds none tries.
NEVER_ISSUED = "n" * 32
CSRF_REFUSED = "This form has expired or did not come from Intake"


def access_of(endpoint: str) -> str | None:
    """Who may use the route: its row in ACCESS, or the API's bearer token for any route of the API's blueprints."""
    if endpoint in ACCESS:
        return ACCESS[endpoint]
    if endpoint.startswith(API_PREFIX) and not endpoint.startswith(API_PUBLIC):
        return "api token"
    return None


def outcome(audience: str, visitor: str) -> str:
    """What a visitor gets from a route of this audience, in WHO_GETS_WHAT's words."""
    return WHO_GETS_WHAT[audience][VISITORS.index(visitor)]


def expected(audience: str, visitor: str, method: str) -> set:
    """The statuses a visitor may get from a route of this audience with this method."""
    return STATUSES[outcome(audience, visitor)][method]


def answer(response):
    """What a response says: its status, or SIGN_IN for the redirect to sign in and come back.

    (Signing out ends on the sign-in page too, but without a page to come back to: that is a 302.) The
    API's 401 counts only as the problem document that asks for a bearer token, never as a page.
    """
    if response.status_code == 401:
        is_problem = response.mimetype == "application/problem+json"
        return (
            401 if is_problem and "Bearer" in response.headers.get("WWW-Authenticate", "") else "401 without a problem"
        )
    if response.status_code == 302 and response.location.startswith(("/login?next=", "/partner/login?next=")):
        return SIGN_IN
    return response.status_code


def read(response) -> str:
    """The response's body as text; a PDF or an attachment too, for the names it must not hold."""
    body = response.get_data().decode("utf-8", "replace")
    response.close()  # a static file or an attachment is streamed from an open file
    return body


def routes(app, *audiences):
    """(rule, method) for every route of these audiences, each method it takes."""
    found = []
    for rule in app.url_map.iter_rules():
        if access_of(rule.endpoint) in audiences:
            found += [(rule, method) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def walk(app):
    """Every route with every method it takes, in a fixed order: reading before writing, signing out last."""
    cells = routes(app, *WHO_GETS_WHAT)
    signing_out = {"portal.logout": 1, "auth.logout": 2}  # the portal's first: the staff one ends any session
    return sorted(cells, key=lambda cell: (cell[1] != "GET", signing_out.get(cell[0].endpoint, 0), cell[0].rule))


# What a route's arguments take where the world's values would name nothing there: the reference
# page's assets are Swagger UI's own files; a partner user's token is not the rep's.
ROUTE_VALUES = {
    "api_reference.static": lambda values: {"filename": "swagger-ui.css"},
    "portal.revoke_token": lambda values: {"token_id": values["partner_token_id"]},
}


def values_for(rule, values: dict) -> dict:
    """The world's values, as this route's arguments take them."""
    return {**values, **ROUTE_VALUES.get(rule.endpoint, lambda values: {})(values)}


def url_for_rule(rule, values: dict) -> str:
    url = rule.rule
    for name in rule.arguments - set(rule.defaults or {}):
        url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(values[name]), url)
    return url


@dataclass
class World:
    deal: Deal  # the deal the routes name
    values: dict  # what each route's arguments take
    names: tuple[str, ...]  # what names the deal: its account and its rep
    other_names: tuple[str, ...]  # what names the other deal
    registered_names: tuple[str, ...]  # what names the deal the first deal's partner registered
    people: dict  # each member of staff who signs in -> their user
    partner_users: dict  # each partner user who signs in to the portal -> their email
    tokens: dict  # each visitor who holds a token -> that token


def _routed_deal(make_deal, make_account, rep, partner, account_name: str) -> tuple[Deal, str]:
    """A deal its rep qualifies and routes once its customer has answered by their link; and the link's token."""
    account = make_account(owner=rep, name=account_name, domain=account_name.split()[0].lower() + ".example")
    deal = make_deal(rep, status="awaiting_customer", originator="customer", account=account)
    link = customer.create_link(deal, language="en", actor=rep)
    answer_for(deal, rows=[(partner, 5)], fulfilment="partner", chosen_row=0)
    decisions.route_deal(deal, actor=rep)
    db.session.commit()
    assert deal.status == "routed"
    return deal, tokens.token_for(link)


def _registration(partner) -> Registration:
    """A deal the partner's user registers in the portal, for an account nobody has claimed."""
    partner_user = db.session.scalars(select(PartnerUser).where(PartnerUser.partner_id == partner.id)).one()
    found = registrations.register(
        partner_user,
        {
            "account_name": "Quayside Logistics Ltd",
            "domain": "quayside.example",
            "country": "GB",
            "vertical": "",
            "contact_name": "Quinn Quayle",
            "contact_email": "quinn@quayside.example",
            "contact_phone": "",
            "need": "A warehouse system that scales.",
            "solutions": [],
            "estimated_value": None,
            "currency": "",
            "close_date": None,
            "strength": 4,
            "since": None,
            "notes": "",
        },
        form_key="the-world-s-registration",
    )
    db.session.commit()
    assert not found.clashed and found.deal.status == "draft"
    return found


def _request_token(deal) -> str:
    request = partner_requests.of_decision(deal.decisions[-1])[0]
    return partner_requests.url(request).rsplit("/", 1)[1]


@pytest.fixture
def world(app, make_user, make_deal, make_account, thames, borealis, boss, smtp) -> World:
    """Two reps' routed deals, each with its customer's link and its partner's request; a deal the first one's
    partner registered; the channel manager, and a webhook endpoint that heard of the routing."""
    rep = make_user("rep", name="Alice Archer", email="alice@example.com")
    other_rep = make_user("rep", name="Bob Baker", email="bob@example.com")
    # The vendor's CRM hears of routing; nothing listens on the discard port, so its deliveries wait.
    app.config.update(WEBHOOK_ALLOW_PRIVATE=True)
    webhook = endpoints.register(url="http://127.0.0.1:9/hooks/intake", events=["deal.routed"], actor=boss)
    db.session.commit()
    deal, link_token = _routed_deal(make_deal, make_account, rep, thames, "Harbour Freight GmbH")
    deliver(app)  # the deal's mail, with the summary PDFs the worker renders and stores
    other_deal, other_link_token = _routed_deal(make_deal, make_account, other_rep, borealis, "Alpine Dairy AG")
    registration = _registration(thames)  # the deal's partner registered one of its own, too
    message = (
        db.session.query(OutboxMessage)
        .filter(OutboxMessage.kind == "routed_vendor", OutboxMessage.deal_id == deal.id)
        .one()
    )
    thames_user = db.session.scalars(select(PartnerUser).where(PartnerUser.partner_id == thames.id)).one()
    values = {
        "deal_id": deal.id,
        "request_id": partner_requests.of_decision(deal.decisions[-1])[0].id,
        # What the deal's partner registered, and the account of it: one it works with here.
        "registration_id": registration.id,
        "account_id": registration.deal.account_id,
        "version": deal.decisions[-1].version,
        "copy": "vendor",
        "message_id": message.id,
        "attachment_id": message.attachments[0].id,
        # The user and the partner the manager's forms change belong to the other deal, so that what
        # a POST changes (a user's activity, a partner's) is nothing a later cell reads.
        "user_id": other_rep.id,
        "partner_id": borealis.id,
        "partner_user_id": db.session.scalar(select(PartnerUser.id).where(PartnerUser.partner_id == borealis.id)),
        "key": "account",
        "reason": "needs_alignment",
        "quarter": "2026-Q4",
        "side": "brought",
        "filename": "intake.css",
        "endpoint_id": webhook.id,
        "delivery_id": db.session.scalar(select(WebhookDelivery.id).where(WebhookDelivery.deal_id == deal.id)),
        # An API token of the deal's rep's, and one of the deal's partner's user's.
        "token_id": api_tokens.create(rep, name="CRM", scope="write", actor=None)[0].id,
        "partner_token_id": api_tokens.create(thames_user, name="PSA", scope="write", actor=None)[0].id,
    }
    db.session.commit()
    return World(
        deal=deal,
        values=values,
        names=("Harbour Freight GmbH", "Alice Archer"),
        other_names=("Alpine Dairy AG", "Bob Baker"),
        registered_names=("Quayside Logistics Ltd", "Quinn Quayle"),
        people={"rep": rep, "other_rep": other_rep, "channel_manager": boss},
        partner_users={"partner_user": thames.contact_email, "other_partner_user": borealis.contact_email},
        tokens={
            "customer": link_token,
            "other_customer": other_link_token,
            "partner": _request_token(deal),
            "other_partner": _request_token(other_deal),
        },
    )


def browser_of(app, world: World, visitor: str):
    """The visitor's own browser, signed in if they have an account; and the CSRF token its pages carry."""
    if visitor in world.people:
        browser = sign_in(app, world.people[visitor])
        return browser, browser.csrf_token("/deals")
    if visitor in world.partner_users:
        browser = sign_in_partner(app, world.partner_users[visitor])
        return browser, browser.csrf_token("/partner/")
    browser = app.test_client()
    return browser, browser.csrf_token("/login")


def what_stands(deal_id: int) -> tuple:
    """The deal's state, its decisions, its links and its requests: what only its readers may change."""
    links = db.session.query(CustomerLink).filter(CustomerLink.deal_id == deal_id).order_by(CustomerLink.id)
    requests = db.session.query(PartnerRequest).filter(PartnerRequest.deal_id == deal_id).order_by(PartnerRequest.id)
    return (
        db.session.get(Deal, deal_id).status,
        [d.version for d in db.session.query(Decision).filter(Decision.deal_id == deal_id)],
        [(link.id, link.revoked_at) for link in links],
        [(r.id, r.response) for r in requests],
    )


class CellCount:
    """Counts the matrix's cells checked on each engine, and says so at the end of the run."""

    def __init__(self, name: str = "access matrix"):
        self.name = name
        self.cells = Counter()

    def pytest_terminal_summary(self, terminalreporter):
        if self.cells:
            engines = ", ".join(f"{n} on {engine}" for engine, n in sorted(self.cells.items()))
            terminalreporter.write_line(f"{self.name}: {self.cells.total()} cells ({engines})")


@pytest.fixture(scope="session")
def cell_count(request) -> CellCount:
    count = CellCount()
    request.config.pluginmanager.register(count, "access-matrix-cell-count")
    return count


def test_every_route_has_a_row_in_the_access_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {e for e in endpoints if access_of(e) is None} == set(), (
        "add the new routes to ACCESS, saying who may use them"
    )
    assert set(ACCESS) - endpoints == set(), "these rows name no route"
    kinds = {access_of(e) for e in endpoints}
    assert set(WHO_GETS_WHAT) == kinds, "every kind of route says what each visitor gets"
    assert all(len(row) == len(VISITORS) for row in WHO_GETS_WHAT.values())


ACCOUNT_PAGES = ("rep.accounts", "rep.account", "rep.edit_account")


@pytest.mark.parametrize("visitor", VISITORS)
def test_every_route_answers_each_visitor_as_the_matrix_says(app, world, visitor, cell_count):
    browser, csrf_token = browser_of(app, world, visitor)
    values = {**world.values, "token": world.tokens.get(visitor, NEVER_ISSUED)}
    before = what_stands(world.deal.id)
    wrong = []
    for rule, method in walk(app):
        audience = access_of(rule.endpoint)
        url = url_for_rule(rule, values_for(rule, values))
        if method == "GET":
            response = browser.get(url)
        else:  # the API's routes also take PUT, PATCH and DELETE; a browser sends what a form sends
            response = browser.open(url, method=method, data={"csrf_token": csrf_token})
        page, got, allowed = read(response), answer(response), expected(audience, visitor, method)
        cell = f"{method} {rule.rule} ({audience})"
        if got not in allowed:
            wrong.append(f"{cell}: expected {' or '.join(map(str, sorted(allowed, key=str)))}, got {got}")
        if method == "POST" and CSRF_REFUSED in page:
            wrong.append(f"{cell}: the CSRF token was refused, so the access check was never reached")
        if got == 404 and audience == "own deal" and "Not found" not in page:
            wrong.append(f"{cell}: another rep's deal does not read as a missing one")
        # Accounts are the vendor's, shared by its staff (a rep finds any to link a deal to): their pages
        # name the account and its owner, never a deal's customer contact.
        names, registered = world.names, world.registered_names
        if rule.endpoint in ACCOUNT_PAGES:
            names, registered = (), registered[1:]
        if visitor not in READERS_OF_THE_DEAL and any(name in page for name in names):
            wrong.append(f"{cell}: shows the deal ({', '.join(n for n in names if n in page)})")
        if visitor not in READERS_OF_THE_REGISTRATION and any(name in page for name in registered):
            wrong.append(f"{cell}: shows the partner's registration ({', '.join(n for n in registered if n in page)})")
        if outcome(audience, visitor) == ITS_OWN and method == "GET":
            if not any(name in page for name in world.other_names):
                wrong.append(f"{cell}: does not show the visitor's own deal")
        cell_count.cells[db.engine.dialect.name] += 1
    assert not wrong, f"{visitor}:\n" + "\n".join(wrong)
    if visitor not in READERS_OF_THE_DEAL:
        assert what_stands(world.deal.id) == before, "a visitor who may not read the deal changed it"


def test_a_forged_link_or_request_token_opens_nothing(app, world):
    visitor = app.test_client()
    csrf_token = visitor.csrf_token("/login")
    wrong = []
    # 4 forged tokens on 5 routes: fewer misses than one address may make before it must wait.
    for forged in ["nope", "A" * 32, "%00" * 10, "x" * 300]:
        for rule, method in routes(app, "link", "request"):
            url = url_for_rule(rule, {**world.values, "token": forged})
            response = visitor.get(url) if method == "GET" else visitor.post(url, data={"csrf_token": csrf_token})
            if response.status_code != 404:
                wrong.append(f"{method} {url}: {response.status_code}")
    assert not wrong


def test_every_post_without_a_csrf_token_is_refused(app, world):
    manager = sign_in(app, world.people["channel_manager"])
    before = what_stands(world.deal.id)
    # The API takes no CSRF token (a cookie never authenticates it): its refusal is the next test's.
    posts = [(rule, method) for rule, method in routes(app, *set(ACCESS.values())) if method == "POST"]
    assert len(posts) >= 20
    for rule, _ in posts:
        token = world.tokens["partner" if ACCESS[rule.endpoint] == "request" else "customer"]
        url = url_for_rule(rule, values_for(rule, {**world.values, "token": token}))
        response = manager.post(url, data={"name": "x", "reason": "x"})
        assert response.status_code == 400, (rule.rule, response.status_code)
    # The session survived all of that: still signed in, and nothing changed.
    assert manager.get("/deals").status_code == 200
    assert what_stands(world.deal.id) == before


def test_the_api_refuses_the_managers_cookie_without_a_csrf_token_with_a_401_not_a_400(app, world):
    manager = sign_in(app, world.people["channel_manager"])
    before = what_stands(world.deal.id)
    writes = [(rule, method) for rule, method in routes(app, "api token") if method != "GET"]
    assert len(writes) >= 15
    wrong = []
    for rule, method in writes:
        response = manager.open(url_for_rule(rule, world.values), method=method, json={})
        if answer(response) != 401 or response.get_json()["code"] != "unauthenticated":
            wrong.append(f"{method} {rule.rule}: {response.status_code} {response.get_data(as_text=True)[:200]}")
    assert not wrong
    assert manager.get("/deals").status_code == 200
    assert what_stands(world.deal.id) == before


def test_a_rep_lists_only_their_own_deals(client, make_user, login, make_deal, make_account):
    me, other = make_user("rep"), make_user("rep")
    make_deal(me, account=make_account(name="Mine Ltd", owner=me))
    make_deal(other, account=make_account(name="Theirs Ltd", owner=other))
    login(me)
    page = client.get("/deals").get_data(as_text=True)
    assert "Mine Ltd" in page and "Theirs Ltd" not in page
