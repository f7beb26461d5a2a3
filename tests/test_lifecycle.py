"""The deal lifecycle through the rep's and the channel manager's pages: discard, won and lost, back to routing."""

import re
from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import select

from intake.extensions import db
from intake.models import AuditEvent, Deal, OutboxMessage, PartnerRequest, Relationship
from intake.models.types import utcnow

from .conftest import sign_in
from .test_customer_link import field_error
from .test_routing_flow import route

TODAY = date.today()


def close(browser, deal, **fields):
    data = {"outcome": "won", "closed_on": TODAY.isoformat(), "final_value": "48000.50", "lost_reason": ""}
    data.update(fields)
    return browser.submit(f"/deals/{deal.id}/close", data, page=f"/deals/{deal.id}")


def discard(browser, deal, page=None):
    return browser.submit(f"/deals/{deal.id}/discard", page=page or f"/deals/{deal.id}")


def text(html: str) -> str:
    """A page's words, as a reader sees them: no tags, whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def section(page: str, heading: str) -> str:
    match = re.search(rf"<h2[^>]*>{heading}</h2>(.*?)</section>", page, re.S)
    assert match, f"no section {heading!r}"
    return match.group(1)


def next_step(page: str) -> str:
    return text(re.search(r'<section class="card next-step".*?</section>', page, re.S).group(0))


def request_token(deal) -> str:
    mail = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.deal_id == deal.id, OutboxMessage.kind == "routed_partner")
    ).one()
    return re.search(r"/r/(\S+)", mail.text_body).group(1)


def events(deal_id: int) -> list[str]:
    return db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity == "deal", AuditEvent.entity_id == deal_id)
    ).all()


@pytest.fixture
def alpha(make_partner):
    return make_partner(name="Alpha Systeme", contact_email="anna@alpha.example")


@pytest.fixture
def routed(client, ready, alpha):
    """A routed deal: the customer's partner of many years leads and fulfils it."""
    deal = ready(partner=alpha, strength=5, originator="customer")
    assert route(client, deal).status_code == 302
    deal = db.session.get(Deal, deal.id)
    assert deal.status == "routed"
    return deal


# ---------------------------------------------------------------- discarding a draft


def test_a_rep_discards_their_draft_and_its_relationships_no_longer_feed_routing(
    client, rep, make_deal, make_account, ready, alpha
):
    account = make_account(owner=rep, vendor_strength=2)
    other = ready(account=account, originator="customer")
    draft = make_deal(rep, account=account, partners=[(alpha, 5)], originator="customer")
    assert db.session.scalars(select(Relationship).where(Relationship.deal_id == draft.id)).all()
    # While the draft stands, the rep's estimate on it counts for the account.
    assert "Alpha Systeme</strong> leads" in client.get(f"/deals/{other.id}").get_data(as_text=True)
    assert f'href="/deals/{draft.id}"' in client.get("/deals").get_data(as_text=True)

    draft_id = draft.id
    response = discard(client, draft)
    assert response.status_code == 302 and response.location == "/deals"
    assert "is discarded" in client.get("/deals").get_data(as_text=True)
    assert f'href="/deals/{draft_id}"' not in client.get("/deals").get_data(as_text=True)
    assert client.get(f"/deals/{draft_id}").status_code == 404
    assert db.session.get(Deal, draft_id) is None
    assert db.session.scalars(select(Relationship).where(Relationship.deal_id == draft_id)).all() == []
    discarded = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_id == draft_id, AuditEvent.action == "draft discarded")
    ).one()
    assert discarded.actor_id == rep.id

    route(client, other)
    decision = db.session.get(Deal, other.id).decisions[-1]
    assert [r for r in decision.input["relationships"] if r["partner_id"] == alpha.id] == []
    assert decision.output["leader"] == {"kind": "vendor"}


def test_a_completed_deal_cannot_be_discarded_and_loses_nothing(client, rep, make_deal, alpha):
    deal = make_deal(rep, status="awaiting_customer", partners=[(alpha, 4)])
    discarded_before = events(deal.id).count("draft discarded")
    response = discard(client, deal)
    assert response.status_code == 409
    assert "Only a draft can be discarded" in response.get_data(as_text=True)
    deal = db.session.get(Deal, deal.id)
    assert deal.status == "awaiting_customer"
    assert [(r.partner_id, r.strength) for r in deal.landscape] == [(alpha.id, 4)]
    assert events(deal.id).count("draft discarded") == discarded_before


