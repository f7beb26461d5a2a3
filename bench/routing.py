"""Routing at scale: a deal's proposal in process, the deal page and the route request over HTTP.

On a data set built in the part's own database (`python -m bench.setup_data routing`): 10,000
partners, 100,000 accounts (companies of three subsidiaries sharing a normalised name), 1,000,000
account-partner relationships (ten per account) and 100,000 open deals, among them a pool of deals
ready to route, each with the customer's answer, ten relationships on its account and three other
open deals on its normalised name or domain (two in three repeat business that routes cleanly, one
in three a conflict put on hold). --scale sizes it, --route-pool the pool.

    in process  (bench/routing_in_process.py) decisions.propose(deal) in its two halves, timed apart
                on a fresh session each time (400 runs over 150 deals): gather the facts
                (deals.facts.gather: the rows read, the engine's typed input made), then decide
                (routing.decide(facts.input)); medians, and each deal's decision checked against
                decisions.propose(deal).decision. Also for a customer who asks us to recommend a
                partner (any_partner), read from partner coverage's index. Then the SQL the gathering issues,
                each statement EXPLAINed (bench/sql.py): SEARCH/index or SCAN; and the SQL of one
                whole route request (Flask test client), with any statement repeated (an N+1)
    GET  /deals/<id>            the deal page with the engine's proposal
    POST /deals/<id>/route      the whole route request, by the signed-in rep, with a CSRF token: a 302
                                back to the deal's routing. Each request takes a fresh deal from the
                                pool, so every one routes a deal
    GET  /deals/<id>/need       the questionnaire's section page on the same server, the yardstick of
                                the deal page's CPU per request
    GET  /deals/<id>/landscape  the partners section of a new draft, and
    GET  /p/<token>             the customer's page: the two pages where the data set's partners could be
                                chosen from a list (shown, not targets)
Bare flask serves the same GET and POST as the yardstick of req/s.

On SQLite; with --database-url on PostgreSQL too, in a database created for the run and dropped after.
The route request only queues its mail (INTAKE_MAIL_WORKER=0: no worker runs): its latency includes
no SMTP and no PDF rendering, which the outbox part measures.

Targets, per engine: the deal page's CPU per request <= 2x the section page's; the any_partner
proposal's median < 10 ms.
"""

import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.compare import print_table, run_targets
from bench.customer_link import link_probes
from bench.load import Browser, Pool, Probe, csrf_token
from bench.questionnaire import hello_probes, section_probes
from bench.servers import ENGINES, INTAKE_APP, database, engines, in_process, label, prepare_database, server_env
from bench.sql import SMALL_TABLE, print_plans, scans_of, short_sql
from bench.summary import BenchError, PartResult, at_most, below

CPU_MARK = 2.0  # the deal page's CPU per request, at most this many times the section page's
ANY_PARTNER_MS = 10


def add_arguments(parser) -> None:
    parser.add_argument(
        "--scale", type=float, default=1.0, help="routing: size of the data set (1: 10,000 partners, 100,000 accounts)"
    )
    parser.add_argument("--route-pool", type=int, default=4000, help="routing: deals ready to route, one per request")


def deal_probes(port: int, context: dict) -> dict[str, Probe]:
    """Sign in as the rep who owns the pool: the deal page with its proposal, routing pool deals, and a section page."""
    data = context["data"]
    browser = Browser(port)
    browser.sign_in()
    page_path = f"/deals/{data['page_deal']}"
    _, page = browser.expect(200, "GET", page_path)
    if f'action="{page_path}/route"' not in page:
        raise BenchError(f"GET {page_path} shows no route form: the deal is not ready to route")
    token = csrf_token(page)
    browser.expect(400, "POST", page_path + "/route", {"csrf_token": "not-a-token"})  # CSRF is really checked
    cookie = browser.cookie()
    pool = Pool(data["pool_first"], data["pool_count"])
    route = Probe(
        "POST", "/deals/BENCH_ID/route", cookie, urlencode({"csrf_token": token}), 302, "/deals/BENCH_ID#routing", pool
    )
    # The rep's partners section of a new draft, and the customer's page, with every partner of the data set
    # to choose from: both list partners (all of them while PARTNER_CHOICES allows, else only those named).
    account_page, _ = browser.expect(302, "POST", "/deals/new", {"csrf_token": token})
    partners_section = account_page.rsplit("/", 1)[0] + "/landscape"
    browser.expect(200, "GET", partners_section)
    return {
        "GET": Probe("GET", page_path, cookie),
        "POST": route,
        "GET section": section_probes(port, {})["GET"],
        "GET partners section": Probe("GET", partners_section, browser.cookie()),
        "GET customer's page": link_probes(port, {"link": data["link"]})["GET"],
    }


def measure_engine(engine: str, options, workdir: Path) -> dict:
    with database(engine, options, workdir, "routing") as url:
        where = label(engine, url)
        print(f"routing on {where}: migrating, demo data, building the data set", file=sys.stderr, flush=True)
        started = time.perf_counter()
        env = server_env(workdir, url)
        prepare_database(env)
        arguments = ["routing", "--scale", str(options.scale), "--pool", str(options.route_pool)]
        data = in_process("setup_data", env, *arguments, timeout=900)
        data["link"] = in_process("setup_data", env, "customer-link")
        ids = ("pool_first", "pool_count", "page_deal", "any_partner_deal", "route_deal")
        arguments = [f"--{name.replace('_', '-')}={data[name]}" for name in ids]
        data.update(in_process("routing_in_process", env, *arguments, timeout=600))
        data["setup_s"] = round(time.perf_counter() - started, 1)
        targets = (
            ("bare flask", "bench.baseline_apps:create_hello()", hello_probes),
            ("intake", INTAKE_APP, deal_probes),
        )
        run = run_targets(targets, env, workdir, {"data": data}, options.load, options)
    return {"engine": engine, "database": where, **data, **run}


