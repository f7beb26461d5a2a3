"""The discovery questionnaire: drafts save anything well-formed; completion needs every answer."""

import re
from datetime import date, timedelta

import pytest

from intake.deals.queries import HISTORY_SHOWN
from intake.extensions import db
from intake.models import Account, AuditEvent, Deal, Relationship

TODAY = date.today()


def errors(response) -> list[str]:
    return re.findall(r'class="field-error" id="([^"]+)-error">([^<]*)<', response.get_data(as_text=True))


def error_for(response, field_id: str) -> str:
    found = dict(errors(response))
    assert field_id in found, f"no error on {field_id}; errors: {found}"
    return found[field_id]


@pytest.fixture
def draft(client, rep):
    response = client.submit("/deals/new", page="/deals")
    assert response.status_code == 302
    deal_id = int(response.location.split("/")[2])
    return db.session.get(Deal, deal_id)


def save(client, deal, section, data, action="save"):
    return client.submit(f"/deals/{deal.id}/{section}", {**data, "action": action})


def fill_all(client, deal, partner):
    assert (
        save(
            client,
            deal,
            "account",
            {
                "name": "Globex Corporation",
                "domain": "https://www.globex.example/",
                "country": "DE",
                "vertical": "Retail",
                "size_band": "250-999",
                "vendor_strength": "2",
                "vendor_since": "2020-01-01",
                "contact_name": "Hank Scorpio",
                "contact_title": "CEO",
                "contact_email": "Hank@Globex.example",
                "contact_phone": "+49 30 123456",
            },
        ).status_code
        == 302
    )
    assert (
        save(
            client,
            deal,
            "origin",
            {
                "originator": "partner",
                "originator_partner_id": str(partner.id),
                "origin_channel": "partner_marketing",
                "origin_date": (TODAY - timedelta(days=10)).isoformat(),
            },
        ).status_code
        == 302
    )
    assert (
        save(
            client,
            deal,
            "need",
            {
                "pain_points": ["Rising infrastructure cost"],
                "business_impact": "Costs up 30%",
                "solutions": ["Cloud platform", "Training"],
                "estimated_value": "120000.50",
                "currency": "EUR",
                "close_date": (TODAY + timedelta(days=60)).isoformat(),
            },
        ).status_code
        == 302
    )
    assert (
        save(
            client,
            deal,
            "qualification",
            {
                "budget": "approved",
                "has_decision_maker": "yes",
                "decision_maker": "Hank",
                "next_step": "Workshop",
                "next_step_date": (TODAY + timedelta(days=5)).isoformat(),
            },
        ).status_code
        == 302
    )
    assert (
        save(
            client,
            deal,
            "landscape",
            {
                "partners_known": "yes",
                "rows-0-partner_id": str(partner.id),
                "rows-0-strength": "4",
                "rows-0-since": "2018-05-01",
                "rows-0-does_what": "Runs their network",
                "rows-1-partner_id": "0",
                "rows-1-partner_name": "Local Heroes",
                "rows-1-strength": "1",
            },
        ).status_code
        == 302
    )


def test_a_rep_qualifies_a_deal_through_all_five_sections_and_completes_it(client, draft, make_partner):
    partner = make_partner()
    fill_all(client, draft, partner)
    response = client.submit(f"/deals/{draft.id}/complete", page=f"/deals/{draft.id}")
    assert response.status_code == 302
    deal = db.session.get(Deal, draft.id)
    assert deal.status == "awaiting_customer" and deal.completed_at is not None
    assert deal.account.domain == "globex.example" and deal.account.name_key == "globex"
    assert deal.contact_email == "hank@globex.example"
    assert deal.estimated_value == pytest.approx(120000.50)
    assert deal.solutions == ["Cloud platform", "Training"]
    assert [(r.partner_id, r.partner_name, r.strength, r.source) for r in deal.landscape] == [
        (partner.id, "", 4, "rep"),
        (None, "Local Heroes", 1, "rep"),
    ]
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    for shown in (
        "Globex Corporation",
        "Hank Scorpio",
        "Costs up 30%",
        "Local Heroes",
        "awaiting the customer",
        "completed",
    ):
        assert shown in page


def test_a_draft_saves_partial_answers_and_comes_back_with_them(client, draft):
    assert save(client, draft, "need", {"business_impact": "Slow month-end close"}).status_code == 302
    page = client.get(f"/deals/{draft.id}/need").get_data(as_text=True)
    assert "Slow month-end close" in page
    assert db.session.get(Deal, draft.id).status == "draft"
    listed = client.get("/deals?status=draft").get_data(as_text=True)
    assert f"/deals/{draft.id}" in listed


def test_save_and_continue_goes_to_the_next_section(client, draft):
    response = save(client, draft, "origin", {"originator": "vendor"}, action="next")
    assert response.location == f"/deals/{draft.id}/need"


