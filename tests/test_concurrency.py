"""Races, for real: concurrent HTTP requests to a live server, released together, on both databases.

Every test here drives the app the way browsers do — its own cookie jar per person, each form's
hidden fields (its CSRF token among them) taken from the page — and sends its requests at the
same instant from threads held at a `threading.Barrier`. What it asserts must hold whatever the
interleaving: one result, never a duplicate, never a mix of two submissions, never a 5xx;
afterwards the database is read again.
"""

from __future__ import annotations

import html
import re
import threading
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from http.cookiejar import CookieJar
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from intake import tokens
from intake.deals import decisions, services
from intake.extensions import db
from intake.models import (
    Account,
    AuditEvent,
    CustomerAnswer,
    CustomerContact,
    Deal,
    Decision,
    OutboxMessage,
    PartnerRequest,
    Relationship,
)

from .conftest import PASSWORD, answer_for
from .test_customer_link import answers, create_link
from .test_routing_flow import route

_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
_INPUT = re.compile(r"<input\b[^>]*>", re.I)
ROUTED_A_MOMENT_AGO = "This deal was routed a moment ago."
ALREADY_ROUTED = "This deal has already been routed."


def _attr(name: str) -> re.Pattern:
    return re.compile(rf'\b{name}="([^"]*)"', re.I)


# A browser, and requests sent at once --------------------------------------------------------


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    location: str


class _AsSent(urllib.request.HTTPErrorProcessor):
    """Hand back every response as the server sent it: no redirect followed, no error raised."""

    def http_response(self, request, response):
        return response

    https_response = http_response


class Browser:
    """One person's browser on the live server: a cookie jar its tabs share, as a real one does."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.jar = CookieJar()  # thread-safe: tabs may use it at the same moment
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _AsSent())

    def open(self, path: str, data: bytes | None = None) -> Response:
        request = urllib.request.Request(self.base_url + path, data=data, method="POST" if data else "GET")
        with self._opener.open(request, timeout=30) as response:
            return Response(response.status, response.read().decode(), response.headers.get("Location", ""))

    def get(self, path: str) -> Response:
        return self.open(path)

    def post(self, path: str, form: dict) -> Response:
        return self.open(path, urllib.parse.urlencode(form, doseq=True).encode())

    def form(self, page: str, action: str | None = None) -> dict:
        """The hidden fields (CSRF token, the version seen, …) of the form on `page` that posts to `action`.

        A browser sends them with whatever the user typed; `action` defaults to the page itself.
        """
        response = self.get(page)
        assert response.status == 200, f"{page}: {response.status}"
        action = action or page
        for attrs, content in _FORM.findall(response.body):
            target = _attr("action").search(attrs)
            if "post" in attrs.lower() and html.unescape(target.group(1) if target else page) == action:
                fields = {}
                for tag in _INPUT.findall(content):
                    kind, name, value = (_attr(a).search(tag) for a in ("type", "name", "value"))
                    if kind and kind.group(1) == "hidden" and name:
                        fields[html.unescape(name.group(1))] = html.unescape(value.group(1)) if value else ""
                assert "csrf_token" in fields, f"no CSRF token in the form to {action} on {page}"
                return fields
        raise AssertionError(f"no form posting to {action} on {page} ({response.status})")

    def sign_in(self, user) -> Browser:
        response = self.post("/login", {**self.form("/login"), "email": user.email, "password": PASSWORD})
        assert response.status == 302, response.body
        return self


def at_once(*requests) -> list[Response]:
    """Send the requests (callables) from one thread each, released together by a barrier; their responses, in order.

    The bodies are encoded before the barrier, so the requests leave within moments of each other.
    """
    barrier = threading.Barrier(len(requests))
    responses: list[Response | None] = [None] * len(requests)
    failures: list[BaseException] = []

    def send(index: int, request) -> None:
        try:
            barrier.wait(timeout=10)
            responses[index] = request()
        except BaseException as exc:  # reported below, in the test's own thread
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(i, r), daemon=True) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a request never got its response"
    assert not failures, failures
    assert_no_server_error(responses)
    return responses


def posting(browser: Browser, path: str, form: dict):
    """A POST ready to send: its body is encoded now."""
    body = urllib.parse.urlencode(form, doseq=True).encode()
    return lambda: browser.open(path, body)


def assert_no_server_error(responses) -> None:
    errors = [(r.status, _message(r.body)) for r in responses if r.status >= 500]
    assert not errors, f"server errors: {errors}"


def _title(body: str) -> str:
    match = re.search(r"<title>(.*?)</title>", body, re.S)
    return match.group(1).strip() if match else body[:200]


def _message(body: str) -> str:
    """What an error page says happened (its title when it is not one)."""
    match = re.search(r'<p class="eyebrow">Error \d+</p>\s*<h1>.*?</h1>\s*<p>(.*?)</p>', body, re.S)
    return match.group(1).strip() if match else _title(body)


def outbox_kinds(deal_id: int | None = None) -> Counter:
    query = select(OutboxMessage.kind)
    if deal_id is not None:
        query = query.where(OutboxMessage.deal_id == deal_id)
    return Counter(db.session.scalars(query))


def audit_actions(deal_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity == "deal", AuditEvent.entity_id == deal_id)
            .order_by(AuditEvent.id)
        )
    )


def fresh() -> None:
    """Forget what the test's session read: what follows comes from the database as the server left it."""
    db.session.expire_all()


