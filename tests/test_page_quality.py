"""Every page a person reads, checked with real tools, reached the way that person reaches it.

- axe-core, in Debian's Chromium, finds no serious or critical accessibility violation;
- html-validate finds the HTML the server sends valid, and every <time datetime> is a date or time
  HTML accepts (html-validate does not read them);
- every page comes with a Content-Security-Policy that allows scripts and styles only from files,
  nothing on it needs what such a policy blocks (inline scripts, event handlers, style attributes,
  <style> blocks), and Chromium reports no violation of it.

The npm tools live in tests/browser; `make test` installs them there (`npm ci`).
"""

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from intake import api_tokens, quarters
from intake.deals import partner_requests
from intake.extensions import db
from intake.models import Deal, OutboxMessage
from intake.models.types import utcnow
from intake.webhooks import endpoints

from .chromium_thread import chromium_on_a_thread
from .conftest import PASSWORD, answer_for
from .test_customer_link import create_link
from .test_fuzz import register_as
from .test_routed_mail import deliver
from .test_routing_flow import route

TOOLS = Path(__file__).resolve().parent / "browser"
AXE = TOOLS / "node_modules" / "axe-core" / "axe.min.js"
HTML_VALIDATE = TOOLS / "node_modules" / "html-validate" / "bin" / "html-validate.mjs"
HTML_RULES = TOOLS / ".htmlvalidate.mjs"
CHROMIUM = os.environ.get("INTAKE_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("INTAKE_REQUIRE_BROWSER") == "1"
BLOCKING = ("serious", "critical")
SECTIONS = ("account", "origin", "need", "qualification", "landscape")  # the questionnaire's, in order
# The customer answers on a phone; staff work at a desk.
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "de-DE"}
DESK = {"viewport": {"width": 1280, "height": 900}, "locale": "en-GB"}
# The forms of HTML's date and time strings that Intake writes: a date, or a date and a time to at
# most milliseconds, with or without a zone.
_DATE = r"\d{4}-\d{2}-\d{2}"
_DATETIME = re.compile(rf"{_DATE}|{_DATE}[T ]\d{{2}}:\d{{2}}(:\d{{2}}(\.\d{{1,3}})?)?(Z|[+-]\d{{2}}:?\d{{2}})?")