def test_completion_names_the_missing_answers_beside_their_fields(client, draft):
    save(client, draft, "account", {"name": "Initech", "contact_name": "Bill"})
    response = client.submit(f"/deals/{draft.id}/complete", page=f"/deals/{draft.id}")
    assert response.status_code == 400
    assert "Required to complete" in error_for(response, "contact_email")
    assert "Required to complete" in error_for(response, "country")
    page = response.get_data(as_text=True)
    assert "The questionnaire is not complete yet" in page
    assert db.session.get(Deal, draft.id).status == "draft"


def test_save_and_complete_keeps_the_section_just_typed(client, draft):
    response = save(client, draft, "need", {"business_impact": "Typed during the call"}, action="complete")
    assert response.status_code == 400
    assert db.session.get(Deal, draft.id).business_impact == "Typed during the call"


def test_partner_origin_needs_the_partner_at_completion(client, draft, make_partner):
    fill_all(client, draft, make_partner())
    save(
        client,
        draft,
        "origin",
        {"originator": "partner", "origin_channel": "referral", "origin_date": TODAY.isoformat()},
    )
    response = client.submit(f"/deals/{draft.id}/complete", page=f"/deals/{draft.id}")
    assert response.status_code == 400
    assert "Name the partner" in error_for(response, "originator_partner_id")


@pytest.mark.parametrize(
    "section, data, field, message",
    [
        ("account", {"name": "X", "contact_email": "not-an-email"}, "contact_email", "email address"),
        ("account", {"name": "X", "domain": "not a domain"}, "domain", "web domain"),
        ("account", {"name": "X", "contact_phone": "call me maybe"}, "contact_phone", "Digits"),
        ("account", {"name": "X" * 161}, "name", "160"),
        ("account", {"name": "X", "vendor_strength": "9"}, "vendor_strength", "Not a valid choice"),
        ("account", {"name": "X", "country": "XX"}, "country", "Not a valid choice"),
        ("account", {"name": "X", "vendor_since": (TODAY + timedelta(days=3)).isoformat()}, "vendor_since", "future"),
        ("account", {"domain": "orphan.example"}, "name", "company name"),
        ("account", {"account_id": "999999"}, "account_id", "does not exist"),
        ("origin", {"originator": "robot"}, "originator", "Not a valid choice"),
        (
            "origin",
            {"originator": "partner", "originator_partner_id": "999999"},
            "originator_partner_id",
            "Not a valid choice",
        ),
        ("origin", {"origin_date": "31/02/2025"}, "origin_date", "date"),
        ("origin", {"origin_date": (TODAY + timedelta(days=1)).isoformat()}, "origin_date", "future"),
        ("need", {"estimated_value": "-5"}, "estimated_value", "Between 0"),
        ("need", {"estimated_value": "lots"}, "estimated_value", "decimal"),
        ("need", {"estimated_value": "sNaN"}, "estimated_value", "Enter a number"),
        ("need", {"estimated_value": "Infinity"}, "estimated_value", "Enter a number"),
        ("need", {"business_impact": "x" * 2001}, "business_impact", "2000"),
        ("need", {"solutions": ["Time machine"]}, "solutions", "not a valid choice"),
        ("need", {"currency": "XYZ"}, "currency", "Not a valid choice"),
        ("qualification", {"budget": "infinite"}, "budget", "Not a valid choice"),
        ("landscape", {"rows-0-partner_id": "999999"}, "rows-0-partner_id", "Not a valid choice"),
        ("landscape", {"rows-0-partner_id": "0", "rows-0-strength": "2"}, "rows-0-partner_name", "Type the partner"),
        ("landscape", {"rows-0-strength": "6"}, "rows-0-strength", "Not a valid choice"),
    ],
)
def test_bad_answers_are_refused_beside_their_field_and_kept(client, draft, section, data, field, message):
    response = save(client, draft, section, data)
    assert response.status_code == 400
    assert message.lower() in error_for(response, field).lower()
    page = response.get_data(as_text=True)
    typed = [v for v in data.values() if isinstance(v, str) and len(v) < 100 and not v.isdigit()]
    if "choice" not in message:  # a select cannot show an option it does not have
        assert all(value in page for value in typed)  # what was typed is still on the page


def test_dates_in_the_wrong_order_are_refused(client, draft):
    save(client, draft, "origin", {"originator": "vendor", "origin_date": (TODAY - timedelta(days=5)).isoformat()})
    response = save(client, draft, "need", {"close_date": (TODAY - timedelta(days=30)).isoformat()})
    assert response.status_code == 400
    assert "before the deal was found" in error_for(response, "close_date")
    response = save(client, draft, "qualification", {"next_step_date": (TODAY - timedelta(days=6)).isoformat()})
    assert "before the deal was found" in error_for(response, "next_step_date")


def test_a_second_account_with_the_same_domain_is_refused_and_the_existing_one_offered(client, draft, make_account):
    existing = make_account(name="Umbrella Corp", domain="umbrella.example")
    response = save(client, draft, "account", {"name": "Umbrella", "domain": "HTTPS://www.Umbrella.example/jobs"})
    assert response.status_code == 400
    assert "Umbrella Corp" in error_for(response, "domain")
    page = response.get_data(as_text=True)
    assert f'name="account_id" value="{existing.id}"' in page
    assert db.session.query(Account).count() == 1
    # Choosing the offered account links it.
    assert save(client, draft, "account", {"account_id": str(existing.id)}).status_code == 302
    assert db.session.get(Deal, draft.id).account_id == existing.id