@pytest.fixture
def browser(live_server):
    """A new browser on the live server: browser() → Browser."""
    return lambda: Browser(live_server)


# 1. Two tabs save the Partners section ---------------------------------------------------------


def _landscape_form(hidden: dict, rows: list[tuple]) -> dict:
    """The Partners section as the page posts it; a row is (partner, strength) or (typed name, strength)."""
    form = {**hidden, "partners_known": "yes", "action": "save"}
    for i, (who, strength) in enumerate(rows):
        typed = isinstance(who, str)
        form |= {
            f"rows-{i}-partner_id": "0" if typed else str(who.id),
            f"rows-{i}-partner_name": who if typed else "",
            f"rows-{i}-strength": str(strength),
            f"rows-{i}-since": "",
            f"rows-{i}-does_what": "",
            f"rows-{i}-notes": "",
        }
    return form


def _as_stored(rows: list[tuple]) -> list[tuple]:
    return [
        (None if isinstance(who, str) else who.id, who if isinstance(who, str) else "", strength)
        for who, strength in rows
    ]


def _rep_rows(deal_id: int) -> list[tuple]:
    rows = db.session.scalars(
        select(Relationship)
        .where(Relationship.deal_id == deal_id, Relationship.source == "rep")
        .order_by(Relationship.position)
    ).all()
    assert [r.position for r in rows] == list(range(len(rows))), "positions are not one set's"
    return [(r.partner_id, r.partner_name, r.strength) for r in rows]