def test_another_reps_draft_cannot_be_discarded(app, client, rep, make_user, make_deal, alpha):
    owner = make_user("rep")
    theirs = make_deal(owner, partners=[(alpha, 3)])
    page = f"/deals/{make_deal(rep).id}"  # a token from a page of the rep's own
    assert discard(client, theirs, page=page).status_code == 404
    assert db.session.get(Deal, theirs.id).status == "draft"
    assert len(db.session.get(Deal, theirs.id).landscape) == 1


# ---------------------------------------------------------------- won and lost


def test_the_rep_records_a_routed_deal_won_with_its_date_and_final_value(client, routed):
    response = close(client, routed, closed_on=(TODAY - timedelta(days=2)).isoformat(), final_value="48000.50")
    assert response.status_code == 302
    deal = db.session.get(Deal, routed.id)
    assert (deal.status, deal.closed_on, deal.final_value) == ("won", TODAY - timedelta(days=2), Decimal("48000.50"))
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    shown = (TODAY - timedelta(days=2)).strftime("%d %b %Y")
    assert f"Won on {shown}, 48,000.50 EUR." in next_step(page)
    assert "Record the outcome" not in page  # recorded once


def test_an_accepted_deal_is_recorded_lost_with_its_reason(app, client, routed):
    partner = app.test_client()
    token = request_token(routed)
    assert partner.submit(f"/r/{token}/accept", page=f"/r/{token}").status_code == 302
    assert db.session.get(Deal, routed.id).status == "accepted"
    response = close(client, routed, outcome="lost", final_value="0", lost_reason="Went with a competitor on price")
    assert response.status_code == 302
    deal = db.session.get(Deal, routed.id)
    assert (deal.status, deal.final_value, deal.lost_reason) == (
        "lost",
        Decimal("0"),
        "Went with a competitor on price",
    )
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert f"Lost on {TODAY.strftime('%d %b %Y')}: Went with a competitor on price" in next_step(page)


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"outcome": "lost", "final_value": "0", "lost_reason": "  "}, "lost_reason", "Say why it was lost"),
        ({"closed_on": (TODAY + timedelta(days=1)).isoformat()}, "closed_on", "cannot be in the future"),
        ({"closed_on": ""}, "closed_on", "Give the date"),
        ({"closed_on": "31/02/2025"}, "closed_on", "date"),
        ({"final_value": "-1"}, "final_value", "Between 0"),
        ({"final_value": ""}, "final_value", "Give the final value"),
        ({"final_value": "lots"}, "final_value", "decimal"),
        ({"final_value": "sNaN"}, "final_value", "Enter a number"),  # a signalling NaN is no number either
        # Every deal here was found ten days ago: it cannot be decided before.
        ({"closed_on": (TODAY - timedelta(days=30)).isoformat()}, "closed_on", "cannot be decided before"),
        ({"outcome": "maybe"}, "outcome", "Not a valid choice"),
        ({"outcome": ""}, "outcome", "Not a valid choice"),
    ],
)
def test_an_outcome_that_breaks_a_rule_is_refused_beside_its_field_and_nothing_is_saved(
    client, routed, fields, field, message
):
    response = close(client, routed, **{"lost_reason": "Kept: the reason typed", **fields})
    assert response.status_code == 400
    assert message.lower() in field_error(response, field).lower()
    if "lost_reason" not in fields:
        assert "Kept: the reason typed" in response.get_data(as_text=True)
    deal = db.session.get(Deal, routed.id)
    assert (deal.status, deal.closed_on, deal.final_value, deal.lost_reason) == ("routed", None, None, "")
    assert not [e for e in events(deal.id) if e.startswith("marked")]


def test_every_missing_answer_of_an_outcome_is_named_in_one_round(client, routed):
    response = close(
        client,
        routed,
        outcome="lost",
        closed_on=(TODAY + timedelta(days=3)).isoformat(),
        final_value="",
        lost_reason="",
    )
    assert response.status_code == 400
    assert "future" in field_error(response, "closed_on")
    assert "final value" in field_error(response, "final_value")
    assert "why it was lost" in field_error(response, "lost_reason")
    assert db.session.get(Deal, routed.id).status == "routed"


@pytest.mark.parametrize("status", ["draft", "awaiting_customer", "ready_to_route"])
def test_a_deal_is_not_won_or_lost_before_it_is_routed(client, rep, make_deal, status):
    deal = make_deal(rep, status=status)
    response = close(client, deal)
    assert response.status_code == 409
    assert "Only a routed deal can be won or lost" in response.get_data(as_text=True)
    deal = db.session.get(Deal, deal.id)
    assert (deal.status, deal.closed_on, deal.final_value) == (status, None, None)