# A page is made the same way on either engine; one engine checks how it is made.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _unavailable(reason: str):
    if REQUIRED:
        pytest.fail(f"INTAKE_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(f"page checks skipped: {reason}")


@pytest.fixture(scope="session")
def node():
    """The node that runs html-validate, once the npm tools are installed in tests/browser."""
    if not (AXE.exists() and HTML_VALIDATE.exists()):
        _unavailable(
            f"the npm packages axe-core and html-validate are not installed in {TOOLS / 'node_modules'} "
            "(`make test` installs them, or run `npm ci` in tests/browser)"
        )
    found = shutil.which("node")
    if not found:
        _unavailable("there is no node on PATH (apt-get install nodejs)")
    return found


@pytest.fixture(scope="session")
def chromium(node):
    """Debian's Chromium, driven by Playwright on a thread of its own.

    Playwright's sync API allows one instance per thread, and test_browser.py holds one on the
    main thread for the whole session. `chromium(job, *args)` runs `job(browser, *args)` on this
    thread and returns what it returns.
    """
    if not shutil.which(CHROMIUM):
        _unavailable(f"there is no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401  (only whether it is installed)
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    with chromium_on_a_thread(CHROMIUM, "chromium") as run:
        yield run


# ---------------------------------------------------------------- reading pages in Chromium


@dataclass(frozen=True)
class Visit:
    """A page to check: opened at `path`, or reached by pressing the button `press` on the page before.

    A page not `checked` is only passed through on the way to the next (another test checks it).
    """

    name: str
    path: str | None = None
    press: str | None = None
    status: int = 200
    checked: bool = True


@dataclass
class Page:
    """One page as Chromium received and showed it, and what the checks found on it."""

    name: str
    url: str
    html: str  # the HTML the server sent
    policy: str  # the Content-Security-Policy it came with
    inline: list[str]  # what a strict policy blocks: inline scripts, handlers, styles
    datetimes: list[str]  # every <time datetime>
    frames: list[str]  # what each frame on the page shows, as text
    policy_violations: list[str]  # what Chromium blocked under the policy the page was sent with
    axe: list[dict] = field(default_factory=list)


# Every violation of the page's policy, as the page hears of it. A sandboxed frame (the mail
# preview) runs no script: what it blocks shows in the console instead.
_LISTEN_FOR_POLICY_VIOLATIONS = """
window.__policyViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__policyViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile || e.documentURI}:${e.lineNumber}`);
});
"""

_READ_DOM = """() => {
  const inline = [];
  for (const e of document.querySelectorAll("script:not([src])")) inline.push("an inline <script>");
  for (const e of document.querySelectorAll("style")) inline.push("a <style> block");
  for (const e of document.querySelectorAll("*")) {
    const at = e.id ? `<${e.localName} id=${e.id}>` : `<${e.localName} class="${e.className}">`;
    for (const a of e.attributes) {
      if (a.name === "style") inline.push(`style="${a.value}" on ${at}`);
      if (a.name.startsWith("on")) inline.push(`${a.name}="${a.value}" on ${at}`);
    }
    if (e.localName === "a" && (e.getAttribute("href") || "").startsWith("javascript:")) {
      inline.push(`a javascript: link ${at}`);
    }
  }
  const datetimes = [...document.querySelectorAll("time[datetime]")].map((t) => t.getAttribute("datetime"));
  return {inline, datetimes};
}"""

_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
    summary: v.nodes.length ? v.nodes[0].failureSummary : "",
  }));
}"""


def _read_pages(browser, base_url: str, visits: list[Visit], email: str | None, device: dict) -> list[Page]:
    """Open each page in one browser context and check it; with `email`, sign in first on the sign-in page
    (checked too)."""
    context = browser.new_context(**device)
    context.add_init_script(_LISTEN_FOR_POLICY_VIOLATIONS)
    axe = AXE.read_text(encoding="utf-8")
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.text} (in {message.location.get('url')})"))

    def check(name: str, response, status: int = 200) -> Page:
        url = page.url.removeprefix(base_url)
        assert response.status == status, f"{name}: {url} answered {response.status}"
        dom = page.evaluate(_READ_DOM)
        checked = Page(
            name=name,
            url=url,
            html=response.text(),
            policy=response.headers.get("content-security-policy", ""),
            inline=dom["inline"],
            datetimes=dom["datetimes"],
            frames=[frame.evaluate("() => document.body ? document.body.innerText : ''") for frame in page.frames[1:]],
            policy_violations=page.evaluate("window.__policyViolations")
            + [line for line in console if "Content Security Policy" in line],
        )
        # Evaluated, not added as a <script>: the policy refuses inline scripts (the mail page's
        # refuses every script), and the check must not be what it blocks.
        page.evaluate(axe)
        checked.axe = page.evaluate(_AXE_RUN)
        console.clear()
        return checked

    def press(button: str):
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name=button, exact=True).click()
        return navigation.value

    pages: list[Page] = []
    try:
        if email:
            pages.append(check("signing in", page.goto(base_url + "/login")))
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            press("Sign in")
            assert not page.url.endswith("/login"), f"{email} could not sign in"
            console.clear()
        for visit in visits:
            response = page.goto(base_url + visit.path) if visit.path else None
            if visit.press:
                response = press(visit.press)
            if not visit.checked:
                assert response.status == visit.status, f"{visit.name}: {page.url} answered {response.status}"
                console.clear()
                continue
            pages.append(check(visit.name, response, visit.status))
            assert email is None or "/login" not in pages[-1].url, f"{visit.name}: signed out, at {pages[-1].url}"
        return pages
    finally:
        context.close()


def _invalid_html(node: str, pages: list[Page], folder: Path) -> list[tuple[str, str]]:
    """Each html-validate error on the pages' HTML: (rule and message, page and line)."""
    files = {}
    for n, page in enumerate(pages):
        path = folder / f"page-{n:02d}.html"
        path.write_text(page.html, encoding="utf-8")
        files[str(path)] = page
    # The report goes to a file: node cuts a long report short when it exits writing to a pipe.
    report = folder / "html-validate.json"
    run = subprocess.run(
        [node, str(HTML_VALIDATE), "--config", str(HTML_RULES), "--formatter", f"json={report}", *files],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode in (0, 1) and report.exists(), f"html-validate did not run: {run.stdout}{run.stderr}"
    return [
        (f"html-validate {m['ruleId']}: {m['message']}", f"{files[result['filePath']].name} line {m['line']}")
        for result in json.loads(report.read_text(encoding="utf-8"))
        for m in result["messages"]
    ]


def _forbids_inline_code(policy: str) -> bool:
    """Whether a Content-Security-Policy allows scripts and styles only from files (a directive missing falls back
    to default-src)."""
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    fallback = directives.get("default-src")
    return all(
        (sources := directives.get(name, fallback)) is not None and "'unsafe-inline'" not in sources
        for name in ("script-src", "style-src")
    )


def assert_pages_hold(node: str, pages: list[Page], folder: Path) -> None:
    """No serious or critical axe violation, no invalid HTML, nothing a strict CSP blocks: every problem at once."""
    found = []  # (what is wrong, where)
    for page in pages:
        where = f"{page.name} ({page.url})"
        found += [
            (f"axe {v['id']} ({v['impact']}): {v['help']}\n      {v['summary']}", f"{where}: {', '.join(v['targets'])}")
            for v in page.axe
            if v["impact"] in BLOCKING
        ]
        if not _forbids_inline_code(page.policy):
            found.append(("not sent with a Content-Security-Policy that forbids inline script and style", where))
        found += [("Content-Security-Policy violated", f"{where}: {v}") for v in page.policy_violations]
        # Read off the page too, not only off Chromium's reports: those name only what the policy
        # sent forbids, and a page may be sent a looser one.
        found += [("a strict Content-Security-Policy blocks", f"{where}: {what}") for what in page.inline]
        found += [
            ("<time datetime> is not a date or time HTML accepts", f"{where}: {value!r}")
            for value in page.datetimes
            if not _DATETIME.fullmatch(value)
        ]
    found += _invalid_html(node, pages, folder)
    problems: dict[str, list[str]] = {}
    for what, where in found:
        problems.setdefault(what, []).append(where)
    assert not problems, f"{len(found)} problems on {len(pages)} pages:\n" + "\n".join(
        f"- {what}\n    " + "\n    ".join(wheres) for what, wheres in problems.items()
    )


# ---------------------------------------------------------------- deals in the states the pages show


def _routed_deal_with_link(client, make_deal, rep, partner):
    """A deal whose customer answered by their link (their partner of many years delivers) and that the rep routed."""
    deal = make_deal(rep, status="awaiting_customer", originator="customer")
    link = create_link(client, deal)
    answer_for(deal, rows=[(partner, 5)], fulfilment="partner", contact="partner", chosen_row=0)
    assert route(client, deal).status_code == 302
    return db.session.get(Deal, deal.id), link


def _request_path(deal) -> str:
    """The page the partner's accept-or-decline link opens."""
    request = partner_requests.of_decision(deal.decisions[-1])[0]
    return "/r/" + partner_requests.url(request).rsplit("/r/", 1)[1]


@pytest.fixture
def nordlicht(make_partner):
    return make_partner(name="Nordlicht IT", countries=["DE"])


# ---------------------------------------------------------------- the pages, audience by audience


def test_the_customers_pages_are_accessible_valid_and_need_no_inline_code(
    chromium, node, live_server, client, rep, make_deal, nordlicht, thames, tmp_path
):
    waiting = make_deal(rep, status="awaiting_customer", contact_name="Hanna Huber", partners=[(nordlicht, 2)])
    link = create_link(client, waiting)
    _, routed_link = _routed_deal_with_link(client, make_deal, rep, thames)
    visits = [
        Visit("the customer's page", link),
        Visit("the customer's page in German", link + "?lang=de"),
        Visit("the customer's page with answers missing", press="Antworten senden", status=400),
        Visit("the customer's page once the deal is routed", routed_link),
        Visit("a link that opens nothing", "/p/" + "A" * 32, status=404),
    ]
    assert_pages_hold(node, chromium(_read_pages, live_server, visits, None, PHONE), tmp_path)


def test_the_partners_request_page_is_accessible_valid_and_needs_no_inline_code(
    chromium, node, live_server, client, rep, make_deal, thames, tmp_path
):
    deal, _ = _routed_deal_with_link(client, make_deal, rep, thames)
    visits = [
        Visit("the partner's request", _request_path(deal)),
        Visit("the partner's request declined without a reason", press="Decline", status=400),
        Visit("the partner's request accepted", press="Accept the deal"),
        Visit("a request link that opens nothing", "/r/" + "A" * 32, status=404),
    ]
    assert_pages_hold(node, chromium(_read_pages, live_server, visits, None, DESK), tmp_path)


def _sign_in_link(app, partner) -> str:
    """The path of the sign-in link the partner's user asks for on the portal's sign-in page, read from its mail."""
    app.test_client().submit("/partner/login", {"email": partner.contact_email})
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "partner_sign_in").order_by(OutboxMessage.id.desc())
    ).first()
    return re.search(r"/partner/sign-in/[A-Za-z0-9_-]+", message.text_body).group(0)


