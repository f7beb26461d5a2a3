"""The customer's personal link: the answer form and a complete answer, against bare Flask-WTF.

No sign-in; bench/setup_data.py issues the link for the first demo deal awaiting the customer, as
the rep's "create link" does:
    GET  /p/<token>     the answer form, with the cookie of the customer's first visit
    POST /p/<token>     a complete answer (a partner of theirs with its strength, delivery through
                        that partner, the partner as main contact, consent) with the CSRF token
                        scraped from the page, answered by a 302 back to /p/<token>
Every POST changes the free-text reason (a counter), so each one is a real change of the answer:
the relationship rows are replaced and an audit event written. A repeated identical answer would be
recognised and write nothing, which is not the cost worth knowing.

Yardsticks (bench/baseline_apps.py): bare flask; bare form, the customer's answer form with fixed
partner choices, validated, CSRF included; and for the POST bare form + write (the same, then one
row written to SQLite and committed). A wrong CSRF token must be refused (400) first.

Targets: the page >= 0.8x the bare form's req/s; the answer >= 0.8x the bare form + write's.
"""

from pathlib import Path
from urllib.parse import urlencode

from bench.compare import print_table, ratio, run_targets
from bench.load import Browser, Probe, csrf_token
from bench.questionnaire import hello_probes
from bench.servers import INTAKE_APP, in_process, prepare_database, server_env
from bench.summary import PartResult, at_least

MARK = 0.8

# The customer's complete answer (the fields of intake/web/link/forms.py); "BENCH_N" a counter.
CUSTOMER_ANSWER = {
    "company_name": "Helvetia Privatbank AG",
    "contact_name": "Pat Customer",
    "contact_title": "Head of IT",
    "contact_email": "pat@helvetia-pb.example",
    "contact_phone": "+41 44 123 45 67",
    "works_with_partner": "yes",
    "rows-0-partner_id": "PARTNER_ID",
    "rows-0-partner_name": "",
    "rows-0-duration": "over_5",
    "rows-0-strength": "4",
    "rows-0-does_what": "Runs our servers and licences",
    "fulfilment": "partner",
    "fulfilment_reason": "They know our systems well (answer BENCH_N).",
    "contact_preference": "partner",
    "consent": "y",
    "action": "send",
}


def answer_form(partner_id: int, token: str = "") -> dict:
    return {**CUSTOMER_ANSWER, "rows-0-partner_id": str(partner_id), "csrf_token": token}


def answer_probe(path: str, partner_id: int, cookie: str, token: str) -> Probe:
    """The customer's answer, answered by a 302 back to the same page."""
    return Probe("POST", path, cookie, urlencode(answer_form(partner_id, token)), 302, path)


def answer_form_probes(port: int, context: dict) -> dict[str, Probe]:
    partner_id = context["link"]["partner_id"]
    browser = Browser(port)
    _, page = browser.expect(200, "GET", "/")
    browser.expect(400, "POST", "/", answer_form(partner_id, "not-a-token"))  # CSRF is really checked
    browser.expect(302, "POST", "/", answer_form(partner_id, csrf_token(page)))  # and the answer is valid
    cookie = browser.cookie()
    return {"GET": Probe("GET", "/", cookie), "POST": answer_probe("/", partner_id, cookie, csrf_token(page))}


def answer_write_probes(port: int, context: dict) -> dict[str, Probe]:
    return {"POST": answer_form_probes(port, context)["POST"]}


def link_probes(port: int, context: dict) -> dict[str, Probe]:
    """Open the customer's link as they would, keeping the cookie their first visit gets."""
    link = context["link"]
    path = f"/p/{link['token']}"
    browser = Browser(port)
    _, page = browser.expect(200, "GET", path)
    browser.expect(400, "POST", path, answer_form(link["partner_id"], "not-a-token"))  # CSRF is really checked
    cookie = browser.cookie()
    return {"GET": Probe("GET", path, cookie), "POST": answer_probe(path, link["partner_id"], cookie, csrf_token(page))}


def run(options, workdir: Path) -> PartResult:
    env = server_env(workdir, f"sqlite:///{workdir}/intake.sqlite")
    prepare_database(env)
    link = in_process("setup_data", env, "customer-link")
    yardstick = workdir / "yardstick.sqlite"
    targets = (
        ("bare flask", "bench.baseline_apps:create_hello()", hello_probes),
        ("bare form", "bench.baseline_apps:create_answer_form()", answer_form_probes),
        ("bare form + write", f"bench.baseline_apps:create_answer_form_write({str(yardstick)!r})", answer_write_probes),
        ("intake", INTAKE_APP, link_probes),
    )
    run = run_targets(targets, env, workdir, {"link": link}, options.load, options)
    page, answer = ratio(run, "GET", "bare form"), ratio(run, "POST", "bare form + write")
    rows = [
        at_least("customer", "customer's page (GET /p/<token>) vs bare form", page, MARK),
        at_least(
            "customer",
            "customer's answer (POST /p/<token>) vs bare form plus one write",
            answer,
            MARK,
            note=f"vs bare form alone {ratio(run, 'POST', 'bare form'):.2f}×",
        ),
    ]
    return PartResult(rows, {"deal_id": link["deal_id"], **run})


def report(details: dict) -> None:
    print_table(
        "The customer's link: GET /p/<token> (their cookie) and POST /p/<token> "
        "(a complete answer, CSRF; each POST changes the answer, so each one writes)",
        details,
    )
    print(
        "  (bare form: the customer's answer form, rendered and validated without layout or database;"
        " bare form + write: the same, then one row written to SQLite and committed)"
    )
