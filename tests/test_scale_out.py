"""Scale-out, shown: two app servers and two outbox workers on one PostgreSQL database end where one of each ends.

The deployment is the production one (deploy/): gunicorn with deploy/gunicorn.conf.py, `flask --app intake
outbox work` processes, one environment for all, the database migrated to head (what `flask --app intake db
upgrade` does) before any server starts, and a real SMTP server on loopback. Three reps work at once, each on
two deals, every request going to the next server in turn; customers answer by the link the mail brought them,
partners by theirs or in the portal. Some requests race on one deal from the two servers: two clicks on *Route
this deal*, and a partner accepting by its mailed link and in its portal at the same moment.

Beside it, in a second database, the same journeys run against one server and one worker. The two must end
alike: each deal (by its account's name) in the same status, with the same decision versions and credit, the
same partner answers and the same mail by kind and recipient; and in each, every message queued was delivered
exactly once — by Message-ID and recipient, none twice, none missing.

The deploy folder is tested here too: gunicorn accepts the config, building the app opens no database
connection (so preloading it before the fork is safe), and every setting the example environment and the
systemd units name is one Intake reads.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from intake import config as intake_config
from intake import create_app
from intake.admin import services as admin
from intake.extensions import db
from intake.models import Credit, Deal, OutboxMessage, Partner, PartnerRequest

from .conftest import PASSWORD, SmtpServer, free_port
from .served import ROOT, Browser, Deployment, Reply, at_once, wait_until

DEPLOY = ROOT / "deploy"
BASE_URL = "https://intake.example.com"  # the TLS proxy's address: links in mail are built on it
MANAGER = "morgan@vendor.example"
REPS = ("ada@vendor.example", "ben@vendor.example", "cleo@vendor.example")
PARTNERS = {"Thames Cloud": "oliver@thames.example", "Borealis Systems": "bea@borealis.example"}
WAYS = ("partner_leads", "vendor_leads", "declined")
COMPANIES = ("Aster", "Birch", "Cedar", "Dogwood", "Elm", "Fir")
TODAY = date.today()


@dataclass(frozen=True)
class Journey:
    """One deal's life, from the rep's questionnaire to the partner's answer.

    - partner_leads: the customer came to us, names the partner to deliver and be their contact; the partner
      leads and fulfils, and accepts by its mailed link and in its portal at once: the deal is accepted.
    - vendor_leads: we found it; the customer buys direct and wants us as contact, naming the partner it works
      with: we lead and fulfil, the partner keeps relationship credit.
    - declined: as partner_leads, but the partner declines by its link; the rep routes again and the deal is
      held for the channel manager, as the customer's choice of partner can no longer be met.
    """

    rep: str
    company: str
    partner: str
    way: str

    @property
    def domain(self) -> str:
        return self.company.split()[0].lower() + "-logistik.example"

    @property
    def contact(self) -> str:
        return "buyer@" + self.domain


# Two deals for each rep; the ways and the partners take turns, so each partner meets each way once.
JOURNEYS = tuple(
    Journey(REPS[k // 2], f"{COMPANIES[k]} Logistik GmbH", list(PARTNERS)[k % 2], WAYS[k % 3]) for k in range(6)
)


# The programme, as the channel manager sets it up -----------------------------------------------------


def staff_app(database_url: str, directory: Path):
    """The app in this process, on the deployment's database: it sets up the programme and reads the outcome."""
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "scale-out-setup",
            "MAIL_FILE_DIR": str(directory / "setup-mail"),
        }
    )


def migrate(app) -> None:
    """What `flask --app intake db upgrade` does, once per release before any server starts."""
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()


def set_up_programme(app) -> None:
    """A channel manager, three reps and two partners (each partner's contact its partner user), through the
    channel manager's own services."""
    with app.app_context():
        manager = admin.create_user(email=MANAGER, name="Morgan Channel", role="admin", password=PASSWORD, actor=None)
        for email in REPS:
            admin.create_user(
                email=email, name=email.split("@")[0].title(), role="rep", password=PASSWORD, actor=manager
            )
        for name, email in PARTNERS.items():
            values = dict(
                name=name,
                contact_name=email.split("@")[0].title(),
                contact_email=email,
                countries=["DE"],
                verticals=["Manufacturing"],
                tier="gold",
            )
            admin.save_partner(None, values, actor=manager)
        db.session.commit()
        db.session.remove()


