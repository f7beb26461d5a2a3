"""With more partners than a select lists (PARTNER_CHOICES), a partner is typed by name, with names suggested.

A select of every partner would be thousands of options on the customer's phone and in each of the rep's
partner rows; past the limit the selects list only the partners the form already names, and a name typed is the
partner of ours it names, as if it had been chosen.
"""

import re

import pytest
from sqlalchemy import select

from intake.extensions import db
from intake.models import Deal, Relationship

from .test_customer_link import answers, create_link


@pytest.fixture
def partners(app, make_partner):
    """Three partners, and selects that list two at most."""
    app.config["PARTNER_CHOICES"] = 2
    return {
        name: make_partner(name=name, countries=["DE"])
        for name in ("Nordlicht IT GmbH", "Nordwind Systems", "Alpenblick Services")
    }


def options(page: str, select_name: str) -> list[str]:
    """The values of the partners a select lists ([] if the page has no such select)."""
    found = re.search(rf'<select[^>]*name="{select_name}"[^>]*>(.*?)</select>', page, re.S)
    return re.findall(r'<option (?:selected )?value="(\d+)"', found.group(1)) if found else []


@pytest.fixture
def awaiting(rep, make_deal, partners):
    return make_deal(rep, status="awaiting_customer")


@pytest.fixture
def link(client, awaiting):
    return create_link(client, awaiting)


def test_the_customers_page_lists_no_partner_and_suggests_names_as_they_type(app, link, partners):
    customer = app.test_client()
    page = customer.get(link).get_data(as_text=True)
    assert 'name="rows-0-partner_id"' not in page
    assert f'data-suggest="{link}/partners"' in page and '<datalist id="partner-names">' in page
    assert "we suggest names as you type" in page and "intake.js" in page

    def names(typed: str) -> list[str]:
        response = customer.get(f"{link}/partners", query_string={"q": typed})
        assert response.status_code == 200 and response.is_json
        return response.json["names"]

    # Case, accents, spaces and legal forms aside; those the name begins with first.
    assert names("nord") == ["Nordlicht IT GmbH", "Nordwind Systems"]
    assert names("WIND sys") == ["Nordwind Systems"]
    assert names("ice") == ["Alpenblick Services"]
    assert names("n") == [] and names("%_") == [] and names("x" * 5000) == []


def test_a_partner_the_customer_types_is_our_partner_and_is_listed_once_named(app, link, partners):
    customer = app.test_client()
    nordwind = partners["Nordwind Systems"]
    typed = {"rows-0-partner_id": "", "rows-0-partner_name": "NORDWIND systems"}
    response = customer.submit(link, answers(nordwind, **typed))
    assert response.status_code == 302, response.get_data(as_text=True)
    row = db.session.scalars(select(Relationship).where(Relationship.source == "customer")).one()
    assert (row.partner_id, row.partner_name) == (nordwind.id, "")
    # Back on the page, the partner they named is listed and chosen; the others still are not.
    page = customer.get(link).get_data(as_text=True)
    assert options(page, "rows-0-partner_id") == [str(nordwind.id)]
    assert f'<option selected value="{nordwind.id}">' in page


def test_the_suggestions_follow_the_link(app, client, awaiting, link):
    customer = app.test_client()
    assert customer.get("/p/not-a-link/partners", query_string={"q": "nord"}).status_code == 404
    client.submit(f"/deals/{awaiting.id}/link/revoke", page=f"/deals/{awaiting.id}")
    assert customer.get(f"{link}/partners", query_string={"q": "nord"}).status_code == 410


def test_with_every_partner_listable_the_page_lists_them_and_suggests_nothing(app, link, partners):
    app.config["PARTNER_CHOICES"] = 3
    page = app.test_client().get(link).get_data(as_text=True)
    assert sorted(options(page, "rows-0-partner_id")) == sorted(str(p.id) for p in partners.values())
    assert "data-suggest" not in page and "intake.js" not in page


@pytest.fixture
def draft(client, rep, make_deal):
    return make_deal(rep)


