"""Accounts: the list, an account's page with its deals and relationships by source, its edit under the policy."""

import pytest

from intake.deals import registrations
from intake.extensions import db
from intake.models import Account, PartnerUser

from .conftest import answer_for, sign_in


def _edit(browser, account, **values):
    data = {
        "name": account.name,
        "domain": account.domain or "",
        "country": account.country or "",
        "vertical": account.vertical or "",
        "size_band": account.size_band or "",
        "vendor_strength": "" if account.vendor_strength is None else str(account.vendor_strength),
        "vendor_since": "",
        **values,
    }
    return browser.submit(f"/accounts/{account.id}/edit", data)


def test_the_list_finds_accounts_by_name_or_domain_with_their_open_deals(client, rep, make_deal, make_account):
    deal = make_deal(
        rep, account_values={"name": "Müller Logistik GmbH & Co. KG", "domain": "mueller-logistik.example"}
    )
    make_account(name="Other Company AG", domain="other.example")
    page = client.get("/accounts?q=muller logistik").get_data(as_text=True)
    assert "Müller Logistik GmbH &amp; Co. KG" in page and "Other Company" not in page
    assert f'href="/accounts/{deal.account_id}"' in page
    assert "Other Company AG" in client.get("/accounts?q=other.example").get_data(as_text=True)


def test_an_accounts_page_shows_its_relationships_by_who_stated_them(
    app, client, rep, make_user, make_deal, ready, thames, borealis
):
    deal = make_deal(rep, status="awaiting_customer", partners=[(thames, 2)])
    answer_for(deal, rows=[(borealis, 4)])
    partner_user = db.session.scalars(db.select(PartnerUser).where(PartnerUser.partner_id == thames.id)).first()
    registrations.state_strength(partner_user, deal.account, strength=5, since=None)
    db.session.commit()
    other_rep = make_user("rep")
    theirs = make_deal(other_rep, account=deal.account)

    page = client.get(f"/accounts/{deal.account_id}").get_data(as_text=True)
    rep_part, rest = page.split("The rep&#39;s estimate", 1)[1].split("The customer&#39;s statement", 1)
    customer_part, partner_part = rest.split("The partner&#39;s statement", 1)
    assert "Thames Cloud" in rep_part and "2 · transactional" in rep_part
    assert "Borealis Systems" in customer_part and "4 · trusted" in customer_part
    assert "Thames Cloud" in partner_part and "5 · strategic" in partner_part
    # A rep lists their own deals on it, not another rep's.
    assert f'href="/deals/{deal.id}"' in page and f'href="/deals/{theirs.id}"' not in page


def test_an_account_is_edited_by_its_owner_or_the_channel_manager_only(app, client, rep, make_user, make_deal, boss):
    deal = make_deal(rep)
    account = deal.account
    response = _edit(client, account, name="Renamed GmbH", domain="https://www.Renamed.example/about")
    assert response.status_code == 302
    db.session.refresh(account)
    assert (account.name, account.domain, account.name_key) == ("Renamed GmbH", "renamed.example", "renamed")

    other = sign_in(app, make_user("rep"))
    assert other.get(f"/accounts/{account.id}/edit").status_code == 302  # sent back to the page, told why
    page = other.get(f"/accounts/{account.id}").get_data(as_text=True)
    assert "Only " in page and f"/accounts/{account.id}/edit" not in page
    refused = other.post(
        f"/accounts/{account.id}/edit", data={"csrf_token": other.csrf_token(f"/accounts/{account.id}")}
    )
    assert refused.status_code == 302
    db.session.refresh(account)
    assert account.name == "Renamed GmbH"

    manager = sign_in(app, boss)
    assert _edit(manager, account, name="Managed GmbH").status_code == 302
    db.session.refresh(account)
    assert account.name == "Managed GmbH"


