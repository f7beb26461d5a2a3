"""The customer's personal link: issued by the rep, answered without an account, one deal per token."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select, text

from intake.extensions import db
from intake.models import AuditEvent, CustomerAnswer, CustomerLink, Deal, OutboxMessage, Relationship

from .conftest import statements_to_get


def field_error(response, field_id):
    found = dict(re.findall(r'class="field-error" id="([^"]+)-error"[^>]*>([^<]*)<', response.get_data(as_text=True)))
    assert field_id in found, f"no error on {field_id}: {found}"
    return found[field_id]


@pytest.fixture
def deal(rep, make_deal, make_partner):
    partner = make_partner(name="Nordlicht IT", countries=["DE"])
    return make_deal(
        rep,
        status="awaiting_customer",
        contact_name="Hanna Huber",
        contact_email="hanna@kunde.example",
        contact_title="CIO",
        partners=[(partner, 2)],
    )


@pytest.fixture
def partner(deal):
    return deal.landscape[0].partner


def create_link(client, deal, language="en"):
    response = client.submit(f"/deals/{deal.id}/link", {"language": language}, page=f"/deals/{deal.id}")
    assert response.status_code == 302
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    url = re.search(r'id="link-url"[^>]*value="([^"]+)"', page).group(1)
    return "/p/" + url.rsplit("/p/", 1)[1]


@pytest.fixture
def link(client, deal):
    return create_link(client, deal)


@pytest.fixture
def customer(app):
    return app.test_client()


def answers(partner, **overrides):
    data = {
        "company_name": "Kunde GmbH",
        "contact_name": "Hanna Huber",
        "contact_email": "hanna@kunde.example",
        "works_with_partner": "yes",
        "rows-0-partner_id": str(partner.id),
        "rows-0-strength": "4",
        "rows-0-duration": "over_5",
        "rows-0-does_what": "Runs our network",
        "fulfilment": "partner",
        "contact_preference": "partner",
        "consent": "y",
        "action": "send",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_customer_answers_and_the_deal_is_ready_to_route(client, customer, deal, partner, link):
    assert customer.get(link).status_code == 200
    response = customer.submit(link, answers(partner, fulfilment_reason="They know us best"))
    assert response.status_code == 302
    assert "we have your answers" in customer.get(link).get_data(as_text=True)
    deal = db.session.get(Deal, deal.id)
    assert deal.status == "ready_to_route"
    answer = deal.customer_answer
    assert (answer.fulfilment, answer.contact_preference) == ("partner", "partner")
    assert (answer.fulfilment_partner_id, answer.fulfilment_partner_name) == (partner.id, "")
    assert answer.consented_at is not None and "share these answers" in answer.consent_text
    said = deal.customer_relationships
    assert [(r.partner_id, r.strength, r.source, r.duration) for r in said] == [(partner.id, 4, "customer", "over_5")]
    assert [(r.strength, r.source) for r in deal.landscape] == [(2, "rep")]  # the rep's estimate is kept
    link_row = db.session.scalars(select(CustomerLink)).one()
    assert link_row.opened_at and link_row.answered_at and link_row.state(datetime.now(UTC)) == "answered"


def test_the_rep_sees_the_customers_answers_beside_their_own(client, customer, deal, partner, link):
    customer.submit(link, answers(partner, contact_name="Hanna Huber-Maier"))
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "The customer's answers" in page
    row = re.search(r'<tr class="differs">\s*<td>Nordlicht IT.*?</tr>', page, re.S).group(0)
    assert "2 · transactional" in row and "4 · trusted" in row
    assert "Hanna Huber-Maier" in page  # a changed contact detail, shown beside the rep's


def test_the_customer_can_change_their_answer_until_the_deal_is_routed(client, customer, deal, partner, link):
    customer.submit(link, answers(partner))
    customer.submit(link, answers(partner, fulfilment="direct", contact_preference="vendor", consent=None))
    answer = db.session.scalars(select(CustomerAnswer)).one()
    assert (answer.fulfilment, answer.contact_preference) == ("direct", "vendor")
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == deal.id)).all()
    assert actions.count("customer answered") == 1 and actions.count("customer changed answer") == 1

    assert client.submit(f"/deals/{deal.id}/route", page=f"/deals/{deal.id}").status_code == 302
    assert db.session.get(Deal, deal.id).status == "routed"
    page = customer.get(link).get_data(as_text=True)
    assert "Your contact" in page and "Send my answers" not in page
    customer.post(link, data=answers(partner, fulfilment="any_partner"))
    assert db.session.scalars(select(CustomerAnswer)).one().fulfilment == "direct"


def test_a_replayed_submission_records_one_answer(customer, deal, partner, link):
    data = answers(partner)
    data["csrf_token"] = customer.csrf_token(link)
    for _ in range(3):
        assert customer.post(link, data=data).status_code == 302
    assert db.session.query(CustomerAnswer).count() == 1
    assert db.session.query(Relationship).filter_by(source="customer").count() == 1
    events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("customer%answer%"))).all()
    assert events == ["customer answered"]


def test_the_customers_page_reads_its_deal_and_contact_with_the_link(customer, rep, deal, link):
    """The link's own statement brings the deal, its account, the answer, the stated partners and the rep,
    who is the customer's contact until they are told of another: then the partners offered, the contact."""
    assert customer.get(link).status_code == 200  # the first visit records that the link was opened
    assert statements_to_get(customer, link) == 3
    assert f"Your contact at the moment: {rep.name}," in customer.get(link).get_data(as_text=True)


