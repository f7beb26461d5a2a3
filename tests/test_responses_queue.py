"""The channel manager's partner responses: every answer awaited, how near its deadline is, and what to do.

Each deal is routed by its rep from the deal page; how long its partner has to answer is the setting a
request is made with (PARTNER_RESPONSE_DAYS, as in test_partner_sweep.py): 0 days is a deadline that has
passed by the time anyone looks, one day is within the reminder window of two days, five days is beyond it.
"""

import re
from html import unescape

import pytest
from sqlalchemy import select

from intake.deals import partner_requests, rules
from intake.extensions import db
from intake.models import Deal, PartnerRequest

from .conftest import statements_to_get
from .test_routing_flow import route

REMIND_HOURS = 48


@pytest.fixture
def remind_two_days_ahead(app):
    app.config.update(PARTNER_REMIND_HOURS=REMIND_HOURS)
    return app


@pytest.fixture
def routed(app, client, ready, remind_two_days_ahead):
    """routed(partner, days): a deal its customer's partner of many years leads and fulfils, routed by the rep,
    the partner given `days` to answer."""

    def make(partner, days: int) -> Deal:
        app.config.update(PARTNER_RESPONSE_DAYS=days)
        deal = ready(partner=partner, strength=5, fulfilment="partner", originator="customer")
        assert route(client, deal).status_code == 302
        deal = db.session.get(Deal, deal.id)
        assert deal.status == "routed"
        return deal

    return make


