"""Intake while its database is down: a 503 page that needs no database, a bounded log, and recovery.

The outage is real: the database is a private PostgreSQL cluster (tests/private_postgres.py)
that the tests stop (`pg_ctl stop -m fast`, as a restart or a failover does) and start again,
while Intake runs under gunicorn as in production and a rep goes on working.
"""

import http.client
import logging
import os
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from intake import create_app
from intake.config import database_driver
from intake.deals import customer
from intake.extensions import db
from intake.failures import FailureLog, describe, is_database_unavailable
from intake.mail import delivery, worker
from intake.models import Deal
from intake.models.outbox import OutboxMessage

from .conftest import PASSWORD, IntakeClient, free_port
from .private_postgres import private_postgres  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2  # gunicorn sync workers; each keeps its own memory of the tracebacks it logged
OUTAGE_PAGE = "Intake cannot reach its database"
# One failure's line in the log: the request, its id and its cause, cut short.
MOST_BYTES_PER_FAILURE = 600
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# Where a log record starts: Intake's own format, or gunicorn's.
_RECORD = re.compile(r"^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} |\[\d{4}-\d\d-\d\d )", re.MULTILINE)
_REQUEST_ID = re.compile(r"\[request ([A-Za-z0-9._-]+)\]: (.*?)(?: \(traceback[^)]*\))?$")


def wait_until(predicate, what: str, timeout: float = 60) -> None:
    # A guard against hanging, not a timing assertion.
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


# The failure log, on its own ------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def failure(message: str, kind: type[Exception] = RuntimeError) -> Exception:
    """An exception with a real traceback."""
    try:
        raise kind(message)
    except Exception as exc:
        return exc


def test_each_failure_is_one_line_and_its_traceback_comes_once_a_minute_per_cause(caplog):
    clock = Clock()
    log = FailureLog(logging.getLogger("intake.test_failures"), clock=clock)
    with caplog.at_level(logging.ERROR, logger="intake.test_failures"):
        shown = [
            log.record(failure("the database is away"), "Database unavailable on GET /deals", request_id=f"r{i}")
            for i in range(5)
        ]
        other = log.record(failure("no such table: deals"), "Database error on GET /deals", request_id="r5")
        clock.now += 61
        again = log.record(failure("the database is away"), "Database unavailable on GET /deals", request_id="r6")

    assert shown == [True, False, False, False, False] and other and again
    records = caplog.records
    assert len(records) == 7
    assert [r.exc_info is not None for r in records] == [True, False, False, False, False, True, True]
    first, second = records[0].getMessage(), records[1].getMessage()
    assert first == "Database unavailable on GET /deals [request r0]: RuntimeError: the database is away"
    assert second.startswith("Database unavailable on GET /deals [request r1]: RuntimeError: the database is away (")
    assert "at most once in 60 s per cause" in second


def test_a_cause_is_one_short_line_whatever_the_message_holds():
    cause = describe(failure("first line\nsecond line with [SQL: SELECT …]\n" + "x" * 5000))
    assert cause == "RuntimeError: first line"
    long = describe(failure("y" * 5000))
    assert len(long) < 250 and long.startswith("RuntimeError: yyy")
    forged = describe(failure("away\r2024-01-01 00:00:00 ERROR a forged line\x1b[31m"))
    assert "\r" not in forged and "\x1b" not in forged and "\n" not in forged


def test_only_so_many_tracebacks_a_minute_however_many_causes(caplog):
    clock = Clock()
    log = FailureLog(logging.getLogger("intake.test_failures"), clock=clock, most_tracebacks=3)
    with caplog.at_level(logging.ERROR, logger="intake.test_failures"):
        shown = [log.record(failure(f"cause {i}"), "Unhandled error on GET /x") for i in range(10)]
    assert shown.count(True) == 3
    assert sum(r.exc_info is not None for r in caplog.records) == 3
    assert len(caplog.records) == 10


