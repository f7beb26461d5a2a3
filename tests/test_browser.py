"""A customer on a phone, keyboard only, in a real Chromium (Debian's, via Playwright)."""

import os
import shutil

import pytest
from sqlalchemy import select

from intake.extensions import db
from intake.models import CustomerAnswer, Deal

from .test_customer_link import create_link

CHROMIUM = os.environ.get("INTAKE_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("INTAKE_REQUIRE_BROWSER") == "1"


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        if REQUIRED:
            pytest.fail(f"INTAKE_REQUIRE_BROWSER=1 but there is no Chromium at {CHROMIUM}")
        pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def test_a_customer_answers_on_a_phone_with_the_keyboard_only(
    browser, live_server, client, rep, make_deal, make_partner
):
    partner = make_partner(name="Nordlicht IT", countries=["DE"])
    deal = make_deal(rep, status="awaiting_customer", contact_name="Hanna Huber", contact_email="hanna@kunde.example")
    path = create_link(client, deal, language="de")

    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="de-DE"
    )
    page = context.new_page()
    try:
        page.goto(live_server + path)
        assert page.locator("h1").inner_text() == "Wie möchten Sie mit uns zusammenarbeiten?"
        # The page fits the phone: nothing scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        def focus(label):
            # Tab until the control with this accessible label has focus: keyboard only.
            for _ in range(80):
                page.keyboard.press("Tab")
                if page.evaluate(
                    "(label) => { const e = document.activeElement; if (!e) return false;"
                    " const names = [...(e.labels || [])].map(l => l.innerText.trim()).concat([e.innerText.trim()]);"
                    " return names.some(n => n.startsWith(label)); }",
                    label,
                ):
                    return
            raise AssertionError(f"could not reach {label!r} with Tab")

        focus("Ihre Funktion")
        page.keyboard.type("Leiterin IT")
        focus("Ja")
        page.keyboard.press("Space")
        focus("Partner")  # the partner list of the first row
        page.keyboard.press("ArrowDown")  # first partner: the one in the customer's country
        focus("Wie würden Sie die Beziehung beschreiben?")
        for _ in range(4):
            page.keyboard.press("ArrowDown")
        focus("Über den Partner, den ich genannt habe")
        page.keyboard.press("Space")
        focus("Der Partner")
        page.keyboard.press("Space")
        focus("Ich bin einverstanden")
        page.keyboard.press("Space")
        focus("Antworten senden")
        page.keyboard.press("Enter")
        page.wait_for_load_state()

        assert "Vielen Dank: Wir haben Ihre Antworten erhalten." in page.locator("[role=status]").inner_text()
        page.screenshot(path=os.environ.get("INTAKE_SCREENSHOT", "/tmp/intake-phone-answer.png"), full_page=True)
    finally:
        context.close()

    answer = db.session.scalars(select(CustomerAnswer)).one()
    assert (answer.fulfilment, answer.contact_preference, answer.contact_title) == ("partner", "partner", "Leiterin IT")
    assert answer.language == "de" and answer.consented_at is not None
    deal = db.session.get(Deal, deal.id)
    assert deal.status == "ready_to_route"
    assert [(r.partner_id, r.strength) for r in deal.customer_relationships] == [(partner.id, 4)]


def test_with_too_many_partners_to_list_the_customer_types_one_and_names_are_suggested(
    browser, live_server, app, client, rep, make_deal, make_partner
):
    app.config["PARTNER_CHOICES"] = 1
    nordlicht = make_partner(name="Nordlicht IT", countries=["DE"])
    make_partner(name="Alpenblick Services", countries=["DE"])
    deal = make_deal(rep, status="awaiting_customer")
    path = create_link(client, deal)

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(live_server + path)
        name = page.locator("#rows-0-partner_name")
        name.type("nordl")
        # intake.js asks for names like it and puts them in the field's list, for the browser to offer.
        page.wait_for_function(
            "() => [...document.querySelectorAll('#partner-names option')].map(o => o.value).join() === 'Nordlicht IT'"
        )
        name.fill("Nordlicht IT")
        page.locator("#works_with_partner-0").check()
        page.locator("#rows-0-strength").select_option("3")
        page.locator("#fulfilment-0").check()
        page.locator("#contact_preference-0").check()
        page.locator("#consent").check()
        page.locator("button[value=send]").click()
        page.wait_for_load_state()
        assert page.locator("[role=status]").count() == 1
    finally:
        context.close()

    deal = db.session.get(Deal, deal.id)
    assert [(r.partner_id, r.strength) for r in deal.customer_relationships] == [(nordlicht.id, 3)]