# Mail, as the people it is for read it ---------------------------------------------------------------


def accepted(smtp: SmtpServer, since: int = 0) -> list[tuple[bytes, list[str]]]:
    """The messages the SMTP server accepted from the `since`-th on, each with its envelope's recipients."""
    with smtp._lock:  # one consistent look at both lists, which the server appends to together
        return [(raw, to) for raw, (_, to) in zip(smtp.raw[since:], smtp.envelopes[since:], strict=True)]


def mail_to(smtp: SmtpServer, recipient: str, *, subject_ends: str = "", holding: str = "") -> str:
    """Wait for the first message to `recipient` whose subject ends so and whose text holds `holding`; its text."""
    looked_at = 0
    found = []

    def arrived() -> bool:
        nonlocal looked_at
        new = accepted(smtp, looked_at)
        looked_at += len(new)
        for raw, to in new:
            if recipient not in to:
                continue
            message = message_from_bytes(raw, policy=policy.default)
            text = message.get_body(("plain",)).get_content()
            if message["Subject"].endswith(subject_ends) and holding in text:
                found.append(text)
                return True
        return False

    wait_until(arrived, f"mail to {recipient} ({subject_ends or holding})", timeout=90)
    return found[0]


def link_path(text: str, prefix: str) -> str:
    """The path of the link in a mail's text that starts with `prefix` (on the TLS proxy's address)."""
    match = re.search(re.escape(BASE_URL) + "(" + re.escape(prefix) + r"[A-Za-z0-9_=-]+)", text)
    assert match, f"no {prefix} link in:\n{text}"
    return match.group(1)


# The journeys -------------------------------------------------------------------------------------------


def field_errors(reply: Reply) -> list:
    return re.findall(r'class="field-error" id="([^"]+)-error"[^>]*>([^<]*)<', reply.body)


def questionnaire(j: Journey) -> dict[str, dict]:
    """The rep's answers, section by section, as the pages post them."""
    vendor_found = j.way == "vendor_leads"
    return {
        "account": {
            "name": j.company,
            "domain": j.domain,
            "country": "DE",
            "vertical": "Manufacturing",
            "size_band": "250-999",
            "vendor_strength": "2",
            "vendor_since": "",
            "contact_name": "Hanna Huber",
            "contact_title": "COO",
            "contact_email": j.contact,
            "contact_phone": "",
        },
        "origin": {
            "originator": "vendor" if vendor_found else "customer",
            "originator_partner_id": "",
            "origin_channel": "meeting" if vendor_found else "referral",
            "origin_date": (TODAY - timedelta(days=7)).isoformat(),
        },
        "need": {
            "pain_points": ["Slow or manual processes"],
            "business_impact": "Quotes take two days.",
            "solutions": ["Cloud platform"],
            "estimated_value": "48000",
            "currency": "EUR",
            "close_date": (TODAY + timedelta(days=60)).isoformat(),
        },
        "qualification": {
            "budget": "approved",
            "has_decision_maker": "yes",
            "decision_maker": "Hanna Huber",
            "next_step": "Workshop",
            "next_step_date": (TODAY + timedelta(days=5)).isoformat(),
        },
        "landscape": {"partners_known": "no"},
    }


def customer_answer(j: Journey, page: str) -> dict:
    """What the customer fills in on their link's page: the partner it works with, chosen from the page's list."""
    option = re.search(r'<option value="(\d+)"[^>]*>' + re.escape(j.partner) + "</option>", page)
    assert option, f"{j.partner} is not offered on the customer's page"
    answer = {
        "company_name": j.company,
        "contact_name": "Hanna Huber",
        "contact_email": j.contact,
        "works_with_partner": "yes",
        "rows-0-partner_id": option.group(1),
        "rows-0-strength": "5" if j.way != "vendor_leads" else "4",
        "rows-0-duration": "over_5",
        "rows-0-does_what": "Runs our warehouse systems",
        "consent": "y",
        "action": "send",
    }
    if j.way == "vendor_leads":
        return {**answer, "fulfilment": "direct", "contact_preference": "vendor"}
    return {**answer, "fulfilment": "partner", "fulfilment_row": "0", "contact_preference": "partner"}


