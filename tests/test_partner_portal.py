"""Partner users: invited by the channel manager, signed in by a one-time mailed link, kept to their partner."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from intake.extensions import db
from intake.models import OutboxMessage, PartnerUser, SignInLink
from intake.models.types import utcnow

from .conftest import sign_in, statements_to_get

LINK = re.compile(r"/partner/sign-in/([A-Za-z0-9_-]+)")


def _invite(manager, partner, name="Oliver Smith", email="oliver@thames.example"):
    return manager.submit(
        f"/admin/partners/{partner.id}/users",
        {"name": name, "email": email},
        page=f"/admin/partners/{partner.id}",
    )


def _ask(browser, email):
    return browser.submit("/partner/login", {"email": email})


def _mailed_token(email) -> str:
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "partner_sign_in").order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None and message.recipients == [email]
    return LINK.search(message.text_body).group(1)


def _sign_in(browser, email) -> str:
    assert _ask(browser, email).status_code == 200
    token = _mailed_token(email)
    response = browser.submit(f"/partner/sign-in/{token}")
    assert response.status_code == 302 and response.headers["Location"] == "/partner/"
    return token


def _without_tokens(page: str) -> str:
    return re.sub(r'value="[^"]*"', "", page)


def _sign_in_links() -> int:
    return len(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "partner_sign_in")).all())


@pytest.fixture
def nordlicht(make_partner):
    # A partner created with a contact email: that contact is its first partner user.
    return make_partner(name="Nordlicht IT", contact_name="Nora Nord", contact_email="nora@nordlicht.example")


def test_a_new_partners_contact_is_its_first_partner_user(nordlicht):
    [user] = db.session.scalars(select(PartnerUser).where(PartnerUser.partner_id == nordlicht.id)).all()
    assert (user.name, user.email, user.is_active) == ("Nora Nord", "nora@nordlicht.example", True)


def test_the_channel_manager_invites_a_contact_and_an_address_signs_in_for_one_partner(manager, make_partner):
    partner = make_partner(name="Elbe Systems", contact_email="")
    response = _invite(manager, partner, name="Eva Elbe", email="Eva@Elbe.example")
    assert response.status_code == 302
    page = manager.get(f"/admin/partners/{partner.id}").get_data(as_text=True)
    assert "Eva Elbe" in page and "eva@elbe.example" in page

    other = make_partner(name="Other Partner", contact_email="")
    again = _invite(manager, other, name="Eva again", email="eva@elbe.example")
    assert again.status_code == 400
    assert "already signs in for a partner" in again.get_data(as_text=True)
    assert db.session.scalar(select(PartnerUser.partner_id).where(PartnerUser.email == "eva@elbe.example")) == (
        partner.id
    )


def test_a_partner_user_signs_in_by_the_mailed_link_once(app, nordlicht):
    browser = app.test_client()
    assert browser.get("/partner/").headers["Location"].startswith("/partner/login")

    response = _ask(browser, "Nora@Nordlicht.example ")
    assert response.status_code == 200 and "Check your inbox" in response.get_data(as_text=True)
    token = _mailed_token("nora@nordlicht.example")
    assert len(token) >= 43  # 256 random bits

    # The token is nowhere in the database in plain: only its hash.
    [link] = db.session.scalars(select(SignInLink)).all()
    assert token not in (link.token_hash,) and token not in repr(db.session.execute(select(SignInLink.__table__)).all())

    # Opening the link (as a mail scanner would) shows a button and signs no one in.
    opened = browser.get(f"/partner/sign-in/{token}")
    assert opened.status_code == 200 and "Welcome, Nora Nord" in opened.get_data(as_text=True)
    assert browser.get("/partner/").status_code == 302

    signed_in = browser.submit(f"/partner/sign-in/{token}")
    assert signed_in.status_code == 302
    home = browser.get("/partner/")
    assert home.status_code == 200 and "Nordlicht IT" in home.get_data(as_text=True)
    assert home.headers["Cache-Control"] == "no-store"

    # Once: the same link again, in another browser, is gone.
    again = app.test_client()
    assert again.get(f"/partner/sign-in/{token}").status_code == 410
    assert (
        again.post(f"/partner/sign-in/{token}", data={"csrf_token": again.csrf_token("/partner/login")}).status_code
        == 410
    )


def test_an_unknown_or_deactivated_address_gets_the_same_answer_and_no_mail(app, manager, nordlicht):
    browser = app.test_client()
    known = _ask(browser, "nora@nordlicht.example").get_data(as_text=True)
    assert _sign_in_links() == 1
    unknown = _ask(app.test_client(), "nobody@nordlicht.example").get_data(as_text=True)
    assert _without_tokens(unknown) == _without_tokens(known)
    user = db.session.scalar(select(PartnerUser).where(PartnerUser.email == "nora@nordlicht.example"))
    manager.submit(
        f"/admin/partners/{nordlicht.id}/users/{user.id}/active",
        {"active": "0"},
        page=f"/admin/partners/{nordlicht.id}",
    )
    deactivated = _ask(app.test_client(), "nora@nordlicht.example")
    assert deactivated.status_code == 200 and "Check your inbox" in deactivated.get_data(as_text=True)
    assert _sign_in_links() == 1  # nothing more was sent


def test_expired_and_forged_links_open_nothing(app, nordlicht):
    browser = app.test_client()
    _ask(browser, "nora@nordlicht.example")
    token = _mailed_token("nora@nordlicht.example")
    link = db.session.scalars(select(SignInLink)).one()
    link.expires_at = utcnow() - timedelta(seconds=1)  # the clock moves on: 15 minutes have passed
    db.session.commit()
    assert browser.get(f"/partner/sign-in/{token}").status_code == 410
    assert browser.get(f"/partner/sign-in/{'A' * 43}").status_code == 404
    assert browser.get("/partner/sign-in/short").status_code == 404


def test_signing_out_or_deactivation_ends_the_session_even_for_a_copied_cookie(app, manager, nordlicht):
    browser = app.test_client()
    _sign_in(browser, "nora@nordlicht.example")
    cookie = browser.get_cookie("session").value
    copy = app.test_client()
    copy.set_cookie("session", cookie)
    assert copy.get("/partner/").status_code == 200

    browser.submit("/partner/logout", page="/partner/")
    assert copy.get("/partner/").status_code == 302  # the copied cookie no longer works

    _sign_in(browser, "nora@nordlicht.example")
    user = db.session.scalar(select(PartnerUser).where(PartnerUser.email == "nora@nordlicht.example"))
    manager.submit(
        f"/admin/partners/{nordlicht.id}/users/{user.id}/active",
        {"active": "0"},
        page=f"/admin/partners/{nordlicht.id}",
    )
    assert browser.get("/partner/").status_code == 302


def test_a_partner_session_opens_nothing_of_the_staff_side_and_a_staff_session_nothing_of_the_portal(
    app, nordlicht, boss
):
    browser = app.test_client()
    _sign_in(browser, "nora@nordlicht.example")
    for path in ("/deals", "/admin/partners", "/account/password", "/admin/mail"):
        response = browser.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path

    staff = sign_in(app, boss)
    response = staff.get("/partner/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/partner/login")


def test_asking_for_links_is_limited_whoever_the_address_belongs_to(app, nordlicht):
    browser = app.test_client()
    for _ in range(app.config["SIGN_IN_LINKS_PER_EMAIL"]):
        assert _ask(browser, "nora@nordlicht.example").status_code == 200
    assert _ask(browser, "nora@nordlicht.example").status_code == 429
    for _ in range(app.config["SIGN_IN_LINKS_PER_EMAIL"]):
        assert _ask(browser, "nobody@example.com").status_code == 200
    assert _ask(browser, "nobody@example.com").status_code == 429


def test_a_partner_user_sees_only_its_own_partners_requests(app, rep, ready, thames, borealis):
    from intake.deals import decisions

    deals = {}
    for partner in (thames, borealis):
        deal = ready(partner=partner, strength=4, fulfilment="partner", originator="customer")
        decisions.route_deal(deal, actor=rep)
        db.session.commit()
        deals[partner.name] = deal.id
    browser = app.test_client()
    _sign_in(browser, "oliver@thames.example")
    page = browser.get("/partner/").get_data(as_text=True)
    assert set(re.findall(r"Deal #(\d+)", page)) == {str(deals["Thames Cloud"])}


def test_the_portal_speaks_german_when_asked(app, nordlicht):
    browser = app.test_client()
    page = browser.get("/partner/login?lang=de").get_data(as_text=True)
    assert '<html lang="de">' in page and "Im Partnerportal anmelden" in page
    answer = _ask(browser, "nora@nordlicht.example").get_data(as_text=True)
    assert "Sehen Sie in Ihr Postfach" in answer


def test_the_partners_request_mail_links_to_the_portal_too(app, rep, ready, thames):
    from intake.deals import decisions

    deal = ready(partner=thames, strength=4, fulfilment="partner", originator="customer")
    decisions.route_deal(deal, actor=rep)
    db.session.commit()
    mail = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "routed_partner", OutboxMessage.deal_id == deal.id)
    ).one()
    assert f"{app.config['BASE_URL']}/partner/" in mail.text_body
    assert f'href="{app.config["BASE_URL"]}/partner/"' in mail.html_body


def _routed_to(rep, ready, partner):
    from intake.deals import decisions, partner_requests

    deal = ready(partner=partner, strength=4, fulfilment="partner", originator="customer")
    decisions.route_deal(deal, actor=rep)
    db.session.commit()
    return deal, partner_requests.of_decision(deal.decisions[-1])[0]


def test_a_partner_user_accepts_in_the_portal_as_by_the_mailed_link(app, rep, ready, thames):
    from intake.deals import partner_requests

    deal, request = _routed_to(rep, ready, thames)
    browser = app.test_client()
    _sign_in(browser, "oliver@thames.example")
    page = browser.get(f"/partner/requests/{request.id}").get_data(as_text=True)
    assert f"Deal #{deal.id}" in page and "Accept the deal" in page and deal.account.name in page

    response = browser.submit(f"/partner/requests/{request.id}/accept", page=f"/partner/requests/{request.id}")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(request), request.id).response == "accepted"
    # One service: the mailed link now says the same.
    mailed = app.test_client().get(urlsplit(partner_requests.url(request)).path)
    assert "You accepted this deal" in mailed.get_data(as_text=True)
    again = browser.submit(f"/partner/requests/{request.id}/accept", page="/partner/")  # a second tab, say
    assert again.status_code == 302
    shown = browser.get(f"/partner/requests/{request.id}").get_data(as_text=True)
    assert "You have already accepted this deal" in shown


def test_declining_in_the_portal_needs_a_reason_and_sends_the_deal_back_to_routing(app, rep, ready, thames):
    deal, request = _routed_to(rep, ready, thames)
    browser = app.test_client()
    _sign_in(browser, "oliver@thames.example")
    url = f"/partner/requests/{request.id}/decline"
    refused = browser.submit(url, {"reason": ""}, page=f"/partner/requests/{request.id}")
    assert refused.status_code == 400 and "Tell us why" in refused.get_data(as_text=True)
    response = browser.submit(url, {"reason": "No capacity this quarter"}, page=f"/partner/requests/{request.id}")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(request), request.id).response == "declined"
    assert db.session.get(type(deal), deal.id).status == "ready_to_route"


def test_another_partners_request_and_its_pdf_are_not_found(app, rep, ready, thames, borealis, smtp):
    from .test_routed_mail import deliver

    _, thames_request = _routed_to(rep, ready, thames)
    deliver(app)  # the worker renders and stores each copy's PDF
    browser = app.test_client()
    _sign_in(browser, "bea@borealis.example")
    for path in ("", "/summary.pdf"):
        assert browser.get(f"/partner/requests/{thames_request.id}{path}").status_code == 404
    for action in ("accept", "decline"):
        response = browser.submit(f"/partner/requests/{thames_request.id}/{action}", {"reason": "x"}, page="/partner/")
        assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(type(thames_request), thames_request.id).response is None

    own = app.test_client()
    _sign_in(own, "oliver@thames.example")
    pdf = own.get(f"/partner/requests/{thames_request.id}/summary.pdf")
    from intake.deals import documents

    stored = documents.stored(thames_request.decision_id, f"partner-{thames.id}")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.data == stored.data  # the partner's own copy, never the vendor's
    assert f"/partner/requests/{thames_request.id}/summary.pdf" in own.get(
        f"/partner/requests/{thames_request.id}"
    ).get_data(as_text=True)


def test_the_portals_own_words_are_german_for_a_german_partner(app, rep, ready, thames):
    _, request = _routed_to(rep, ready, thames)
    browser = app.test_client()
    _sign_in(browser, "oliver@thames.example")
    browser.get("/partner/?lang=de")
    browser.submit(f"/partner/requests/{request.id}/accept", page="/partner/")
    home = browser.get("/partner/").get_data(as_text=True)
    assert "Danke: Sie haben den Deal angenommen." in home and "Ihre weiteren Deals" in home


def test_a_request_answered_already_cannot_be_answered_again_in_the_portal(app, rep, ready, thames):
    _, request = _routed_to(rep, ready, thames)
    browser = app.test_client()
    _sign_in(browser, "oliver@thames.example")
    browser.submit(f"/partner/requests/{request.id}/accept", page=f"/partner/requests/{request.id}")
    # A second tab still showing the buttons declines: refused, and the acceptance stands.
    response = browser.submit(
        f"/partner/requests/{request.id}/decline", {"reason": "Changed our mind"}, page="/partner/"
    )
    assert response.status_code == 302
    page = browser.get(f"/partner/requests/{request.id}").get_data(as_text=True)
    assert "You accepted this deal before; that answer stands." in page
    db.session.expire_all()
    assert db.session.get(type(request), request.id).response == "accepted"


def test_the_portals_home_reads_its_requests_in_a_constant_number_of_statements(app, rep, ready, thames):

    browser = app.test_client()
    _sign_in(browser, "oliver@thames.example")

    def statements_for_home() -> int:
        return statements_to_get(browser, "/partner/")

    _routed_to(rep, ready, thames)
    with_one = statements_for_home()
    for _ in range(3):
        _routed_to(rep, ready, thames)
    assert statements_for_home() == with_one