def rows(details: dict) -> list:
    engine = ENGINES[details["engine"]]
    ours = details["targets"]["intake"]
    page, section = ours["GET"]["cpu_ms"], ours["GET section"]["cpu_ms"]
    c, any_partner = details["counts"], details["propose_any_partner"]
    return [
        at_most(
            "routing",
            f"deal page with the proposal (GET), CPU per request vs the section page's ({engine})",
            round(page / section, 2) if section else float("inf"),
            CPU_MARK,
            "×",
            f"≤ {CPU_MARK:g}× the section page's CPU/request (same server, same run)",
            note=f"{page:.1f} vs {section:.1f} ms/req",
        ),
        below(
            "routing",
            f"any_partner proposal at {c['partners']:,} partners / {c['relationships']:,} relationships, "
            f"median ({engine})",
            any_partner["total_ms"],
            ANY_PARTNER_MS,
            "ms",
            note=f"gather {any_partner['gather_ms']:.1f} + decide {any_partner['decide_ms']:.1f} ms",
        ),
    ]


def run(options, workdir: Path) -> PartResult:
    details = {engine: measure_engine(engine, options, workdir) for engine in engines(options)}
    return PartResult([row for part in details.values() for row in rows(part)], details)


def report(details: dict) -> None:
    for part in details.values():
        print_engine(part)


def print_engine(part: dict) -> None:
    c, p, a = part["counts"], part["propose"], part["propose_any_partner"]
    print(
        f"\nRouting on {part['database']} — {c['partners']:,} partners, {c['accounts']:,} accounts, "
        f"{c['relationships']:,} relationships, {c['open_deals']:,} open deals ({c['decisions']:,} with a decision, "
        f"{c['customer_links']:,} with a customer link); "
        f"inserted in {part['build_s']} s, {part['setup_s']} s with migration, demo data and the runs below"
    )
    print(
        f"\n  In process, decisions.propose(deal) in its two halves on a fresh session, {p['repetitions']} runs over"
        f" {p['deals']} deals"
        f" (each: {p['inputs']['relationships']} relationships, {p['inputs']['partners']} partners, "
        f"{p['inputs']['open_deals']} other open deals on its name or domain; proposals: "
        + ", ".join(f"{n} {decision}" for decision, n in p["decisions"].items())
        + "):\n"
        f"    facts.gather {p['gather_ms']:.2f} ms + routing.decide {p['decide_ms']:.2f} ms = {p['total_ms']:.2f} ms"
        f" median (p90 {p['total_p90_ms']:.2f} ms)\n"
        f"  The customer asks us to recommend a partner (any_partner: {a['inputs']['partners']:,} partners read, "
        f"those with a relationship and the first a recommendation can name, by index), {a['repetitions']} runs:\n"
        f"    facts.gather {a['gather_ms']:.2f} ms + routing.decide {a['decide_ms']:.2f} ms = {a['total_ms']:.2f} ms"
        " median"
    )
    print()
    print_plans(part["plans"], f"Queries of one propose() (deal {part['page_deal']}, with its own lookup) and plans:")
    named = {plan["sql"] for plan in part["plans"]}
    extra = [plan for plan in part["plans_any_partner"] if plan["sql"] not in named]
    if extra:
        print_plans(extra, "With any_partner, instead of the partners by id:")
    route = part["route_request"]
    shown = named | {plan["sql"] for plan in extra}
    more = [plan for plan in route["plans"] if plan["sql"] not in shown]
    print(
        f"  The whole route request, in process (test client, deal {part['route_deal']}): "
        + ", ".join(f"{n} {kind}" for kind, n in route["statements"].items())
        + ("" if route["repeated"] else "; no statement run more than twice (no N+1)")
    )
    for sql, n in route["repeated"].items():
        print(f"    run {n} times (an N+1?): {short_sql(sql)}")
    if more:
        print_plans(more, "Its other SELECTs and plans:")
    found = [(scan, "") for scan in scans_of(part["plans"])] + [(s, ", any_partner only") for s in scans_of(extra)]
    found += [(scan, ", route request") for scan in scans_of(more)]
    large = [scan for scan, _ in found if scan["rows"] >= SMALL_TABLE]
    print(
        "  Scans: "
        + ("; ".join(f"{s['table']} ({s['rows']:,} rows{where})" for s, where in found) or "none")
        + f"; of tables of {SMALL_TABLE:,} rows or more: "
        + (", ".join(s["table"] for s in large) or "none")
    )
    paths = part["paths"]["intake"]
    print_table(
        f"  Over HTTP: GET {paths['GET']} (deal page with the proposal); POST /deals/<id>/route (a fresh deal"
        f" from the pool each time), signed in, CSRF; GET section: {paths['GET section']}, the CPU yardstick;"
        f" GET partners section: {paths['GET partners section']} and GET customer's page: /p/<token>, where"
        f" {c['partners']:,} partners could be listed",
        part,
    )
    print(
        "  (the route request records the decision and queues its mail in the outbox; no worker runs"
        " (INTAKE_MAIL_WORKER=0), so its latency includes no SMTP and no PDF rendering)"
    )