def test_the_reps_landscape_lists_the_partners_it_names_and_takes_others_by_name(client, draft, partners):
    page = client.get(f"/deals/{draft.id}/landscape").get_data(as_text=True)
    assert options(page, "rows-0-partner_id") == ["0"]  # only "Other (type the name)"
    assert 'data-suggest="/partners/names"' in page and "Only the partners named here are listed." in page
    response = client.submit(
        f"/deals/{draft.id}/landscape",
        {"partners_known": "yes", "rows-0-partner_name": "Alpenblick Services AG", "rows-0-strength": "3"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    alpenblick = partners["Alpenblick Services"]
    assert [(r.partner_id, r.partner_name) for r in db.session.get(Deal, draft.id).landscape] == [(alpenblick.id, "")]
    page = client.get(f"/deals/{draft.id}/landscape").get_data(as_text=True)
    assert options(page, "rows-0-partner_id") == [str(alpenblick.id), "0"]


def test_the_reps_origin_takes_the_finding_partner_by_name(client, draft, partners):
    page = client.get(f"/deals/{draft.id}/origin").get_data(as_text=True)
    assert options(page, "originator_partner_id") == [] and 'name="originator_partner_name"' in page
    refused = client.submit(
        f"/deals/{draft.id}/origin", {"originator": "partner", "originator_partner_name": "Nobody We Know"}
    )
    assert refused.status_code == 400
    assert "No partner of ours is called “Nobody We Know”." in refused.get_data(as_text=True)
    response = client.submit(
        f"/deals/{draft.id}/origin", {"originator": "partner", "originator_partner_name": "NORDLICHT it"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.get(Deal, draft.id).originator_partner_id == partners["Nordlicht IT GmbH"].id


def test_the_reps_suggestions(client, rep, partners):
    response = client.get("/partners/names", query_string={"q": "alpen"})
    assert response.status_code == 200 and response.json == {"names": ["Alpenblick Services"]}


def test_a_customer_who_names_no_partner_is_told_so_without_the_list(app, link, partners):
    customer = app.test_client()
    response = customer.submit(link, answers(partners["Nordwind Systems"], **{"rows-0-partner_id": ""}))
    assert response.status_code == 400
    assert "Choose the partner, or type its name." in response.get_data(as_text=True)


# ---------------------------------------------------------------- the channel manager's decision


def override_page(manager, deal) -> str:
    return manager.get(f"/admin/deals/{deal.id}/override").get_data(as_text=True)


def test_the_managers_override_lists_the_partners_the_proposal_knows_and_takes_another_by_name(
    app, manager, ready, partners
):
    nordlicht, alpenblick = partners["Nordlicht IT GmbH"], partners["Alpenblick Services"]
    deal = ready(partner=nordlicht, strength=4, originator="customer")
    page = override_page(manager, deal)
    listed = re.findall(r'<option (?:selected )?value="partner:(\d+)"', page)
    assert set(listed) == {str(nordlicht.id)}  # in both selects, and no other partner
    assert (
        'name="leader_name"' in page and 'name="fulfilment_name"' in page and 'data-suggest="/partners/names"' in page
    )

    refused = manager.submit(
        f"/admin/deals/{deal.id}/override",
        {"leader": "vendor", "fulfilment": "vendor", "fulfilment_name": "Nobody We Know", "reason": "Asked for."},
    )
    assert refused.status_code == 400
    assert "No partner of ours is called “Nobody We Know”." in refused.get_data(as_text=True)

    response = manager.submit(
        f"/admin/deals/{deal.id}/override",
        {
            "leader": "vendor",
            "fulfilment": "vendor",
            "fulfilment_name": "alpenblick services",
            "reason": "The customer asked for Alpenblick.",
            "confirm": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    output = db.session.get(Deal, deal.id).decisions[-1].output
    assert (output["leader"], output["fulfilment"]) == (
        {"kind": "vendor"},
        {"kind": "partner", "partner_id": alpenblick.id},
    )


def test_with_every_partner_listable_the_override_lists_them_all(app, manager, ready, partners):
    app.config["PARTNER_CHOICES"] = 3
    deal = ready(partner=partners["Nordlicht IT GmbH"], strength=4, originator="customer")
    page = override_page(manager, deal)
    listed = set(re.findall(r'<option (?:selected )?value="partner:(\d+)"', page))
    assert listed == {str(p.id) for p in partners.values()} and 'name="leader_name"' not in page


# ---------------------------------------------------------------- the filters of the dashboard and the ledger


def without_tokens(page: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", page)


@pytest.mark.parametrize(
    ("path", "every"), [("/dashboard", "Every partner"), ("/admin/ledger", "All partners")], ids=["dashboard", "ledger"]
)
def test_a_filter_by_partner_takes_a_typed_name_where_there_are_too_many_to_list(
    manager, rep, make_deal, partners, path, every
):
    make_deal(rep)  # a deal for the dashboard to count and link to
    page = manager.get(path).get_data(as_text=True)
    assert 'name="partner"' not in page and f'name="partner_name" value="" placeholder="{every}"' in page
    nordwind = partners["Nordwind Systems"]
    typed = manager.get(path, query_string={"partner_name": "nordwind SYSTEMS"}).get_data(as_text=True)
    chosen = manager.get(path, query_string={"partner": nordwind.id}).get_data(as_text=True)
    assert 'name="partner_name" value="Nordwind Systems"' in typed
    assert without_tokens(typed) == without_tokens(chosen)  # the same filter, however it was named
    # A name no partner has: the filter says so and filters by no partner, the page's links too.
    unknown = manager.get(path, query_string={"partner_name": "Nobody We Know"}).get_data(as_text=True)
    assert "No partner is called “Nobody We Know”: every partner is shown." in unknown
    assert "partner=" not in unknown and 'value="Nobody We Know"' in unknown


def test_with_every_partner_listable_a_filter_lists_them_all_inactive_ones_too(app, manager, partners, make_partner):
    app.config["PARTNER_CHOICES"] = 4
    gone = make_partner(name="Gone Away Ltd", is_active=False)
    page = manager.get("/dashboard").get_data(as_text=True)
    assert sorted(options(page, "partner")) == sorted(str(p.id) for p in [*partners.values(), gone])
    assert 'name="partner_name"' not in page