def test_another_rep_cannot_record_the_outcome(app, make_user, routed, make_deal):
    other = make_user("rep")
    browser = sign_in(app, other)
    page = f"/deals/{make_deal(other).id}"
    data = {"outcome": "won", "closed_on": TODAY.isoformat(), "final_value": "1"}
    assert browser.submit(f"/deals/{routed.id}/close", data, page=page).status_code == 404
    assert db.session.get(Deal, routed.id).status == "routed"


def test_the_channel_manager_records_the_outcome(client, manager, routed, make_user):
    assert close(manager, routed, final_value="51000").status_code == 302
    deal = db.session.get(Deal, routed.id)
    assert (deal.status, deal.final_value) == ("won", Decimal("51000"))
    marked = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_id == deal.id, AuditEvent.action == "marked won")
    ).one()
    assert marked.actor.name == "Morgan Channel"
    assert "Won on" in next_step(client.get(f"/deals/{deal.id}").get_data(as_text=True))  # the rep sees it too


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_the_history_tells_the_deals_life_in_words(app, client, routed, outcome):
    partner = app.test_client()
    token = request_token(routed)
    partner.submit(f"/r/{token}/accept", page=f"/r/{token}")
    close(client, routed, outcome=outcome, final_value="48000.50" if outcome == "won" else "0", lost_reason="Price")
    history = text(section(client.get(f"/deals/{routed.id}").get_data(as_text=True), "History"))
    assert f"marked {outcome}" in history
    assert "Status: accepted → " + outcome in history and "Closed on: — → " in history
    assert ("Final value: — → 48000.50" if outcome == "won" else "Why it was lost: — → Price") in history
    for code in ("closed_on", "final_value", "lost_reason", "Decimal(", "None", "True", "False", "datetime"):
        assert code not in history, code
    snake = re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", history)
    assert snake == [], snake  # no codes such as awaiting_customer or ready_to_route


def history_entries(browser, deal) -> dict[str, list[str]]:
    """The deal's history as its page shows it: each event's heading line → its change lines."""
    history = section(browser.get(f"/deals/{deal.id}").get_data(as_text=True), "History")
    entries = {}
    for item in re.split(r"(?=<li><time)", history)[1:]:
        head, _, changes = item.partition("<ul>")
        entries.setdefault(text(head), []).extend(text(line) for line in re.findall(r"<li>(.*?)</li>", changes, re.S))
    return entries


def test_the_history_names_the_account_and_the_finding_partner_rather_than_numbering_them(
    client, rep, make_deal, alpha
):
    deal = make_deal(rep, status="awaiting_customer", originator="partner", originator_partner=alpha)
    lines = [line for changes in history_entries(client, deal).values() for line in changes]
    assert f"Account: — → {deal.account.name}" in lines
    assert "Finding partner: — → Alpha Systeme" in lines
    assert not [line for line in lines if re.fullmatch(r"[^:]+: — → \d+", line) and "value" not in line]


def test_the_history_keeps_the_customers_statements_apart_from_the_reps_and_says_who_acted(app, client, routed):
    partner = app.test_client()
    token = request_token(routed)
    partner.submit(f"/r/{token}/accept", page=f"/r/{token}")  # the leader accepts: the customer is told
    history = history_entries(client, routed)
    answered = next(changes for head, changes in history.items() if head.endswith("· the customer · customer answered"))
    said = [line for line in answered if "Alpha Systeme (5 · strategic" in line]
    assert said and not [line for line in said if "the rep's view" in line], said
    # Intake telling the customer who their contact is was not the customer's own doing.
    told = [head for head in history if head.endswith("told the customer their contact")]
    assert len(told) == 1 and "· the customer ·" not in told[0], told


# ---------------------------------------------------------------- back to routing


def test_a_decline_sends_the_deal_back_to_routing_with_the_reason_on_the_deal_page(app, client, rep, routed, alpha):
    partner = app.test_client()
    token = request_token(routed)
    response = partner.submit(f"/r/{token}/decline", {"reason": "No capacity this quarter"}, page=f"/r/{token}")
    assert response.status_code == 302
    deal = db.session.get(Deal, routed.id)
    assert (deal.status, deal.returned_reason) == ("ready_to_route", "Alpha Systeme declined: No capacity this quarter")
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "It came back to routing: Alpha Systeme declined: No capacity this quarter." in next_step(page)
    assert "Alpha Systeme (version 1): declined — “No capacity this quarter”" in text(page)
    told = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "partner_declined")).one()
    assert rep.email in told.recipients

    route(client, deal)
    decision = db.session.get(Deal, deal.id).decisions[-1]
    assert decision.input["declined_partner_ids"] == [alpha.id] and decision.input["lapsed_partner_ids"] == []
    assert "Alpha Systeme declined this deal" in " ".join(step["says"] for step in decision.output["trace"])