@dataclass
class Programme:
    """The people at work on one deployment, and what they saw."""

    servers: list[str]
    smtp: SmtpServer
    tally: Counter = field(default_factory=Counter)  # (server, status) of every reply
    portals: dict[str, Browser] = field(default_factory=dict)
    partners_signed_in: threading.Event = field(default_factory=threading.Event)
    route_races: dict[str, list[int]] = field(default_factory=dict)
    accept_races: dict[str, list[int]] = field(default_factory=dict)

    def browser(self) -> Browser:
        return Browser(self.servers, self.tally)

    def live(self, j: Journey, rep: Browser) -> None:
        """One deal's whole life; every step asserts what the person sees."""
        # The rep qualifies the deal, section by section, and completes the questionnaire.
        reply = rep.submit("/deals/new", page="/deals")
        assert reply.status == 302, reply.body[:500]
        deal_id = int(re.search(r"/deals/(\d+)/account", reply.location).group(1))
        deal_page = f"/deals/{deal_id}"
        # The first section opens; each section's form carries the session's one CSRF token.
        rep.hidden(f"{deal_page}/account")
        for section, answers in questionnaire(j).items():
            reply = rep.post(f"{deal_page}/{section}", {**answers, "action": "save"})
            assert reply.status == 302, (j.company, section, reply.status, field_errors(reply))
        reply = rep.post(f"{deal_page}/complete")
        assert reply.status == 302, (j.company, "complete", field_errors(reply))
        # The customer's link, emailed by Intake.
        assert rep.post(f"{deal_page}/link", {"language": "en"}).status == 302
        assert rep.post(f"{deal_page}/link/email").status == 302

        # The customer opens the mail, follows the link and answers.
        text = mail_to(self.smtp, j.contact, holding="/p/")
        path = link_path(text, "/p/")
        customer = self.browser()
        page = customer.get(path)
        assert page.status == 200, page.status
        reply = customer.open("POST", path, {**customer.fields(page, path), **customer_answer(j, page.body)})
        assert reply.status == 302, (j.company, "customer", field_errors(reply))

        # The rep clicks *Route this deal* twice: one click on each server, at once.
        route = f"{deal_page}/route"
        button = rep.hidden(deal_page, route)
        clicks = at_once(*(lambda n=n: rep.open("POST", route, button, server=n) for n in range(2)))
        self.route_races[j.company] = sorted(r.status for r in clicks)

        # The partner reads its mail about the deal.
        text = mail_to(self.smtp, PARTNERS[j.partner], subject_ends=f"a deal for you — {j.company}")
        if j.way == "vendor_leads":
            return
        request = link_path(text, "/r/")
        by_link = self.browser()
        if j.way == "declined":
            reply = by_link.submit(f"{request}/decline", {"reason": "No engineers free this quarter."}, page=request)
            assert reply.status == 302, (j.company, "decline", reply.status, field_errors(reply))
            # Back to routing: the rep routes it again, once.
            assert rep.submit(route, page=deal_page).status == 302
            return
        # The partner accepts by its mailed link on one server and in its portal on the other, at once.
        assert self.partners_signed_in.wait(90), "the partners never signed in to the portal"
        portal = self.portals[j.partner]
        home = portal.get("/partner/")
        found = re.search(r'href="(/partner/requests/\d+)">Deal #' + str(deal_id) + "<", home.body)
        assert found, f"deal #{deal_id} is not waiting in {j.partner}'s portal"
        in_portal = found.group(1)
        link_form = by_link.hidden(request, f"{request}/accept")
        portal_form = portal.hidden(in_portal, f"{in_portal}/accept")
        answers = at_once(
            lambda: by_link.open("POST", f"{request}/accept", link_form, server=0),
            lambda: portal.open("POST", f"{in_portal}/accept", portal_form, server=1),
        )
        self.accept_races[j.company] = [r.status for r in answers]

    def sign_in_partners(self) -> None:
        """Each partner's contact asks for a sign-in link and signs in to the portal by the link mailed to them."""
        asked = {}
        for name, email in PARTNERS.items():
            asked[name] = self.browser()
            assert asked[name].submit("/partner/login", {"email": email}).status == 200
        for name, portal in asked.items():
            text = mail_to(self.smtp, PARTNERS[name], holding="/partner/sign-in/")
            assert portal.submit(link_path(text, "/partner/sign-in/")).status == 302
        self.portals.update(asked)
        self.partners_signed_in.set()

    def rep_at_work(self, email: str) -> None:
        rep = self.browser().sign_in(email)
        for journey in JOURNEYS:
            if journey.rep == email:
                self.live(journey, rep)