def rows(page: str) -> list[dict]:
    """The queue's table, row by row: the deal, its partner, how the answer stands, and the button if any."""
    found = []
    for row in re.findall(r"<tr>\s*<td><a href=\"/deals/.*?</tr>", page, re.S):
        cells = [unescape(re.sub(r"<[^>]+>", " ", cell)) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        button = re.search(r'<form class="inline" method="post" action="([^"]+)">', row)
        found.append(
            {
                "deal": int(re.search(r"#(\d+) ", cells[0]).group(1)),
                "partner": cells[1].split("  ")[0].strip(),
                "stands": " ".join(cells[4].split()),
                "button": unescape(button.group(1)) if button else None,
            }
        )
    return found


def badge(page: str) -> int:
    """The number on the queue tab 'Partner responses'."""
    return int(re.search(r'href="/admin/responses"[^>]*>Partner responses <span class="badge">(\d+)</span>', page)[1])


def request_of(deal) -> PartnerRequest:
    return partner_requests.of_decision(db.session.get(Deal, deal.id).decisions[-1])[0]


def test_every_awaited_answer_is_listed_soonest_deadline_first_with_how_it_stands(
    app, manager, routed, make_partner, thames, borealis
):
    cedar = make_partner(name="Cedar Networks")
    # Routed in the reverse order of their deadlines: the list's order is the deadlines', not the deals'.
    waiting = routed(thames, days=5)
    due = routed(borealis, days=1)
    overdue = routed(cedar, days=0)
    answered = routed(thames, days=5)
    partner = app.test_client()
    token = partner_requests.url(request_of(answered)).rsplit("/", 1)[1]
    assert partner.submit(f"/r/{token}/accept", page=f"/r/{token}").status_code == 302

    page = manager.get("/admin/responses").get_data(as_text=True)
    assert rows(page) == [
        {
            "deal": overdue.id,
            "partner": "Cedar Networks",
            "stands": "Overdue",
            "button": f"/admin/deals/{overdue.id}/recycle/{request_of(overdue).id}",
        },
        {"deal": due.id, "partner": "Borealis Systems", "stands": "Due soon", "button": None},
        {"deal": waiting.id, "partner": "Thames Cloud", "stands": "Waiting", "button": None},
    ]
    assert f"#{answered.id} " not in page  # its partner accepted: nothing is awaited
    assert 'aria-current="page">Partner responses' in page
    assert badge(page) == 1  # only the answer whose time has passed


def test_a_request_replaced_by_a_newer_decision_is_neither_listed_nor_counted(app, manager, routed, thames, borealis):
    deal = routed(thames, days=0)
    replaced = request_of(deal)
    assert badge(manager.get("/admin/responses").get_data(as_text=True)) == 1
    # The manager routes it again, to Borealis (given five days): Thames's request waits for nothing now.
    form = {
        "leader": f"partner:{borealis.id}",
        "fulfilment": f"partner:{borealis.id}",
        "reason": "Borealis covers this region now.",
        "confirm": "y",
    }
    app.config.update(PARTNER_RESPONSE_DAYS=5)
    assert manager.submit(f"/admin/deals/{deal.id}/override", form).status_code == 302
    assert db.session.get(PartnerRequest, replaced.id).response is None  # unanswered, and replaced
    assert partner_requests.standing(db.session.get(PartnerRequest, replaced.id)) == "replaced"

    page = manager.get("/admin/responses").get_data(as_text=True)
    assert [(row["deal"], row["partner"], row["stands"]) for row in rows(page)] == [
        (deal.id, "Borealis Systems", "Waiting")
    ]
    assert badge(page) == 0
    assert badge(manager.get("/admin/queues/conflict").get_data(as_text=True)) == 0


def test_the_button_sends_an_overdue_deal_back_to_routing_and_its_partner_is_not_proposed_again(
    app, client, manager, routed, thames, borealis
):
    late = routed(thames, days=0)
    on_time = routed(borealis, days=5)
    page = manager.get("/admin/responses").get_data(as_text=True)
    [button] = [row["button"] for row in rows(page) if row["button"]]
    assert button == f"/admin/deals/{late.id}/recycle/{request_of(late).id}"

    pressed = manager.submit(button, page="/admin/responses")
    assert pressed.status_code == 302 and pressed.location == f"/deals/{late.id}#routing"
    shown = manager.get(pressed.location).get_data(as_text=True)
    assert "Sent back to routing; Thames Cloud will not be proposed again." in shown
    deal = db.session.get(Deal, late.id)
    assert deal.status == "ready_to_route" and "Thames Cloud let its time to answer pass" in deal.returned_reason
    request = db.session.scalars(select(PartnerRequest).where(PartnerRequest.deal_id == late.id)).one()
    assert request.response == "lapsed"
    page = manager.get("/admin/responses").get_data(as_text=True)
    assert [row["deal"] for row in rows(page)] == [on_time.id] and badge(page) == 0

    # The rep routes it again: Thames, which let its time pass, is not asked again. The customer asked for
    # Thames by name, so who fulfils waits for the manager instead (rule 3: an inactive partner).
    assert route(client, deal).status_code == 302
    deal = db.session.get(Deal, late.id)
    assert (deal.status, deal.hold_reason, len(deal.decisions)) == ("on_hold", "fulfilment", 2)
    assert "inactive_partner" in deal.decisions[-1].output["flags"]
    assert partner_requests.of_decision(deal.decisions[-1]) == []
    # A request whose time has not passed cannot be sent back, even by a hand-made POST.
    refused = manager.submit(f"/admin/deals/{on_time.id}/recycle/{request_of(on_time).id}", page="/admin/responses")
    assert refused.status_code == 409 and "has not passed yet" in refused.get_data(as_text=True)
    assert db.session.get(Deal, on_time.id).status == "routed" and request_of(on_time).response is None


def test_the_queue_says_who_recycles_a_deal_the_rules_of_engagement_or_the_manager(manager, boss, routed, thames):
    routed(thames, days=0)
    page = manager.get("/admin/responses").get_data(as_text=True)
    assert "The rules of engagement leave recycling to you" in page
    assert "recycle a deal automatically" not in page

    rules.set_rules(threshold=3, ties="partners", recycle="automatic", actor=boss)
    db.session.commit()
    page = manager.get("/admin/responses").get_data(as_text=True)
    assert (
        "The rules of engagement recycle a deal automatically when its partner's time passes: "
        "the partner sweep sends it back to routing and routes it again." in page
    )
    assert "leave recycling to you" not in page
    assert 'href="/admin/rules">Change the rules</a>' in page


def test_the_badge_counts_the_overdue_answers_on_every_queue_tab(manager, routed, make_partner, thames, borealis):
    assert "No partner answer is awaited." in manager.get("/admin/responses").get_data(as_text=True)
    routed(thames, days=0)
    routed(borealis, days=0)
    routed(make_partner(name="Cedar Networks"), days=1)  # due soon: not overdue yet
    for tab in ("/admin/responses", "/admin/queues/needs_alignment", "/admin/queues/conflict", "/admin/registrations"):
        assert badge(manager.get(tab).get_data(as_text=True)) == 2, tab
    # The dashboard points the manager to the queue.
    assert 'href="/admin/responses">Queues › Partner responses</a>' in manager.get("/dashboard").get_data(as_text=True)


def test_the_queue_reads_in_a_constant_number_of_statements(manager, routed, thames, borealis):
    routed(thames, 0)
    one = statements_to_get(manager, "/admin/responses")
    for days, partner in ((0, borealis), (1, thames), (5, borealis)):
        routed(partner, days)
    assert statements_to_get(manager, "/admin/responses") == one
