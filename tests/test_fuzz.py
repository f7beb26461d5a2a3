"""Every form of every audience, fed hostile input: never a 5xx, and what is stored renders escaped.

Each form is sent twice over. First a sweep: every field in turn gets the inputs known to break forms
(NUL, a lone surrogate, 100,000 characters, NaN, 2**70, a checkbox value 1,000 times, …), every other
field a plain answer. Then Hypothesis's examples, derandomized so CI sends the same requests every run:
values a user could send — markup, template syntax, bidi overrides, line breaks — with one thing made
hostile (a value of any kind, a missing field, a field sent twice or a thousand times, an undeclared
field, a wrong or missing CSRF token, a body of raw bytes; see tests/hostile.py). Every 5xx is
recorded with its input and the app's traceback line, and exploring goes on; each test then fails
listing all it found. What a form accepted is read back: its page shows it escaped, and the last test
follows hostile text through to the mail delivered (its headers and HTML), the PDFs read back with
pypdf, and the partner's and customer's pages.
The session ends with one line: how many requests were fuzzed on each engine, and how many were 5xx.
"""

import io
import re
from dataclasses import replace
from datetime import date, timedelta
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from intake import quarters
from intake.deals import partner_requests, registrations, services
from intake.extensions import db
from intake.models import (
    ApiToken,
    CustomerAnswer,
    Deal,
    OutboxMessage,
    Partner,
    PartnerUser,
    Registration,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from intake.models.types import utcnow

from .conftest import PASSWORD, sign_in, sign_in_partner
from .hostile import (
    DATES,
    DOMAINS,
    EMAILS,
    HEADER_BREAK,
    IDS,
    MARKUP,
    NUMBERS,
    RECORD,
    SHOWN_AS_TEXT,
    STORABLE,
    Field,
    Fuzzer,
    Submission,
    an_id,
    anything,
    checkbox,
    checkboxes,
    choice,
    day,
    email,
    number,
    one_of,
    past_dates,
    query,
    shown,
    storable_text,
    submissions,
    sweep,
    text,
)

settings.register_profile(
    "intake-fuzz",
    derandomize=True,  # the same examples on every run, in CI too
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
FUZZ = settings.get_profile("intake-fuzz")


class FuzzSummary:
    """Writes the session's count of fuzzed requests and 5xx, and each kind of finding once."""

    def pytest_terminal_summary(self, terminalreporter):
        if not RECORD.requests:
            return
        terminalreporter.write_line(RECORD.summary())
        for finding, count in RECORD.distinct():
            terminalreporter.write_line(f"  {count:>4}× {finding}")


@pytest.fixture(scope="session", autouse=True)
def fuzz_summary(request):
    plugin = FuzzSummary()
    request.config.pluginmanager.register(plugin, "intake-fuzz-summary")
    return plugin


@pytest.fixture
def fuzzer(app):
    found = Fuzzer(app, db.engine.dialect.name)
    yield found
    found.close()


def explore(fields, each, *, examples: int, csrf: bool = True, get: bool = False) -> None:
    """Send the sweep of `fields` through `each`, then `examples` derandomized submissions of them.

    `each` records what it finds and never raises, so one bad input does not hide the next.
    """
    encodings = ("query",) if get else ("percent", "percent", "raw", "multipart")
    for submission in sweep(fields, encoding=encodings[0]):
        each(submission)

    @settings(FUZZ, max_examples=examples)
    @given(submissions(fields, csrf=csrf and not get, encodings=encodings))
    def run(submission):
        each(submission)

    run()


def assert_nothing_found(fuzzer: Fuzzer) -> None:
    """Fail listing every kind of finding once, with how often it came and one input that caused it."""
    check_queued_mail(fuzzer)
    kinds: dict[str, list] = {}
    for finding in fuzzer.found_here:
        key = f"{finding.where} → {finding.status or '-'}: {finding.error}"
        kinds.setdefault(key, [0, finding.what])[0] += 1
    lines = [f"{count}× {key}\n      e.g. {what}" for key, (count, what) in kinds.items()]
    assert not fuzzer.found_here, f"{len(fuzzer.found_here)} findings of {len(kinds)} kinds:\n" + "\n".join(lines)


def check_queued_mail(fuzzer) -> None:
    """Every message in the outbox: a subject on one line, an HTML body with no markup from the input live."""
    for message in db.session.scalars(select(OutboxMessage)):
        where = f"queued {message.kind} mail"
        if any(not ch.isprintable() for ch in message.subject):
            fuzzer.found(where, "what was stored", f"a subject with control characters: {shown(message.subject)}")
        fuzzer.check_page(message.html_body, where, "what was stored")


def accepted(response, submission) -> bool:
    """The form was taken: a redirect after a POST whose token was right."""
    return response is not None and response.status_code == 302 and submission.csrf_ok


def carries_markup(submission) -> bool:
    return any(c in str(value) for _, value in submission.values for c in "<\"'")


def with_values(submission, **values):
    return replace(submission, values=tuple({**dict(submission.values), **values}.items()))


def without(submission, *names):
    """The submission without some values, which the test sends elsewhere (in the URL, say)."""
    return replace(submission, values=tuple((k, v) for k, v in submission.values if k not in names))


def quick_user(make_user, role: str, **values) -> User:
    """A user whose stored password hash is cheap to check: the sign-in form is sent many times."""
    user = make_user(role, **values)
    user.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    db.session.commit()
    return user


# ------------------------------------------------------------------------------------------ sign-in


NEXT_TARGETS = (
    "/\n/x",
    "/\r\nSet-Cookie: hijacked=1",
    "//evil.example",
    "/\\evil.example",
    "/\t/evil.example",
    "/ /evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/\x00",
    "/\ud800",
    "/deals?q=" + MARKUP,
    "/" + "x" * 10_000,
)


def test_sign_in_answers_hostile_input_without_a_5xx_and_sends_only_to_this_site(app, fuzzer, make_user):
    # Failed sign-ins would soon be throttled (429), and the rest of the form never read.
    app.config.update(LOGIN_THROTTLE_PER_ACCOUNT=10**6, LOGIN_THROTTLE_PER_ADDRESS=10**6)
    user = quick_user(make_user, "rep", email="fuzz.rep@example.com")
    fields = [
        email("email", user.email, user.email.upper(), f" {user.email} "),
        Field("password", st.sampled_from([PASSWORD, PASSWORD, "wrong password", *STORABLE]), plain=PASSWORD),
        checkbox("remember"),
        Field("next", st.sampled_from([None, "/deals", "/admin/users"]), st.sampled_from(NEXT_TARGETS), kind="next"),
    ]

    def each(submission):
        browser = app.test_client()
        url = "/login"
        if (targets := submission.value("next")) is not None:
            url += "?" + query([("next", t) for t in (targets if isinstance(targets, list) else [targets])])
        response = fuzzer.post(browser, url, without(submission, "next"), hidden=browser.hidden("/login"))
        if accepted(response, submission):
            location = response.headers["Location"]
            # A browser drops tabs and line breaks from a URL before it follows it.
            followed = re.sub(r"[\t\r\n]", "", location)
            if urlsplit(followed).netloc not in ("", "localhost") or followed.startswith(("//", "/\\")):
                fuzzer.found("POST /login", submission.describe(), f"signed in and sent to {shown(location)}")

    explore(fields, each, examples=12)
    for target in NEXT_TARGETS:  # each `next` once, with the right password
        each(
            Submission(
                (("email", user.email), ("password", PASSWORD), ("next", target)),
                f"next={shown(target)}",
                "page",
                "percent",
            )
        )
    assert_nothing_found(fuzzer)


def test_own_password_form_answers_hostile_input_without_a_5xx(app, fuzzer, make_user):
    user = quick_user(make_user, "rep")
    browser = sign_in(app, user)
    current = [PASSWORD]
    new_passwords = [p for p in (s * 3 for s in STORABLE) if 10 <= len(p) <= 200]
    fields = [
        Field("current", st.builds(lambda: current[0]), plain="the current one"),
        Field("password", st.sampled_from(new_passwords), plain=new_passwords[0]),
        Field("confirm", st.just("the same"), plain="the same"),
    ]
    hidden = browser.hidden("/account/password")

    def each(submission):
        if submission.value("current") == "the current one":
            submission = with_values(submission, current=current[0])
        if submission.value("confirm") == "the same":
            submission = with_values(submission, confirm=submission.value("password"))
        response = fuzzer.post(browser, "/account/password", submission, hidden=hidden)
        if accepted(response, submission):
            current[0] = submission.value("password")
            fuzzer.read(browser, "/deals", "the deal list after changing the password")

    explore(fields, each, examples=12)
    assert_nothing_found(fuzzer)


# ---------------------------------------------------------------------------------- the questionnaire


def section_fields(app, key: str, deal, partners) -> list[Field]:
    ids = [p.id for p in partners]
    strengths = ("", 0, 1, 2, 3, 4, 5)
    actions = ("save", "next", "review")
    if key == "account":
        return [
            an_id("account_id", deal.account_id),
            Field("change", st.sampled_from([None, None, None, "1"]), plain=None, kind="choice"),
            Field("name", st.sampled_from([deal.account.name, *STORABLE[:8]]), plain=deal.account.name),
            Field("domain", choice(deal.account.domain, ""), plain=deal.account.domain, kind="domain"),
            one_of("country", "DE", "", "FR", "US"),
            one_of("vertical", *app.config["VERTICALS"], ""),
            one_of("size_band", "50-249", "", "1-49", "5000+"),
            number("vendor_strength", *strengths),
            day("vendor_since", blank=True),
            text("contact_name", 120),
            text("contact_title", 120),
            email("contact_email", "casey@customer.example", ""),
            one_of("contact_phone", "+49 (0)30 123-456", ""),
            one_of("action", *actions),
        ]
    if key == "origin":
        return [
            one_of("originator", "vendor", "partner", "customer"),
            an_id("originator_partner_id", "", *ids),
            one_of("origin_channel", "meeting", "campaign", "partner_marketing", "referral"),
            day("origin_date"),
            one_of("action", *actions),
        ]
    if key == "need":
        return [
            checkboxes("pain_points", app.config["PAIN_POINTS"]),
            text("pain_other", 2000),
            text("business_impact", 2000),
            text("incumbent", 500),
            checkboxes("solutions", app.config["CATALOGUE"]),
            number("estimated_value", "50000", "", "0", "99999.99", "1e3"),
            one_of("currency", *app.config["CURRENCIES"], ""),
            day("close_date", future=True),
            one_of("action", *actions),
        ]
    if key == "qualification":
        return [
            one_of("budget", "approved", "identified", "none", "unknown"),
            one_of("has_decision_maker", "yes", "no", "", hostile=st.sampled_from(["maybe", "True", "1", *NUMBERS])),
            text("decision_maker", 160),
            text("decision_process", 2000),
            text("competitors", 1000),
            text("next_step", 1000),
            day("next_step_date", future=True),
            one_of("action", *actions),
        ]
    assert key == "landscape"
    return [
        one_of("partners_known", "yes", "no", "unknown"),
        an_id("rows-0-partner_id", *ids, 0),
        text("rows-0-partner_name", 160),
        number("rows-0-strength", *strengths),
        day("rows-0-since", blank=True),
        text("rows-0-does_what", 500),
        text("rows-0-notes", 1000),
        checkbox("rows-0-remove"),
        an_id("rows-1-partner_id", "", *ids),
        number("rows-1-strength", *strengths),
        one_of("action", "save", "save", "add_row"),
    ]


def stored_texts(deal, key: str) -> list[str]:
    """The free text a section stores, which its page shows back in its fields."""
    if key == "account":
        return [deal.account.name if deal.account else "", deal.contact_name, deal.contact_title]
    if key == "need":
        return [deal.pain_other, deal.business_impact, deal.incumbent]
    if key == "qualification":
        return [deal.decision_maker, deal.decision_process, deal.competitors, deal.next_step]
    if key == "landscape":
        return [text for row in deal.landscape for text in (row.partner_name, row.does_what, row.notes)]
    return []


@pytest.mark.parametrize("key", ["account", "origin", "need", "qualification", "landscape"])
def test_each_questionnaire_section_answers_hostile_input_without_a_5xx(
    app, client, fuzzer, rep, make_deal, make_partner, key
):
    partners = [make_partner(name="Thames Cloud"), make_partner(name="Borealis Systems")]
    deal = make_deal(rep, partners=[(partners[0], 3)])
    url = f"/deals/{deal.id}/{key}"
    hidden = client.hidden(url)

    def each(submission):
        response = fuzzer.post(client, url, submission, hidden=hidden)
        if not accepted(response, submission):
            return
        what = submission.describe()
        if (page := fuzzer.read(client, url, f"the {key} section after: {what}")) is None:
            return
        stored = db.session.get(Deal, deal.id)
        fuzzer.check_page(page.get_data(as_text=True), f"GET {url}", what, shown_values=stored_texts(stored, key))
        fuzzer.check_unique(stored.pain_points, f"POST {url}", what, "pain_points")
        fuzzer.check_unique(stored.solutions, f"POST {url}", what, "solutions")
        if carries_markup(submission):
            if (deal_page := fuzzer.read(client, f"/deals/{deal.id}", f"the deal page after: {what}")) is not None:
                fuzzer.check_page(deal_page.get_data(as_text=True), "GET /deals/<deal_id>", what)

    explore(section_fields(app, key, deal, partners), each, examples=12)
    # The search beside the section, and its query string.
    search = [Field("q", storable_text(100), anything(), plain="acme"), one_of("change", "1", "")]
    explore(search, lambda submission: fuzzer.get(client, url, submission), examples=5, get=True)
    assert_nothing_found(fuzzer)


def test_an_accounts_page_its_edit_and_the_list_answer_hostile_input_without_a_5xx(app, client, fuzzer, rep, make_deal):
    deal = make_deal(rep)
    url = f"/accounts/{deal.account_id}/edit"
    hidden = client.hidden(url)
    account_fields = [f for f in section_fields(app, "account", deal, []) if f.name in services.ACCOUNT_FIELDS]

    def each(submission):
        response = fuzzer.post(client, url, submission, hidden=hidden)
        if not accepted(response, submission):
            return
        what = submission.describe()
        account = db.session.get(Deal, deal.id).account
        shown = [account.name, account.domain or ""]
        for page_url in (f"/accounts/{account.id}", "/accounts", f"/deals/{deal.id}"):
            if (page := fuzzer.read(client, page_url, f"{page_url} after: {what}")) is not None:
                fuzzer.check_page(page.get_data(as_text=True), f"GET {page_url}", what, shown_values=shown[:1])

    explore(account_fields, each, examples=12)
    search = [Field("q", storable_text(100), anything(), plain="customer"), one_of("page", "1", "", "2")]
    explore(search, lambda submission: fuzzer.get(client, "/accounts", submission), examples=5, get=True)
    assert_nothing_found(fuzzer)


def test_merging_accounts_answers_hostile_input_without_a_5xx(app, fuzzer, manager, rep, make_account):
    keep = make_account(owner=rep, name="Merge Target GmbH", domain="merge-target.example")
    others = [make_account(owner=rep, name=f"Merge Target {n} GmbH", domain=f"merge-{n}.example") for n in range(3)]
    url = f"/admin/accounts/{keep.id}/merge"
    hidden = manager.hidden(f"/accounts/{keep.id}")

    def each(submission):
        response = fuzzer.post(manager, url, submission, hidden=hidden)
        if response is not None and (page := fuzzer.read(manager, f"/accounts/{keep.id}", "the account after")):
            fuzzer.check_page(page.get_data(as_text=True), f"GET /accounts/{keep.id}", submission.describe())

    fields = [an_id("other_id", *(a.id for a in others), keep.id, ""), one_of("confirm", "y", "", "n")]
    explore(fields, each, examples=8)
    assert_nothing_found(fuzzer)


def test_the_deal_list_filters_and_pages_answer_hostile_input_without_a_5xx(client, fuzzer, rep, make_deal):
    make_deal(rep)
    fields = [
        one_of("status", "", "draft", "routed", "on_hold"),
        Field("q", storable_text(100), plain="customer"),
        one_of("page", "1", "", "2", hostile=st.sampled_from(NUMBERS + IDS), kind="number"),
    ]

    def each(submission):
        response = fuzzer.get(client, "/deals", submission)
        if response is not None and response.status_code == 200:
            fuzzer.check_page(response.get_data(as_text=True), "GET /deals", submission.describe())

    explore(fields, each, examples=10, get=True)
    assert_nothing_found(fuzzer)


# The period filter binds a naive datetime to a UTC column (intake/deals/queries.py, Scope.apply), and the
# dashboard's partner filter puts an EXISTS on Credit into queries that select from Credit already, which
# SQLAlchemy auto-correlates away (intake/deals/dashboard.py, _routes and routes_by_quarter): both are a 500.
NONSENSE_DATES = ("2026-13-45", "99999-01-01", "2026-02-30", "0001-01-01", "26-01-01", *DATES)


def dashboard_filters(partner, rep) -> list[Field]:
    """The filters the dashboard and the deal list share: real ids and dates, blanks, and nonsense."""
    return [
        an_id("rep", "", rep.id),
        one_of("country", "", "DE", "GB", hostile=st.one_of(st.sampled_from(["ZZ", "de ", "D", "<b>"]), anything())),
        one_of(
            "waiting", "", "0-3", "4-7", "8-14", "15-", hostile=st.one_of(st.sampled_from(["abc", "0-4"]), anything())
        ),
        an_id("partner", "", partner.id),
        Field("from", st.one_of(st.just(""), past_dates()), st.sampled_from(NONSENSE_DATES), "", "date"),
        Field("to", st.one_of(st.just(""), past_dates()), st.sampled_from(NONSENSE_DATES), "", "date"),
    ]


def explore_dashboard_and_lists(fuzzer, browsers, fields) -> None:
    """GET the dashboard, the deal list and its export with each submission, as each browser; check the pages."""
    list_fields = [
        *fields,
        one_of("status", "", "awaiting_customer", "routed", "on_hold"),
        Field("q", storable_text(100), plain="customer"),
        one_of("page", "1", "", "2", hostile=st.sampled_from(NUMBERS + IDS), kind="number"),
    ]
    for browser in browsers:
        for url, form in (
            ("/dashboard", fields),
            ("/deals", list_fields),
            ("/deals.csv", list_fields),
        ):

            def each(submission, url=url, browser=browser):
                response = fuzzer.get(browser, url, submission)
                if response is not None and response.status_code == 200 and url != "/deals.csv":
                    fuzzer.check_page(response.get_data(as_text=True), f"GET {url}", submission.describe())

            explore(form, each, examples=6, get=True)


def test_the_dashboard_and_deal_list_filters_answer_hostile_input_without_a_5xx(
    app, client, fuzzer, rep, boss, make_deal, ready, make_partner
):
    partner = make_partner(name="Thames Cloud")
    make_deal(rep, status="awaiting_customer")
    route(client, ready(partner=partner, strength=5, fulfilment="partner", originator="customer"))
    manager = sign_in(app, boss)
    explore_dashboard_and_lists(fuzzer, (manager, client), dashboard_filters(partner, rep))
    assert_nothing_found(fuzzer)


# --------------------------------------------------------------------------- closing and the deal's buttons


def route(client, deal) -> Deal:
    """The rep routes the deal from its page."""
    response = client.submit(f"/deals/{deal.id}/route", page=f"/deals/{deal.id}")
    assert response.status_code == 302, response.status_code
    return db.session.get(Deal, deal.id)


def routed_deal(client, ready) -> Deal:
    """A deal the rep has routed: the vendor leads, no partner takes part."""
    return route(client, ready(originator="vendor", vendor_strength=4))


def test_closing_a_deal_answers_hostile_input_without_a_5xx(client, fuzzer, rep, ready):
    deals = [routed_deal(client, ready)]
    hidden = {}
    fields = [
        one_of("outcome", "won", "lost"),
        day("closed_on"),
        number("final_value", "50000", "0", "123.45"),
        text("lost_reason", 2000),
    ]

    def each(submission):
        deal = deals[-1]
        page = f"/deals/{deal.id}"
        if deal.id not in hidden:
            hidden[deal.id] = client.hidden(page)
        response = fuzzer.post(client, f"/deals/{deal.id}/close", submission, hidden=hidden[deal.id])
        if accepted(response, submission):
            if (shown_page := fuzzer.read(client, page, "the deal page after closing")) is not None:
                fuzzer.check_page(shown_page.get_data(as_text=True), "GET /deals/<deal_id>", submission.describe())
            if len(deals) < 4:  # a closed deal stays closed: go on with another
                deals.append(routed_deal(client, ready))

    explore(fields, each, examples=10)
    assert_nothing_found(fuzzer)


def test_the_deal_page_buttons_answer_hostile_input_without_a_5xx(client, fuzzer, rep, make_deal, ready):
    """New deal, complete, discard, the customer's link (create, email, revoke), route and sign out."""
    draft = make_deal(rep)
    to_discard = make_deal(rep)
    linked = make_deal(rep, status="awaiting_customer")
    routable = ready(originator="vendor", vendor_strength=4)
    buttons = [
        ("/deals/new", "/deals", []),
        (f"/deals/{draft.id}/complete", f"/deals/{draft.id}", []),
        (f"/deals/{linked.id}/link", f"/deals/{linked.id}", [one_of("language", "en", "de")]),
        (f"/deals/{linked.id}/link/email", f"/deals/{linked.id}", []),
        (f"/deals/{linked.id}/link/revoke", f"/deals/{linked.id}", []),
        (f"/deals/{routable.id}/route", f"/deals/{routable.id}", [an_id("partner_id", "")]),
        (f"/deals/{to_discard.id}/discard", f"/deals/{to_discard.id}", []),
        ("/logout", "/deals", []),  # last: once it is taken, the rep is signed out
    ]
    for url, page, fields in buttons:
        hidden = client.hidden(page)
        explore(fields, lambda s, url=url, hidden=hidden: fuzzer.post(client, url, s, hidden=hidden), examples=4)
    assert_nothing_found(fuzzer)


# ---------------------------------------------------------------------------------- the customer's link


def customer_link(client, deal) -> str:
    """The rep creates the customer's link, as on the deal page; its path."""
    response = client.submit(f"/deals/{deal.id}/link", {"language": "en"}, page=f"/deals/{deal.id}")
    assert response.status_code == 302, response.status_code
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    return "/p/" + re.search(r'id="link-url"[^>]*value="[^"]*/p/([^"]+)"', page).group(1)


def test_the_customers_answer_form_answers_hostile_input_without_a_5xx(
    app, client, fuzzer, rep, make_deal, make_partner
):
    partner = make_partner(name="Nordlicht IT")
    deal = make_deal(rep, status="awaiting_customer", partners=[(partner, 2)])
    link = customer_link(client, deal)
    customer = app.test_client()
    hidden = customer.hidden(link)
    fields = [
        text("company_name", 160),
        text("contact_name", 120),
        text("contact_title", 120),
        email("contact_email", "hanna@kunde.example", ""),
        one_of("contact_phone", "+43 1 234 567", ""),
        one_of("works_with_partner", "yes", "yes", "no", "not_sure"),
        an_id("rows-0-partner_id", partner.id, partner.id, ""),
        text("rows-0-partner_name", 160),
        one_of("rows-0-duration", "over_5", "", "under_1", "1_3", "3_5"),
        number("rows-0-strength", 4, 1, 2, 3, 5),
        text("rows-0-does_what", 500),
        one_of("fulfilment", "partner", "partner", "direct", "any_partner", "no_preference"),
        an_id("fulfilment_row", "0", "0", ""),
        text("fulfilment_reason", 1000),
        one_of("contact_preference", "partner", "vendor", "no_preference"),
        checkbox("consent"),
        one_of("action", "send", "send", "add_row"),
    ]

    def each(submission):
        response = fuzzer.post(customer, link, submission, hidden=hidden)
        if not accepted(response, submission):
            return
        what = submission.describe()
        answer = db.session.scalars(select(CustomerAnswer).where(CustomerAnswer.deal_id == deal.id)).one()
        rows = db.session.get(Deal, deal.id).customer_relationships
        said = [answer.company_name, answer.contact_name, answer.contact_title, answer.fulfilment_reason]
        said += [text for row in rows for text in (row.partner_name, row.does_what)]
        if (page := fuzzer.read(customer, link, f"the customer's page after: {what}")) is not None:
            fuzzer.check_page(page.get_data(as_text=True), "GET /p/<token>", what, shown_values=said)
        if carries_markup(submission):
            if (page := fuzzer.read(client, f"/deals/{deal.id}", f"the rep's deal page after: {what}")) is not None:
                fuzzer.check_page(page.get_data(as_text=True), "GET /deals/<deal_id>", what)

    explore(fields, each, examples=15)
    explore([one_of("lang", "en", "de")], lambda s: fuzzer.get(customer, link, s), examples=5, get=True)
    assert_nothing_found(fuzzer)


# ----------------------------------------------------------------------------------- the partner's link


def partner_token(deal) -> str:
    """The token of the request the deal's current decision sent its partner."""
    request = partner_requests.of_decision(db.session.get(Deal, deal.id).decisions[-1])[0]
    return partner_requests.url(request).rsplit("/", 1)[1]


def partner_led_deal(client, ready, partner) -> Deal:
    """A routed deal its customer's strategic partner leads and fulfils: the partner is asked to accept."""
    return route(client, ready(partner=partner, strength=5, fulfilment="partner", originator="customer"))


def test_the_partners_accept_and_decline_forms_answer_hostile_input_without_a_5xx(
    app, client, fuzzer, rep, ready, make_partner
):
    partner = make_partner(name="Thames Cloud")
    visitor = app.test_client()
    for action, fields, examples in (("decline", [text("reason", 2000)], 12), ("accept", [], 6)):
        token = partner_token(partner_led_deal(client, ready, partner))
        hidden = visitor.hidden(f"/r/{token}")

        def each(submission, url=f"/r/{token}/{action}", page=f"/r/{token}", hidden=hidden):
            response = fuzzer.post(visitor, url, submission, hidden=hidden)
            if accepted(response, submission) and (shown_page := fuzzer.read(visitor, page, "the request page")):
                fuzzer.check_page(shown_page.get_data(as_text=True), "GET /r/<token>", submission.describe())

        explore(fields, each, examples=examples)
    assert_nothing_found(fuzzer)


# ------------------------------------------------------------------------------- the channel manager's forms


def test_the_channel_managers_user_forms_answer_hostile_input_without_a_5xx(app, fuzzer, manager, make_user):
    target = make_user("rep", email="target@example.com")
    fresh = iter(range(10**7, 10**8))
    emails = st.integers(1, 10**6).map(lambda n: f"new{n}@example.com")
    passwords = [p for p in (s * 3 for s in STORABLE) if 10 <= len(p) <= 200]
    roles = ("rep", "admin")
    forms = [
        (
            "/admin/users/new",
            [
                text("name", 120),
                Field("email", emails, st.sampled_from(EMAILS), plain="new@example.com", kind="email"),
                one_of("role", *roles),
                Field("password", st.sampled_from(passwords), plain=passwords[0]),
            ],
            6,
        ),
        (f"/admin/users/{target.id}", [text("name", 120), one_of("role", *roles), checkbox("is_active")], 6),
    ]
    for url, fields, examples in forms:
        hidden = manager.hidden(url)

        def each(submission, url=url, hidden=hidden):
            if submission.value("email") == "new@example.com":  # one account per address: each plain one new
                submission = with_values(submission, email=f"new{next(fresh)}@example.com")
            response = fuzzer.post(manager, url, submission, hidden=hidden)
            if accepted(response, submission) and (listing := fuzzer.read(manager, "/admin/users", "the users")):
                fuzzer.check_page(listing.get_data(as_text=True), "GET /admin/users", submission.describe())
                if (page := fuzzer.read(manager, f"/admin/users/{target.id}", "the user's page")) is not None:
                    name = db.session.get(User, target.id).name
                    fuzzer.check_page(
                        page.get_data(as_text=True), "GET /admin/users/<user_id>", submission.describe(), [name]
                    )

        explore(fields, each, examples=examples)
    hidden = manager.hidden(f"/admin/users/{target.id}")

    def set_password(submission):
        if submission.value("confirm") == "the same":
            submission = with_values(submission, confirm=submission.value("password"))
        fuzzer.post(manager, f"/admin/users/{target.id}/password", submission, hidden=hidden)

    password_fields = [
        Field("password", st.sampled_from(passwords), plain=passwords[0]),
        Field("confirm", st.just("the same"), plain="the same"),
    ]
    explore(password_fields, set_password, examples=6)
    search = [Field("q", storable_text(100), plain="rep")]
    explore(search, lambda s: fuzzer.get(manager, "/admin/users", s), examples=5, get=True)
    assert_nothing_found(fuzzer)


def test_the_channel_managers_partner_forms_answer_hostile_input_without_a_5xx(app, fuzzer, manager, make_partner):
    kept = make_partner(name="Kept Partner")
    fresh = iter(range(1, 10**6))
    names = st.tuples(storable_text(150), st.integers(1, 10**6)).map(lambda pair: f"{pair[0]} {pair[1]}")
    fields = [
        Field("name", names, plain="Plain Partner"),
        text("contact_name", 120),
        email("contact_email", "pat@partner.example", ""),
        Field("countries", choice("DE", "de, at", "DE;FR;ch", ""), st.sampled_from(["XX", "D E", *STORABLE]), "DE"),
        checkboxes("verticals", app.config["VERTICALS"]),
        one_of("tier", "platinum", "gold", "silver", "registered"),
    ]
    for url in ("/admin/partners/new", f"/admin/partners/{kept.id}"):
        hidden = manager.hidden(url)

        def each(submission, url=url, hidden=hidden):
            if submission.value("name") == "Plain Partner":  # one partner per name: each plain one new
                submission = with_values(submission, name=f"Plain Partner {next(fresh)}")
            response = fuzzer.post(manager, url, submission, hidden=hidden)
            if not accepted(response, submission):
                return
            what = submission.describe()
            if url.endswith("/new"):
                partner = db.session.scalars(select(Partner).order_by(Partner.id.desc())).first()
            else:
                partner = db.session.get(Partner, kept.id)
            fuzzer.check_unique(partner.verticals, f"POST {url}", what, "verticals")
            if (page := fuzzer.read(manager, f"/admin/partners/{partner.id}", "the partner's page")) is not None:
                shown_values = [partner.name, partner.contact_name]
                fuzzer.check_page(page.get_data(as_text=True), "GET /admin/partners/<partner_id>", what, shown_values)
            if carries_markup(submission) and (listing := fuzzer.read(manager, "/admin/partners", "the partners")):
                fuzzer.check_page(listing.get_data(as_text=True), "GET /admin/partners", what)

        explore(fields, each, examples=8)
    active = f"/admin/partners/{kept.id}/active"
    hidden = manager.hidden("/admin/partners")
    referrers = [None, "http://localhost/admin/partners", "http://localhost.evil.example/", "http://localhost/\x00"]

    def set_active(submission):
        for referrer in referrers:
            headers = {"Referer": referrer} if referrer else None
            response = fuzzer.post(manager, active, submission, hidden=hidden, headers=headers)
            if accepted(response, submission) and urlsplit(response.headers["Location"]).netloc not in (
                "",
                "localhost",
            ):
                fuzzer.found(f"POST {active}", submission.describe(), f"sent to {shown(response.headers['Location'])}")

    explore([one_of("active", "1", "0")], set_active, examples=4)
    search = [Field("q", storable_text(100), plain="partner")]
    explore(search, lambda s: fuzzer.get(manager, "/admin/partners", s), examples=5, get=True)
    assert_nothing_found(fuzzer)


def test_the_rules_of_engagement_form_answers_hostile_input_without_a_5xx(fuzzer, manager):
    fields = [
        one_of("threshold", 3, 1, 2, 4, 5, hostile=st.sampled_from(NUMBERS + IDS), kind="number"),
        one_of("ties", "partners", "vendor"),
        one_of("recycle", "manual", "automatic"),
    ]
    hidden = manager.hidden("/admin/rules")
    explore(fields, lambda s: fuzzer.post(manager, "/admin/rules", s, hidden=hidden), examples=8)
    assert_nothing_found(fuzzer)


def decide_fields(partner) -> list[Field]:
    """The override and alignment form: who leads and fulfils, the reason, and the version it was read at."""
    hostile_party = st.sampled_from([f"partner:{i}" for i in IDS] + ["partner:", "vendor ", "partner:1:2"])
    return [
        one_of("leader", "vendor", f"partner:{partner.id}", hostile=hostile_party),
        one_of("fulfilment", "vendor", f"partner:{partner.id}", hostile=hostile_party),
        text("reason", 2000),
        checkbox("reason_shared"),
        Field("confirm", st.sampled_from([None, "y", "y"]), plain="y", kind="choice"),
        Field("based_on", st.just(None), st.sampled_from(IDS), plain=None, kind="id"),
    ]


def test_the_resolve_and_override_forms_answer_hostile_input_without_a_5xx(
    client, fuzzer, manager, rep, ready, make_partner, make_account, make_deal, make_user
):
    alpha = make_partner(name="Alpha Systeme")
    other_rep = make_user("rep")

    def needs_alignment():
        # Our rep found the deal, but the customer's partner Alpha has the stronger relationship.
        return route(client, ready(partner=alpha, strength=5, vendor_strength=2, originator="vendor"))

    def conflict():
        # A second open deal on one company (by its name), found by a partner: the manager says which proceeds.
        n = len(pools["conflict"])
        twin = make_account(name=f"Maple {n} Learning, Inc.", domain=f"maple-learning-{n}.example")
        theirs = make_deal(
            other_rep, account=twin, status="awaiting_customer", originator="partner", originator_partner=alpha
        )
        ours = ready(account=make_account(name=f"MAPLE {n} LEARNING", domain=f"maple{n}.example"), originator="vendor")
        return route(client, ours), theirs

    pools = {"alignment": [needs_alignment()], "conflict": []}
    pools["conflict"].append(conflict())
    routed = partner_led_deal(client, ready, alpha)
    assert pools["alignment"][0].hold_reason == "needs_alignment"
    assert pools["conflict"][0][0].hold_reason == "conflict"

    def alignment_deal(decided):
        if decided is not None and len(pools["alignment"]) < 4:
            pools["alignment"].append(needs_alignment())
        return pools["alignment"][-1]

    def conflict_deal(decided):
        if decided is not None and len(pools["conflict"]) < 3:
            pools["conflict"].append(conflict())
        return pools["conflict"][-1][0]

    conflict_fields = [
        # Which of the current pair proceeds: "ours" or "theirs", put into ids as the form is sent.
        Field("keep", st.sampled_from(["ours", "theirs"]), st.sampled_from(IDS), plain="ours", kind="id"),
        text("reason", 2000),
        checkbox("reason_shared"),
        Field("based_on", st.just(None), st.sampled_from(IDS), plain=None, kind="id"),
    ]
    forms = [
        ("resolve", decide_fields(alpha), alignment_deal, 8),
        ("resolve", conflict_fields, conflict_deal, 5),
        ("override", decide_fields(alpha), lambda _: routed, 8),
    ]
    for action, fields, next_deal, examples in forms:
        hidden = {}

        def each(submission, action=action, next_deal=next_deal, hidden=hidden):
            deal = next_deal(None)
            url = f"/admin/deals/{deal.id}/{action}"
            if url not in hidden:
                hidden[url] = manager.hidden(url)
            if submission.value("keep") in ("ours", "theirs"):
                ours, theirs = pools["conflict"][-1]
                submission = with_values(
                    submission, keep=str((ours if submission.value("keep") == "ours" else theirs).id)
                )
            response = fuzzer.post(manager, url, submission, hidden=hidden[url])
            if accepted(response, submission):
                hidden.pop(url)  # a new decision version: the form is read again
                if (page := fuzzer.read(manager, f"/deals/{deal.id}", "the deal page after the decision")) is not None:
                    fuzzer.check_page(page.get_data(as_text=True), "GET /deals/<deal_id>", submission.describe())
                next_deal(deal)

        explore(fields, each, examples=examples)
    assert_nothing_found(fuzzer)


def deliver(app):
    result = app.test_cli_runner().invoke(args=["outbox", "work", "--once"])
    assert result.exit_code == 0, result.output


def test_recycling_and_retrying_mail_answer_hostile_input_without_a_5xx(
    app, client, fuzzer, manager, rep, ready, make_partner, smtp
):
    partner = make_partner(name="Thames Cloud")
    deal = partner_led_deal(client, ready, partner)
    request = partner_requests.of_decision(deal.decisions[-1])[0]
    smtp.refused[rep.email] = "550 5.1.1 no such user"
    deliver(app)
    failed = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")).first()
    assert failed is not None
    for url, page in (
        (f"/admin/deals/{deal.id}/recycle/{request.id}", f"/deals/{deal.id}"),
        (f"/admin/mail/{failed.id}/retry", f"/admin/mail/{failed.id}"),
    ):
        hidden = manager.hidden(page)
        explore([], lambda s, url=url, hidden=hidden: fuzzer.post(manager, url, s, hidden=hidden), examples=6)
    fields = [one_of("status", "", "failed", "sent"), number("page", "1", "", "2")]
    explore(fields, lambda s: fuzzer.get(manager, "/admin/mail", s), examples=10, get=True)
    assert_nothing_found(fuzzer)


def webhook_endpoint(app) -> WebhookEndpoint:
    """An endpoint that hears of routing; nothing listens on the discard port, so its deliveries wait or fail."""
    from intake.webhooks import endpoints

    app.config.update(WEBHOOK_ALLOW_PRIVATE=True, WEBHOOK_MAX_ATTEMPTS=1)
    endpoint = endpoints.register(url="http://127.0.0.1:9/hooks/intake", events=["deal.routed"], actor=None)
    db.session.commit()
    return endpoint


def test_the_webhook_forms_answer_hostile_input_without_a_5xx(app, client, fuzzer, manager, ready, make_partner):
    endpoint = webhook_endpoint(app)
    partner_led_deal(client, ready, make_partner(name="Thames Cloud"))
    deliver(app)  # refused on the discard port: given up on after its one attempt
    failed = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.status == "failed")).one()
    urls = choice("http://127.0.0.1:9/hook", "ftp://127.0.0.1/hook", "http://[::1", "https:///", "http://a:99999/")
    hostile_urls = st.sampled_from([*STORABLE, *(f"http://{t}/" for t in STORABLE), "http://" + "a" * 300 + "/"])
    fields = [
        Field("url", urls, hostile_urls, plain="http://127.0.0.1:9/hook"),
        checkboxes("events", ["deal.routed", "deal.won", "registration.received"]),
    ]
    hidden = manager.hidden("/admin/webhooks/new")

    def add(submission):
        response = fuzzer.post(manager, "/admin/webhooks/new", submission, hidden=hidden)
        if accepted(response, submission):
            added = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id.desc())).first()
            fuzzer.check_unique(added.events, "POST /admin/webhooks/new", submission.describe(), "events")
            what = submission.describe()
            if (page := fuzzer.read(manager, f"/admin/webhooks/{added.id}", "the endpoint's page")) is not None:
                fuzzer.check_page(page.get_data(as_text=True), "GET /admin/webhooks/<endpoint_id>", what)

    explore(fields, add, examples=30)
    page = f"/admin/webhooks/{endpoint.id}"
    for url, fields in (
        (f"{page}/active", [one_of("is_active", "no", "yes")]),
        (f"{page}/deliveries/{failed.id}/retry", []),
        (f"{page}/delete", [checkbox("confirm")]),  # last: once confirmed, the others have nothing left
    ):
        hidden = manager.hidden(page)
        explore(fields, lambda s, url=url, hidden=hidden: fuzzer.post(manager, url, s, hidden=hidden), examples=8)
    explore([], lambda s: fuzzer.get(manager, "/admin/webhooks", s), examples=2, get=True)
    assert_nothing_found(fuzzer)


