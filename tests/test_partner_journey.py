"""A partner user on a phone, in a real Chromium (Debian's, via Playwright): signs in by the mailed link,
registers two deals — one for an account nobody had claimed, one for an account that already has an
open deal — and accepts a request waiting for it."""

import re
import shutil

import pytest
from sqlalchemy import select

from intake.deals import decisions, partner_requests
from intake.extensions import db
from intake.models import Deal, OutboxMessage, PartnerRequest, Registration

from .chromium_thread import chromium_on_a_thread
from .test_browser import CHROMIUM, REQUIRED

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "en-GB"}


@pytest.fixture
def phone():
    """A phone-sized page in Debian's Chromium, as test_browser.py opens one, on a thread of its own.

    See tests.chromium_thread: test_browser.py's `browser` holds Playwright on
    the main thread for the whole session, so it cannot be shared here. `phone(job, *args)` runs
    `job(page, *args)` on the page's thread and returns what it returns; the test reads the database
    between jobs, on its own thread.
    """
    if not shutil.which(CHROMIUM):
        if REQUIRED:
            pytest.fail(f"INTAKE_REQUIRE_BROWSER=1 but there is no Chromium at {CHROMIUM}")
        pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")
    with chromium_on_a_thread(CHROMIUM, "phone") as run:
        page = run(lambda browser: browser.new_context(**PHONE).new_page())
        yield lambda job, *args: run(lambda _browser: job(page, *args))


def _now_in_the_database():
    """End the test's own transaction, so that what the live server committed since is read."""
    db.session.rollback()


def _registrations() -> list[Registration]:
    _now_in_the_database()
    return list(db.session.scalars(select(Registration).order_by(Registration.id)))


def ask_for_a_sign_in_link(page, base: str, email: str) -> None:
    page.goto(base + "/partner/login")
    page.get_by_label("Your work email").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()


def sign_in_by_the_link(page, url: str) -> str:
    page.goto(url)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Thames Cloud", level=1).wait_for()
    return page.url


def register(page, account: str, domain: str, contact: str) -> dict:
    """From the portal's home, register a deal through the form; what the page then says."""
    page.get_by_role("link", name="Register a deal").click()
    page.get_by_role("heading", name="Register a deal").wait_for()
    wide = page.evaluate("document.documentElement.scrollWidth")
    page.get_by_label("Company name").fill(account)
    page.get_by_label("Web domain").fill(domain)
    page.get_by_label("Country").select_option("GB")
    page.get_by_label("Your contact at the customer").fill(contact)
    page.get_by_label("What the customer needs").fill("A warehouse system that grows with them.")
    page.get_by_label("Your relationship with the customer").select_option("4")
    with page.expect_navigation():
        page.get_by_role("button", name="Register the deal").click()
    said = {"wide": wide, "url": page.url, "status": page.get_by_role("status").inner_text()}
    said["text"] = page.locator("main").inner_text()
    page.get_by_role("link", name="Back to your deals").click()
    page.get_by_role("heading", name="Thames Cloud", level=1).wait_for()
    return said


def accept_from_the_home(page, deal_id: int) -> dict:
    waiting = page.locator("section", has=page.get_by_role("heading", name="Deals waiting for your answer"))
    waiting.get_by_role("link", name=f"Deal #{deal_id}").click()
    opened = page.url
    with page.expect_navigation():
        page.get_by_role("button", name="Accept the deal").click()
    return {"opened": opened, "text": page.locator("main").inner_text()}


def test_a_partner_user_signs_in_registers_deals_and_accepts_a_request_on_a_phone(
    phone, live_server, rep, thames, make_deal, ready
):
    # An account the rep's open deal already claims, and a deal routed to Thames that waits for its answer.
    claimed = make_deal(rep, status="awaiting_customer", account_values={"name": "Harbour Freight GmbH"})
    asked = ready(partner=thames, strength=5, fulfilment="partner", originator="customer")
    decisions.route_deal(asked, actor=rep)
    db.session.commit()
    assert asked.status == "routed"
    request = partner_requests.of_deal(asked.id)[-1]
    assert (request.partner_id, request.response) == (thames.id, None)

    # Signing in: ask for a link on the sign-in page, open it from the mail, press its button.
    phone(ask_for_a_sign_in_link, live_server, "oliver@thames.example")
    _now_in_the_database()
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "partner_sign_in")).one()
    assert message.recipients == ["oliver@thames.example"]
    link = re.search(r"/partner/sign-in/[A-Za-z0-9_-]+", message.text_body).group(0)
    assert phone(sign_in_by_the_link, live_server + link) == live_server + "/partner/"

    # An account nobody has an open deal for: registered, a draft the partner originated, waiting for a rep.
    said = phone(register, "Quayside Logistics Ltd", "quayside.example", "Quinn Quayle")
    assert said["wide"] <= PHONE["viewport"]["width"], "the registration form scrolls sideways on a phone"
    assert said["status"].startswith("Registered.")
    [free] = _registrations()
    assert said["url"] == f"{live_server}/partner/registrations/{free.id}"
    assert (free.partner_id, free.clashed) == (thames.id, False)
    assert (free.deal.status, free.deal.rep_id) == ("draft", None)
    assert (free.deal.originator, free.deal.originator_partner_id) == ("partner", thames.id)
    assert free.deal.account.name == "Quayside Logistics Ltd"

    # The account the rep's open deal claims: "already registered", without a word of whose deal it is.
    said = phone(register, "Harbour Freight GmbH", claimed.account.domain, "Hanna Hafen")
    assert said["status"].startswith("Already registered.")
    for whose in (rep.name, rep.email, claimed.contact_name, claimed.contact_email):
        assert whose not in said["text"], f"the partner learns whose deal it is: {whose}"
    assert not re.search(rf"#{claimed.id}\b", said["text"]), "the partner learns the other deal's number"
    _, clash = _registrations()
    assert clash.clashed and clash.deal.account_id == claimed.account_id
    assert (clash.deal.status, clash.deal.hold_reason) == ("on_hold", "conflict")
    assert db.session.get(Deal, claimed.id).status == "awaiting_customer"

    # The request waiting for Thames, opened from the portal's home, and accepted.
    done = phone(accept_from_the_home, asked.id)
    assert done["opened"] == f"{live_server}/partner/requests/{request.id}"
    assert "Thank you: you accepted the deal." in done["text"]
    assert "You accepted this deal on" in done["text"]
    _now_in_the_database()
    answered = db.session.get(PartnerRequest, request.id)
    assert (answered.response, answered.responded_at is not None) == ("accepted", True)
    assert db.session.get(Deal, asked.id).status == "accepted"
    # The registrations stand as they were made.
    assert [(r.deal.status, r.clashed) for r in _registrations()] == [("draft", False), ("on_hold", True)]