def test_the_partner_portal_is_accessible_valid_and_needs_no_inline_code(
    app, chromium, node, live_server, client, rep, make_deal, thames, tmp_path
):
    deal, _ = _routed_deal_with_link(client, make_deal, rep, thames)  # a request the partner fulfils
    request_id = partner_requests.of_deal(deal.id)[-1].id
    # Two deals the partner registered: one for an account nobody had claimed, one for the routed deal's.
    free = register_as(thames, account_name="Quayside Logistics Ltd", notes="Met them at a trade fair.")
    clashed = register_as(thames, account_name=deal.account.name, domain=deal.account.domain)
    assert (free.clashed, clashed.clashed) == (False, True)
    sign_in_path = _sign_in_link(app, thames)
    visits = [
        Visit("the portal's sign-in", "/partner/login"),
        # On a phone set to German, as the customer's pages: the portal follows the browser's language.
        Visit("the portal's sign-in without an email", press="Anmeldelink per E-Mail senden", status=400),
        Visit("a sign-in link, opened", sign_in_path),
        # The home is checked below, on its own.
        Visit("the portal's home, signed in", press="Anmelden", checked=False),
        Visit("a request in the portal", f"/partner/requests/{request_id}"),
        Visit("a request in the portal in English", f"/partner/requests/{request_id}?lang=en"),
        Visit("a request in the portal declined without a reason", press="Decline", status=400),
        Visit("a request in the portal, won or lost sent without saying which", press="Record the outcome", status=400),
        Visit("registering a deal", "/partner/register"),
        Visit("registering a deal with answers missing", press="Register the deal", status=400),
        Visit("a registration for an account nobody had claimed", f"/partner/registrations/{free.id}"),
        Visit("a registration for an account already registered", f"/partner/registrations/{clashed.id}"),
        Visit("the partner's relationships with two accounts", "/partner/relationships"),
        Visit("a sign-in link used already", sign_in_path, status=410),
    ]
    pages = chromium(_read_pages, live_server, visits, None, PHONE)
    assert_pages_hold(node, pages, tmp_path)
    shown = {page.name: page.html for page in pages}
    # The partner fulfils the routed deal: its request offers to record won or lost.
    assert f'action="/partner/requests/{request_id}/outcome"' in shown["a request in the portal in English"]
    assert "Registered." in shown["a registration for an account nobody had claimed"]
    assert "Already registered." in shown["a registration for an account already registered"]
    assert shown["registering a deal with answers missing"].count('class="field-error"') >= 4
    assert shown["the partner's relationships with two accounts"].count('action="/partner/relationships/') == 2


