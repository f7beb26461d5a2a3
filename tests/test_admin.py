"""The channel manager keeps users and partners."""

import re

from intake.extensions import db
from intake.models import AuditEvent, Partner, User

from .conftest import PASSWORD


def test_the_manager_creates_a_user_who_can_sign_in(app, client, admin):
    response = client.submit(
        "/admin/users/new",
        {
            "name": "Nina New",
            "email": "Nina@Example.com",
            "role": "rep",
            "password": "a long password",
        },
    )
    assert response.status_code == 302
    user = db.session.query(User).filter_by(email="nina@example.com").one()
    assert user.role == "rep" and user.check_password("a long password")
    other = app.test_client()
    assert other.submit("/login", {"email": "nina@example.com", "password": "a long password"}).status_code == 302


def test_a_duplicate_or_malformed_user_is_refused_beside_the_field(client, admin, make_user):
    existing = make_user("rep")
    response = client.submit(
        "/admin/users/new", {"name": "X", "email": existing.email, "role": "rep", "password": "a long password"}
    )
    assert response.status_code == 400 and "already exists" in response.get_data(as_text=True)
    response = client.submit("/admin/users/new", {"name": "X", "email": "nope", "role": "boss", "password": "short"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "valid email" in page and "Not a valid choice" in page and "10 to 200" in page


def test_deactivating_a_user_signs_them_out_everywhere(app, client, admin, make_user, login):
    victim = make_user("rep")
    theirs = app.test_client()
    theirs.submit("/login", {"email": victim.email, "password": PASSWORD})
    assert theirs.get("/deals").status_code == 200
    response = client.submit(f"/admin/users/{victim.id}", {"name": victim.name, "role": "rep"})  # is_active unchecked
    assert response.status_code == 302
    assert theirs.get("/deals").status_code == 302
    assert not db.session.get(User, victim.id).is_active


def test_a_password_change_by_the_manager_signs_the_user_out(app, client, admin, make_user):
    victim = make_user("rep")
    theirs = app.test_client()
    theirs.submit("/login", {"email": victim.email, "password": PASSWORD})
    response = client.submit(
        f"/admin/users/{victim.id}/password",
        {"password": "another password", "confirm": "another password"},
        page=f"/admin/users/{victim.id}",
    )
    assert response.status_code == 302
    assert theirs.get("/deals").status_code == 302


def test_mismatched_passwords_are_refused(client, admin, make_user):
    victim = make_user("rep")
    response = client.submit(
        f"/admin/users/{victim.id}/password",
        {"password": "another password", "confirm": "different"},
        page=f"/admin/users/{victim.id}",
    )
    assert response.status_code == 400 and "differ" in response.get_data(as_text=True)


def test_the_manager_cannot_lock_themselves_out(client, admin):
    response = client.submit(f"/admin/users/{admin.id}", {"name": admin.name, "role": "rep", "is_active": "y"})
    assert response.status_code == 400
    assert db.session.get(User, admin.id).role == "admin"


def test_users_are_searchable(client, admin, make_user):
    make_user("rep", name="Zelda Zimmer")
    make_user("rep", name="Otto Other")
    page = client.get("/admin/users?q=zim").get_data(as_text=True)
    assert "Zelda Zimmer" in page and "Otto Other" not in page


def test_the_manager_adds_edits_and_deactivates_a_partner(client, admin):
    response = client.submit(
        "/admin/partners/new",
        {
            "name": "Acme Channel",
            "contact_name": "Road Runner",
            "contact_email": "rr@acme.example",
            "countries": "de, at",
            "verticals": ["Retail", "Healthcare"],
            "tier": "gold",
        },
    )
    assert response.status_code == 302
    partner = db.session.query(Partner).filter_by(name="Acme Channel").one()
    assert partner.countries == ["AT", "DE"] and partner.verticals == ["Retail", "Healthcare"] and partner.is_active
    response = client.submit(
        f"/admin/partners/{partner.id}", {"name": "Acme Channel", "countries": "CH", "tier": "platinum"}
    )
    assert response.status_code == 302
    assert db.session.get(Partner, partner.id).tier == "platinum"
    response = client.submit(f"/admin/partners/{partner.id}/active", {"active": "0"}, page="/admin/partners")
    assert response.status_code == 302
    assert db.session.get(Partner, partner.id).is_active is False
    actions = [
        e.action
        for e in db.session.query(AuditEvent).filter_by(entity="partner", entity_id=partner.id).order_by(AuditEvent.id)
    ]
    # Its contact became its first partner user, who may sign in to the partner portal.
    assert actions == ["created", "partner user invited", "updated", "deactivated"]


def test_a_deactivated_partner_is_no_longer_offered_but_deals_keep_it(client, admin, make_partner, make_deal):
    gone = make_partner(name="Gone Partners", is_active=False)
    make_partner(name="Kept Partners")
    deal = make_deal(admin, originator="partner", originator_partner=gone)
    page = client.get(f"/deals/{deal.id}/origin").get_data(as_text=True)
    assert "Gone Partners (inactive)" in page  # this deal's own answer stays visible
    other = make_deal(admin)
    page = client.get(f"/deals/{other.id}/origin").get_data(as_text=True)
    assert "Gone Partners" not in page and "Kept Partners" in page


def test_partners_are_never_deleted(app, client, admin, make_partner):
    partner = make_partner()
    assert not [r for r in app.url_map.iter_rules() if "DELETE" in r.methods and "partner" in r.rule]
    assert client.delete(f"/admin/partners/{partner.id}").status_code == 405
    assert db.session.get(Partner, partner.id) is not None


def test_bad_partner_input_is_refused_beside_the_field(client, admin, make_partner):
    make_partner(name="Taken Name")
    response = client.submit(
        "/admin/partners/new",
        {
            "name": "taken name",
            "contact_email": "not-mail",
            "countries": "DE, QQ",
            "tier": "diamond",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Not ISO country codes: QQ" in page and "valid email" in page and "Not a valid choice" in page
    response = client.submit("/admin/partners/new", {"name": "taken name", "tier": "gold"})
    assert response.status_code == 400 and "is already a partner with this name" in response.get_data(as_text=True)


def test_partners_are_searchable(client, admin, make_partner):
    make_partner(name="Nordic Lights")
    make_partner(name="Southern Cross")
    page = client.get("/admin/partners?q=nord").get_data(as_text=True)
    assert "Nordic Lights" in page and "Southern Cross" not in page
    assert re.search(r"<td>Gold</td>", page)