def production_env(database_url: str, smtp_port: int) -> dict[str, str]:
    """One environment for every process, as /etc/intake/intake.env is (deploy/intake.env.example)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INTAKE_", "FLASK_", "GUNICORN_")) and k != "WEB_CONCURRENCY"
    }
    env.update(
        INTAKE_ENV="production",
        INTAKE_SECRET_KEY=secrets.token_urlsafe(48),
        INTAKE_DATABASE_URL=database_url,
        INTAKE_BASE_URL=BASE_URL,
        INTAKE_MAIL_SERVER="127.0.0.1",
        INTAKE_MAIL_PORT=str(smtp_port),
        INTAKE_MAIL_SENDER="Intake <intake@vendor.example>",
        INTAKE_MAIL_TIMEOUT="20",
        INTAKE_MAIL_LEASE_SECONDS="120",
        # Idle workers look for mail often, so people waiting for it wait less; nothing depends on it.
        INTAKE_MAIL_POLL_SECONDS="0.1",
        GUNICORN_LOG_LEVEL="warning",
    )
    return env


@dataclass
class Run:
    outcome: dict
    delivery: dict
    workers_that_sent: set
    tally: Counter
    route_races: dict
    accept_races: dict
    access_logs: dict


def run_programme(app, database_url: str, directory: Path, *, servers: int, web_workers: int, workers: int) -> Run:
    """Deploy on a fresh database, let the reps, customers and partners work, and read how it all ended."""
    directory.mkdir()
    smtp = SmtpServer(free_port())
    smtp.start()
    try:
        with Deployment(production_env(database_url, smtp.port), directory) as deployment:
            # A release: the database is migrated (before this), then the app servers start, then the workers.
            set_up_programme(app)
            for n in range(servers):
                deployment.serve(f"web-{n + 1}", workers=web_workers)
            for n in range(workers):
                deployment.work(f"worker-{n + 1}")
            deployment.wait_until_serving()
            programme = Programme(deployment.servers, smtp)
            if workers > 1:
                # The first message a worker takes is held at DATA until the other worker has taken one too:
                # both deliver, however the rest is shared between them.
                smtp.gate.clear()
            people = [programme.sign_in_partners] + [lambda email=email: programme.rep_at_work(email) for email in REPS]
            with together(*people) as failures:
                if workers > 1:
                    wait_until(lambda: len(smtp.sessions) >= 2 or failures, "both workers to be sending")
                    smtp.gate.set()
            wait_until(lambda: not unsent(app), "the outbox to be drained", timeout=90)
            deployment.assert_running()
        # Read once every process has stopped, so every line is in the logs.
        return Run(
            outcome=outcome(app),
            delivery=delivery(app, smtp),
            workers_that_sent=workers_that_sent(app),
            tally=programme.tally,
            route_races=programme.route_races,
            accept_races=programme.accept_races,
            access_logs=deployment.logs("web-"),
        )
    finally:
        smtp.gate.set()
        smtp.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@contextmanager
def together(*tasks):
    """Run the tasks in threads of their own; the block runs meanwhile. Leaving it waits for them all and
    raises the first failure of any."""
    failures: list[BaseException] = []

    def run(task) -> None:
        try:
            task()
        except BaseException as exc:  # raised below, in the caller's thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(task,), daemon=True) for task in tasks]
    for thread in threads:
        thread.start()
    try:
        yield failures
    finally:
        for thread in threads:
            thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a task never ended"
    if failures:
        raise failures[0]


# How it ended -----------------------------------------------------------------------------------------


def unsent(app) -> int:
    with app.app_context():
        waiting = db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.status.in_(("pending", "sending"))))
        count = len(waiting.all())
        db.session.remove()
    return count


def outcome(app) -> dict:
    """How each deal ended, by its account's name, with nothing in it that differs between two databases
    (ids, times, tokens): status, decision versions, credit, partners' answers, and the mail by kind and recipient."""
    with app.app_context():
        names = {p.id: p.name for p in db.session.scalars(select(Partner))}

        def party(value: dict | None) -> str | None:
            if value is None:
                return None
            return names[value["partner_id"]] if value["kind"] == "partner" else value["kind"]

        def decision(version) -> dict:
            said = version.output
            return {
                "version": version.version,
                "kind": version.kind,
                "leader": party(said["leader"]),
                "fulfiller": party(said["fulfilment"]),
                "supporting": sorted((party(role["party"]), role["role"]) for role in said["supporting"]),
                "status": said["status"],
                "flags": said["flags"],
                "why": [step["says"] for step in said["trace"]],
            }

        def mail(deal_id: int | None) -> list:
            which = OutboxMessage.deal_id.is_(None) if deal_id is None else OutboxMessage.deal_id == deal_id
            rows = db.session.scalars(select(OutboxMessage).where(which))
            return sorted(Counter((m.kind, to) for m in rows for to in m.recipients).items())

        deals = {}
        for deal in db.session.scalars(select(Deal).order_by(Deal.id)):
            credits = db.session.scalars(select(Credit).where(Credit.deal_id == deal.id))
            requests = db.session.scalars(select(PartnerRequest).where(PartnerRequest.deal_id == deal.id))
            deals[deal.title] = {
                "status": deal.status,
                "hold_reason": deal.hold_reason,
                "decisions": [decision(v) for v in deal.decisions],
                "credit": sorted(
                    (names[c.partner_id] if c.partner_id else c.party, c.credit, c.in_force) for c in credits
                ),
                "partner answers": sorted((names[r.partner_id], r.response or "awaited") for r in requests),
                "mail": mail(deal.id),
            }
        result = {"deals": deals, "other mail": mail(None)}
        db.session.remove()
    return result