# ------------------------------------------------------------------------------- ids beyond 64 bits in URLs


HOSTILE_PATH_INTS = (str(2**63), str(2**70), "9" * 40, "１２３", "0" * 30 + "1")
HOSTILE_PATH_TEXT = ("%00", "%0d%0aX-Injected:%20yes", "%ED%A0%80", "%3Cscript%3E", "..%2F..%2Fintake%2Fconfig.py")
# Each argument of a rule, with its converter: <int:deal_id>, <id:deal_id>, <key>.
ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


@pytest.fixture
def world(app, client, rep, ready, make_partner, smtp):
    """One of everything a URL names: a routed deal, its mail and PDFs, its customer's link, its partner's request,
    a deal the partner registered and its account."""
    partner = make_partner(name="Thames Cloud")
    deal = ready(partner=partner, strength=5, fulfilment="partner", originator="customer")
    link = customer_link(client, deal)
    endpoint = webhook_endpoint(app)
    deal = route(client, deal)
    deliver(app)
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "routed_vendor")).one()
    registration = register_as(partner)
    return {
        "endpoint_id": endpoint.id,
        "delivery_id": db.session.scalar(select(WebhookDelivery.id).where(WebhookDelivery.deal_id == deal.id)),
        "deal_id": deal.id,
        "user_id": rep.id,
        "partner_id": partner.id,
        "partner_user_id": db.session.scalar(select(PartnerUser.id).where(PartnerUser.partner_id == partner.id)),
        "message_id": message.id,
        "attachment_id": message.attachments[0].id,
        "request_id": partner_requests.of_decision(deal.decisions[-1])[0].id,
        "version": deal.decisions[-1].version,
        "copy": "vendor",
        "key": "account",
        "reason": "needs_alignment",
        "token": link.rsplit("/", 1)[1],
        "request_token": partner_token(deal),
        "filename": "intake.css",
        "registration_id": registration.id,
        "account_id": registration.deal.account_id,
        "quarter": "2026-Q4",
        "side": "brought",
    }