def test_editing_an_account_refuses_bad_answers_beside_the_field_and_keeps_them(client, rep, make_deal, make_account):
    deal = make_deal(rep)
    taken = make_account(name="Taken Ltd", domain="taken.example")
    for values, error in (
        ({"domain": "shop.taken.example"}, "“Taken Ltd” already has this domain"),
        ({"domain": "not a domain"}, "Enter a web domain such as example.com."),
        ({"name": ""}, "The company name cannot be empty."),
        ({"vendor_since": "2999-01-01"}, "This date cannot be in the future."),
        ({"country": "XX"}, "Not a valid choice"),
    ):
        response = _edit(client, deal.account, **values)
        assert response.status_code == 400, values
        assert error in response.get_data(as_text=True), values
    assert db.session.get(Account, deal.account_id).domain == deal.account.domain
    assert taken.domain == "taken.example"
    assert client.get("/accounts/999999").status_code == 404


def test_the_channel_manager_merges_two_accounts_of_one_company_and_routing_sees_one_account(
    app, rep, make_user, make_deal, make_account, boss, thames
):
    keep = make_account(owner=rep, name="Acme Holdings", domain=None, vertical="Technology")
    gone_owner = make_user("rep")
    gone = make_account(owner=gone_owner, name="ACME Holdings GmbH", domain="acme-holdings.example")
    first = make_deal(rep, account=keep, status="awaiting_customer", originator="partner", originator_partner=thames)
    second = make_deal(gone_owner, account=gone, status="awaiting_customer")
    gone_id = gone.id
    manager = sign_in(app, boss)

    page = manager.get(f"/accounts/{keep.id}").get_data(as_text=True)
    assert f'<option value="{gone.id}">ACME Holdings GmbH (acme-holdings.example)</option>' in page
    unconfirmed = manager.submit(
        f"/admin/accounts/{keep.id}/merge", {"other_id": str(gone.id)}, page=f"/accounts/{keep.id}"
    )
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.get_data(as_text=True)
    assert db.session.get(Account, gone.id) is not None

    merged = manager.submit(
        f"/admin/accounts/{keep.id}/merge", {"other_id": str(gone.id), "confirm": "y"}, page=f"/accounts/{keep.id}"
    )
    assert merged.status_code == 302
    db.session.expire_all()
    assert db.session.get(Account, gone_id) is None
    kept = db.session.get(Account, keep.id)
    # The details the kept account lacked come from the merged one; its own stay.
    assert (kept.name, kept.domain, kept.vertical, kept.owner_id) == (
        "Acme Holdings",
        "acme-holdings.example",
        "Technology",
        rep.id,
    )
    assert {first.id, second.id} <= {
        d.id for d in db.session.scalars(db.select(type(first)).where(type(first).account_id == keep.id))
    }
    # Two open deals of different originators on one account now: routing holds the second as a conflict.
    from intake.deals import decisions

    assert first.id in decisions.propose(db.session.get(type(second), second.id)).decision.conflicts
    # A rep cannot merge; merging an account into itself is refused.
    assert sign_in(app, rep).post(f"/admin/accounts/{keep.id}/merge", data={}).status_code in (302, 400, 403, 404)
    itself = manager.submit(
        f"/admin/accounts/{keep.id}/merge", {"other_id": str(keep.id), "confirm": "y"}, page=f"/accounts/{keep.id}"
    )
    assert itself.status_code == 400


def test_an_account_merged_away_a_moment_ago_is_said_so_not_a_5xx(app, rep, make_account, boss):
    """Two managers merge the same account at once: the other server's merge deletes it between this
    request reading it and locking it; this one is told so, and nothing changes."""
    from intake.deals import services
    from intake.errors import ChangedMeanwhile

    keep = make_account(owner=rep, name="Twice Merged AG", domain="twice.example")
    gone = make_account(owner=rep, name="Twice Merged GmbH", domain="twice-merged.example")
    assert keep.name and gone.name  # both read by this request
    with db.engine.begin() as elsewhere:  # the other server, a moment earlier
        elsewhere.execute(db.text("DELETE FROM accounts WHERE id = :id"), {"id": gone.id})
    with pytest.raises(ChangedMeanwhile):
        services.merge_accounts(keep, gone, actor=boss)
    db.session.rollback()
    assert db.session.get(Account, keep.id).name == "Twice Merged AG"
