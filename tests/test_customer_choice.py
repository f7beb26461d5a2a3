"""The customer's own choices by their link: the partner they pick, the strengths they give, their consent.

Each test answers through the real form at /p/<token>, as the customer's browser posts it, then
reads what the routing engine is given and what it decides.
"""

import re
from datetime import date

import pytest
from sqlalchemy import select

from intake.extensions import db
from intake.models import CustomerAnswer, Deal, Relationship

from .conftest import answer_for
from .test_customer_link import create_link, field_error
from .test_routing_flow import route

EMPTY_ROW = {"partner_id": "", "partner_name": "", "strength": "", "duration": "", "does_what": ""}


def row(index: int, *, partner=None, name="", strength="", duration="", does_what="") -> dict:
    """One partner row of the customer's form, as the browser posts it."""
    values = {
        "partner_id": str(partner.id) if partner is not None else "",
        "partner_name": name,
        "strength": str(strength),
        "duration": duration,
        "does_what": does_what,
    }
    return {f"rows-{index}-{field}": value for field, value in values.items()}


def form(*rows: dict, **answers) -> dict:
    """The whole customer form: their details, the partner rows given, their delivery and contact answers."""
    data = {
        "company_name": "Kunde GmbH",
        "contact_name": "Hanna Huber",
        "contact_title": "CIO",
        "contact_email": "hanna@kunde.example",
        "contact_phone": "",
        "works_with_partner": "yes",
        "fulfilment": "partner",
        "fulfilment_reason": "",
        "contact_preference": "no_preference",
        "consent": "y",
        "action": "send",
    }
    for given in rows:
        data.update(given)
    data.update(answers)
    return {k: v for k, v in data.items() if v is not None}


def legends(response) -> list[str]:
    return [
        " ".join(text.split())
        for text in re.findall(
            r'<fieldset class="row-card">\s*<legend>([^<]*)</legend>', response.get_data(as_text=True)
        )
    ]


def close_won(client, deal):
    data = {"outcome": "won", "closed_on": date.today().isoformat(), "final_value": "10000"}
    return client.submit(f"/deals/{deal.id}/close", data, page=f"/deals/{deal.id}")


def trace_text(decision) -> str:
    return " ".join(step["says"] for step in decision.output["trace"])


@pytest.fixture
def customer(app):
    return app.test_client()


@pytest.fixture
def alpha(make_partner):
    return make_partner(name="Alpha Systeme", countries=["DE"])


@pytest.fixture
def beta(make_partner):
    return make_partner(name="Beta Netzwerk", countries=["DE"])


@pytest.fixture
def deal(rep, make_deal):
    return make_deal(rep, status="awaiting_customer", originator="customer", account_values={"vendor_strength": 2})


@pytest.fixture
def link(client, deal):
    return create_link(client, deal)