def test_the_plain_token_is_nowhere_in_the_database(app, client, deal, link):
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 22  # at least 128 bits in URL-safe base64
    with db.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                assert token not in " ".join(str(value) for value in row), table


def test_emailing_the_link_queues_it_in_the_customers_language(client, deal):
    link = create_link(client, deal, language="de")
    response = client.submit(f"/deals/{deal.id}/link/email", page=f"/deals/{deal.id}")
    assert response.status_code == 302
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.recipients == ["hanna@kunde.example"] and message.status == "pending"
    assert "Wie möchten Sie" in message.subject
    assert link.rsplit("/", 1)[1] in message.text_body and "Guten Tag Hanna Huber" in message.text_body
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "queued" in page and ">sent<" in page


def test_an_expired_link_is_gone(customer, deal, link):
    row = db.session.scalars(select(CustomerLink)).one()
    row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    response = customer.get(link)
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)


def test_links_last_the_configured_number_of_days(app, deal, link):
    row = db.session.scalars(select(CustomerLink)).one()
    assert row.expires_at - row.created_at == timedelta(days=app.config["LINK_DAYS"]) == timedelta(days=14)


def test_a_revoked_link_is_gone_and_a_new_one_works(client, customer, deal, link):
    client.submit(f"/deals/{deal.id}/link/revoke", page=f"/deals/{deal.id}")
    response = customer.get(link)
    page = response.get_data(as_text=True)
    assert response.status_code == 410 and "ask your contact" in page.lower()
    newer = create_link(client, deal)
    assert newer != link and customer.get(newer).status_code == 200
    assert customer.get(link).status_code == 410


def test_issuing_a_new_link_revokes_the_old_one(client, customer, deal, link):
    newer = create_link(client, deal)
    assert customer.get(link).status_code == 410 and customer.get(newer).status_code == 200


@pytest.mark.parametrize("token", ["nope", "A" * 32, "u7nsj1vXGnWA0l7MDzsi1E0O4jddpfOt", "%00" * 10, "x" * 300])
def test_unknown_or_forged_links_reveal_nothing(customer, deal, link, token):
    response = customer.get(f"/p/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "We could not find this link" in page
    assert deal.account.name not in page and "Hanna" not in page


def test_guessing_links_is_rate_limited_per_address(app, customer, deal, link):
    app.config["LINK_MISSES_PER_ADDRESS"] = 5
    for n in range(5):
        customer.get(f"/p/{'G' * 31}{n}")
    assert customer.get(link).status_code == 429
    other = app.test_client()
    assert other.get(link, environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 200


def test_a_token_opens_exactly_one_deal(client, customer, rep, make_deal, deal, partner, link):
    other = make_deal(rep, status="awaiting_customer")
    other_link = create_link(client, other)
    customer.submit(link, answers(partner))
    assert db.session.get(Deal, other.id).status == "awaiting_customer"
    assert db.session.get(Deal, other.id).customer_answer is None
    assert other.account.name not in customer.get(link).get_data(as_text=True)
    assert other_link != link


def test_only_completed_deals_get_a_link(client, rep, make_deal):
    draft = make_deal(rep)
    client.submit(f"/deals/{draft.id}/link", {"language": "en"}, page=f"/deals/{draft.id}")
    assert db.session.query(CustomerLink).count() == 0


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"contact_email": "not-an-email"}, "contact_email", "email address"),
        ({"contact_name": "x" * 121}, "contact_name", "120"),
        ({"rows-0-does_what": "x" * 501}, "rows-0-does_what", "500"),
        ({"rows-0-partner_id": "999999"}, "rows-0-partner_id", "Choose a partner from the list"),
        ({"rows-0-strength": "9"}, "rows-0-strength", "Not a valid choice"),
        ({"rows-0-strength": ""}, "rows-0-strength", "describe the relationship"),
        ({"fulfilment": "free"}, "fulfilment", "choose one"),
        ({"fulfilment": None}, "fulfilment", "choose one"),
        ({"contact_preference": None}, "contact_preference", "choose one"),
        ({"consent": None}, "consent", "consent"),
        ({"works_with_partner": "no", "rows-0-partner_id": ""}, "fulfilment", "Name the partner"),
        ({"rows-0-partner_id": "", "rows-0-strength": ""}, "rows-0-partner_id", "Choose the partner"),
        (
            {f"rows-0-{f}": "" for f in ("partner_id", "partner_name", "strength", "duration", "does_what")},
            "rows-0-partner_id",
            "at least one partner",
        ),
    ],
)
def test_bad_answers_are_refused_beside_their_field_and_kept(customer, deal, partner, link, overrides, field, message):
    data = answers(partner, company_name="Kept Company Name", **overrides)
    response = customer.submit(link, data)
    assert response.status_code == 400
    assert message.lower() in field_error(response, field).lower()
    assert "Kept Company Name" in response.get_data(as_text=True)
    assert db.session.get(Deal, deal.id).status == "awaiting_customer"