def delivery(app, smtp: SmtpServer) -> dict:
    """Each message queued, by Message-ID and recipient, against what the SMTP server accepted."""
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage)).all()
        queued = Counter((m.message_id, to) for m in rows for to in m.recipients)
        statuses = Counter(m.status for m in rows)
        db.session.remove()
    delivered: Counter = Counter()
    for raw, to in accepted(smtp):
        message_id = BytesHeaderParser().parsebytes(raw)["Message-ID"]
        delivered.update((message_id, address) for address in to)
    return {
        "messages": len(rows),
        "statuses": dict(statuses),
        "twice": {key: n for key, n in delivered.items() if n > 1},
        "missing": sorted(queued - delivered),
        "never queued": sorted(delivered - queued),
    }


def workers_that_sent(app) -> set:
    with app.app_context():
        claims = db.session.scalars(select(OutboxMessage.claimed_by).where(OutboxMessage.status == "sent")).all()
        db.session.remove()
    return {claim.rsplit(":", 1)[0] for claim in claims if claim}


def assert_delivered_exactly_once(run: Run, what: str) -> None:
    report = run.delivery
    assert report["messages"] > 0
    assert report["statuses"] == {"sent": report["messages"]}, f"{what}: {report['statuses']}"
    assert report["twice"] == {}, f"{what}: delivered twice: {report['twice']}"
    assert report["missing"] == [], f"{what}: never delivered: {report['missing']}"
    assert report["never queued"] == [], f"{what}: delivered but never queued: {report['never queued']}"


def assert_each_deal_ended_as_its_journey_says(run: Run) -> None:
    deals = run.outcome["deals"]
    assert sorted(deals) == sorted(j.company for j in JOURNEYS)
    for j in JOURNEYS:
        deal = deals[j.company]
        kinds = Counter(kind for (kind, _), n in deal["mail"] for _ in range(n))
        versions = deal["decisions"]
        assert run.route_races[j.company] == [302, 409], (j.company, run.route_races[j.company])
        assert kinds["customer_link"] == 1, (j.company, deal["mail"])
        if j.way == "partner_leads":
            assert deal["status"] == "accepted", (j.company, deal)
            assert [(v["version"], v["leader"], v["fulfiller"]) for v in versions] == [(1, j.partner, j.partner)]
            assert deal["partner answers"] == [(j.partner, "accepted")]
            # Two answers at once, one on each server: both are shown the request, accepted once.
            assert run.accept_races[j.company] == [302, 302], (j.company, run.accept_races[j.company])
            assert (kinds["partner_accepted"], kinds["customer_confirmation"]) == (1, 1), (j.company, deal["mail"])
            assert {(p, c, f) for p, c, f in deal["credit"] if f} >= {(j.partner, "lead", True)}
        elif j.way == "vendor_leads":
            assert deal["status"] == "routed", (j.company, deal)
            assert [(v["version"], v["leader"], v["fulfiller"]) for v in versions] == [(1, "vendor", "vendor")]
            assert (j.partner, "relationship", True) in deal["credit"], (j.company, deal["credit"])
            assert kinds["customer_confirmation"] == 1, (j.company, deal["mail"])
        else:
            assert (deal["status"], deal["hold_reason"]) == ("on_hold", "fulfilment"), (j.company, deal)
            assert [v["version"] for v in versions] == [1, 2]
            assert deal["partner answers"] == [(j.partner, "declined")]