def urls_with_one_hostile_part(rule, world: dict):
    """The rule's URL with each argument in turn made hostile, the others those of the world's deal."""
    token = "request_token" if rule.endpoint.startswith("partner.") else "token"
    valid = {**world, "token": world[token]}
    for converter, name in ARGUMENT.findall(rule.rule):
        for value in HOSTILE_PATH_INTS if converter in ("int", "id") else HOSTILE_PATH_TEXT:
            values = {**valid, name: value}
            yield ARGUMENT.sub(lambda m, values=values: str(values[m.group(2)]), rule.rule)


def test_ids_beyond_64_bits_and_hostile_names_in_every_url_answer_without_a_5xx(app, fuzzer, manager, world):
    csrf = manager.csrf_token()
    visitor = app.test_client()
    for rule in app.url_map.iter_rules():
        # The customer's and partner's links from an address of their own: unknown links are rate limited.
        browser = visitor if rule.endpoint.split(".")[0] in ("link", "partner", "static") else manager
        for url in urls_with_one_hostile_part(rule, world):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if method == "GET":
                    fuzzer.get(browser, url, address="192.0.2.7")
                else:
                    nothing = Submission((), f"{method} {shown(url)}", "page", "percent")
                    fuzzer.post(browser, url, nothing, hidden={"csrf_token": csrf}, address="192.0.2.7")
    assert_nothing_found(fuzzer)