def test_threads_failing_together_show_one_traceback_per_cause(caplog):
    log = FailureLog(logging.getLogger("intake.test_failures"))
    start = threading.Barrier(8)
    shown = []

    def fail_often():
        start.wait()
        for _ in range(50):
            shown.append(log.record(failure("the database is away"), "Database unavailable on GET /deals"))

    with caplog.at_level(logging.ERROR, logger="intake.test_failures"):
        threads = [threading.Thread(target=fail_often) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(shown) == 400 and shown.count(True) == 1
    assert sum(r.exc_info is not None for r in caplog.records) == 1


def test_an_unreachable_or_busy_database_is_unavailable_but_a_missing_table_is_a_bug(tmp_path):
    def error_of(engine, statement="SELECT 1") -> SQLAlchemyError:
        try:
            with engine.connect() as conn:
                conn.execute(text(statement))
        except SQLAlchemyError as exc:
            return exc
        finally:
            engine.dispose()
        raise AssertionError("the statement did not fail")

    path = tmp_path / "intake.sqlite"
    missing_table = error_of(create_engine(f"sqlite:///{path}"), "SELECT * FROM deals")
    assert not is_database_unavailable(missing_table)

    # Another writer holds the file; raw connections, as the app's own wait 10 s for a lock.
    holder = sqlite3.connect(path, isolation_level=None)
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        other.execute("BEGIN EXCLUSIVE")
    except sqlite3.OperationalError as exc:
        busy = DBAPIError.instance("BEGIN EXCLUSIVE", None, exc, sqlite3.Error)  # wrapped as SQLAlchemy does
    finally:
        other.close()
        holder.close()
    assert is_database_unavailable(busy), describe(busy)

    nobody_there = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/intake")
    refused = error_of(nobody_there)
    assert is_database_unavailable(refused), describe(refused)
    assert not is_database_unavailable(failure("a bug", ValueError))


# An Intake of the tests' own on the private cluster -------------------------------------------


@pytest.fixture(scope="module")
def outage_database(private_postgres, tmp_path_factory):  # noqa: F811
    """A migrated database on the private cluster; its SQLAlchemy URL."""
    url = database_driver(private_postgres.create_database("intake"))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def cluster(private_postgres, outage_database):  # noqa: F811
    """The private cluster; running again after the test whatever the test did to it."""
    yield private_postgres
    if not private_postgres.is_running:
        private_postgres.start()


@pytest.fixture
def app(outage_database, cluster, tmp_path):
    """The tests' app (in place of conftest's) on the private cluster, so conftest's builders write there."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": outage_database, "SECRET_KEY": "test-secret"})
    app.test_client_class = IntakeClient
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        yield app
        with suppress(SQLAlchemyError):
            db.session.rollback()  # a connection the outage ended is let go of here
        db.session.remove()
        db.engine.dispose()


def test_a_database_gone_after_the_response_was_made_leaves_the_response_as_it_was(app, caplog):
    """The server ends the request's connection (as a shutdown does) after its page is made: the rollback that
    ends the request's session fails, and the page is still what the visitor gets, not gunicorn's 500."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a server that ends a connection is PostgreSQL's")

    @app.get("/ended-meanwhile")
    def ended_meanwhile():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()  # in a transaction from here
        with db.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return "made before the connection ended"

    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        response = app.test_client().get("/ended-meanwhile")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "made before the connection ended")
    said = "Database unavailable on GET /ended-meanwhile after its answer, ending its session"
    assert f"{said} [request {response.headers['X-Request-ID']}]" in caplog.text
    # The next request has a working session on a fresh connection.
    with app.test_request_context():
        assert db.session.execute(text("SELECT 1")).scalar_one() == 1


