"""The rep's questionnaire: a section page and a draft save, against bare Flask-WTF.

Signed in as a rep (alice@example.com) on a draft deal of her own:
    GET  /deals/<id>/need   the "need" questionnaire section (--section qualification also works)
    POST /deals/<id>/need   a draft save: the section's fields, action=save and a valid CSRF token,
                            answered by a 302 back to the section
Every save changes one answer (a counter in a text field), so Intake writes the deal and an audit
event each time, as a real save does.

The same GET and POST go to the yardsticks of bench/baseline_apps.py: bare flask (a "hello" view),
bare form (the section's form class in a bare template, its POST validated, CSRF included) and, for
the POST only, bare form + write (the same, then one row written to SQLite and committed). Before
measuring, a POST with a wrong CSRF token must be refused (400) by every form.

Targets: the page >= 0.8x the bare form's req/s; the save >= 0.8x the bare form + write's.
"""

from pathlib import Path
from urllib.parse import urlencode

from bench.compare import print_table, ratio, run_targets
from bench.load import Browser, Probe, csrf_token
from bench.servers import INTAKE_APP, prepare_database, server_env
from bench.summary import PartResult, at_least

MARK = 0.8

# What each save answers; "BENCH_N" becomes a per-request counter.
ANSWERS = {
    "need": {
        "pain_points": ["Slow or manual processes", "Rising infrastructure cost"],
        "pain_other": "",
        "business_impact": "Month-end close takes two weeks (save BENCH_N).",
        "incumbent": "Spreadsheets and an old ERP",
        "solutions": ["Cloud platform", "Data analytics"],
        "estimated_value": "48000.00",
        "currency": "EUR",
        "close_date": "2031-06-30",
    },
    "qualification": {
        "budget": "identified",
        "has_decision_maker": "yes",
        "decision_maker": "CFO",
        "decision_process": "The CFO signs above 20k.",
        "competitors": "",
        "next_step": "Technical workshop (save BENCH_N)",
        "next_step_date": "2031-06-30",
    },
}


def add_arguments(parser) -> None:
    parser.add_argument("--section", choices=sorted(ANSWERS), default="need", help="questionnaire: the section")


def save_form(section: str, token: str = "") -> dict:
    return {**ANSWERS[section], "action": "save", "csrf_token": token}


def save_probe(section: str, path: str, cookie: str = "", token: str = "") -> Probe:
    """A draft save, answered by a 302 back to the same page."""
    return Probe("POST", path, cookie, urlencode(save_form(section, token), doseq=True), 302, path)


def hello_probes(port: int, context: dict) -> dict[str, Probe]:
    return {"GET": Probe("GET", "/"), "POST": save_probe("need", "/")}


def form_probes(port: int, context: dict) -> dict[str, Probe]:
    section = context["section"]
    browser = Browser(port)
    _, page = browser.expect(200, "GET", "/")
    browser.expect(400, "POST", "/", save_form(section, "not-a-token"))  # CSRF is really checked
    cookie = browser.cookie()
    return {"GET": Probe("GET", "/", cookie), "POST": save_probe(section, "/", cookie, csrf_token(page))}


def form_write_probes(port: int, context: dict) -> dict[str, Probe]:
    section = context["section"]
    browser = Browser(port)
    _, page = browser.expect(200, "GET", "/")
    browser.expect(400, "POST", "/", save_form(section, "not-a-token"))  # CSRF is really checked
    browser.expect(302, "POST", "/", save_form(section, csrf_token(page)))  # and the save writes
    return {"POST": save_probe(section, "/", browser.cookie(), csrf_token(page))}


def section_probes(port: int, context: dict) -> dict[str, Probe]:
    """Sign in as the demo rep, start a draft deal and open its section."""
    section = context.get("section", "need")
    browser = Browser(port)
    browser.sign_in()
    _, page = browser.expect(200, "GET", "/deals")
    account_page, _ = browser.expect(302, "POST", "/deals/new", {"csrf_token": csrf_token(page)})
    path = account_page.rsplit("/", 1)[0] + "/" + section
    _, page = browser.expect(200, "GET", path)
    browser.expect(400, "POST", path, save_form(section, "not-a-token"))  # CSRF is really checked
    cookie = browser.cookie()
    return {"GET": Probe("GET", path, cookie), "POST": save_probe(section, path, cookie, csrf_token(page))}


def run(options, workdir: Path) -> PartResult:
    env = server_env(workdir, f"sqlite:///{workdir}/intake.sqlite")
    prepare_database(env)
    section = options.section
    yardstick = workdir / "yardstick.sqlite"
    targets = (
        ("bare flask", "bench.baseline_apps:create_hello()", hello_probes),
        ("bare form", f"bench.baseline_apps:create_form({section!r})", form_probes),
        (
            "bare form + write",
            f"bench.baseline_apps:create_form_write({section!r}, {str(yardstick)!r})",
            form_write_probes,
        ),
        ("intake", INTAKE_APP, section_probes),
    )
    run = run_targets(targets, env, workdir, {"section": section}, options.load, options)
    page, save = ratio(run, "GET", "bare form"), ratio(run, "POST", "bare form + write")
    rows = [
        at_least("questionnaire", f"section page (GET /deals/<id>/{section}) vs bare form", page, MARK),
        at_least(
            "questionnaire",
            "draft save (POST) vs bare form plus one write",
            save,
            MARK,
            note=f"vs bare form alone {ratio(run, 'POST', 'bare form'):.2f}×",
        ),
    ]
    return PartResult(rows, {"section": section, **run})


def report(details: dict) -> None:
    get, post = details["paths"]["intake"]["GET"], details["paths"]["intake"]["POST"]
    print_table(f"The questionnaire: GET {get} (signed in) and POST {post} (action=save, CSRF)", details)
    print(
        "  (the marks: the page >= 0.80x of bare form, the save >= 0.80x of bare form + write, which"
        " validates the same form and writes one row to SQLite in WAL mode)"
    )