# ------------------------------------------------------------------ stored hostile text: pages, mail and PDFs


def fill(fuzzer, browser, url: str, data: dict, plain: dict, *, page: str | None = None) -> dict | None:
    """Send a form as a user fills it; each field the form refuses is filled plainly and the form sent again.

    Returns what was taken, or None (found) when even the plain answers were not.
    """
    response = None
    for _ in range(4):
        submission = Submission(
            tuple(data.items()), "hostile text a user could type, in every field", "page", "percent"
        )
        response = fuzzer.post(browser, url, submission, hidden=browser.hidden(page or url))
        if response is not None and response.status_code == 302:
            return data
        html = response.get_data(as_text=True) if response is not None else ""
        refused = set(re.findall(r'class="field-error" id="([^"]+)-error"', html)) & plain.keys()
        if not refused and all(data[k] == plain[k] for k in plain):
            break
        # A 5xx, or a refusal beside no field of ours: every hostile field is filled plainly.
        data = {**data, **{name: plain[name] for name in refused or plain}}
    status = response.status_code if response is not None else None
    fuzzer.found(f"POST {url}", shown(data), "the form refused even the plain answers", status)
    return None


ONCE_PER_MESSAGE = ("subject", "from", "to", "cc", "reply-to", "message-id", "date", "mime-version")


