"""Who may open what: sign-in on every rep page, the admin role on admin pages, one's own deals."""

import pytest

from intake.deals.questionnaire import SECTION_KEYS
from intake.extensions import db

REP_PAGES = ["/deals", "/deals/{deal}"] + [f"/deals/{{deal}}/{key}" for key in SECTION_KEYS]
ADMIN_PAGES = [
    "/admin/users",
    "/admin/users/new",
    "/admin/users/{user}",
    "/admin/partners",
    "/admin/partners/new",
    "/admin/partners/{partner}",
]


@pytest.fixture
def ids(app, make_user, make_deal, make_partner):
    owner = make_user("rep")
    return {"deal": make_deal(owner).id, "user": owner.id, "partner": make_partner().id}


@pytest.mark.parametrize("page", REP_PAGES + ADMIN_PAGES + ["/account/password"])
def test_every_page_asks_an_anonymous_visitor_to_sign_in(client, ids, page):
    response = client.get(page.format(**ids))
    assert response.status_code == 302
    assert response.location.startswith("/login")


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_a_rep_is_refused_the_channel_manager_pages(client, rep, ids, page):
    assert client.get(page.format(**ids)).status_code == 403


@pytest.mark.parametrize("page", REP_PAGES[1:])
def test_another_reps_deal_is_not_found(client, rep, ids, page):
    response = client.get(page.format(**ids))
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


def test_another_reps_deal_cannot_be_changed_or_completed(client, rep, ids):
    token = client.csrf_token()
    assert (
        client.post(f"/deals/{ids['deal']}/need", data={"csrf_token": token, "business_impact": "x"}).status_code == 404
    )
    assert client.post(f"/deals/{ids['deal']}/complete", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("page", REP_PAGES)
def test_the_channel_manager_sees_every_deal(client, admin, ids, page):
    assert client.get(page.format(**ids)).status_code == 200


def test_a_rep_lists_only_their_own_deals(client, make_user, login, make_deal, make_account):
    me, other = make_user("rep"), make_user("rep")
    make_deal(me, account=make_account(name="Mine Ltd"))
    make_deal(other, account=make_account(name="Theirs Ltd"))
    login(me)
    page = client.get("/deals").get_data(as_text=True)
    assert "Mine Ltd" in page and "Theirs Ltd" not in page


def test_every_form_post_without_a_csrf_token_is_refused(app, client, admin, ids, make_deal):
    from intake import tokens
    from intake.models import Decision, PartnerRequest

    live = make_deal(admin, status="awaiting_customer")
    output = {
        "leader": {"kind": "vendor"},
        "fulfilment": {"kind": "vendor"},
        "supporting": [],
        "status": "routable",
        "flags": [],
        "conflicts": [],
        "recommendations": [],
        "trace": [],
    }
    decision = Decision(deal=live, version=1, kind="engine", input={}, output=output, rules={})
    db.session.add(decision)
    nonce, token_hash = tokens.new_secret("partner-request")
    db.session.add(
        PartnerRequest(
            deal=live,
            decision=decision,
            partner_id=ids["partner"],
            nonce=nonce,
            token_hash=token_hash,
            expires_at=live.created_at,
        )
    )
    partner_token = tokens.token_from(nonce, "partner-request")
    values = {
        "deal_id": ids["deal"],
        "user_id": ids["user"],
        "partner_id": ids["partner"],
        "key": "account",
        "token": tokens.token_for(tokens.issue(live, language="en", actor=admin)),
    }
    db.session.commit()
    # Sign-in is covered on its own (a signed-in user is simply sent on).
    posts = [rule for rule in app.url_map.iter_rules() if "POST" in rule.methods and rule.rule != "/login"]
    assert len(posts) >= 8
    for rule in posts:
        url = rule.rule
        for name in rule.arguments:
            value = partner_token if rule.rule.startswith("/r/") else str(values.get(name, 1))
            url = url.replace(f"<int:{name}>", value).replace(f"<{name}>", value)
        response = client.post(url, data={"name": "x"})
        assert response.status_code == 400, (rule.rule, response.status_code)
    # The session survived all of that: still signed in.
    assert client.get("/deals").status_code == 200