def test_the_partner_marked_to_deliver_is_kept_by_identity_when_an_earlier_row_is_empty(
    client, customer, deal, link, alpha, beta
):
    # The customer adds two rows with the form's own button, leaves the first row empty,
    # names Alpha in the second and Beta in the third, and marks the third to deliver.
    page = customer.submit(link, form(row(0), action="add_row"))
    assert page.status_code == 200 and 'name="rows-1-partner_id"' in page.get_data(as_text=True)
    page = customer.submit(link, form(row(0), row(1), action="add_row"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="rows-2-partner_id"' in html
    assert 'name="fulfilment_row" value="2"' in html  # each row has its own "this partner should deliver"
    assert db.session.query(CustomerAnswer).count() == 0  # adding rows sends nothing

    data = form(
        row(0),
        row(1, partner=alpha, strength=3, duration="1_3"),
        row(2, partner=beta, strength=4, duration="over_5"),
        fulfilment_row="2",
    )
    assert customer.submit(link, data).status_code == 302

    answer = db.session.scalars(select(CustomerAnswer)).one()
    assert (answer.fulfilment, answer.fulfilment_partner_id, answer.fulfilment_partner_name) == ("partner", beta.id, "")
    said = db.session.scalars(select(Relationship).where(Relationship.source == "customer")).all()
    assert sorted((r.partner_id, r.strength) for r in said) == sorted([(alpha.id, 3), (beta.id, 4)])

    # The page the customer comes back to marks Beta's row, wherever it now stands.
    again = customer.get(link).get_data(as_text=True)
    marked = re.search(r'<legend>([^<]*)</legend>(?:(?!</fieldset>).)*name="fulfilment_row"[^>]*checked', again, re.S)
    assert marked and marked.group(1).strip() == "Beta Netzwerk"

    assert route(client, deal).status_code == 302
    decision = db.session.get(Deal, deal.id).decisions[-1]
    assert decision.input["preference"]["fulfilment"] == "partner"
    assert decision.input["preference"]["partner_id"] == beta.id
    assert decision.output["fulfilment"] == {"kind": "partner", "partner_id": beta.id}
    assert "The customer wants Beta Netzwerk to fulfil, so it fulfils." in trace_text(decision)


def test_a_partner_typed_by_name_that_is_ours_keeps_the_customers_strength_not_the_reps(
    client, customer, rep, make_deal, make_partner
):
    nordlicht = make_partner(name="Nordlicht IT GmbH", countries=["DE"])
    # The rep thinks the relationship strategic; the customer, who types the name, says transactional.
    deal = make_deal(rep, status="awaiting_customer", partners=[(nordlicht, 5)], account_values={"vendor_strength": 3})
    link = create_link(client, deal)
    data = form(row(0, name="NORDLICHT IT", strength=2, duration="1_3"), fulfilment="no_preference")
    assert customer.submit(link, data).status_code == 302
    said = db.session.scalars(select(Relationship).where(Relationship.source == "customer")).one()
    # The name they typed is one of ours: kept as that partner, with their strength.
    assert (said.partner_id, said.strength) == (nordlicht.id, 2)

    route(client, deal)
    decision = db.session.get(Deal, deal.id).decisions[-1]
    # With the rep's 5 Nordlicht would lead; with the customer's 2 the vendor's working (3) does.
    assert decision.output["leader"] == {"kind": "vendor"}
    words = trace_text(decision)
    assert "Nordlicht IT GmbH, transactional (2), as the customer stated" in words
    assert "strategic (5)" not in words and "as the rep estimated" not in words
    assert "not a partner we know" not in words


def test_the_deal_page_puts_a_typed_partner_that_is_ours_beside_the_reps_estimate_of_it(
    client, customer, rep, make_deal, make_partner
):
    nordlicht = make_partner(name="Nordlicht IT GmbH", countries=["DE"])
    deal = make_deal(rep, status="awaiting_customer", originator="customer", partners=[(nordlicht, 5)])
    link = create_link(client, deal)
    data = form(row(0, name="NORDLICHT IT", strength=2), fulfilment="no_preference")
    assert customer.submit(link, data).status_code == 302
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    table = re.search(r"Partners: your estimate beside the customer's.*?</table>", page, re.S).group(0)
    rows = [" ".join(re.sub(r"<[^>]+>", " ", r).split()) for r in re.findall(r"<tr[^>]*>\s*<td>.*?</tr>", table, re.S)]
    # The engine reads the two as one partner; so does the rep: one row, both strengths.
    assert len(rows) == 1, rows
    assert "5 · strategic" in rows[0] and "2 · transactional" in rows[0] and "not named" not in rows[0]


def test_a_partner_typed_by_name_chosen_to_deliver_is_ours_when_the_name_is_ours(
    client, customer, rep, make_deal, make_partner
):
    nordlicht = make_partner(name="Nordlicht IT GmbH", countries=["DE"])
    deal = make_deal(rep, status="awaiting_customer", originator="customer", account_values={"vendor_strength": 1})
    link = create_link(client, deal)
    assert customer.submit(link, form(row(0, name="nordlicht it", strength=4), fulfilment_row="0")).status_code == 302
    answer = db.session.scalars(select(CustomerAnswer)).one()
    assert (answer.fulfilment_partner_id, answer.fulfilment_partner_name) == (nordlicht.id, "")

    route(client, deal)
    deal = db.session.get(Deal, deal.id)
    decision = deal.decisions[-1]
    assert deal.status == "routed"
    assert decision.output["fulfilment"] == {"kind": "partner", "partner_id": nordlicht.id}
    assert "unknown_partner" not in decision.output["flags"]
    assert (
        "Nordlicht IT GmbH has the strongest relationship with the customer, trusted (4), as the customer stated"
        in (trace_text(decision))
    )


def test_a_typed_partner_we_do_not_know_stays_the_customers_and_holds_the_deal_when_chosen_to_deliver(
    client, customer, deal, link, alpha
):
    data = form(row(0, name="Local Heroes Ltd", strength=5, duration="over_5"), fulfilment_row="0")
    assert customer.submit(link, data).status_code == 302
    answer = db.session.scalars(select(CustomerAnswer)).one()
    assert (answer.fulfilment_partner_id, answer.fulfilment_partner_name) == (None, "Local Heroes Ltd")
    said = db.session.scalars(select(Relationship).where(Relationship.source == "customer")).one()
    assert (said.partner_id, said.partner_name, said.strength) == (None, "Local Heroes Ltd", 5)

    route(client, deal)
    deal = db.session.get(Deal, deal.id)
    decision = deal.decisions[-1]
    assert (deal.status, deal.hold_reason) == ("on_hold", "fulfilment")
    assert "unknown_partner" in decision.output["flags"] and decision.output["fulfilment"] is None
    assert decision.input["preference"]["partner_name"] == "Local Heroes Ltd"
    assert "Local Heroes Ltd (strategic (5), as the customer stated)" in trace_text(decision)
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "Delivery through the partner they named: Local Heroes Ltd" in " ".join(
        re.sub(r"<[^>]+>", " ", page).split()
    )


def test_this_deals_customer_statement_outranks_an_older_one_on_the_same_account(
    client, customer, rep, make_deal, make_account, alpha
):
    account = make_account(owner=rep, vendor_strength=3)
    older = make_deal(rep, account=account, status="awaiting_customer", originator="customer")
    answer_for(older, rows=[(alpha, 5)], fulfilment="partner", chosen_row=0)
    route(client, older)
    assert db.session.get(Deal, older.id).decisions[-1].output["leader"] == {"kind": "partner", "partner_id": alpha.id}
    assert close_won(client, older).status_code == 302
    assert db.session.get(Deal, older.id).status == "won"  # finished: no conflict with the new deal

    deal = make_deal(rep, account=account, status="awaiting_customer", originator="customer")
    link = create_link(client, deal)
    data = form(row(0, partner=alpha, strength=1, duration="under_1"), fulfilment="no_preference")
    assert customer.submit(link, data).status_code == 302
    route(client, deal)
    decision = db.session.get(Deal, deal.id).decisions[-1]
    assert decision.output["leader"] == {"kind": "vendor"}  # working (3) over aware (1); strategic (5) would lead
    assert not decision.output["conflicts"]
    words = trace_text(decision)
    assert "Alpha Systeme, aware (1), as the customer stated" in words
    assert "strategic (5)" not in words and "earlier deal" not in words


def test_an_older_customer_statement_counts_when_this_customer_did_not_name_the_partner(
    client, customer, rep, make_deal, make_account, alpha, beta
):
    account = make_account(owner=rep, vendor_strength=3)
    older = make_deal(rep, account=account, status="awaiting_customer", originator="customer")
    answer_for(older, rows=[(alpha, 5)])
    route(client, older)
    close_won(client, older)
    assert db.session.get(Deal, older.id).status == "won"

    deal = make_deal(rep, account=account, status="awaiting_customer", originator="customer")
    data = form(row(0, partner=beta, strength=2), fulfilment="no_preference")
    assert customer.submit(create_link(client, deal), data).status_code == 302
    route(client, deal)
    decision = db.session.get(Deal, deal.id).decisions[-1]
    assert decision.output["leader"] == {"kind": "partner", "partner_id": alpha.id}
    assert "Alpha Systeme has the strongest relationship with the customer, strategic (5), as the customer " in (
        trace_text(decision)
    )
    assert "stated on an earlier deal" in trace_text(decision)


def test_every_problem_is_shown_in_one_round_and_every_answer_is_kept(customer, deal, link, alpha, beta):
    data = form(
        row(0, partner=alpha, strength="", does_what="Runs our network"),
        row(1, partner=beta, strength=3, duration="3_5"),
        contact_email="hanna(at)kunde",
        fulfilment="partner",
        fulfilment_reason="They know our shop floor",
        company_name="Kept Company GmbH",
        consent=None,
    )
    response = customer.submit(link, data)
    assert response.status_code == 400
    assert "email address" in field_error(response, "contact_email")
    assert "describe the relationship" in field_error(response, "rows-0-strength")
    assert "which of your partners should deliver" in field_error(response, "fulfilment_row")
    assert "consent" in field_error(response, "consent")
    page = response.get_data(as_text=True)
    for kept in ("Kept Company GmbH", "hanna(at)kunde", "Runs our network", "They know our shop floor"):
        assert kept in page
    assert re.search(rf'<option selected value="{beta.id}">Beta Netzwerk</option>', page)
    assert re.search(r'<option selected value="3_5">', page)
    assert db.session.query(CustomerAnswer).count() == 0
    assert db.session.get(Deal, deal.id).status == "awaiting_customer"


def test_the_consent_question_comes_after_the_answers_that_make_it_needed(customer, link):
    page = customer.get(link).get_data(as_text=True)
    delivery, contact = page.index('name="fulfilment"'), page.index('name="contact_preference"')
    consent, send = page.index('id="consent"'), page.index('value="send"')
    assert delivery < contact < consent < send
    assert "Needed only if a partner will help you" in page[consent:send]

    response = customer.submit(link, form(row(0), works_with_partner="no", fulfilment="any_partner", consent=None))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    # The message is beside the checkbox it is about, and the checkbox is described by it.
    assert re.search(r'id="consent-error"[^>]*>[^<]*consent[^<]*</p>\s*<label class="choice consent"', html)
    assert re.search(r'<input type="checkbox" id="consent"[^>]*aria-describedby="consent-error"', html)


@pytest.mark.parametrize(
    "fulfilment, contact, needed",
    [
        ("direct", "vendor", False),
        ("no_preference", "no_preference", False),
        ("direct", "no_preference", False),
        ("no_preference", "vendor", False),
        ("partner", "vendor", True),
        ("any_partner", "no_preference", True),
        ("direct", "partner", True),
        ("no_preference", "partner", True),
    ],
)
def test_consent_is_refused_only_when_a_partner_will_help(customer, deal, link, alpha, fulfilment, contact, needed):
    data = form(row(0, partner=alpha, strength=3), fulfilment=fulfilment, contact_preference=contact, consent=None)
    response = customer.submit(link, data)
    if needed:
        assert response.status_code == 400
        assert "consent" in field_error(response, "consent")
        assert db.session.query(CustomerAnswer).count() == 0
    else:
        assert response.status_code == 302, response.get_data(as_text=True)
        answer = db.session.scalars(select(CustomerAnswer)).one()
        assert (answer.fulfilment, answer.contact_preference, answer.consented_at) == (fulfilment, contact, None)
        assert db.session.get(Deal, deal.id).status == "ready_to_route"


def test_the_partner_rows_are_headed_by_the_partners_names_once_named(customer, link, alpha):
    page = customer.get(link)
    assert legends(page) == ["Partner 1"]
    response = customer.submit(link, form(row(0, partner=alpha, strength=3), action="add_row"))
    assert legends(response) == ["Alpha Systeme", "Partner 2"]
    response = customer.submit(
        link, form(row(0, partner=alpha, strength=3), row(1, name="  Local   Heroes "), action="add_row")
    )
    assert legends(response)[:2] == ["Alpha Systeme", "Local Heroes"] and legends(response)[2] == "Partner 3"

    # A refused round keeps the names on the rows, and so does the page once answered.
    refused = customer.submit(link, form(row(0, partner=alpha, strength=3), row(1, name="Local Heroes"), consent=None))
    assert refused.status_code == 400 and legends(refused) == ["Alpha Systeme", "Local Heroes"]
    data = form(row(0, partner=alpha, strength=3), row(1, name="Local Heroes", strength=2), fulfilment_row="0")
    assert customer.submit(link, data).status_code == 302
    assert legends(customer.get(link)) == ["Alpha Systeme", "Local Heroes"]