def check_delivered_mail(fuzzer, smtp, since: int, what: str) -> int:
    """Each message delivered since `since`: one header per name, none injected, its HTML escaped."""
    for raw, (_, recipients) in list(zip(smtp.raw, smtp.envelopes, strict=True))[since:]:
        message = message_from_bytes(raw, policy=policy.default)
        where = f"mail {shown(str(message['Subject']))}"
        names = [name.lower() for name in message.keys()]
        for name in set(names):
            if name in ONCE_PER_MESSAGE and names.count(name) > 1:
                fuzzer.found(where, what, f"the {name} header appears {names.count(name)} times")
        for name in ("bcc", "x-injected"):
            if name in names:
                fuzzer.found(where, what, f"an injected {name} header: {shown(str(message[name]))}")
        for name, value in message.items():
            if "\r" in value or "\n" in value:
                fuzzer.found(where, what, f"a line break in the {name} header: {shown(str(value))}")
        if any("attacker" in address for address in recipients):
            fuzzer.found(where, what, f"sent to an injected recipient: {recipients}")
        for part in message.walk():
            if part.get_content_type() == "text/html":
                fuzzer.check_page(part.get_content(), where, what)
    return len(smtp.raw)


def without_spaces(text: str) -> str:
    # pypdf reads a font WeasyPrint embeds with two-byte glyph ids as UTF-16: a NUL before each letter.
    return "".join(text.replace("\x00", "").split())