def differences(one: dict, other: dict) -> dict:
    """The deals (and other mail) that ended differently, side by side."""
    titles = sorted(set(one["deals"]) | set(other["deals"]))
    found = {
        t: (one["deals"].get(t), other["deals"].get(t)) for t in titles if one["deals"].get(t) != other["deals"].get(t)
    }
    if one["other mail"] != other["other mail"]:
        found["other mail"] = (one["other mail"], other["other mail"])
    return found


def test_two_app_servers_and_two_workers_end_where_one_of_each_ends(postgres_server, make_empty_database, tmp_path):
    # The two deployments run side by side, each on its own database, SMTP server and processes. Both have
    # two gunicorn workers in all: two servers of one, or one server of two.
    plans = {
        "scaled": dict(servers=2, web_workers=1, workers=2),
        "single": dict(servers=1, web_workers=2, workers=1),
    }
    urls = {name: make_empty_database("postgresql") for name in plans}
    apps = {name: staff_app(urls[name], tmp_path) for name in plans}
    for app in apps.values():
        migrate(app)
    runs: dict[str, Run] = {}

    def deploy(name: str) -> None:
        runs[name] = run_programme(apps[name], urls[name], tmp_path / name, **plans[name])

    with together(*(lambda name=name: deploy(name) for name in plans)):
        pass
    scaled, single = runs["scaled"], runs["single"]

    for run, what in ((scaled, "two servers, two workers"), (single, "one server, one worker")):
        assert_delivered_exactly_once(run, what)
        assert_each_deal_ended_as_its_journey_says(run)
    assert differences(scaled.outcome, single.outcome) == {}

    # Both servers answered the people's requests, and both workers delivered mail.
    answered = Counter(server for (server, status), n in scaled.tally.items() if status < 400 for _ in range(n))
    assert len(answered) == 2 and min(answered.values()) > sum(answered.values()) / 3, answered
    assert len(scaled.workers_that_sent) == 2, scaled.workers_that_sent
    assert len(single.workers_that_sent) == 1, single.workers_that_sent

    # The access log keeps no personal link's token (deploy/gunicorn.conf.py cuts them out).
    for run in (scaled, single):
        log = "".join(run.access_logs.values())
        for seen in ('"GET /p/[token]" 200', '"POST /r/[token]/accept" 302', '"POST /partner/sign-in/[token]" 302'):
            assert seen in log, f"{seen} not in the access log:\n{log[-3000:]}"
        leaked = re.findall(r"/(?:p|r|partner/sign-in)/(?!\[token\])[A-Za-z0-9_=-]{16,}", log)
        assert not leaked, f"tokens in the access log: {leaked[:3]}"


# The deploy folder -----------------------------------------------------------------------------------


def production_settings(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "GUNICORN_")) and k != "WEB_CONCURRENCY"}
    env.update(
        INTAKE_ENV="production",
        INTAKE_SECRET_KEY=secrets.token_urlsafe(48),
        # Nothing listens on port 1: a connection attempt would fail at once.
        INTAKE_DATABASE_URL="postgresql://intake@127.0.0.1:1/intake",
        **overrides,
    )
    return env