def test_the_partner_portals_home_is_accessible_valid_and_needs_no_inline_code(
    app, chromium, node, live_server, client, rep, make_deal, thames, tmp_path
):
    _routed_deal_with_link(client, make_deal, rep, thames)  # a request waiting on the portal's home
    register_as(thames, account_name="Quayside Logistics Ltd")
    visits = [
        Visit("a sign-in link, opened", _sign_in_link(app, thames), checked=False),
        Visit("the portal's home, signed in", press="Anmelden"),
        Visit("the portal's home in English", "/partner/?lang=en"),
        Visit("the partner user's API tokens", "/partner/tokens?lang=de"),
    ]
    pages = chromium(_read_pages, live_server, visits, None, PHONE)
    assert_pages_hold(node, pages, tmp_path)
    home = next(page for page in pages if page.name == "the portal's home in English")
    assert re.search(r"<title>Thames Cloud · [^<]*</title>", home.html), "the title names the partner"


def test_the_reps_pages_are_accessible_valid_and_need_no_inline_code(
    chromium, node, live_server, client, rep, make_user, make_account, make_deal, ready, nordlicht, thames, tmp_path
):
    draft = make_deal(rep, partners=[(nordlicht, 3)])
    on_another_reps_account = make_deal(rep, account=make_account(owner=make_user("rep", name="Olga Owner")))
    waiting = make_deal(rep, status="awaiting_customer")
    create_link(client, waiting)
    proposed = ready(partner=nordlicht, strength=4, fulfilment="partner", originator="customer")
    routed, _ = _routed_deal_with_link(client, make_deal, rep, thames)
    api_tokens.create(rep, name="Salesforce", scope="write", actor=rep)
    db.session.commit()
    visits = [
        Visit("the rep's deals", "/deals"),
        Visit("a draft", f"/deals/{draft.id}"),
        *[Visit(f"the questionnaire's {key} section", f"/deals/{draft.id}/{key}") for key in SECTIONS],
        Visit("finding another account", f"/deals/{draft.id}/account?change=1&q=Customer"),
        Visit("a new draft", "/deals", press="Qualify a new deal"),
        Visit("a new draft completed too early", press="Save and complete", status=400),
        Visit("a deal awaiting the customer, with its link", f"/deals/{waiting.id}"),
        Visit("a deal with a proposal", f"/deals/{proposed.id}"),
        Visit("a routed deal", f"/deals/{routed.id}"),
        Visit("changing one's password", "/account/password"),
        Visit("the rep's API tokens", "/account/tokens"),
        Visit("the rep's dashboard", "/dashboard"),
        Visit("the rep's deals behind a number of the dashboard", "/deals?status=awaiting_customer&waiting=0-3"),
        Visit("an account of the rep's", f"/accounts/{draft.account_id}"),
        Visit("another rep's account, read-only", f"/deals/{on_another_reps_account.id}/account"),
        Visit("a deal that is not there", "/deals/999999", status=404),
    ]
    assert_pages_hold(node, chromium(_read_pages, live_server, visits, rep.email, DESK), tmp_path)