def _partner_changes(deal_id: int) -> list[list]:
    """The history's record of each change of the rep's partner rows, as [before, after], oldest first."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity == "deal", AuditEvent.entity_id == deal_id, AuditEvent.action == "updated")
        .order_by(AuditEvent.id)
    ).all()
    return [e.changes["partners"] for e in events if "partners" in e.changes]


def _summaries(rows: list[tuple]) -> list[str]:
    """The rows as the history words them."""
    return [f"{who if isinstance(who, str) else who.name} (strength {strength})" for who, strength in rows]


def test_two_tabs_saving_the_partners_section_leave_one_set_of_rows(browser, rep, make_deal, make_partner):
    first, second, third = (make_partner(name=name) for name in ("Alder IT", "Birch Systems", "Cedar Networks"))
    deal = make_deal(rep)  # a draft: every section answered, the customer works with no partner yet
    rep_browser = browser().sign_in(rep)
    path = f"/deals/{deal.id}/landscape"
    hidden = rep_browser.form(path)

    history = []
    for round_ in range(5):
        # Each round's two submissions differ from each other and from every earlier one.
        one = [(first, 4), (second, 2), (f"Local Heroes {round_}", 1)]
        other = [(third, 3), (f"Ring Partners {round_}", 5)]
        responses = at_once(
            posting(rep_browser, path, _landscape_form(hidden, one)),
            posting(rep_browser, path, _landscape_form(hidden, other)),
        )

        assert [r.status for r in responses] == [302, 302], [_message(r.body) for r in responses]
        fresh()
        stored = _rep_rows(deal.id)
        assert stored in (_as_stored(one), _as_stored(other)), f"round {round_}: a mix of both tabs: {stored}"
        last = one if stored == _as_stored(one) else other
        history.append((_summaries(one), _summaries(other), _summaries(last)))

    # The history tells one story: each save replaced what the one before it left, nothing was lost
    # between them, and the last entry is what the deal holds.
    changes = _partner_changes(deal.id)
    assert len(changes) == 2 * len(history)
    assert changes[0][0] == []
    for earlier, later in pairwise(changes):
        assert later[0] == earlier[1], "a save replaced rows it never saw"
    for round_, (one, other, last) in enumerate(history):
        pair = changes[2 * round_ : 2 * round_ + 2]
        assert sorted(after for _, after in pair) == sorted([one, other])
        assert pair[1][1] == last
    assert db.session.get(Deal, deal.id).status == "draft"


# 2. A double click on "Route this deal" ------------------------------------------------------


def test_a_double_click_on_route_records_one_decision_and_queues_its_mail_once(browser, rep, ready, make_partner):
    partner = make_partner(name="Thames Cloud", contact_email="oliver@thames.example")
    deal = ready(partner=partner, strength=5, fulfilment="partner", originator="customer")
    rep_browser = browser().sign_in(rep)
    path = f"/deals/{deal.id}/route"
    button = rep_browser.form(f"/deals/{deal.id}", path)  # one page, one form: every click sends it
    clicks = 6

    responses = at_once(*[posting(rep_browser, path, button)] * clicks)

    statuses = Counter(r.status for r in responses)
    assert statuses[302] == 1 and statuses[409] == clicks - 1, statuses
    for refused in (r for r in responses if r.status == 409):
        # Changed while it waited for the lock, or read after the first click was saved.
        assert ROUTED_A_MOMENT_AGO in refused.body or ALREADY_ROUTED in refused.body, _message(refused.body)
    fresh()
    versions = db.session.scalars(select(Decision).where(Decision.deal_id == deal.id)).all()
    assert [(v.version, v.kind) for v in versions] == [(1, "engine")]
    assert db.session.get(Deal, deal.id).status == "routed"
    assert outbox_kinds(deal.id) == {"routed_vendor": 1, "routed_partner": 1}
    assert db.session.scalar(select(func.count()).where(PartnerRequest.deal_id == deal.id)) == 1
    assert audit_actions(deal.id).count("routed (engine)") == 1


# 3. Six parallel accepts of one partner request ---------------------------------------------


def _request_path(deal_id: int) -> str:
    """The partner's link, as the routed partner mail in the outbox gives it."""
    text = db.session.scalars(
        select(OutboxMessage.text_body).where(OutboxMessage.deal_id == deal_id, OutboxMessage.kind == "routed_partner")
    ).one()
    return "/r/" + re.search(r"/r/([A-Za-z0-9_=-]+)", text).group(1)


def test_six_parallel_accepts_accept_the_request_once(browser, client, ready, make_partner):
    partner = make_partner(name="Thames Cloud", contact_email="oliver@thames.example")
    deal = ready(partner=partner, strength=5, fulfilment="partner", originator="customer")
    assert route(client, deal).status_code == 302
    link = _request_path(deal.id)
    partner_browser = browser()
    button = partner_browser.form(link, f"{link}/accept")

    responses = at_once(*[posting(partner_browser, f"{link}/accept", button)] * 6)

    # Accepting twice changes nothing: each click lands on the request's page.
    assert [r.status for r in responses] == [302] * 6, [_message(r.body) for r in responses]
    assert {r.location.rsplit("/", 1)[-1] for r in responses} == {link.rsplit("/", 1)[-1]}
    fresh()
    request = db.session.scalars(select(PartnerRequest).where(PartnerRequest.deal_id == deal.id)).one()
    assert request.response == "accepted" and request.responded_at is not None
    assert db.session.get(Deal, deal.id).status == "accepted"
    kinds = outbox_kinds(deal.id)
    assert kinds["partner_accepted"] == 1
    # The leading partner accepted: the customer is told their one contact, once.
    assert kinds["customer_confirmation"] == 1
    assert db.session.scalar(select(func.count()).where(CustomerContact.deal_id == deal.id)) == 1
    assert audit_actions(deal.id).count("partner accepted") == 1


# 4. The customer submits from two tabs ------------------------------------------------------


def test_concurrent_duplicate_submits_record_one_answer(browser, client, rep, make_deal, make_partner):
    partner = make_partner()
    deal = make_deal(rep, status="awaiting_customer", contact_email="c@kunde.example")
    path = create_link(client, deal)
    customer = browser()
    body = {**customer.form(path), **answers(partner)}

    responses = at_once(*[posting(customer, path, body)] * 8)

    assert [r.status for r in responses] == [302] * 8, [_message(r.body) for r in responses]
    fresh()
    assert db.session.scalar(select(func.count()).select_from(CustomerAnswer)) == 1
    assert db.session.scalar(select(func.count()).where(Relationship.source == "customer")) == 1
    events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("customer%answer%"))).all()
    assert events == ["customer answered"]
    assert db.session.get(Deal, deal.id).status == "ready_to_route"