def test_gunicorn_accepts_the_config_and_reads_where_to_listen_and_how_many_workers(tmp_path):
    env = production_settings(
        INTAKE_INSTANCE_PATH=str(tmp_path), GUNICORN_BIND="127.0.0.1:8123,127.0.0.1:8124", WEB_CONCURRENCY="3"
    )
    command = [sys.executable, "-m", "gunicorn", "--config", str(DEPLOY / "gunicorn.conf.py")]
    checked = subprocess.run(
        [*command, "--check-config", "intake.wsgi:app"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    printed = subprocess.run(
        [*command, "--print-config", "intake.wsgi:app"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    settings = dict(re.findall(r"^(\w+)\s+= (.*)$", printed.stdout, re.M))
    assert settings["bind"] == "['127.0.0.1:8123', '127.0.0.1:8124']"
    assert (settings["workers"], settings["worker_class"], settings["preload_app"]) == ("3", "sync", "True")
    assert settings["worker_tmp_dir"] == "/dev/shm" and int(settings["max_requests_jitter"]) > 0

    # Without the secret production needs, the check fails with the one line that names it.
    env.pop("INTAKE_SECRET_KEY")
    refused = subprocess.run(
        [*command, "--check-config", "intake.wsgi:app"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "INTAKE_SECRET_KEY" in refused.stderr


def test_building_the_app_opens_no_database_connection_so_gunicorn_may_preload_it(tmp_path, monkeypatch):
    # The database is unreachable: any connection while building the app would fail it.
    for name, value in production_settings(INTAKE_INSTANCE_PATH=str(tmp_path)).items():
        monkeypatch.setenv(name, value)
    app = create_app()
    with app.app_context():
        pools = [engine.pool for engine in db.engines.values()]
        assert [(pool.checkedin(), pool.checkedout()) for pool in pools] == [(0, 0)] * len(pools)
        db.engine.dispose()


def env_file(path: Path) -> dict[str, str]:
    """The variables a systemd EnvironmentFile sets, the commented-out ones too: `KEY=value`, quotes stripped."""
    found = {}
    for line in path.read_text().splitlines():
        if match := re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line.strip()):
            value = match.group(2).strip()
            if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            found[match.group(1)] = value
    return found


def read_by_intake() -> set[str]:
    """Every environment variable Intake reads: its settings (intake/config.py) and the app factory's."""
    source = (ROOT / "intake" / "config.py").read_text() + (ROOT / "intake" / "__init__.py").read_text()
    return set(re.findall(r"""["'](INTAKE_[A-Z0-9_]+)["']""", source))


def test_the_example_environment_names_only_settings_intake_reads_and_is_a_production_one():
    example = env_file(DEPLOY / "intake.env.example")
    assert {"INTAKE_ENV", "INTAKE_SECRET_KEY", "INTAKE_DATABASE_URL", "INTAKE_BASE_URL", "INTAKE_MAIL_SERVER"} <= set(
        example
    )
    assert set(example) - read_by_intake() == set(), "named in deploy/intake.env.example but never read"

    # As copied, it does not start: the placeholder secret is refused.
    with pytest.raises(intake_config.ConfigError, match="INTAKE_SECRET_KEY"):
        intake_config.from_env(example)
    # Filled in, it is production: secure cookies, mail sent over SMTP, limits shared in Redis, one proxy.
    settings = intake_config.from_env({**example, "INTAKE_SECRET_KEY": secrets.token_urlsafe(48)})
    assert settings["SESSION_COOKIE_SECURE"] and settings["MAIL_SINK"] == "smtp" and settings["MAIL_USE_TLS"]
    assert settings["RATELIMIT_STORAGE_URI"].startswith("redis://") and settings["PROXY_COUNT"] == 1
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert settings["MAIL_LEASE_SECONDS"] > settings["MAIL_TIMEOUT"]


def test_the_systemd_units_run_commands_intake_has_with_the_one_environment_file(tmp_path, monkeypatch):
    for name, value in production_settings(INTAKE_INSTANCE_PATH=str(tmp_path)).items():
        monkeypatch.setenv(name, value)
    app = create_app()
    units = {path.name: path.read_text() for path in DEPLOY.glob("intake-*.service")}
    assert sorted(units) == ["intake-sweep.service", "intake-web.service", "intake-worker@.service"]
    for name, unit in units.items():
        assert "EnvironmentFile=/etc/intake/intake.env" in unit, name
        assert re.search(r"^User=intake$", unit, re.M) and re.search(r"^StateDirectory=intake$", unit, re.M), name
        (start,) = re.findall(r"^ExecStart=(.*)$", unit, re.M)
        if flask := re.search(r"/flask --app intake (.+)$", start):
            # The command the unit runs is one of Intake's: `outbox work`, `partners sweep`.
            group, command = flask.group(1).split()
            with app.app_context():
                found = app.cli.get_command(None, group)
                assert found is not None and found.get_command(None, command) is not None, (name, start)
        else:
            assert "/gunicorn --config /opt/intake/deploy/gunicorn.conf.py" in start, (name, start)
    for name in ("intake-web.service", "intake-worker@.service"):
        assert re.search(r"^Restart=on-failure$", units[name], re.M), name
    timer = (DEPLOY / "intake-sweep.timer").read_text()
    assert re.search(r"^OnCalendar=\*:0/5$", timer, re.M) and "Persistent=true" in timer
    with app.app_context():
        db.engine.dispose()
