"""The JSON API as its users' tools drive it: a CRM creating and routing deals with a rep's token, a partner's
tool registering deals, and every refusal a problem document with the right status, never a 500."""

import json
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from intake import api_tokens
from intake.extensions import db
from intake.models import Deal, IdempotencyKey, PartnerUser

from .conftest import answer_for
from .deal_steps import request_to, route

TODAY = date.today()


def token_for(owner, scope="write") -> str:
    _, token = api_tokens.create(owner, name="CRM", scope=scope, actor=None)
    db.session.commit()
    return token


class Api:
    """A program calling the API with one token."""

    def __init__(self, app, token: str | None):
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def __call__(self, method: str, path: str, body=None, *, headers=None, raw=None):
        sent = {**self.headers, **(headers or {})}
        kwargs = {"headers": sent}
        if raw is not None:
            kwargs["data"] = raw
            sent.setdefault("Content-Type", "application/json")
        elif body is not None:
            kwargs["json"] = body
        response = self.client.open("/api/v1" + path, method=method, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def crm(app, make_user):
    rep = make_user("rep", name="Alice Archer", email="alice@example.com")
    return Api(app, token_for(rep)), rep


def all_answers(partner_id: int) -> dict:
    return {
        "account": {
            "name": "Harbour Freight GmbH",
            "domain": "harbour-freight.example",
            "country": "DE",
            "vertical": "Retail",
            "size_band": "250-999",
            "vendor_strength": 2,
        },
        "contact": {"contact_name": "Hanna Hafen", "contact_email": "hanna@harbour-freight.example"},
        "origin": {"originator": "vendor", "origin_channel": "meeting", "origin_date": str(TODAY - timedelta(days=3))},
        "need": {
            "pain_points": ["Slow or manual processes"],
            "business_impact": "Orders wait two days for a quote.",
            "solutions": ["Cloud platform"],
            "estimated_value": 48000,
            "currency": "EUR",
            "close_date": str(TODAY + timedelta(days=60)),
        },
        "qualification": {
            "budget": "approved",
            "has_decision_maker": True,
            "decision_maker": "Hanna Hafen",
            "next_step": "Demo",
            "next_step_date": str(TODAY + timedelta(days=7)),
        },
        "landscape": {"partners_known": "yes", "partners": [{"partner_id": partner_id, "strength": 4}]},
    }


def problem_of(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["type"].startswith("urn:intake:problem:")
    if code:
        assert body["code"] == code, body
    return body


def test_a_crm_creates_a_deal_with_all_its_answers_completes_it_links_the_customer_and_routes_it(crm, thames, smtp):
    api, rep = crm
    created = api("POST", "/deals", all_answers(thames.id))
    assert created.status_code == 201, created.get_json()
    deal = created.get_json()
    assert deal["status"] == "draft" and deal["missing"] == {} and deal["rep"]["email"] == rep.email
    assert deal["account"]["domain"] == "harbour-freight.example" and deal["need"]["estimated_value"] == 48000
    assert deal["landscape"]["partners"][0]["partner_name"] == "Thames Cloud"
    assert created.headers["Location"].endswith(f"/api/v1/deals/{deal['id']}")

    completed = api("POST", f"/deals/{deal['id']}/complete")
    assert completed.status_code == 200 and completed.get_json()["status"] == "awaiting_customer"

    link = api("POST", f"/deals/{deal['id']}/customer-link", {"language": "de"})
    assert link.status_code == 201 and link.get_json()["state"] == "not_sent"
    assert "/p/" in link.get_json()["url"]
    assert api("GET", f"/deals/{deal['id']}/customer-link").get_json()["state"] == "not_sent"

    row = db.session.get(Deal, deal["id"])
    answer_for(row, rows=[(thames, 5)], fulfilment="partner", contact="vendor", chosen_row=0, consent=True)
    routed = api("POST", f"/deals/{deal['id']}/route", {})
    assert routed.status_code == 200, routed.get_json()
    body = routed.get_json()
    assert body["status"] == "routed"
    assert body["decision"]["leader"] == {"kind": "vendor", "partner_id": None, "name": "Northwind Technologies"}
    assert body["decision"]["fulfiller"] == {"kind": "partner", "partner_id": thames.id, "name": "Thames Cloud"}
    history = api("GET", f"/deals/{deal['id']}/decisions").get_json()
    assert [v["version"] for v in history] == [1] and history[0]["decision"]["status"] == "routable"


def statements_of(api: "Api", path: str) -> tuple[list, int]:
    """The items of one list request and how many statements it ran."""
    api("GET", path)  # the token's last use is noted at most once a while: not in the counted request
    seen = []

    def count(connection, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        items = api("GET", path).get_json()["items"]
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return items, len(seen)


def test_a_page_is_read_in_the_same_statements_however_many_items_it_holds(app, crm, thames, smtp):
    """What each listed item shows (a deal's account, rep, partners, decision and customer link; a request's
    decision; an account's owner) is read for the whole page, not item by item."""
    api, _ = crm
    oliver = db.session.scalar(select(PartnerUser).where(PartnerUser.partner_id == thames.id))
    partner = Api(app, token_for(oliver))

    def routed_deal(n: int) -> None:
        answers = all_answers(thames.id)
        answers["account"] = {**answers["account"], "name": f"Harbour {n} GmbH", "domain": f"harbour-{n}.example"}
        deal = api("POST", "/deals", answers).get_json()
        assert api("POST", f"/deals/{deal['id']}/complete").status_code == 200
        assert api("POST", f"/deals/{deal['id']}/customer-link", {"language": "en"}).status_code == 201
        row = db.session.get(Deal, deal["id"])
        answer_for(row, rows=[(thames, 5)], fulfilment="partner", contact="vendor", chosen_row=0, consent=True)
        assert api("POST", f"/deals/{deal['id']}/route", {}).status_code == 200

    def lists() -> dict[str, tuple[int, int]]:
        deals, on_deals = statements_of(api, "/deals")
        assert all(d["decision"] and d["customer_link"]["url"] and d["landscape"]["partners"] for d in deals)
        requests, on_requests = statements_of(partner, "/requests")
        assert all(r["deal"]["account"]["domain"] for r in requests)
        accounts, on_accounts = statements_of(api, "/accounts")
        assert all(a["owner"] for a in accounts)
        return {
            "deals": (len(deals), on_deals),
            "requests": (len(requests), on_requests),
            "accounts": (len(accounts), on_accounts),
        }

    routed_deal(1)
    routed_deal(2)
    two = lists()
    for n in (3, 4, 5):
        routed_deal(n)
    five = lists()
    assert {name: n for name, (n, _) in two.items()} == {"deals": 2, "requests": 2, "accounts": 2}
    assert {name: n for name, (n, _) in five.items()} == {"deals": 5, "requests": 5, "accounts": 5}
    assert {name: ran for name, (_, ran) in five.items()} == {name: ran for name, (_, ran) in two.items()}


def test_a_section_sent_changes_only_its_fields_and_a_stale_etag_is_refused(crm, thames):
    api, _ = crm
    deal = api("POST", "/deals", {"need": {"business_impact": "Slow quotes", "currency": "EUR"}}).get_json()
    read = api("GET", f"/deals/{deal['id']}")
    etag = read.headers["ETag"]
    changed = api("PATCH", f"/deals/{deal['id']}", {"need": {"estimated_value": 1000}}, headers={"If-Match": etag})
    assert changed.status_code == 200, changed.get_json()
    need = changed.get_json()["need"]
    assert (need["business_impact"], need["currency"], need["estimated_value"]) == ("Slow quotes", "EUR", 1000)
    assert changed.headers["ETag"] != etag
    # A second writer with what it read before the first one's change: refused, nothing lost.
    stale = api("PATCH", f"/deals/{deal['id']}", {"need": {"estimated_value": 5}}, headers={"If-Match": etag})
    problem_of(stale, 412, "precondition_failed")
    problem_of(api("PATCH", f"/deals/{deal['id']}", {"need": {"estimated_value": 5}}), 428, "precondition_required")
    assert api("GET", f"/deals/{deal['id']}").get_json()["need"]["estimated_value"] == 1000


def test_an_incomplete_deal_names_every_missing_answer(crm):
    api, _ = crm
    deal = api("POST", "/deals", {}).get_json()
    body = problem_of(api("POST", f"/deals/{deal['id']}/complete"), 422, "incomplete")
    fields = {e["field"] for e in body["errors"]}
    assert {"account.name", "need.business_impact", "qualification.budget", "origin.originator"} <= fields


@pytest.mark.parametrize(
    "raw, status, code",
    [
        ("{not json", 400, "malformed_json"),
        (json.dumps({"need": {"estimated_value": "lots"}}), 422, "validation_failed"),
        (json.dumps({"need": {"currency": "XYZ"}}), 422, "validation_failed"),
        (json.dumps({"surprise": 1}), 422, "validation_failed"),
        (json.dumps({"account": {"name": "A\x00B"}}), 422, "validation_failed"),
        (json.dumps({"landscape": {"partners": [{"strength": 9}]}}), 422, "validation_failed"),
        (json.dumps([1, 2]), 422, "validation_failed"),
    ],
)
def test_bad_bodies_are_problem_documents_naming_the_field(crm, raw, status, code):
    api, _ = crm
    body = problem_of(api("POST", "/deals", raw=raw), status, code)
    if status == 422:
        assert body["errors"] and all({"field", "reason", "in"} <= set(e) for e in body["errors"])
    assert db.session.scalar(select(func.count()).select_from(Deal)) == 0


def test_a_rule_a_service_states_lands_on_the_field_sent(crm, make_account):
    api, _ = crm
    make_account(name="Taken GmbH", domain="taken.example")
    body = problem_of(api("POST", "/deals", {"account": {"name": "Other", "domain": "taken.example"}}), 422)
    assert [e["field"] for e in body["errors"]] == ["account.domain"]


def test_the_body_must_be_json_and_not_too_large(app, crm):
    api, _ = crm
    problem_of(api("POST", "/deals", raw="a=b", headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    huge = json.dumps({"need": {"business_impact": "x" * (app.config["API_MAX_BODY"] + 10)}})
    problem_of(api("POST", "/deals", raw=huge), 413, "too_large")


def test_tokens_missing_invalid_revoked_or_read_only_are_refused(app, make_user):
    rep = make_user("rep")
    problem_of(Api(app, None)("GET", "/deals"), 401, "unauthenticated")
    problem_of(Api(app, "intake_" + "x" * 43)("GET", "/deals"), 401, "unauthenticated")
    reader = token_for(rep, scope="read")
    assert Api(app, reader)("GET", "/deals").status_code == 200
    problem_of(Api(app, reader)("POST", "/deals", {}), 403, "read_only_token")
    # A read token may still try the engine: a simulation changes nothing.
    assert Api(app, reader)("POST", "/routing/simulate", {"originator": {"kind": "vendor"}}).status_code in (200, 422)
    row = api_tokens.of(rep)[0]
    api_tokens.revoke(row, actor=rep)
    db.session.commit()
    problem_of(Api(app, reader)("GET", "/deals"), 401)


def test_cookies_never_authenticate_the_api(app, rep):
    from .conftest import sign_in

    browser = sign_in(app, rep)
    problem_of(browser.get("/api/v1/deals"), 401)
    problem_of(browser.post("/api/v1/deals", json={}), 401)


def test_another_reps_deal_is_not_found_and_stays_as_it_was(app, crm, make_user):
    api, _ = crm
    other = Api(app, token_for(make_user("rep")))
    deal = api("POST", "/deals", {"need": {"business_impact": "Mine"}}).get_json()
    etag = api("GET", f"/deals/{deal['id']}").headers["ETag"]
    problem_of(other("GET", f"/deals/{deal['id']}"), 404, "not_found")
    problem_of(other("PATCH", f"/deals/{deal['id']}", {"need": {}}, headers={"If-Match": etag}), 404)
    problem_of(other("POST", f"/deals/{deal['id']}/discard"), 404)
    assert [d["id"] for d in other("GET", "/deals").get_json()["items"]] == []
    assert api("GET", f"/deals/{deal['id']}").get_json()["need"]["business_impact"] == "Mine"


def test_a_retried_create_returns_the_first_result_and_another_body_with_the_key_is_refused(crm):
    api, _ = crm
    key = {"Idempotency-Key": "crm-7f3a"}
    first = api("POST", "/deals", {"need": {"business_impact": "Once"}}, headers=key)
    again = api("POST", "/deals", {"need": {"business_impact": "Once"}}, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(func.count()).select_from(Deal)) == 1
    problem_of(
        api("POST", "/deals", {"need": {"business_impact": "Twice"}}, headers=key), 422, "idempotency_key_reused"
    )
    problem_of(api("POST", "/deals", {}, headers={"Idempotency-Key": "é" * 3}), 400, "bad_idempotency_key")
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1


def test_lists_come_a_page_at_a_time_by_last_change_and_filter_by_status_and_time(crm):
    api, _ = crm
    ids = [api("POST", "/deals", {"need": {"business_impact": f"Deal {n}"}}).get_json()["id"] for n in range(5)]
    seen, cursor = [], None
    while True:
        page = api("GET", "/deals?limit=2" + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    assert api("GET", "/deals?status=routed").get_json()["items"] == []
    assert len(api("GET", "/deals?status=draft").get_json()["items"]) == 5
    assert api("GET", "/deals?updated_since=2999-01-01T00:00:00Z").get_json()["items"] == []
    problem_of(api("GET", "/deals?cursor=bm9wZQ"), 422)
    problem_of(api("GET", "/deals?status=nonsense"), 422)
    problem_of(api("GET", "/deals?limit=1000"), 422)


def test_won_lost_and_discard_go_through_the_lifecycle(crm, ready, thames, rep):
    api, alice = crm
    draft = api("POST", "/deals", {}).get_json()
    assert api("POST", f"/deals/{draft['id']}/discard").status_code == 204
    problem_of(api("GET", f"/deals/{draft['id']}"), 404)
    deal = ready(partner=thames, strength=5, contact="vendor", fulfilment="partner", owner=alice)
    route(deal, alice)
    problem_of(api("POST", f"/deals/{deal.id}/close", {"outcome": "maybe"}), 422)
    closed = api("POST", f"/deals/{deal.id}/close", {"outcome": "won", "closed_on": str(TODAY), "final_value": 52000})
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["outcome"]["final_value"] == 52000 and closed.get_json()["status"] == "won"
    problem_of(api("POST", f"/deals/{deal.id}/discard"), 409, "not_now")


def test_the_channel_manager_keeps_partners_and_reads_the_ledger_and_scorecards(app, boss, crm, thames):
    manager = Api(app, token_for(boss))
    rep_api, _ = crm
    created = manager("POST", "/partners", {"name": "Fjord Systems", "countries": ["NO"], "tier": "silver"})
    assert created.status_code == 201, created.get_json()
    pid = created.get_json()["id"]
    problem_of(manager("POST", "/partners", {"name": "Thames Cloud"}), 422)
    assert manager("PATCH", f"/partners/{pid}", {"is_active": False}).get_json()["is_active"] is False
    problem_of(rep_api("POST", "/partners", {"name": "Sneaky"}), 403, "channel_manager_only")
    assert {p["name"] for p in rep_api("GET", "/partners").get_json()["items"]} >= {"Thames Cloud", "Fjord Systems"}
    assert manager("GET", "/ledger").status_code == 200
    cards = manager("GET", "/scorecards").get_json()
    assert {c["partner"] for c in cards} >= {"Thames Cloud"}
    problem_of(rep_api("GET", "/ledger"), 403)


def test_a_partner_token_registers_a_deal_and_is_told_when_the_account_is_claimed(
    app, thames, make_deal, make_account, rep
):
    oliver = db.session.scalar(select(PartnerUser).where(PartnerUser.email == "oliver@thames.example"))
    partner = Api(app, token_for(oliver))
    make_deal(rep, account=make_account(name="Bergmann Werkzeuge", domain="bergmann.example", owner=rep))
    registration = {
        "account_name": "Osprey Analytics Ltd",
        "domain": "osprey.example",
        "country": "GB",
        "contact_name": "Olive Osprey",
        "need": "A data platform",
        "strength": 4,
    }
    fresh = partner("POST", "/registrations", registration)
    assert fresh.status_code == 201, fresh.get_json()
    assert fresh.get_json()["already_registered"] is False
    claimed = partner(
        "POST", "/registrations", {**registration, "account_name": "Bergmann", "domain": "www.bergmann.example"}
    )
    body = claimed.get_json()
    assert body["already_registered"] is True and "already has an open deal" in body["message"]
    assert rep.name not in json.dumps(body) and "Bergmann Werkzeuge" not in json.dumps(body)
    # The partner's token is for the partner's side only; staff tokens are not for it.
    problem_of(partner("GET", "/deals"), 403, "wrong_audience")
    problem_of(Api(app, token_for(rep))("GET", "/requests"), 403, "wrong_audience")


def test_a_partner_accepts_or_declines_only_its_own_requests(app, ready, rep, thames, borealis):
    deal = ready(partner=thames, strength=5, contact="vendor", fulfilment="partner")
    route(deal, rep)
    asked = request_to(deal, thames)
    oliver = db.session.scalar(select(PartnerUser).where(PartnerUser.partner_id == thames.id))
    other = db.session.scalar(select(PartnerUser).where(PartnerUser.partner_id == borealis.id))
    problem_of(Api(app, token_for(other))("POST", f"/requests/{asked.id}/accept"), 404)
    mine = Api(app, token_for(oliver))
    listed = mine("GET", "/requests").get_json()["items"]
    assert [r["id"] for r in listed] == [asked.id] and listed[0]["state"] == "open"
    problem_of(mine("POST", f"/requests/{asked.id}/decline", {"reason": ""}), 422)
    accepted = mine("POST", f"/requests/{asked.id}/accept")
    assert accepted.status_code == 200 and accepted.get_json()["state"] == "accepted"
    assert mine("POST", f"/requests/{asked.id}/accept").status_code == 200  # twice changes nothing


def test_each_token_has_its_own_rate_limit_and_is_told_when_to_come_back(app, make_user):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    busy, calm = Api(app, token_for(make_user("rep"))), Api(app, token_for(make_user("rep")))
    assert [busy("GET", "/deals").status_code for _ in range(3)] == [200, 200, 200]
    refused = busy("GET", "/deals")
    problem_of(refused, 429, "rate_limited")
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert calm("GET", "/deals").status_code == 200


def test_an_account_changes_under_the_account_policy(app, crm, make_user, make_account):
    api, alice = crm
    mine = make_account(name="Mine GmbH", owner=alice)
    theirs = make_account(name="Theirs GmbH", owner=make_user("rep"))
    changed = api("PATCH", f"/accounts/{mine.id}", {"vertical": "Healthcare"})
    assert changed.status_code == 200 and changed.get_json()["vertical"] == "Healthcare"
    assert changed.get_json()["name"] == "Mine GmbH"
    problem_of(api("PATCH", f"/accounts/{theirs.id}", {"vertical": "Healthcare"}), 422, "validation_failed")
    assert api("GET", f"/accounts/{theirs.id}").get_json()["vertical"] != "Healthcare"


def test_a_partner_states_its_relationships_with_the_accounts_it_works_on(app, ready, rep, thames, borealis):
    deal = ready(partner=thames, strength=5, contact="vendor", fulfilment="partner")
    route(deal, rep)
    oliver = db.session.scalar(select(PartnerUser).where(PartnerUser.partner_id == thames.id))
    other = db.session.scalar(select(PartnerUser).where(PartnerUser.partner_id == borealis.id))
    mine = Api(app, token_for(oliver))
    assert [r["account_id"] for r in mine("GET", "/relationships").get_json()] == [deal.account_id]
    stated = mine("PUT", f"/relationships/{deal.account_id}", {"strength": 4, "since": "2024-03-01"})
    assert stated.status_code == 200 and stated.get_json()["strength"] == 4
    problem_of(mine("PUT", f"/relationships/{deal.account_id}", {"strength": 7}), 422)
    problem_of(Api(app, token_for(other))("PUT", f"/relationships/{deal.account_id}", {"strength": 1}), 404)


def test_the_same_create_sent_twice_at_once_makes_one_deal(crm, live_server):
    """Two copies of a create in flight together (a CRM retrying on a timeout): one deal, one answer."""
    import threading
    import urllib.request

    api, _ = crm
    body = json.dumps({"need": {"business_impact": "Sent twice"}}).encode()
    answers = []

    def send():
        request = urllib.request.Request(
            f"{live_server}/api/v1/deals",
            data=body,
            method="POST",
            headers={**api.headers, "Content-Type": "application/json", "Idempotency-Key": "crm-retry-1"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answers.append((response.status, json.loads(response.read())["id"]))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 2 and {status for status, _ in answers} == {201}
    assert len({deal_id for _, deal_id in answers}) == 1
    assert db.session.scalar(select(func.count()).select_from(Deal)) == 1


def two_servers_share_one_limit(app, token: str, **settings) -> str:
    """Two app servers with these settings, one token limited to 3 a minute: the second server refuses the
    fourth request, two of which it never saw. Returns the part of the limit's key that names the token."""
    import hashlib

    from intake import create_app

    app.config.update(settings, API_RATE_LIMIT="3 per minute")
    other_server = create_app({**app.config})
    try:
        first, second = Api(app, token), Api(other_server, token)
        assert [first("GET", "/deals").status_code, second("GET", "/deals").status_code] == [200, 200]
        assert first("GET", "/deals").status_code == 200
        problem_of(second("GET", "/deals"), 429, "rate_limited")
    finally:
        with other_server.app_context():
            db.engine.dispose()  # the second server's own connections, closed rather than left to the collector
    return "api-token:" + hashlib.sha256(b"rate-limit\0" + f"Bearer {token}".encode()).hexdigest()[:32]


def test_two_servers_on_one_database_count_one_limit_per_token(app, make_user):
    """Without Redis the counts are the database's, so a second app server sees the first one's requests."""
    from intake.models import RateLimitCount

    assert app.config["RATELIMIT_STORAGE_URI"] == "intake-database://"
    counted = two_servers_share_one_limit(app, token_for(make_user("rep")))
    rows = db.session.scalars(select(RateLimitCount)).all()
    assert [row.hits for row in rows if counted in row.key] == [4]  # the refused one counts too


def test_the_database_counts_a_window_and_starts_the_next_one_afresh(app):
    from intake.rate_limits import DatabaseStorage

    storage = DatabaseStorage()
    assert storage.check() and storage.get("k") == 0
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("k", 60, amount=2) == 5 and storage.get("k") == 5
    assert time.time() < storage.get_expiry("k") <= time.time() + 60
    assert storage.incr("over", 0) == 1  # a window of no length is over at once: the next hit starts anew
    assert storage.get("over") == 0 and storage.incr("over", 60) == 1
    storage.clear("k")
    assert storage.get("k") == 0 and storage.get("over") == 1
    assert storage.reset() == 1 and storage.get("over") == 0


def test_the_database_forgets_windows_long_over_as_it_counts(app, monkeypatch):
    from intake import rate_limits
    from intake.models import RateLimitCount

    monkeypatch.setattr(rate_limits, "PURGE_EVERY", 3)
    monkeypatch.setattr(rate_limits, "PURGE_AFTER_S", 0)
    storage = rate_limits.DatabaseStorage()
    storage.incr("over", 0)
    storage.incr("live", 60)
    assert set(db.session.scalars(select(RateLimitCount.key))) == {"over", "live"}
    db.session.rollback()  # a new snapshot for the next read
    storage.incr("live", 60)  # the third count: windows over are deleted
    assert list(db.session.scalars(select(RateLimitCount.key))) == ["live"]


def test_two_servers_sharing_redis_count_one_limit_per_token(app, make_user):
    """With INTAKE_RATELIMIT_STORAGE_URI pointing at Redis, every app server counts the same requests."""
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    counted = two_servers_share_one_limit(app, token_for(make_user("rep")), RATELIMIT_STORAGE_URI=url)
    # The count is Redis's, not either process's own: it holds this token's.
    assert redis.Redis.from_url(url).keys(f"*{counted}*")


def test_another_reps_account_is_read_only_on_a_deal_but_its_contact_is_the_deals(crm, make_user, make_account):
    api, _ = crm
    theirs = make_account(name="Theirs GmbH", owner=make_user("rep"))
    deal = api("POST", "/deals", {"account_id": theirs.id}).get_json()
    assert deal["account"]["name"] == "Theirs GmbH"
    etag = api("GET", f"/deals/{deal['id']}").headers["ETag"]
    refused = api("PATCH", f"/deals/{deal['id']}", {"account": {"vertical": "Retail"}}, headers={"If-Match": etag})
    assert [e["field"] for e in problem_of(refused, 422)["errors"]] == ["account"]
    contact = {"contact": {"contact_name": "Tess Theirs"}}
    changed = api("PATCH", f"/deals/{deal['id']}", contact, headers={"If-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["contact"]["contact_name"] == "Tess Theirs"
