"""The account policy: a rep edits the accounts they own or that have no owner; the channel
manager edits all; another rep's account is read-only to a rep, and every change is audited."""

from sqlalchemy import select

from intake.extensions import db
from intake.models import Account, AuditEvent

from .conftest import sign_in


def _account_section(deal) -> str:
    return f"/deals/{deal.id}/account"


def _details(account, **changes) -> dict:
    values = {
        "account_id": str(account.id),
        "name": account.name,
        "domain": account.domain or "",
        "country": account.country or "",
        "vertical": account.vertical or "",
        "size_band": account.size_band or "",
        "vendor_strength": "" if account.vendor_strength is None else str(account.vendor_strength),
        "contact_name": "Hanna Berg",
    }
    values.update(changes)
    return values


def test_a_rep_cannot_change_another_reps_account_even_by_posting_its_fields(app, make_user, make_account, make_deal):
    owner = make_user("rep", email="owner@example.com", name="Olga Owner")
    account = make_account(owner=owner, vendor_strength=1)
    other = make_user("rep", email="other@example.com", name="Otto Other")
    deal = make_deal(other, account=account)
    browser = sign_in(app, other)

    page = browser.get(_account_section(deal)).get_data(as_text=True)
    assert "Olga Owner" in page and "only they or the channel manager can change" in page
    assert 'name="vendor_strength"' not in page and 'name="name"' not in page

    response = browser.submit(
        _account_section(deal), _details(account, vendor_strength="5", name="Renamed", contact_name="Hanna Berg")
    )
    assert response.status_code == 302
    db.session.expire_all()
    account = db.session.get(Account, account.id)
    assert (account.vendor_strength, account.name) == (1, account.name)
    assert account.name != "Renamed"
    assert deal.contact_name == "Hanna Berg"  # the deal's own contact is still theirs to save


def test_the_service_refuses_a_change_to_another_reps_account(app, make_user, make_account, make_deal):
    from intake.deals import services
    from intake.errors import FieldErrors

    owner = make_user("rep", email="owner@example.com", name="Olga Owner")
    account = make_account(owner=owner, vendor_strength=1)
    other = make_user("rep", email="other@example.com")
    deal = make_deal(other, account=account)
    try:
        services.save_account_section(deal, {"vendor_strength": 5, "name": account.name}, actor=other)
    except FieldErrors as exc:
        assert "only they or the channel manager" in exc.errors["account"]
    else:
        raise AssertionError("another rep changed the account")
    db.session.rollback()
    assert db.session.get(Account, account.id).vendor_strength == 1


def test_the_owner_and_the_channel_manager_edit_it_and_each_change_is_audited(
    app, make_user, make_account, make_deal, boss
):
    owner = make_user("rep", email="owner@example.com", name="Olga Owner")
    account = make_account(owner=owner, vendor_strength=1)
    deal = make_deal(owner, account=account)

    response = sign_in(app, owner).submit(_account_section(deal), _details(account, vendor_strength="3"))
    assert response.status_code == 302
    response = sign_in(app, boss).submit(_account_section(deal), _details(account, vendor_strength="4"))
    assert response.status_code == 302

    db.session.expire_all()
    assert db.session.get(Account, account.id).vendor_strength == 4
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity == "account", AuditEvent.entity_id == account.id, AuditEvent.action == "updated")
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.actor_id, e.changes["vendor_strength"]) for e in events] == [(owner.id, [1, 3]), (boss.id, [3, 4])]