def check_pdf(fuzzer, browser, deal_id: int, version: int, copy: str, stored: list[str], what: str) -> None:
    """The copy's PDF, read back, shows as text the markup each stored answer carries."""
    url = f"/deals/{deal_id}/decisions/{version}/{copy}.pdf"
    if (response := fuzzer.read(browser, url, f"the {copy} PDF")) is None:
        return
    if response.status_code != 200 or not response.data.startswith(b"%PDF"):
        fuzzer.found(f"GET {url}", what, f"no PDF: {response.status_code}")
        return
    text = without_spaces("\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.data)).pages))
    for value in stored:
        for markup in SHOWN_AS_TEXT:
            if markup in value and without_spaces(markup) not in text:
                fuzzer.found(f"GET {url}", what, f"the PDF does not show {shown(markup)} as text (in {shown(value)})")


STORY_FIELDS = (
    "partner name",
    "partner contact",
    "account name",
    "contact name",
    "contact title",
    "pain other",
    "business impact",
    "incumbent",
    "decision maker",
    "decision process",
    "competitors",
    "next step",
    "rep notes",
    "does what",
    "company name",
    "customer name",
    "customer title",
    "customer does what",
    "fulfilment reason",
    "override reason",
    "decline reason",
)


def test_stored_hostile_text_renders_escaped_in_pages_mail_and_pdfs(app, client, fuzzer, manager, rep, smtp):
    """Hostile text typed in every field of a deal's story — the partner, the questionnaire, the customer's
    answer, the manager's override, the partner's decline — reaches pages, mail and PDFs as text.

    Each field gets the next of the hostile texts in turn, so every one of them is typed somewhere.
    """
    said = {field: STORABLE[i % len(STORABLE)] for i, field in enumerate(STORY_FIELDS)}
    what = "; ".join(f"{k}={shown(v)}" for k, v in said.items())
    verticals = app.config["VERTICALS"]
    today = date.today()
    taken = fill(
        fuzzer,
        manager,
        "/admin/partners/new",
        {
            "name": said["partner name"],
            "contact_name": said["partner contact"],
            "contact_email": "story@partner.example",
            "countries": "DE",
            "verticals": verticals[0],
            "tier": "gold",
        },
        {"name": "Story Partner", "contact_name": "Pat Partner"},
    )
    assert taken is not None, fuzzer.found_here
    partner = db.session.scalars(select(Partner).order_by(Partner.id.desc())).first()
    started = client.submit("/deals/new", page="/deals")
    deal_id = int(started.location.rstrip("/").split("/")[-2])
    sections = {
        "account": (
            {
                "name": said["account name"],
                "domain": "story.example",
                "country": "DE",
                "vertical": verticals[0],
                "size_band": "50-249",
                "vendor_strength": "0",
                "contact_name": said["contact name"],
                "contact_title": said["contact title"],
                "contact_email": "casey@story.example",
            },
            {"name": "Story Customer", "contact_name": "Casey", "contact_title": "CIO"},
        ),
        "origin": ({"originator": "customer", "origin_channel": "meeting", "origin_date": str(today)}, {}),
        "need": (
            {
                "pain_points": app.config["PAIN_POINTS"][0],
                "pain_other": said["pain other"],
                "business_impact": said["business impact"],
                "incumbent": said["incumbent"],
                "solutions": app.config["CATALOGUE"][0],
                "estimated_value": "50000",
                "currency": "EUR",
                "close_date": str(today + timedelta(days=60)),
            },
            {"pain_other": "", "business_impact": "Costs rise.", "incumbent": ""},
        ),
        "qualification": (
            {
                "budget": "approved",
                "has_decision_maker": "yes",
                "decision_maker": said["decision maker"],
                "decision_process": said["decision process"],
                "competitors": said["competitors"],
                "next_step": said["next step"],
                "next_step_date": str(today + timedelta(days=7)),
            },
            {"decision_maker": "CIO", "decision_process": "", "competitors": "", "next_step": "Workshop"},
        ),
        "landscape": (
            {
                "partners_known": "yes",
                "rows-0-partner_id": str(partner.id),
                "rows-0-strength": "5",
                "rows-0-does_what": said["does what"],
                "rows-0-notes": said["rep notes"],
            },
            {"rows-0-does_what": "", "rows-0-notes": ""},
        ),
    }
    for key, (data, plain) in sections.items():
        assert fill(fuzzer, client, f"/deals/{deal_id}/{key}", {**data, "action": "save"}, plain), fuzzer.found_here
    assert client.submit(f"/deals/{deal_id}/complete", page=f"/deals/{deal_id}").status_code == 302
    link = customer_link(client, db.session.get(Deal, deal_id))
    customer = app.test_client()
    answer = {
        "company_name": said["company name"],
        "contact_name": said["customer name"],
        "contact_title": said["customer title"],
        "contact_email": "casey@story.example",
        "works_with_partner": "yes",
        "rows-0-partner_id": str(partner.id),
        "rows-0-strength": "5",
        "rows-0-duration": "over_5",
        "rows-0-does_what": said["customer does what"],
        "fulfilment": "partner",
        "fulfilment_row": "0",
        "fulfilment_reason": said["fulfilment reason"],
        "contact_preference": "partner",
        "consent": "y",
        "action": "send",
    }
    plain = {"company_name": "Story GmbH", "contact_name": "Casey", "contact_title": "CIO"}
    plain.update({"rows-0-does_what": "", "fulfilment_reason": ""})
    assert fill(fuzzer, customer, link, answer, plain), fuzzer.found_here

    # Routed: the vendor's and the partner's mail, with their PDFs.
    deal = route(client, db.session.get(Deal, deal_id))
    deliver(app)
    seen = check_delivered_mail(fuzzer, smtp, 0, what)
    assert seen >= 2, "routing delivers the vendor's and the partner's mail"
    said_by_customer = deal.customer_answer.fulfilment_reason
    shared = [deal.account.name, deal.business_impact, deal.incumbent, said_by_customer]
    internal = [deal.decision_maker, deal.competitors, deal.next_step]
    check_pdf(fuzzer, client, deal_id, 1, "vendor", shared + internal, what)
    check_pdf(fuzzer, client, deal_id, 1, f"partner-{partner.id}", shared, what)

    # The manager overrides with a reason shared with the partner: a new version, new mail and PDFs.
    decision = {"leader": f"partner:{partner.id}", "fulfilment": f"partner:{partner.id}", "confirm": "y"}
    decision.update({"reason": said["override reason"], "reason_shared": "y"})
    overridden = fill(fuzzer, manager, f"/admin/deals/{deal_id}/override", decision, {"reason": "As asked."})
    assert overridden, fuzzer.found_here
    deliver(app)
    seen = check_delivered_mail(fuzzer, smtp, seen, what)
    version = db.session.get(Deal, deal_id).decisions[-1]
    check_pdf(fuzzer, client, deal_id, version.version, f"partner-{partner.id}", [*shared, version.reason], what)

    # The partner reads its request and declines with a reason: the rep is told.
    token = partner_token(deal)
    if (request_page := fuzzer.read(app.test_client(), f"/r/{token}", "the partner's request page")) is not None:
        shown_values = [deal.account.name]
        fuzzer.check_page(request_page.get_data(as_text=True), "GET /r/<token>", what, shown_values=shown_values)
    decline = {"reason": said["decline reason"]}
    declined = fill(
        fuzzer, app.test_client(), f"/r/{token}/decline", decline, {"reason": "No capacity."}, page=f"/r/{token}"
    )
    assert declined, fuzzer.found_here
    deliver(app)
    check_delivered_mail(fuzzer, smtp, seen, what)
    for browser, url in ((client, f"/deals/{deal_id}"), (manager, f"/deals/{deal_id}"), (customer, link)):
        if (page := fuzzer.read(browser, url, "a page showing the deal")) is not None:
            fuzzer.check_page(page.get_data(as_text=True), f"GET {url}", what)
    assert_nothing_found(fuzzer)


def test_the_partner_portal_and_its_users_answer_hostile_input_without_a_5xx(
    app, client, fuzzer, manager, rep, ready, make_partner
):
    # Asking for sign-in links is limited per email and per address: let the fuzzer ask freely.
    app.config.update(SIGN_IN_LINKS_PER_EMAIL=10**6, SIGN_IN_LINKS_PER_ADDRESS=10**6)
    partner = make_partner(name="Portal Partner", contact_name="Pia Portal", contact_email="pia@portal.example")
    fresh = iter(range(1, 10**6))
    invite = f"/admin/partners/{partner.id}/users"
    hidden = manager.hidden(f"/admin/partners/{partner.id}")

    def each_invite(submission):
        if submission.value("email") == "new@portal.example":  # one partner user per address: each plain one new
            submission = with_values(submission, email=f"new{next(fresh)}@portal.example")
        response = fuzzer.post(manager, invite, submission, hidden=hidden)
        if accepted(response, submission) and (
            page := fuzzer.read(manager, f"/admin/partners/{partner.id}", "the partner's page")
        ):
            fuzzer.check_page(page.get_data(as_text=True), "GET /admin/partners/<partner_id>", submission.describe())

    explore([text("name", 120), email("email", "new@portal.example")], each_invite, examples=8)
    visitor = app.test_client()
    login_hidden = visitor.hidden("/partner/login")
    explore(
        [email("email", "pia@portal.example", "PIA@portal.example ", "nobody@portal.example")],
        lambda submission: fuzzer.post(visitor, "/partner/login", submission, hidden=login_hidden),
        examples=8,
    )
    for token in ("A" * 43, "%00" * 20, "x" * 300, "é" * 30):
        fuzzer.get(visitor, f"/partner/sign-in/{token}", Submission((), f"token {shown(token)}", "page", "percent"))
        fuzzer.post(
            visitor,
            f"/partner/sign-in/{token}",
            Submission((), f"token {shown(token)}", "page", "percent"),
            hidden=login_hidden,
        )
    fuzzer.post(
        visitor,
        "/partner/logout",
        Submission((("next", "//evil.example"),), "a stray field", "page", "percent"),
        hidden=login_hidden,
    )
    portal = sign_in_partner(app, "pia@portal.example")
    for action, fields, examples in (("decline", [text("reason", 2000)], 8), ("accept", [], 4)):
        request_id = partner_requests.of_deal(partner_led_deal(client, ready, partner).id)[-1].id
        page = f"/partner/requests/{request_id}"
        portal_hidden = portal.hidden(page)

        def each(submission, url=f"{page}/{action}", page=page, hidden=portal_hidden):
            response = fuzzer.post(portal, url, submission, hidden=hidden)
            if accepted(response, submission) and (
                shown_page := fuzzer.read(portal, page, "the request in the portal")
            ):
                fuzzer.check_page(
                    shown_page.get_data(as_text=True), "GET /partner/requests/<id>", submission.describe()
                )

        explore(fields, each, examples=examples)
    user_id = db.session.scalar(select(PartnerUser.id).where(PartnerUser.partner_id == partner.id))
    active = f"/admin/partners/{partner.id}/users/{user_id}/active"
    explore([one_of("active", "1", "0")], lambda s: fuzzer.post(manager, active, s, hidden=hidden), examples=4)
    assert_nothing_found(fuzzer)


# ------------------------------------------------------------------------------- registering deals in the portal


def register_as(partner, **values) -> Registration:
    """A deal the partner's user registers, as the portal's form sends it (what the test leaves out, plain)."""
    partner_user = db.session.scalars(select(PartnerUser).where(PartnerUser.partner_id == partner.id)).first()
    n = db.session.scalar(select(func.count()).select_from(Registration)) + 1
    answers = {
        "account_name": f"Registered {n} Ltd",
        "domain": f"registered{n}.example",
        "country": "GB",
        "vertical": "",
        "contact_name": "Quinn Quayle",
        "contact_email": "",
        "contact_phone": "",
        "need": "A warehouse system.",
        "solutions": [],
        "estimated_value": None,
        "currency": "",
        "close_date": None,
        "strength": 3,
        "since": None,
        "notes": "",
        **values,
    }
    found = registrations.register(partner_user, answers, form_key=f"fuzz-{n}")
    db.session.commit()
    return found


def registration_fields(app) -> list[Field]:
    """The portal's registration form; "fresh" is put in as a new form key, or a domain nobody registered."""
    return [
        Field("form_key", st.just("fresh"), anything(), plain="fresh"),
        text("account_name", 160),
        Field(
            "domain",
            choice("fresh", "fresh", "quayside.example", "https://www.Quayside.example/about", ""),
            st.sampled_from(DOMAINS),
            plain="fresh",
            kind="domain",
        ),
        one_of("country", "GB", "DE", "", "XX", "gb"),
        one_of("vertical", *app.config["VERTICALS"], ""),
        text("contact_name", 120),
        email("contact_email", "quinn@quayside.example", ""),
        one_of("contact_phone", "+44 20 7946 0000", "", hostile=st.sampled_from([*NUMBERS, *STORABLE])),
        text("need", 2000),
        checkboxes("solutions", app.config["CATALOGUE"]),
        number("estimated_value", "50000", "", "0", "99999.99", "1e3"),
        one_of("currency", *app.config["CURRENCIES"], ""),
        day("close_date", future=True),
        number("strength", 4, 0, 1, 2, 3, 5, ""),
        day("since", blank=True),
        text("notes", 2000),
    ]


def test_registering_a_deal_in_the_portal_answers_hostile_input_without_a_5xx(app, fuzzer, manager, thames):
    app.config.update(REGISTRATIONS_PER_HOUR=10**6)  # the fuzzer registers far more than a partner may in an hour
    portal = sign_in_partner(app, thames.contact_email)
    hidden = portal.hidden("/partner/register")
    fresh = iter(range(1, 10**6))

    def each(submission):
        if submission.value("form_key") == "fresh":  # a form shown anew: each plain one registers anew
            submission = with_values(submission, form_key=f"key-{next(fresh)}")
        if submission.value("domain") == "fresh":
            submission = with_values(submission, domain=f"fresh{next(fresh)}.example")
        response = fuzzer.post(portal, "/partner/register", submission, hidden=hidden)
        if not accepted(response, submission):
            return
        what = submission.describe()
        location = response.headers["Location"]
        registration = db.session.get(Registration, int(location.rstrip("/").rsplit("/", 1)[1]))
        deal = registration.deal
        fuzzer.check_unique(deal.solutions, "POST /partner/register", what, "solutions")
        # The partner's page shows what it registered, but not the contact: the rep may change it later, and
        # a customer's contact details reach a partner only with the customer's consent.
        said = [registration.account_name, deal.pain_other, registration.notes]
        if (page := fuzzer.read(portal, location, f"the registration after: {what}")) is not None:
            fuzzer.check_page(page.get_data(as_text=True), "GET /partner/registrations/<id>", what, shown_values=said)
        if carries_markup(submission):
            pages = [(portal, "/partner/", True), (portal, "/partner/relationships", True)]
            pages += [(manager, f"/deals/{deal.id}", True), (manager, "/admin/registrations", deal.rep_id is None)]
            pages += [(manager, "/admin/queues/conflict", registration.clashed)]  # a clash waits there
            for browser, url, shows_it in pages:
                if (page := fuzzer.read(browser, url, f"a page showing the registration after: {what}")) is not None:
                    shown_values = said[:1] if shows_it else []
                    fuzzer.check_page(page.get_data(as_text=True), f"GET {url}", what, shown_values=shown_values)

    explore(registration_fields(app), each, examples=15)
    assert db.session.scalar(select(func.count()).select_from(Registration)) >= 10, "the plain form registers"
    assert_nothing_found(fuzzer)


def test_stating_a_relationship_and_recording_won_or_lost_in_the_portal_answer_hostile_input_without_a_5xx(
    app, client, fuzzer, rep, ready, thames, make_account
):
    portal = sign_in_partner(app, thames.contact_email)
    deals = [partner_led_deal(client, ready, thames)]
    relationship = f"/partner/relationships/{deals[0].account_id}"
    hidden = portal.hidden("/partner/relationships")

    def each_statement(submission):
        response = fuzzer.post(portal, relationship, submission, hidden=hidden)
        if accepted(response, submission) and (page := fuzzer.read(portal, "/partner/relationships", "the list")):
            fuzzer.check_page(page.get_data(as_text=True), "GET /partner/relationships", submission.describe())

    explore([number("strength", 3, 0, 1, 2, 4, 5, ""), day("since", blank=True)], each_statement, examples=8)
    # An account the partner does not work with here, and one that is not there: both as if missing.
    for account_id in (make_account(name="Nobody's Partner GmbH").id, 2**31):
        fuzzer.post(
            portal,
            f"/partner/relationships/{account_id}",
            Submission((("strength", "5"),), f"the account {account_id}, not the partner's", "page", "percent"),
            hidden=hidden,
        )
    pages = {}
    fields = [
        one_of("outcome", "won", "lost"),
        day("closed_on"),
        number("final_value", "50000", "0", "123.45"),
        text("lost_reason", 2000),
    ]

    def each_outcome(submission):
        request_id = partner_requests.of_deal(deals[-1].id)[-1].id
        page = f"/partner/requests/{request_id}"
        if page not in pages:
            pages[page] = portal.hidden(page)
        response = fuzzer.post(portal, f"{page}/outcome", submission, hidden=pages[page])
        if not accepted(response, submission):
            return
        what = submission.describe()
        if (shown_page := fuzzer.read(portal, page, "the request in the portal after recording it")) is not None:
            fuzzer.check_page(shown_page.get_data(as_text=True), "GET /partner/requests/<id>", what)
        if carries_markup(submission):
            if (
                deal_page := fuzzer.read(client, f"/deals/{deals[-1].id}", f"the rep's deal page after: {what}")
            ) is not None:
                fuzzer.check_page(deal_page.get_data(as_text=True), "GET /deals/<deal_id>", what)
        if len(deals) < 4:  # a closed deal stays closed: go on with another
            deals.append(partner_led_deal(client, ready, thames))

    explore(fields, each_outcome, examples=10)
    assert_nothing_found(fuzzer)


def api_token_fields() -> list[Field]:
    """The form of a person's API token settings; "fresh" is put in as a new form key."""
    return [
        Field("form_key", st.just("fresh"), anything(), plain="fresh"),
        text("name", 80),
        one_of("scope", "read", "write", ""),
    ]


@pytest.mark.parametrize("page", ["/account/tokens", "/partner/tokens"])
def test_making_and_revoking_api_tokens_answers_hostile_input_without_a_5xx(app, fuzzer, make_user, thames, page):
    staff = page == "/account/tokens"
    browser = sign_in(app, make_user("rep")) if staff else sign_in_partner(app, thames.contact_email)
    hidden = browser.hidden(page)
    fresh = iter(range(1, 10**6))

    def each(submission):
        if submission.value("form_key") == "fresh":  # a form shown anew: each plain one makes a token
            submission = with_values(submission, form_key=f"key-{next(fresh)}")
        response = fuzzer.post(browser, page, submission, hidden=hidden)
        if response is None or response.status_code != 200 or not submission.csrf_ok:
            return
        what = submission.describe()
        name = submission.value("name")
        # The name is kept with its runs of spaces made one, as the list shows it.
        said = [" ".join(name.split())] if isinstance(name, str) else []
        fuzzer.check_page(response.get_data(as_text=True), f"POST {page}", what, shown_values=said)
        if carries_markup(submission) and (listed := fuzzer.read(browser, page, f"the tokens after: {what}")):
            fuzzer.check_page(listed.get_data(as_text=True), f"GET {page}", what, shown_values=said)

    explore(api_token_fields(), each, examples=12)
    made = db.session.scalars(select(ApiToken.id)).all()
    assert made, "the plain form makes a token"
    for token_id in made[:3] * 2:  # each once, then again: revoked already
        revoke = Submission((), f"revoke token {token_id}", "page", "percent")
        fuzzer.post(browser, f"{page}/{token_id}/revoke", revoke, hidden=hidden)
    assert_nothing_found(fuzzer)


def test_assigning_registrations_to_reps_answers_hostile_input_without_a_5xx(app, fuzzer, manager, thames, make_user):
    reps = [make_user("rep", name=STORABLE[0]), make_user("rep", name=STORABLE[1])]
    gone = make_user("rep", name="Gone Rep", is_active=False)
    # Registrations of accounts nobody owns, named with hostile text: they wait for the channel manager.
    pool = [register_as(thames, account_name=STORABLE[i] + f" {i}") for i in range(3)]
    hidden = manager.hidden("/admin/registrations")

    def each(submission):
        if submission.value("deal_id") == "waiting":
            submission = with_values(submission, deal_id=str(pool[-1].deal_id))
        response = fuzzer.post(manager, "/admin/registrations", submission, hidden=hidden)
        if response is not None and response.status_code == 400:  # the form shown again, with the hostile names
            names = [r.deal.account.name for r in pool if r.deal.rep_id is None] + [u.name for u in reps]
            fuzzer.check_page(response.get_data(as_text=True), "POST /admin/registrations", "", shown_values=names)
        if accepted(response, submission):
            what = submission.describe()
            if (page := fuzzer.read(manager, "/admin/registrations", f"the registrations after: {what}")) is not None:
                fuzzer.check_page(page.get_data(as_text=True), "GET /admin/registrations", what)
            n = len(pool)
            pool.append(register_as(thames, account_name=STORABLE[n % len(STORABLE)] + f" {n}"))

    fields = [
        Field("deal_id", st.just("waiting"), st.sampled_from(IDS), plain="waiting", kind="id"),
        an_id("rep_id", reps[0].id, reps[1].id, gone.id, ""),
    ]
    explore(fields, each, examples=10)
    assigned = db.session.scalars(select(Deal).where(Deal.id.in_([r.deal_id for r in pool]), Deal.rep_id.is_not(None)))
    assert {deal.rep_id for deal in assigned} <= {reps[0].id, reps[1].id}, "a registration went to an inactive rep"
    assert_nothing_found(fuzzer)


# ------------------------------------------------------------------------------------ the partner review


def test_asking_for_a_partners_review_answers_hostile_input_without_a_5xx(app, fuzzer, manager, make_partner):
    partner = make_partner(name=STORABLE[0])  # a hostile name goes into the mail's subject and body
    page = f"/admin/partners/{partner.id}/scorecard"
    url = f"/admin/partners/{partner.id}/review"
    hidden = manager.hidden(page)
    not_quarters = st.sampled_from(["2026-Q5", "2026-Q0", "2026-q1", "0000-Q1", "9999-Q4", "Q1-2026", "2026-Q1\x00"])
    fields = [one_of("quarter", quarters.of(utcnow()), hostile=st.one_of(not_quarters, anything()))]

    def each(submission):
        response = fuzzer.post(manager, url, submission, hidden=hidden)
        if response is not None and response.status_code == 400:
            fuzzer.check_page(response.get_data(as_text=True), f"POST {url}", submission.describe(), [partner.name])
        if accepted(response, submission) and (shown_page := fuzzer.read(manager, page, "the scorecard after")):
            fuzzer.check_page(shown_page.get_data(as_text=True), f"GET {page}", submission.describe(), [partner.name])

    explore(fields, each, examples=10)
    queued = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "partner_review")).all()
    assert len(queued) == 1, "the plain form queues the review once, however often it is sent"
    assert_nothing_found(fuzzer)