def test_the_channel_managers_pages_are_accessible_valid_and_need_no_inline_code(
    app,
    chromium,
    node,
    live_server,
    client,
    rep,
    boss,
    make_deal,
    make_account,
    ready,
    make_partner,
    thames,
    smtp,
    tmp_path,
):
    routed, _ = _routed_deal_with_link(client, make_deal, rep, thames)
    # Our rep found it, but the customer's partner has the stronger relationship: it needs alignment.
    alpha = make_partner(name="Alpha Systeme")
    aligning = ready(partner=alpha, strength=5, vendor_strength=2, originator="vendor")
    route(client, aligning)
    # Two open deals on one account: the second to be routed is held as a conflict.
    contested = make_account(name="Contested GmbH", domain="contested.example", owner=rep)
    make_deal(rep, account=contested, status="awaiting_customer", originator="partner", originator_partner=alpha)
    conflicting = ready(account=contested, originator="vendor")
    route(client, conflicting)
    assert [db.session.get(Deal, d.id).hold_reason for d in (aligning, conflicting)] == ["needs_alignment", "conflict"]
    waiting = register_as(thames, account_name="Quayside Logistics Ltd")  # an account nobody owns: it needs a rep
    # A partner given no time at all to answer: its request is overdue, and the responses queue offers to recycle it.
    app.config.update(PARTNER_RESPONSE_DAYS=0)
    late, _ = _routed_deal_with_link(client, make_deal, rep, make_partner(name="Cedar Networks"))
    app.config.update(PARTNER_RESPONSE_DAYS=5)
    app.config.update(WEBHOOK_ALLOW_PRIVATE=True)
    endpoint = endpoints.register(url="http://127.0.0.1:9/crm", events=["deal.routed", "deal.won"], actor=boss)
    db.session.commit()
    deliver(app)
    summary = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.deal_id == routed.id, OutboxMessage.kind == "routed_vendor")
    ).one()
    visits = [
        Visit("all deals", "/deals"),
        Visit("a routed deal, as the channel manager sees it", f"/deals/{routed.id}"),
        Visit("users", "/admin/users"),
        Visit("adding a user", "/admin/users/new"),
        Visit("a user", f"/admin/users/{rep.id}"),
        Visit("partners", "/admin/partners"),
        Visit("adding a partner", "/admin/partners/new"),
        Visit("a partner", f"/admin/partners/{thames.id}"),
        Visit("the queues", "/admin/queues"),
        Visit("the conflicts queue", "/admin/queues/conflict"),
        Visit("resolving an alignment", f"/admin/deals/{aligning.id}/resolve"),
        Visit("resolving a conflict", f"/admin/deals/{conflicting.id}/resolve"),
        Visit("overriding a decision", f"/admin/deals/{routed.id}/override"),
        Visit("registrations to assign", "/admin/registrations"),
        Visit("registrations to assign, one sent without a rep", press="Assign", status=400),
        Visit("the rules of engagement", "/admin/rules"),
        Visit(
            "what if the rules were different",
            "/admin/rules/what-if?try-threshold=4&try-ties=vendor&try-since=2026-01-01&try-until=2026-12-31",
        ),
        Visit("the dashboard", "/dashboard"),
        Visit("the dashboard of one rep in one country", f"/dashboard?rep={rep.id}&country=DE"),
        Visit("the deals behind a number of the dashboard", f"/deals?rep={rep.id}&country=DE&status=awaiting_customer"),
        Visit("the partner responses queue", "/admin/responses"),
        Visit("accounts", "/accounts"),
        Visit("an account, with the form that merges another into it", f"/accounts/{routed.account_id}"),
        Visit("editing an account", f"/accounts/{routed.account_id}/edit"),
        Visit("the reciprocity ledger", "/admin/ledger"),
        Visit("the deals behind a number of the ledger", f"/admin/ledger/{thames.id}/{quarters.of(utcnow())}/given"),
        Visit("a partner's scorecard", f"/admin/partners/{thames.id}/scorecard"),
        Visit("a partner's scorecard, its review asked for", press="Mail me the partner review PDF"),
        Visit("the import page", "/admin/import"),
        Visit("the import page, checked without a file", press="Check: show what would change", status=400),
        Visit("webhooks", "/admin/webhooks"),
        Visit("adding a webhook", "/admin/webhooks/new"),
        Visit("a webhook endpoint, its secret and deliveries", f"/admin/webhooks/{endpoint.id}"),
        Visit("mail", "/admin/mail"),
        Visit("a message, with its HTML in a frame", f"/admin/mail/{summary.id}"),
    ]
    pages = chromium(_read_pages, live_server, visits, boss.email, DESK)
    assert_pages_hold(node, pages, tmp_path)
    shown = {page.name: page.html for page in pages}
    assert f"#{waiting.deal_id} Quayside Logistics Ltd" in shown["registrations to assign"], "it waits for a rep"
    responses = shown["the partner responses queue"]
    assert f'action="/admin/deals/{late.id}/recycle/' in responses and "Overdue" in responses and "Waiting" in responses
    assert "is on its way to boss@example.com" in shown["a partner's scorecard, its review asked for"]
    assert "Filtered by rep: " in shown["the deals behind a number of the dashboard"]
    # The message's own HTML shows in its frame, styles and all, under a policy of its own.
    assert [routed.account.name in text for text in pages[-1].frames] == [True]


