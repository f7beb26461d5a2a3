import logging

from sqlalchemy import func, select, text

from intake import quarters
from intake.deals import ledger
from intake.extensions import db
from intake.models import Account, Deal, Partner, PartnerRequest, PartnerUser, Registration, User
from intake.models.types import utcnow


def test_demo_data_loads_once_with_what_a_new_user_needs(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0 and "loaded" in result.output
    roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles == {"admin": 1, "rep": 2}
    partners = db.session.scalars(select(Partner)).all()
    assert len(partners) == 6 and len({c for p in partners for c in p.countries}) >= 4
    # The twelve accounts of the reps' deals, one a partner registered that nobody here knew, and the
    # twelve of the quarters before.
    assert db.session.scalar(select(func.count()).select_from(Account)) == 25
    # Every partner's contact signs in to the portal; one registration clashed, one waits for a rep.
    assert db.session.scalar(select(func.count()).select_from(PartnerUser)) == 6
    registered = {r.deal.account.name: r for r in db.session.scalars(select(Registration))}
    assert registered["Maple Learning Inc"].clashed and registered["Maple Learning Inc"].deal.hold_reason == "conflict"
    assert not registered["Kestrel Health Partners Ltd"].clashed
    assert registered["Kestrel Health Partners Ltd"].deal.rep is None
    statuses = set(db.session.scalars(select(Deal.status)))
    assert {"draft", "awaiting_customer", "ready_to_route", "routed", "accepted", "won", "lost"} <= statuses
    # Made the way users make them: every deal past routing has its decision and its snapshot.
    for deal in db.session.scalars(select(Deal).where(Deal.status.in_(("routed", "accepted", "won", "lost")))):
        assert deal.decisions and deal.decisions[-1].summary["account"]["name"] == deal.account.name
    # A few quarters of history: deals started and routed in each of the three quarters before this one,
    # declined and let lapse as well as accepted, won and lost.
    this_quarter = quarters.of(utcnow())
    started = {quarters.of(moment) for moment in db.session.scalars(select(Deal.created_at))}
    assert len(started - {this_quarter}) >= 3
    assert len({line.quarter for line in ledger.lines()} - {this_quarter}) >= 3
    responses = set(db.session.scalars(select(PartnerRequest.response)))
    assert {"accepted", "declined", "lapsed"} <= responses
    again = runner.invoke(args=["demo", "load"])
    assert "not loaded" in again.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 3


def test_the_demo_rep_can_sign_in_and_see_their_deals(app, client):
    app.test_cli_runner().invoke(args=["demo", "load"])
    from intake.demo_data import DEMO_PASSWORD

    assert client.submit("/login", {"email": "alice@example.com", "password": DEMO_PASSWORD}).status_code == 302
    page = client.get("/deals").get_data(as_text=True)
    assert "Bergmann Werkzeuge" in page


def test_users_create_prompts_for_the_password(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--role", "admin", "Boss@Example.com"], input="a good password\na good password\n"
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "boss@example.com"))
    assert user.is_admin and user.check_password("a good password")
    again = app.test_cli_runner().invoke(
        args=["users", "create", "boss@example.com"], input="a good password\na good password\n"
    )
    assert again.exit_code == 2 and "already exists" in again.output


def test_an_unknown_page_is_a_friendly_404(client, rep):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


def test_a_database_error_gives_a_friendly_500_and_is_logged(app, client, rep, make_deal, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    deal_id = make_deal(rep).id
    # Break the database for real: the deals table goes away under the app.
    db.session.execute(text("ALTER TABLE deals RENAME TO deals_away"))
    db.session.commit()
    try:
        with caplog.at_level(logging.ERROR):
            response = client.get(f"/deals/{deal_id}")
        page = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "Something went wrong on our side" in page and "Traceback" not in page and "deals_away" not in page
        assert any("Database error" in r.getMessage() for r in caplog.records)
    finally:
        db.session.rollback()
        db.session.execute(text("ALTER TABLE deals_away RENAME TO deals"))
        db.session.commit()
