"""Who may open what, route by route: the access matrix is generated from the app's URL map.

Every route has a row in ACCESS saying who may use it; a new route without a row fails
`test_every_route_has_a_row_in_the_access_matrix`. Each row is then tried, on every method the
route takes, by the visitors it must refuse.
"""

import re

import pytest

from intake.deals import partner_requests
from intake.extensions import db
from intake.models import Decision, OutboxMessage

from .conftest import PASSWORD, answer_for
from .test_customer_link import create_link
from .test_routed_mail import deliver

# Who may use each route:
#   anyone   — no sign-in (sign-in itself, static files)
#   user     — a signed-in rep or channel manager
#   own deal — a signed-in user, on a deal that is theirs (the channel manager: every deal)
#   admin    — the channel manager
#   link     — whoever holds the customer's personal link (one deal)
#   request  — whoever holds the partner's signed request link (one request)
ACCESS = {
    "static": "anyone",
    "auth.login": "anyone",
    "auth.logout": "anyone",
    "auth.own_password": "user",
    "rep.index": "user",
    "rep.deals": "user",
    "rep.new_deal": "user",
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
    "admin.resolve": "admin",
    "admin.override": "admin",
    "admin.rules": "admin",
    "admin.recycle": "admin",
    "admin.mail": "admin",
    "admin.mail_message": "admin",
    "admin.mail_attachment": "admin",
    "admin.mail_retry": "admin",
    "link.answer": "link",
    "link.submit": "link",
    "partner.show": "request",
    "partner.accept": "request",
    "partner.decline": "request",
}
SIGNED_IN = ("user", "own deal", "admin")


def routes(app, *audiences):
    """(rule, method) for every route of these audiences, each method it takes."""
    found = []
    for rule in app.url_map.iter_rules():
        if ACCESS.get(rule.endpoint) in audiences:
            found += [(rule, method) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def url_for_rule(rule, values: dict) -> str:
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(values[name]), url)
    return url


@pytest.fixture
def world(app, make_user, make_deal, make_partner, smtp):
    """One of everything, made the way users make it: a rep's routed deal with its mail and PDFs,
    its customer's link and its partner's request; and the ids each route takes."""
    owner = make_user("rep")
    owners_browser = app.test_client()
    owners_browser.submit("/login", {"email": owner.email, "password": PASSWORD})
    partner = make_partner(name="Thames Cloud")
    deal = make_deal(owner, status="awaiting_customer", originator="customer")
    link = create_link(owners_browser, deal)
    answer_for(deal, rows=[(partner, 5)], fulfilment="partner", chosen_row=0)
    owners_browser.submit(f"/deals/{deal.id}/route", page=f"/deals/{deal.id}")
    deliver(app)
    version = db.session.get(Decision, deal.decisions[-1].id)
    request = partner_requests.of_decision(version)[0]
    message = db.session.query(OutboxMessage).filter(OutboxMessage.kind == "routed_vendor").one()
    return {
        "deal_id": deal.id,
        "user_id": owner.id,
        "partner_id": partner.id,
        "message_id": message.id,
        "attachment_id": message.attachments[0].id,
        "request_id": request.id,
        "version": version.version,
        "copy": "vendor",
        "key": "account",
        "reason": "needs_alignment",
        "link_token": link.rsplit("/", 1)[1],
        "request_token": partner_requests.url(request).rsplit("/", 1)[1],
        "filename": "intake.css",
    }


def test_every_route_has_a_row_in_the_access_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(ACCESS) == set(), "add the new routes to ACCESS, saying who may use them"
    assert set(ACCESS) - endpoints == set(), "these rows name no route"


def _try(client, rule, method, values, token):
    url = url_for_rule(rule, values)
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": token})


def test_an_anonymous_visitor_is_asked_to_sign_in_everywhere_but_the_open_routes(app, client, world):
    token = client.csrf_token("/login")
    for rule, method in routes(app, *SIGNED_IN):
        response = _try(client, rule, method, world, token)
        assert response.status_code == 302 and response.location.startswith("/login"), (rule.rule, method)


def test_a_rep_is_refused_every_channel_manager_route(app, client, world, rep):
    token = client.csrf_token()
    for rule, method in routes(app, "admin"):
        response = _try(client, rule, method, world, token)
        assert response.status_code == 403, (rule.rule, method, response.status_code)


def test_another_reps_deal_is_not_found_on_any_deal_route(app, client, world, rep):
    token = client.csrf_token()
    for rule, method in routes(app, "own deal"):
        response = _try(client, rule, method, world, token)
        assert response.status_code == 404, (rule.rule, method, response.status_code)
        assert "Not found" in response.get_data(as_text=True)
    # Nothing the other rep tried changed the deal.
    versions = db.session.query(Decision).filter(Decision.deal_id == world["deal_id"]).all()
    assert [v.version for v in versions] == [1]


def test_the_channel_manager_opens_every_deal_page(app, client, world, admin):
    for rule, method in routes(app, "own deal"):
        if method == "GET":
            response = _try(client, rule, method, world, None)
            # A routed deal's questionnaire sections send the reader on to the deal itself.
            opened = response.status_code == 200 or response.location == f"/deals/{world['deal_id']}"
            assert opened, (rule.rule, response.status_code)


@pytest.mark.parametrize("forged", ["nope", "A" * 32, "%00" * 10, "x" * 300])
def test_a_forged_link_or_request_token_opens_nothing(app, world, forged):
    visitor = app.test_client()
    token = visitor.csrf_token(f"/r/{world['request_token']}")
    for rule, method in routes(app, "link", "request"):
        values = {**world, "token": forged}
        response = _try(visitor, rule, method, values, token)
        assert response.status_code == 404, (rule.rule, method, response.status_code)


def test_every_post_without_a_csrf_token_is_refused(app, client, world, admin):
    posts = [(rule, method) for rule, method in routes(app, *ACCESS.values()) if method == "POST"]
    assert len(posts) >= 20
    for rule, _ in posts:
        token_name = "request_token" if ACCESS[rule.endpoint] == "request" else "link_token"
        values = {**world, "token": world[token_name]}
        response = client.post(url_for_rule(rule, values), data={"name": "x", "reason": "x"})
        assert response.status_code == 400, (rule.rule, response.status_code)
    # The session survived all of that: still signed in, and nothing changed.
    assert client.get("/deals").status_code == 200
    assert db.session.query(Decision).count() == 1


def test_a_rep_lists_only_their_own_deals(client, make_user, login, make_deal, make_account):
    me, other = make_user("rep"), make_user("rep")
    make_deal(me, account=make_account(name="Mine Ltd", owner=me))
    make_deal(other, account=make_account(name="Theirs Ltd", owner=other))
    login(me)
    page = client.get("/deals").get_data(as_text=True)
    assert "Mine Ltd" in page and "Theirs Ltd" not in page