def test_a_database_gone_before_a_task_outside_a_request_ends_leaves_it_ending_cleanly(app, caplog):
    """A command or a worker's app context whose connection the server ended: leaving the context drops the
    session and logs one line, instead of raising from Flask-SQLAlchemy's teardown."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a server that ends a connection is PostgreSQL's")
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        with app.app_context():
            pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with db.engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    assert "Database unavailable after a task outside a request, ending its session" in caplog.text
    with app.app_context():
        assert db.session.execute(text("SELECT 1")).scalar_one() == 1


def test_every_response_carries_a_request_id_and_keeps_a_safe_one_it_was_sent(client):
    made = client.get("/login").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{16}", made)
    assert client.get("/login").headers["X-Request-ID"] != made
    assert client.get("/login", headers={"X-Request-ID": "lb-7f3a.91_x"}).headers["X-Request-ID"] == "lb-7f3a.91_x"
    for unsafe in ("<script>", "a b", "x" * 65, "-starts-with-a-dash"):
        kept = client.get("/login", headers={"X-Request-ID": unsafe}).headers["X-Request-ID"]
        assert kept != unsafe and re.fullmatch(r"[0-9a-f]{16}", kept)


def test_error_pages_keep_the_full_layout_while_the_database_is_up(client, rep):
    response = client.get("/no/such/page")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "Not found" in page
    assert rep.name in page and 'class="signout"' in page  # the menu of the one signed in


# Intake under gunicorn, as in production ------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    text: str

    @property
    def request_id(self) -> str:
        return self.headers.get("X-Request-ID", "")


class Browser:
    """A browser of the test's own against a served Intake.

    It keeps its cookies, sending the Secure ones too (as it would over HTTPS, which a proxy ends
    in front of production), and sends back the CSRF token of its session with each form.
    """

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.token = ""

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None) -> Reply:
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            reply = Reply(response.status, response.headers, response.read().decode("utf-8", "replace"))
        finally:
            conn.close()
        for header in reply.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return reply

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs) -> Reply:
        return self.request("POST", path, form={"csrf_token": self.token, **(data or {})}, **kwargs)

    def read_token(self, path: str = "/deals") -> None:
        reply = self.get(path)
        match = _TOKEN.search(reply.text)
        assert match, f"no CSRF token on {path} ({reply.status})"
        self.token = match.group(1)

    def sign_in(self, email: str) -> None:
        self.read_token("/login")
        reply = self.post("/login", {"email": email, "password": PASSWORD})
        assert reply.status == 302, reply.text
        self.read_token()  # a new token after signing in


@contextmanager
def gunicorn(database_url: str, directory: Path):
    """Serve Intake as production does, `gunicorn -w 2` on a free loopback port; yields (port, log)."""
    port = free_port()
    log = directory / "gunicorn.log"
    env = {name: value for name, value in os.environ.items() if not name.startswith("INTAKE_")}
    env.update(
        INTAKE_ENV="production",
        INTAKE_SECRET_KEY=secrets.token_hex(32),
        INTAKE_DATABASE_URL=database_url,
        INTAKE_INSTANCE_PATH=str(directory / "instance"),
    )
    command = [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning", "--graceful-timeout", "5", "intake:create_app()"]
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:

        def answers() -> bool:
            assert server.poll() is None, f"gunicorn exited:\n{log.read_text()}"
            with suppress(OSError, http.client.HTTPException):
                return Browser(port).get("/login").status == 200
            return False

        wait_until(answers, "gunicorn to answer")
        yield port, log
    finally:
        with suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def outage_page_problems(reply: Reply, *, name: str) -> list[str]:
    """What is wrong with a reply that should be the outage page, by what the user sees."""
    problems = []
    if reply.status != 503:
        problems.append(f"status {reply.status}")
    if OUTAGE_PAGE not in reply.text or "Nothing you saved is lost" not in reply.text:
        problems.append("not the outage page")
    if reply.headers.get("Retry-After") != "60":
        problems.append(f"Retry-After {reply.headers.get('Retry-After')!r}")
    if not reply.request_id or f"<code>{reply.request_id}</code>" not in reply.text:
        problems.append("no request id on the page")
    if "Traceback" in reply.text or "psycopg" in reply.text or "sqlalchemy" in reply.text.lower():
        problems.append("internals on the page")
    if name in reply.text or 'class="signout"' in reply.text:
        problems.append("the page named the signed-in user: it loaded them")
    return problems


@dataclass
class Rep:
    """A rep working on in a thread of their own: each round starts a draft and saves its next step."""

    browser: Browser
    name: str
    stop: threading.Event = field(default_factory=threading.Event)
    created: list[int] = field(default_factory=list)
    saved: dict[int, str] = field(default_factory=dict)  # deal id -> next step, for every save that succeeded
    refused: list[Reply] = field(default_factory=list)  # every 503
    wrong: list[str] = field(default_factory=list)  # anything neither a success nor the outage page

    def work(self) -> None:
        round = 0
        while not self.stop.is_set():
            round += 1
            started = self.browser.post("/deals/new")
            if not self._check(started, r"/deals/(\d+)/account"):
                continue
            deal_id = int(re.search(r"/deals/(\d+)/", started.headers["Location"]).group(1))
            self.created.append(deal_id)
            step = f"Call the customer, round {round}"
            saved = self.browser.post(f"/deals/{deal_id}/qualification", {"next_step": step, "action": "save"})
            if self._check(saved, rf"/deals/{deal_id}/qualification"):
                self.saved[deal_id] = step
            time.sleep(0.02)

    def _check(self, reply: Reply, location: str) -> bool:
        if reply.status == 302 and re.search(location, reply.headers.get("Location", "")):
            return True
        if reply.status == 503:
            self.refused.append(reply)
            self.wrong.extend(outage_page_problems(reply, name=self.name))
        else:
            self.wrong.append(f"{reply.status} {reply.headers.get('Location')}: {reply.text[:300]}")
        return False


def log_records(text: str) -> list[tuple[str, str]]:
    """The log's records as (first line, what follows it: a traceback or nothing)."""
    starts = [m.start() for m in _RECORD.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    records = []
    for begin, end in zip(starts, starts[1:] + [len(text)], strict=True):
        chunk = text[begin:end]
        first, _, rest = chunk.partition("\n")
        if chunk.strip():
            records.append((first, rest))
    return records


def test_a_signed_in_rep_sees_the_outage_page_and_carries_on_when_the_database_returns(
    app, cluster, outage_database, make_user, tmp_path
):
    user = make_user("rep", name="Robin Outage")
    name, email = user.name, user.email
    db.session.close()  # the test holds no connection through the outage
    with gunicorn(outage_database, tmp_path) as (port, log):
        rep = Browser(port)
        rep.sign_in(email)
        started = rep.post("/deals/new")
        kept_id = int(re.search(r"/deals/(\d+)/", started.headers["Location"]).group(1))
        assert rep.post(f"/deals/{kept_id}/qualification", {"next_step": "Saved before the outage"}).status == 302

        working = Rep(Browser(port), name=name)
        working.browser.sign_in(email)
        thread = threading.Thread(target=working.work, daemon=True)
        thread.start()
        try:
            wait_until(lambda: len(working.saved) >= 3, "the rep to save drafts")
            before = log.stat().st_size

            cluster.stop("fast")  # while the rep is saving
            pages = [
                ("GET", "/deals"),
                ("GET", f"/deals/{kept_id}"),
                ("GET", f"/deals/{kept_id}/qualification"),
                ("POST", f"/deals/{kept_id}/qualification"),
                ("POST", "/deals/new"),
                ("GET", "/admin/partners"),  # not the rep's: but who is asking needs the database first
                ("GET", "/no/such/page"),  # its 404 page would name the rep in the menu
                ("GET", "/login"),  # signed in: sent on to their deals
            ]
            refused: list[Reply] = []
            problems = {}
            for turn in range(3):
                for method, path in pages:
                    data = {"next_step": "Written during the outage"} if method == "POST" else None
                    reply = rep.post(path, data) if method == "POST" else rep.get(path)
                    refused.append(reply)
                    if found := outage_page_problems(reply, name=name):
                        problems[f"{method} {path} (round {turn})"] = found
            quoted = rep.get("/deals", headers={"X-Request-ID": "support-ticket-4711"})
            refused.append(quoted)
            assert problems == {}, problems
            assert quoted.request_id == "support-ticket-4711" and "<code>support-ticket-4711</code>" in quoted.text
            wait_until(lambda: len(working.refused) >= 3, "the rep's saves to meet the outage")

            cluster.start()
            # The same signed-in session works again, with no restart: the first request already.
            back = rep.get("/deals")
            assert back.status == 200 and name in back.text, back.text[:500]
            assert rep.get(f"/deals/{kept_id}").status == 200
            assert rep.get("/no/such/page").status == 404
            saved_after = len(working.saved)
            wait_until(lambda: len(working.saved) >= saved_after + 3, "the rep's saves to succeed again")
        finally:
            working.stop.set()
            thread.join(timeout=60)
            if not cluster.is_running:
                cluster.start()
        after = log.stat().st_size
        outage_log = log.read_bytes()[before:after].decode("utf-8", "replace")

    assert working.wrong == [], working.wrong[:5]

    # Every failed request: one line with its id and cause; a traceback once per cause and worker.
    failed = {reply.request_id for reply in refused + working.refused}
    assert len(failed) == len(refused) + len(working.refused)
    lines = Counter()
    tracebacks = Counter()
    unexpected = []
    for first, rest in log_records(outage_log):
        found = _REQUEST_ID.search(first)
        if not found or found.group(1) not in failed:
            if found and "after its answer, ending its session" in first:
                continue  # a request answered as the database went away: its session could not end cleanly
            unexpected.append(first)
            continue
        lines[found.group(1)] += 1
        assert len(first.encode()) <= MOST_BYTES_PER_FAILURE, first
        if rest.strip():
            assert rest.lstrip().startswith("Traceback (most recent call last)"), rest[:300]
            tracebacks[found.group(2)] += 1
    assert unexpected == [], unexpected[:5]
    assert set(lines) == failed and set(lines.values()) == {1}
    assert tracebacks and all(count <= WORKERS for count in tracebacks.values()), tracebacks
    assert all("Database unavailable on" in first for first, _ in log_records(outage_log))

    # No save that was answered as done is lost; the draft saved before the outage is as it was.
    db.session.remove()
    deals = {deal.id: deal for deal in db.session.scalars(select(Deal).where(Deal.id.in_(working.created + [kept_id])))}
    assert set(working.created) <= set(deals)
    assert {deal_id: deals[deal_id].next_step for deal_id in working.saved} == working.saved
    assert deals[kept_id].next_step == "Saved before the outage"


# The outbox worker through an outage ------------------------------------------------------


def test_mail_queued_before_an_outage_is_delivered_once_each_after_it(app, cluster, make_user, make_deal, smtp, caplog):
    rep = make_user("rep")
    for n in range(4):
        deal = make_deal(rep, status="awaiting_customer", contact_email=f"customer{n}@example.com")
        link = customer.create_link(deal, language="en", actor=rep)
        customer.email_link(link, actor=rep)  # as the rep's "Email the link" does
        db.session.commit()
    queued = db.session.scalars(select(OutboxMessage.message_id)).all()
    assert len(queued) == 4
    db.session.close()  # the test holds no connection through the outage

    settings = worker.Settings(
        batch=10,
        lease=timedelta(seconds=5),
        max_attempts=8,
        retry_base=timedelta(seconds=1),
        retry_max=timedelta(seconds=2),
        poll_seconds=0.2,
    )
    stop = threading.Event()

    def work() -> None:
        with app.app_context():
            worker.run(settings, lambda: delivery.sink_for(app.config), stop=stop)

    smtp.gate.clear()  # the first message waits at DATA: the batch is claimed and being sent
    thread = threading.Thread(target=work, daemon=True)
    with caplog.at_level(logging.ERROR, logger="intake.mail"):
        thread.start()
        try:
            wait_until(smtp.holding.is_set, "the worker to start sending")
            cluster.stop("fast")
            smtp.gate.set()  # the server accepts the message the worker cannot now record
            wait_until(lambda: len(smtp.raw) >= 1, "the first message to arrive")
            time.sleep(1)  # the outage lasts a moment; the worker keeps trying
            cluster.start()

            def all_sent() -> bool:
                db.session.remove()
                statuses = db.session.scalars(select(OutboxMessage.status)).all()
                return statuses == ["sent"] * len(queued)

            wait_until(all_sent, "every message to be sent")
        finally:
            stop.set()
            thread.join(timeout=60)
            if not cluster.is_running:
                cluster.start()

    delivered = Counter(smtp.message_ids())
    assert set(delivered) == set(queued)
    assert [mid for mid, times in delivered.items() if times > 1] == [], "a message was delivered twice"