def _answer_form(hidden: dict, rows: list[tuple], deliver: int) -> dict:
    """The customer's form with partner rows (partner or typed name, strength); row `deliver` should deliver."""
    form = {
        **hidden,
        "company_name": "Kunde GmbH",
        "contact_name": "Hanna Huber",
        "contact_email": "hanna@kunde.example",
        "works_with_partner": "yes",
        "fulfilment": "partner",
        "fulfilment_row": str(deliver),
        "contact_preference": "partner",
        "consent": "y",
        "action": "send",
    }
    for i, (who, strength) in enumerate(rows):
        typed = isinstance(who, str)
        form |= {
            f"rows-{i}-partner_id": "" if typed else str(who.id),
            f"rows-{i}-partner_name": who if typed else "",
            f"rows-{i}-strength": str(strength),
            f"rows-{i}-duration": "over_5",
            f"rows-{i}-does_what": "",
        }
    return form


def _customer_rows(deal_id: int) -> list[tuple]:
    rows = db.session.scalars(
        select(Relationship)
        .where(Relationship.deal_id == deal_id, Relationship.source == "customer")
        .order_by(Relationship.position)
    ).all()
    assert [r.position for r in rows] == list(range(len(rows))), "positions are not one set's"
    return [(r.partner_id, r.partner_name, r.strength) for r in rows]


def test_two_tabs_changing_the_customers_answer_leave_one_answer_and_one_set_of_rows(
    browser, rep, make_deal, make_partner
):
    first, second, third = (make_partner(name=name) for name in ("Alder IT", "Birch Systems", "Cedar Networks"))
    deal = make_deal(rep, status="awaiting_customer")
    answer_for(deal, rows=[(first, 4)], fulfilment="partner", contact="partner", chosen_row=0)
    path = "/p/" + tokens.token_for(tokens.current_link(deal))
    customer = browser()
    hidden = customer.form(path)

    for round_ in range(4):
        one = [(second, 2), (f"Local Heroes {round_}", 3)]
        other = [(third, 5), (first, 1), (f"Ring Partners {round_}", 4)]
        responses = at_once(
            posting(customer, path, _answer_form(hidden, one, deliver=1)),
            posting(customer, path, _answer_form(hidden, other, deliver=0)),
        )

        assert [r.status for r in responses] == [302, 302], [_message(r.body) for r in responses]
        fresh()
        stored = _customer_rows(deal.id)
        assert stored in (_as_stored(one), _as_stored(other)), f"round {round_}: a mix of both tabs: {stored}"
        answer = db.session.scalars(select(CustomerAnswer).where(CustomerAnswer.deal_id == deal.id)).one()
        # The answer is the same tab's as the rows: the partner it chose to deliver is one of them.
        if stored == _as_stored(one):
            assert (answer.fulfilment_partner_id, answer.fulfilment_partner_name) == (None, f"Local Heroes {round_}")
        else:
            assert (answer.fulfilment_partner_id, answer.fulfilment_partner_name) == (third.id, "")

    assert db.session.scalar(select(func.count()).where(CustomerAnswer.deal_id == deal.id)) == 1
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_id == deal.id, AuditEvent.action.like("customer%answer%"))
        .order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["customer answered"] + ["customer changed answer"] * 8
    for earlier, later in pairwise(events):
        assert later.changes["answer"][0] == earlier.changes["answer"][1], "a change replaced an answer it never saw"
    assert db.session.get(Deal, deal.id).status == "ready_to_route"


# 5. Different people act on one deal at the same moment ----------------------------------------


@pytest.fixture
def mutual_conflict(rep, ready, make_deal, make_account, make_partner, make_user):
    """Two open deals on one account, each held for a conflict with the other: mutual_conflict() → (ours, theirs).

    Theirs (a partner's find, another rep's deal) is the older, with the lower id.
    """
    partner = make_partner(name="Nordlicht IT")
    other_rep = make_user("rep")
    counter = iter(range(1, 1000))

    def make():
        n = next(counter)
        account = make_account(name=f"Maple Learning {n} Inc", domain=f"maple{n}.example")
        twin = make_account(name=f"MAPLE LEARNING {n}, Inc.", domain=f"maple-learning{n}.example")
        theirs = make_deal(
            other_rep, account=twin, status="awaiting_customer", originator="partner", originator_partner=partner
        )
        ours = ready(account=account, originator="vendor")
        # Each is routed while the other is open: both are held, each naming the other.
        decisions.route_deal(ours, actor=rep)
        db.session.commit()
        decisions.route_deal(theirs, actor=other_rep)
        db.session.commit()
        for held, other in ((ours, theirs), (theirs, ours)):
            held = db.session.get(Deal, held.id)
            assert (held.status, held.hold_reason, held.decisions[-1].output["conflicts"]) == (
                "on_hold",
                "conflict",
                [other.id],
            )
        return ours, theirs

    return make