def test_a_lapse_sends_the_deal_back_to_routing_and_says_the_partner_let_its_time_pass(
    client, rep, manager, routed, alpha
):
    request = db.session.scalars(select(PartnerRequest)).one()
    request.expires_at = utcnow() - timedelta(minutes=1)  # the partner's time has passed
    db.session.commit()
    response = manager.submit(f"/admin/deals/{routed.id}/recycle/{request.id}", page=f"/deals/{routed.id}")
    assert response.status_code == 302
    deal = db.session.get(Deal, routed.id)
    assert (deal.status, deal.returned_reason) == ("ready_to_route", "Alpha Systeme let its time to answer pass")

    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "It came back to routing: Alpha Systeme let its time to answer pass." in next_step(page)
    assert "Alpha Systeme (version 1): let the time to answer pass" in text(page)
    assert "declin" not in text(page).lower()
    told = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "back_to_routing")).one()
    assert rep.email in told.recipients and "declin" not in told.subject.lower()

    route(client, deal)
    decision = db.session.get(Deal, deal.id).decisions[-1]
    assert decision.input["lapsed_partner_ids"] == [alpha.id] and decision.input["declined_partner_ids"] == []
    words = " ".join(step["says"] for step in decision.output["trace"])
    assert "Alpha Systeme let its time to answer pass on this deal" in words and "declined" not in words
    assert decision.output["leader"] == {"kind": "vendor"}


# ---------------------------------------------------------------- refusals


@pytest.fixture
def deal_in(client, rep, make_deal, routed):
    """A deal of the rep's in a given status."""

    def make(status: str):
        if status == "routed":
            return routed
        if status == "won":
            assert close(client, routed).status_code == 302
            return db.session.get(Deal, routed.id)
        return make_deal(rep, status=status)

    return make


@pytest.mark.parametrize(
    "action, status, expected",
    [
        ("discard", "awaiting_customer", 409),
        ("discard", "ready_to_route", 409),
        ("discard", "routed", 409),
        ("discard", "won", 409),
        ("close", "draft", 409),
        ("close", "won", 409),
        ("route", "draft", 409),
        ("route", "routed", 409),
        ("route", "won", 409),
    ],
)
def test_an_action_that_does_not_fit_the_deal_is_a_clear_refusal(client, deal_in, action, status, expected):
    deal = deal_in(status)
    before = (deal.status, len(deal.decisions))
    if action == "discard":
        response = discard(client, deal)
    elif action == "close":
        response = close(client, deal, outcome="lost", lost_reason="Tried twice")
    else:
        response = route(client, deal)
    assert response.status_code == expected
    page = response.get_data(as_text=True)
    assert f"Error {expected}" in page and f'href="/deals/{deal.id}"' in page
    assert "Traceback" not in page
    deal = db.session.get(Deal, deal.id)
    assert (deal.status, len(deal.decisions)) == before


def test_a_draft_discarded_twice_is_gone_the_second_time(client, rep, make_deal):
    draft = make_deal(rep)
    page = f"/deals/{make_deal(rep).id}"
    token, url = client.csrf_token(page), f"/deals/{draft.id}/discard"
    assert client.post(url, data={"csrf_token": token}).status_code == 302
    again = client.post(url, data={"csrf_token": token})  # a double click
    assert again.status_code == 404 and "Not found" in again.get_data(as_text=True)


def test_a_new_deal_does_not_inherit_the_history_of_a_discarded_draft(client, rep):
    # The rep starts a draft, fills its account section, and throws it away; then starts the next deal.
    first = client.submit("/deals/new", page="/deals")
    first_id = int(first.location.split("/")[2])
    client.submit(f"/deals/{first_id}/account", {"name": "Thrown Away GmbH", "action": "save"})
    assert discard(client, db.session.get(Deal, first_id)).status_code == 302
    second = client.submit("/deals/new", page="/deals")
    second_id = int(second.location.split("/")[2])
    history = text(section(client.get(f"/deals/{second_id}").get_data(as_text=True), "History"))
    assert "draft discarded" not in history and "account linked" not in history
    assert events(second_id) == ["created"]