# ------------------------------------------------------------------------------------ the CSV import


def _file_upload(token: str, kind: str, action: str, content: bytes, filename: str) -> tuple[bytes, str]:
    """The import form as a browser sends it, the file part holding `content` as it is."""
    boundary = "----intake-import-fuzz"
    disposition = filename.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A").encode("utf-8", "replace")
    fields = [("csrf_token", token), ("kind", kind), ("action", action)]
    chunks = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    ]
    chunks.append(
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + disposition
        + b'"\r\nContent-Type: text/csv\r\n\r\n'
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def test_importing_a_csv_answers_hostile_files_without_a_5xx(app, fuzzer, manager, make_partner, make_account):
    make_partner(name="Thames Cloud Ltd")
    make_account(name="Kestrel Health", domain="kestrel.example")
    page = "/admin/import"
    hidden = manager.hidden(page)
    # The form's own fields, without a file: refused with a message, never a 5xx.
    fields = [one_of("kind", "accounts", "partners", "relationships"), one_of("action", "check", "import")]
    explore(fields, lambda submission: fuzzer.post(manager, page, submission, hidden=hidden), examples=10)

    columns = {
        "partners": ["name", "contact_email", "countries", "verticals", "tier", "active"],
        "accounts": ["name", "domain", "country", "vertical", "size_band", "owner", "vendor_strength"],
        "relationships": ["account", "partner", "strength", "since", "notes"],
    }
    hostile_cells = st.one_of(
        st.sampled_from(STORABLE),
        st.sampled_from(["=1+1", "@SUM(A1)", "-2", "GB", "xx", "5", "9", "yes", "2026-02-30", "kestrel.example"]),
        st.text(max_size=40),
    )

    @settings(FUZZ, max_examples=40)
    @given(
        kind=st.sampled_from(sorted(columns)),
        action=st.sampled_from(["check", "import"]),
        extra_column=st.sampled_from(["", "colour", "name", "\x00"]),
        rows=st.lists(st.lists(hostile_cells, min_size=0, max_size=8), max_size=5),
        encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
        raw=st.one_of(st.just(b""), st.binary(max_size=80)),
        filename=st.sampled_from(["accounts.csv", "", '"; x=.exe', MARKUP, HEADER_BREAK]),
    )
    def each(kind, action, extra_column, rows, encoding, raw, filename):
        header = columns[kind] + ([extra_column] if extra_column else [])
        lines = [",".join(header)] + [",".join('"' + c.replace('"', '""') + '"' for c in row) for row in rows]
        content = "\n".join(lines).encode(encoding, "replace") + raw
        body, content_type = _file_upload(hidden["csrf_token"], kind, action, content, filename)
        what = f"{kind} {action}, {len(rows)} rows in {encoding}, {len(raw)} raw bytes after"
        response = fuzzer._send(manager, "POST", page, what, data=body, content_type=content_type)
        if response is not None and response.status_code in (200, 400):
            # Cells are trimmed and only some are quoted back: no markup from them may be live.
            fuzzer.check_page(response.get_data(as_text=True), f"POST {page}", what)

    each()
    assert_nothing_found(fuzzer)


# ------------------------------------------------------------------------------------ every form is fuzzed


# Each route that takes a POST, and the test above that fuzzes it.
FUZZED_FORMS = {
    "auth.login": "test_sign_in_answers_hostile_input_without_a_5xx_and_sends_only_to_this_site",
    "auth.logout": "test_the_deal_page_buttons_answer_hostile_input_without_a_5xx",
    "auth.own_password": "test_own_password_form_answers_hostile_input_without_a_5xx",
    "rep.new_deal": "test_the_deal_page_buttons_answer_hostile_input_without_a_5xx",
    "rep.section": "test_each_questionnaire_section_answers_hostile_input_without_a_5xx",
    "rep.complete": "test_the_deal_page_buttons_answer_hostile_input_without_a_5xx",
    "rep.discard": "test_the_deal_page_buttons_answer_hostile_input_without_a_5xx",
    "rep.close": "test_closing_a_deal_answers_hostile_input_without_a_5xx",
    "rep.edit_account": "test_an_accounts_page_its_edit_and_the_list_answer_hostile_input_without_a_5xx",
    "admin.merge_account": "test_merging_accounts_answers_hostile_input_without_a_5xx",
    "rep.create_link": "test_the_deal_page_buttons_answer_hostile_input_without_a_5xx",
    "rep.email_link": "test_the_deal_page_buttons_answer_hostile_input_without_a_5xx",
    "rep.revoke_link": "test_the_deal_page_buttons_answer_hostile_input_without_a_5xx",
    "rep.route": "test_the_deal_page_buttons_answer_hostile_input_without_a_5xx",
    "admin.new_user": "test_the_channel_managers_user_forms_answer_hostile_input_without_a_5xx",
    "admin.edit_user": "test_the_channel_managers_user_forms_answer_hostile_input_without_a_5xx",
    "admin.user_password": "test_the_channel_managers_user_forms_answer_hostile_input_without_a_5xx",
    "admin.edit_partner": "test_the_channel_managers_partner_forms_answer_hostile_input_without_a_5xx",
    "admin.partner_active": "test_the_channel_managers_partner_forms_answer_hostile_input_without_a_5xx",
    "admin.resolve": "test_the_resolve_and_override_forms_answer_hostile_input_without_a_5xx",
    "admin.override": "test_the_resolve_and_override_forms_answer_hostile_input_without_a_5xx",
    "admin.rules": "test_the_rules_of_engagement_form_answers_hostile_input_without_a_5xx",
    "admin.recycle": "test_recycling_and_retrying_mail_answer_hostile_input_without_a_5xx",
    "admin.mail_retry": "test_recycling_and_retrying_mail_answer_hostile_input_without_a_5xx",
    "link.submit": "test_the_customers_answer_form_answers_hostile_input_without_a_5xx",
    "partner.accept": "test_the_partners_accept_and_decline_forms_answer_hostile_input_without_a_5xx",
    "partner.decline": "test_the_partners_accept_and_decline_forms_answer_hostile_input_without_a_5xx",
    "admin.invite_partner_user": "test_the_partner_portal_and_its_users_answer_hostile_input_without_a_5xx",
    "admin.partner_user_active": "test_the_partner_portal_and_its_users_answer_hostile_input_without_a_5xx",
    "portal.login": "test_the_partner_portal_and_its_users_answer_hostile_input_without_a_5xx",
    "portal.sign_in": "test_the_partner_portal_and_its_users_answer_hostile_input_without_a_5xx",
    "portal.logout": "test_the_partner_portal_and_its_users_answer_hostile_input_without_a_5xx",
    "portal.accept": "test_the_partner_portal_and_its_users_answer_hostile_input_without_a_5xx",
    "portal.decline": "test_the_partner_portal_and_its_users_answer_hostile_input_without_a_5xx",
    "portal.register": "test_registering_a_deal_in_the_portal_answers_hostile_input_without_a_5xx",
    "portal.state_relationship": (
        "test_stating_a_relationship_and_recording_won_or_lost_in_the_portal_answer_hostile_input_without_a_5xx"
    ),
    "portal.outcome": (
        "test_stating_a_relationship_and_recording_won_or_lost_in_the_portal_answer_hostile_input_without_a_5xx"
    ),
    "auth.own_tokens": "test_making_and_revoking_api_tokens_answers_hostile_input_without_a_5xx",
    "auth.revoke_own_token": "test_making_and_revoking_api_tokens_answers_hostile_input_without_a_5xx",
    "portal.tokens": "test_making_and_revoking_api_tokens_answers_hostile_input_without_a_5xx",
    "portal.revoke_token": "test_making_and_revoking_api_tokens_answers_hostile_input_without_a_5xx",
    "admin.registrations": "test_assigning_registrations_to_reps_answers_hostile_input_without_a_5xx",
    "admin.partner_review": "test_asking_for_a_partners_review_answers_hostile_input_without_a_5xx",
    "admin.import_page": "test_importing_a_csv_answers_hostile_files_without_a_5xx",
    "admin.new_webhook": "test_the_webhook_forms_answer_hostile_input_without_a_5xx",
    "admin.webhook_active": "test_the_webhook_forms_answer_hostile_input_without_a_5xx",
    "admin.delete_webhook": "test_the_webhook_forms_answer_hostile_input_without_a_5xx",
    "admin.retry_webhook_delivery": "test_the_webhook_forms_answer_hostile_input_without_a_5xx",
}


def test_every_form_has_a_fuzz_test(app):
    # The JSON API takes no forms: Schemathesis fuzzes each of its operations against its document (test_api_schema).
    posts = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.endpoint.startswith("api_")
    }
    assert posts - set(FUZZED_FORMS) == set(), "fuzz the new forms here, and name the test in FUZZED_FORMS"
    assert set(FUZZED_FORMS) - posts == set(), "these rows name no form"
    assert set(FUZZED_FORMS.values()) <= set(globals()), "these rows name no test"