def test_accounts_are_found_by_name_or_domain(client, draft, make_account):
    make_account(name="Stark Industries Inc", domain="stark.example")
    make_account(name="Wayne Enterprises", domain="wayne.example")
    by_name = client.get(f"/deals/{draft.id}/account?q=stark").get_data(as_text=True)
    by_domain = client.get(f"/deals/{draft.id}/account?q=https://wayne.example").get_data(as_text=True)
    assert "Stark Industries" in by_name and "Wayne" not in by_name
    assert "Wayne Enterprises" in by_domain and "Stark" not in by_domain


def test_the_rep_can_switch_to_another_existing_account(client, draft, make_account):
    first, second = make_account(), make_account()
    save(client, draft, "account", {"account_id": str(first.id)})
    response = client.submit(f"/deals/{draft.id}/account?change=1", {"account_id": str(second.id), "action": "save"})
    assert response.status_code == 302
    assert db.session.get(Deal, draft.id).account_id == second.id
    assert db.session.get(Account, first.id).name == first.name  # untouched


def test_landscape_rows_can_be_added_and_removed(client, draft, make_partner):
    partner = make_partner()
    save(client, draft, "account", {"name": "Rows Inc"})
    response = client.submit(
        f"/deals/{draft.id}/landscape", {"rows-0-partner_id": str(partner.id), "action": "add_row"}
    )
    assert response.status_code == 200 and 'name="rows-1-partner_id"' in response.get_data(as_text=True)
    save(
        client,
        draft,
        "landscape",
        {
            "partners_known": "yes",
            "rows-0-partner_id": str(partner.id),
            "rows-0-strength": "3",
            "rows-1-partner_id": "0",
            "rows-1-partner_name": "Gone Soon",
            "rows-1-strength": "1",
        },
    )
    assert len(db.session.get(Deal, draft.id).landscape) == 2
    save(
        client,
        draft,
        "landscape",
        {
            "partners_known": "yes",
            "rows-0-partner_id": str(partner.id),
            "rows-0-strength": "3",
            "rows-1-partner_id": "0",
            "rows-1-partner_name": "Gone Soon",
            "rows-1-strength": "1",
            "rows-1-remove": "y",
        },
    )
    deal = db.session.get(Deal, draft.id)
    assert [r.display_name for r in deal.landscape] == [partner.name]
    assert db.session.query(Relationship).count() == 1


def test_every_change_is_in_the_deal_history(client, draft):
    save(client, draft, "need", {"business_impact": "First"})
    save(client, draft, "need", {"business_impact": "Second"})
    events = db.session.query(AuditEvent).filter_by(entity="deal", entity_id=draft.id, action="updated").all()
    assert [e.changes["business_impact"] for e in events] == [["", "First"], ["First", "Second"]]
    page = client.get(f"/deals/{draft.id}").get_data(as_text=True)
    assert "First → Second" in page


def test_the_deal_page_shows_the_latest_changes_of_a_long_history(client, draft):
    saves = HISTORY_SHOWN + 1
    for n in range(saves):
        save(client, draft, "need", {"business_impact": f"Take {n}"})
    page = client.get(f"/deals/{draft.id}").get_data(as_text=True)
    assert f"Take {saves - 2} → Take {saves - 1}" in page
    assert page.count("Business impact:") == HISTORY_SHOWN  # the first save and the creation are left out
    # Every save and the draft's creation are kept; the page shows the latest.
    assert f"The latest {HISTORY_SHOWN} of {saves + 1} changes." in page


def test_a_section_post_without_a_valid_csrf_token_keeps_the_answers(client, draft):
    response = client.post(
        f"/deals/{draft.id}/need", data={"business_impact": "Kept on the page", "csrf_token": "forged"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Kept on the page" in page and "expired" in page
    assert db.session.get(Deal, draft.id).business_impact == ""


def test_user_text_is_escaped_on_every_page(client, draft):
    save(client, draft, "account", {"name": "<script>alert(1)</script> Ltd"})
    save(client, draft, "need", {"business_impact": "<img src=x onerror=alert(1)>"})
    for page in (f"/deals/{draft.id}", "/deals", f"/deals/{draft.id}/need"):
        html = client.get(page).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html


def test_a_completed_deal_cannot_be_completed_twice(client, draft, make_partner):
    fill_all(client, draft, make_partner())
    client.submit(f"/deals/{draft.id}/complete", page=f"/deals/{draft.id}")
    response = client.submit(f"/deals/{draft.id}/complete", page=f"/deals/{draft.id}")
    assert response.status_code == 409 and "has already been completed" in response.get_data(as_text=True)
    events = db.session.query(AuditEvent).filter_by(entity="deal", entity_id=draft.id, action="completed").count()
    assert events == 1