def test_the_dashboard_filtered_by_partner_and_period_is_accessible_valid_and_needs_no_inline_code(
    chromium, node, live_server, client, rep, boss, make_deal, thames, tmp_path
):
    _routed_deal_with_link(client, make_deal, rep, thames)
    make_deal(rep, status="awaiting_customer", originator="partner", originator_partner=thames)
    today = utcnow().date().isoformat()
    visits = [
        Visit("the dashboard of one partner", f"/dashboard?partner={thames.id}"),
        Visit("the dashboard of one partner in one period", f"/dashboard?partner={thames.id}&from={today}&to={today}"),
        Visit("the deals of one partner in one period", f"/deals?partner={thames.id}&from={today}&to={today}"),
    ]
    assert_pages_hold(node, chromium(_read_pages, live_server, visits, boss.email, DESK), tmp_path)


# ---------------------------------------------------------------- what moved out of the pages into intake.js


def _focus_on_the_link(browser, base_url: str, email: str, path: str) -> dict:
    """Sign in, open the deal page at `path` and focus the customer's link: the link, and what is selected of it."""
    context = browser.new_context(**DESK)
    page = context.new_page()
    try:
        page.goto(base_url + "/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        page.goto(base_url + path)
        link = page.locator("#link-url")
        link.focus()
        selected = "() => { const e = document.activeElement; return e.value.slice(e.selectionStart, e.selectionEnd); }"
        return {"link": link.input_value(), "selected": page.evaluate(selected)}
    finally:
        context.close()


def test_the_customers_link_is_selected_when_its_field_gets_focus_ready_to_copy(
    chromium, live_server, client, rep, make_deal
):
    deal = make_deal(rep, status="awaiting_customer")
    create_link(client, deal)
    seen = chromium(_focus_on_the_link, live_server, rep.email, f"/deals/{deal.id}")
    assert "/p/" in seen["link"]
    assert seen["selected"] == seen["link"]