def test_an_inactive_partner_is_not_offered_and_cannot_be_sent(customer, deal, partner, link, make_partner):
    gone = make_partner(name="Gone Partner", is_active=False)
    assert "Gone Partner" not in customer.get(link).get_data(as_text=True)
    response = customer.submit(link, answers(partner, **{"rows-0-partner_id": str(gone.id)}))
    assert response.status_code == 400


def test_a_csrf_failure_keeps_the_answers(customer, deal, partner, link):
    response = customer.post(link, data=answers(partner, company_name="Still Here", csrf_token="forged"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Still Here" in page and "send them again" in page
    assert db.session.query(CustomerAnswer).count() == 0


def test_a_partner_typed_by_name_is_kept_as_the_customers(customer, deal, partner, link):
    data = answers(partner, **{"rows-0-partner_id": "", "rows-0-partner_name": "Local Heroes Ltd"})
    assert customer.submit(link, data).status_code == 302
    row = db.session.scalars(select(Relationship).where(Relationship.source == "customer")).one()
    assert (row.partner_id, row.partner_name) == (None, "Local Heroes Ltd")


def test_a_customer_adds_a_partner_row_without_javascript(customer, deal, partner, link):
    response = customer.submit(link, answers(partner, action="add_row"))
    assert response.status_code == 200
    assert 'name="rows-1-partner_id"' in response.get_data(as_text=True)
    assert db.session.query(CustomerAnswer).count() == 0


def test_partners_serving_the_customers_country_come_first(customer, deal, link, make_partner):
    make_partner(name="Aardvark Abroad", countries=["FR"])
    page = customer.get(link).get_data(as_text=True)
    assert page.index("Nordlicht IT") < page.index("Aardvark Abroad")
    assert 'optgroup label="In your country"' in page


def test_the_page_speaks_german_when_the_link_says_so_and_switches(client, customer, deal):
    link = create_link(client, deal, language="de")
    page = customer.get(link).get_data(as_text=True)
    assert '<html lang="de">' in page and "Wie möchten Sie mit uns zusammenarbeiten?" in page
    english = customer.get(link + "?lang=en").get_data(as_text=True)
    assert "How would you like to work with us?" in english
    assert "How would you like" in customer.get(link).get_data(as_text=True)  # the choice sticks


def test_german_errors_are_german(client, customer, deal, partner):
    link = create_link(client, deal, language="de")
    response = customer.submit(link, answers(partner, consent=None, fulfilment=None))
    assert response.status_code == 400
    assert "Bitte wählen Sie eine Antwort." in field_error(response, "fulfilment")


def test_the_browser_language_is_used_for_an_english_link_only_when_no_choice_was_made(app, client, deal):
    link = create_link(client, deal, language="de")
    page = app.test_client().get(link, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Wie möchten Sie" in page  # the rep's choice for this customer wins


def test_nothing_the_customer_writes_is_rendered_unescaped(client, customer, deal, partner, link):
    evil = "<script>alert(1)</script>"
    customer.submit(link, answers(partner, fulfilment_reason=evil, **{"rows-0-does_what": evil, "contact_title": evil}))
    for page in (client.get(f"/deals/{deal.id}"), customer.get(link)):
        html = page.get_data(as_text=True)
        assert evil not in html and "&lt;script&gt;" in html


def test_the_customer_page_shows_no_internal_routing_or_notes(client, customer, deal, partner, link):
    rows = {"partners_known": "yes", "rows-0-partner_id": str(partner.id), "rows-0-strength": "2"}
    response = client.submit(f"/deals/{deal.id}/landscape", {**rows, "rows-0-notes": "INTERNAL: commission 12%"})
    assert response.status_code == 302
    assert db.session.get(Deal, deal.id).landscape[0].notes == "INTERNAL: commission 12%"
    page = customer.get(link).get_data(as_text=True).lower()
    for word in ("internal", "commission", "credit", "originat", "routing"):
        assert word not in page


def test_wtforms_own_messages_come_in_the_customers_language(app):
    """WTForms' catalogue is read once per language, and a German customer's form speaks German."""
    from flask_babel import refresh

    from intake.web.link.forms import AnswerForm

    said = {}
    for language in ("de", "en", "de"):
        with app.test_request_context(f"/p/{'x' * 30}?lang={language}"):
            refresh()  # the test's application context outlives each request: the locale is chosen afresh
            form = AnswerForm()
            translations = form.meta.get_translations(form)
            said.setdefault(language, []).append((translations, translations.gettext("Not a valid choice.")))
    assert said["de"][0][1] == "Keine gültige Auswahl." and said["en"][0][1] == "Not a valid choice."
    assert said["de"][0][0] is said["de"][1][0]