def _resolve_at_once(managers, sides) -> list[Response]:
    """Each manager resolves the conflict from one deal, keeping another: sides are [(from, keep)]."""
    requests = []
    for manager, (held, keep) in zip(managers, sides, strict=True):
        path = f"/admin/deals/{held.id}/resolve"
        form = {**manager.form(path), "keep": str(keep.id), "reason": f"#{keep.id} came first."}
        requests.append(posting(manager, path, form))
    responses = at_once(*requests)
    statuses = [r.status for r in responses]
    assert set(statuses) <= {302, 409} and 302 in statuses, [(r.status, _message(r.body)) for r in responses]
    return responses


def _one_kept(ours: Deal, theirs: Deal) -> tuple[Deal, Deal]:
    """Assert the conflict ended with one deal withdrawn and the other going on; return (kept, withdrawn)."""
    fresh()
    both = {d.id: d for d in (db.session.get(Deal, ours.id), db.session.get(Deal, theirs.id))}
    withdrawn = [d for d in both.values() if d.status == "withdrawn"]
    assert len(withdrawn) == 1, f"withdrawn: {[(d.id, d.status, d.hold_reason) for d in both.values()]}"
    (gone,) = withdrawn
    (kept,) = [d for d in both.values() if d is not gone]
    # The deal kept stands alone now: decided again, no longer held for the conflict.
    assert kept.hold_reason != "conflict", f"#{kept.id} is still held for a conflict with withdrawn #{gone.id}"
    assert [v.kind for v in kept.decisions] == ["engine", "conflict"]
    assert kept.decisions[-1].output["conflicts"] == []
    assert [v.kind for v in gone.decisions] == ["engine"]
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_id.in_(both), AuditEvent.action == "withdrawn in a conflict")
    ).all()
    assert [(e.entity_id, e.changes["kept_deal"][1]) for e in events] == [(gone.id, kept.id)]
    assert outbox_kinds(kept.id)["withdrawn_notice"] == 0
    assert outbox_kinds(gone.id)["withdrawn_notice"] >= 1
    return kept, gone


def test_two_managers_resolving_one_conflict_from_its_two_deals_keep_one_and_tell_the_other_why(
    browser, make_user, mutual_conflict
):
    managers = [browser().sign_in(make_user("admin")), browser().sign_in(make_user("admin"))]
    refusals = []
    for _ in range(8):  # which side loses the race varies: eight rounds see both
        ours, theirs = mutual_conflict()
        # Each manager keeps the deal they opened the conflict from.
        responses = _resolve_at_once(managers, [(ours, ours), (theirs, theirs)])
        _one_kept(ours, theirs)
        refusals += [
            (f"from #{held.id} ({'lower' if held.id < other.id else 'higher'} id)", _message(r.body))
            for r, held, other in ((responses[0], ours, theirs), (responses[1], theirs, ours))
            if r.status == 409
        ]

    # The manager who lost the race is told it was resolved meanwhile, whichever of the two deals
    # they resolved from (one whose page was sent after it happened is redirected instead).
    untold = [refusal for refusal in refusals if "a moment ago" not in refusal[1]]
    assert not untold, f"lost races not said to be one: {untold}"


def test_two_managers_giving_way_to_each_others_deal_leave_one_deal_open(browser, make_user, mutual_conflict):
    managers = [browser().sign_in(make_user("admin")), browser().sign_in(make_user("admin"))]
    ours, theirs = mutual_conflict()

    # From ours, one manager keeps theirs; from theirs, the other keeps ours.
    _resolve_at_once(managers, [(ours, theirs), (theirs, ours)])

    _one_kept(ours, theirs)


def test_a_partner_declining_while_the_manager_overrides_leaves_one_coherent_decision(
    browser, client, ready, make_partner, make_user
):
    thames = make_partner(name="Thames Cloud", contact_email="oliver@thames.example")
    alpine = make_partner(name="Alpine Systems", contact_email="anna@alpine.example")
    deal = ready(partner=thames, strength=5, fulfilment="partner", originator="customer")
    assert route(client, deal).status_code == 302
    link = _request_path(deal.id)
    partner_browser = browser()
    manager = browser().sign_in(make_user("admin"))
    decline = {**partner_browser.form(link, f"{link}/decline"), "reason": "We lack the people this quarter."}
    override_path = f"/admin/deals/{deal.id}/override"
    override = {
        **manager.form(override_path),
        "leader": "vendor",
        "fulfilment": f"partner:{alpine.id}",
        "reason": "Alpine has the certified team.",
        "confirm": "y",
    }

    declined, overridden = at_once(
        posting(partner_browser, f"{link}/decline", decline), posting(manager, override_path, override)
    )

    # The override applies either way: to the routed deal, or to the deal the decline sent back.
    assert overridden.status == 302, _message(overridden.body)
    fresh()
    deal = db.session.get(Deal, deal.id)
    assert [(v.version, v.kind) for v in deal.decisions] == [(1, "engine"), (2, "override")]
    latest = deal.decisions[-1]
    assert latest.output["fulfilment"] == {"kind": "partner", "partner_id": alpine.id}
    assert (deal.status, deal.hold_reason, deal.returned_reason) == ("routed", None, "")
    thames_request, alpine_request = db.session.scalars(
        select(PartnerRequest).where(PartnerRequest.deal_id == deal.id).order_by(PartnerRequest.id)
    ).all()
    assert (alpine_request.partner_id, alpine_request.decision_id, alpine_request.response) == (
        alpine.id,
        latest.id,
        None,
    )
    kinds = outbox_kinds(deal.id)
    actions = audit_actions(deal.id)
    if declined.status == 302:
        # The decline came first: it stands, and the override routed the deal it sent back.
        assert (thames_request.response, thames_request.reason) == ("declined", decline["reason"])
        assert kinds["partner_declined"] == 1
        assert actions.index("back to routing") < actions.index("routed (override)")
    else:
        # The override came first: the partner's request was replaced, and its page says so.
        assert declined.status == 410, _message(declined.body)
        assert "routed again" in declined.body
        assert thames_request.response is None
        assert kinds["partner_declined"] == 0 and "back to routing" not in actions
    assert kinds["routed_partner"] == 2  # Thames for version 1, Alpine for version 2: each once
    assert actions.count("routed (override)") == 1


# 6. Two reps create the same account at once -------------------------------------------------


@pytest.mark.parametrize("sub", ["", "eu."], ids=["same-domain", "sub-domain"])
def test_two_reps_creating_one_company_at_once_make_one_account(browser, make_user, sub):
    """One company, one account: the same domain, or a sub-domain of it (PRODUCT.md, rule 5)."""
    reps = [make_user("rep"), make_user("rep")]
    browsers = [browser().sign_in(rep) for rep in reps]
    for round_ in range(4):
        company = f"globex{round_}.example"
        drafts = [services.start_deal(rep=rep) for rep in reps]
        db.session.commit()
        requests = []
        for rep_browser, draft, domain in zip(browsers, drafts, (company, sub + company), strict=True):
            path = f"/deals/{draft.id}/account"
            form = {**rep_browser.form(path), "name": "Globex Corporation", "domain": domain}
            requests.append(posting(rep_browser, path, {**form, "action": "save"}))

        responses = at_once(*requests)

        fresh()
        accounts = db.session.scalars(select(Account).where(Account.domain_key == company)).all()
        assert len(accounts) == 1, (
            f"round {round_}: one company, {len(accounts)} accounts: {[a.domain for a in accounts]}"
        )
        (account,) = accounts
        assert sorted(r.status for r in responses) == [302, 400], [(r.status, _message(r.body)) for r in responses]
        (winner,) = [d for d, r in zip(drafts, responses, strict=True) if r.status == 302]
        (loser,) = [r for r in responses if r.status == 400]
        # The loser keeps what was typed and is pointed to the account the other rep just made.
        assert "took this domain a moment ago" in loser.body or "already has this domain" in loser.body
        assert "Globex Corporation" in loser.body
        linked = {d.id: db.session.get(Deal, d.id).account_id for d in drafts}
        assert linked == {d.id: account.id if d is winner else None for d in drafts}
        created = db.session.scalars(
            select(AuditEvent.entity_id).where(
                AuditEvent.entity == "account", AuditEvent.action == "created", AuditEvent.entity_id == account.id
            )
        ).all()
        assert created == [account.id]
