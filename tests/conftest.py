"""Fixtures: a real database on each engine, an app per test, and a client that uses real CSRF tokens."""

import functools
import os
import re
import secrets
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from intake import create_app
from intake.config import database_driver
from intake.extensions import db
from intake.models import User

POSTGRES_URL = os.environ.get("INTAKE_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("INTAKE_REQUIRE_POSTGRES") == "1"
PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# The decision version a manager's form was read at, which a browser sends back with it.
_BASED_ON = re.compile(r'name="based_on"[^>]*value="([^"]*)"')
_FORM_KEY = re.compile(r'name="form_key" type="hidden" value="([^"]*)"')


def pytest_report_header(config):
    if POSTGRES_URL:
        return f"PostgreSQL tests: on ({POSTGRES_URL})"
    return "PostgreSQL tests: SKIPPED (set INTAKE_TEST_POSTGRES_URL to run them)"


@pytest.fixture(scope="session")
def postgres_server():
    """The PostgreSQL server URL, or a skip that says why."""
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("INTAKE_REQUIRE_POSTGRES=1 but INTAKE_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tests skipped: INTAKE_TEST_POSTGRES_URL is not set")
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: cannot reach {POSTGRES_URL}")
    return POSTGRES_URL


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def make_empty_database(request, tmp_path_factory):
    """Return a function creating an empty database on an engine; each is dropped at the end."""
    created = []

    def make(engine: str) -> str:
        if engine == "sqlite":
            return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "intake.sqlite")
        server = request.getfixturevalue("postgres_server")
        name = f"intake_test_{secrets.token_hex(6)}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append((server, name))
        return database_driver(_with_database(server, name))

    yield make
    for server, name in created:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, make_empty_database, tmp_path_factory):
    """A database on each engine, migrated to head once per test session."""
    url = make_empty_database(request.param)
    app = create_app(_settings(url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return url


def _settings(url: str, instance=None) -> dict:
    settings = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
    }
    if instance is not None:
        # Mail the file sink writes stays with the test, never in the checkout's instance folder.
        settings["MAIL_FILE_DIR"] = str(instance / "mail")
    return settings


class IntakeClient(FlaskClient):
    """A test client that fills in the CSRF token the way a browser would: from the page.

    Each request runs in an app context of its own, as in production (its own database
    session, its own `g`); afterwards the test's own session re-reads what it looks at.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response

    def csrf_token(self, page: str = "/deals") -> str:
        return self.hidden(page)["csrf_token"]

    def hidden(self, page: str) -> dict[str, str]:
        """The hidden fields a browser sends back with the form on `page`: its CSRF token, and the
        decision version a manager's form was read at, and the key a registration form is sent once by."""
        response = self.get(page)
        html = response.get_data(as_text=True)
        match = _TOKEN.search(html)
        assert match, f"no CSRF token on {page} ({response.status_code})"
        fields = {"csrf_token": match.group(1)}
        if based_on := _BASED_ON.search(html):
            fields["based_on"] = based_on.group(1)
        if form_key := _FORM_KEY.search(html):
            fields["form_key"] = form_key.group(1)
        return fields

    def submit(self, url: str, data: dict | None = None, *, page: str | None = None, **kwargs):
        """POST a form as a browser does, with the hidden fields of `page` (by default the form's own URL)."""
        return self.post(url, data={**self.hidden(page or url), **(data or {})}, **kwargs)


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(_settings(database_url, tmp_path))
    app.test_client_class = IntakeClient
    with app.app_context():
        _empty_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


def _empty_tables():
    # DELETE beats TRUNCATE on tables this small; tests never rely on id values.
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@functools.cache
def _password_hash() -> str:
    # Hashing is slow on purpose; the tests hash the one test password once.
    return generate_password_hash(PASSWORD)


@pytest.fixture
def make_user(app):
    """Create a user: make_user(role="admin", email=..., name=..., is_active=...)."""
    counter = iter(range(1, 10_000))

    def make(role: str = "rep", **overrides) -> User:
        n = next(counter)
        values = {"email": f"{role}{n}@example.com", "name": f"{role.capitalize()} {n}", "role": role}
        values.update(overrides)
        user = User(**values)
        user.password_hash = _password_hash()
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client):
    """Sign a user in through the real sign-in form."""

    def do(user: User, remember: bool = False):
        response = client.submit(
            "/login", {"email": user.email, "password": PASSWORD, "remember": "y" if remember else ""}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return do


def statements_to_get(browser, url: str) -> int:
    """How many SQL statements one GET of `url` issues; the page must answer 200."""
    from sqlalchemy import event

    seen = []

    def counted(*_args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        response = browser.get(url)
        assert response.status_code == 200, response.status_code
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
    return len(seen)


def sign_in(app, user) -> "IntakeClient":
    """A browser of its own, signed in as `user` through the real sign-in form."""
    browser = app.test_client()
    response = browser.submit("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def sign_in_partner(app, email: str) -> "IntakeClient":
    """A browser of its own, signed in to the partner portal as its user with this email: asks for the
    link on the sign-in page, reads it from the mail queued, opens it and presses its button."""
    from intake.models import OutboxMessage

    browser = app.test_client()
    response = browser.submit("/partner/login", {"email": email})
    assert response.status_code == 200, response.get_data(as_text=True)
    message = db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.kind == "partner_sign_in").order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None and message.recipients == [email.strip().lower()]
    path = re.search(r"/partner/sign-in/[A-Za-z0-9_-]+", message.text_body).group(0)
    response = browser.submit(path)
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


@pytest.fixture
def boss(make_user):
    """The channel manager."""
    return make_user("admin", email="boss@example.com", name="Morgan Channel")


@pytest.fixture
def manager(app, boss):
    """The channel manager's own browser, signed in."""
    return sign_in(app, boss)


@pytest.fixture
def rep(make_user, login):
    user = make_user("rep")
    login(user)
    return user


@pytest.fixture
def admin(make_user, login):
    user = make_user("admin")
    login(user)
    return user


@pytest.fixture
def make_partner(app):
    """Create a partner as the channel manager does; any field can be overridden, `is_active=False` deactivates."""
    counter = iter(range(1, 10_000))

    def make(*, is_active: bool = True, **overrides):
        from intake.admin import services as admin

        n = next(counter)
        values = dict(
            name=f"Partner {n}",
            contact_name="Pat Partner",
            contact_email=f"p{n}@partner.example",
            countries=["DE"],
            verticals=["Retail"],
            tier="gold",
        )
        values.update(overrides)
        partner = admin.save_partner(None, values, actor=None)
        if not is_active:
            admin.set_partner_active(partner, False, actor=None)
        db.session.commit()
        return partner

    return make


@pytest.fixture
def thames(make_partner):
    return make_partner(name="Thames Cloud", contact_name="Oliver Smith", contact_email="oliver@thames.example")


@pytest.fixture
def borealis(make_partner):
    return make_partner(name="Borealis Systems", contact_name="Bea Bor", contact_email="bea@borealis.example")


@pytest.fixture
def make_account(app, make_user):
    """Create an account as a rep does, in a questionnaire's first section; the draft is then discarded."""
    counter = iter(range(1, 10_000))

    def make(*, owner=None, **overrides):
        from intake.deals import services

        n = next(counter)
        values = dict(
            name=f"Customer {n} GmbH",
            domain=f"customer{n}.example",
            country="DE",
            vertical="Retail",
            size_band="50-249",
            vendor_strength=2,
            vendor_since=None,
        )
        values.update(overrides)
        rep = owner or make_user("rep")
        draft = services.start_deal(rep=rep)
        services.save_account_section(draft, values, actor=rep, replacing=True)
        account = draft.account
        services.discard_draft(draft, actor=rep)
        db.session.commit()
        return account

    return make


@pytest.fixture
def make_deal(app, make_account):
    """Qualify a deal as its rep does, section by section, through the questionnaire's services.

    `status` is how far it goes: `draft` (every section answered, not completed), `awaiting_customer`
    (completed), `ready_to_route` (the customer answered: no partner, no preference). `partners`
    is the rep's view of the customer's partners, as [(partner or a typed name, strength), …]. Any answer can be
    overridden by its field name; `originator_partner` takes a partner.
    """

    def make(rep, *, status="draft", account=None, partners=(), account_values=None, **answers):
        from datetime import date, timedelta
        from decimal import Decimal

        from intake.deals import services

        if "originator_partner" in answers:
            answers["originator_partner_id"] = answers.pop("originator_partner").id
        today = date.today()
        values = dict(
            contact_name="Casey Customer",
            contact_title="CIO",
            contact_email="casey@customer.example",
            contact_phone="",
            originator="vendor",
            originator_partner_id=None,
            origin_channel="meeting",
            origin_date=today - timedelta(days=10),
            pain_points=["Rising infrastructure cost"],
            pain_other="",
            business_impact="Costs rise every quarter.",
            incumbent="",
            solutions=["Cloud platform"],
            estimated_value=Decimal(50000),
            currency="EUR",
            close_date=today + timedelta(days=60),
            budget="identified",
            has_decision_maker=True,
            decision_maker="CIO",
            decision_process="",
            competitors="",
            next_step="Workshop",
            next_step_date=today + timedelta(days=7),
        )
        unknown = set(answers) - set(values)
        assert not unknown, f"make_deal does not know {sorted(unknown)}"
        values.update(answers)
        # A new account is created in the deal's own first section, so its rep owns it.
        account = account or make_account(owner=rep, **(account_values or {}))
        deal = services.start_deal(rep=rep)
        contact = {k: values[k] for k in services.CONTACT_FIELDS}
        services.save_account_section(deal, {"account_id": account.id, **contact}, actor=rep)
        for section, fields in services.SECTION_FIELDS.items():
            services.save_section(deal, section, {k: values[k] for k in fields}, actor=rep)
        rows = [
            {
                "partner_id": 0 if isinstance(p, str) else p.id,  # 0: "Other", typed by name
                "partner_name": p if isinstance(p, str) else "",
                "strength": strength,
                "since": None,
                "does_what": "",
                "notes": "",
            }
            for p, strength in partners
        ]
        services.save_landscape(deal, "yes" if rows else "no", rows, actor=rep)
        if status != "draft":
            services.complete_deal(deal, actor=rep)
        if status == "ready_to_route":
            answer_for(deal)
        db.session.commit()
        assert deal.status == status, (deal.status, status)
        return deal

    return make


def answer_for(deal, *, rows=(), **answer):
    """The customer answers by their link, through the customer's service: rows are [(partner or typed name, strength)].

    Takes `fulfilment`, `contact`, `chosen_row`, `consent`, `language` and any detail of the
    customer's form (`fulfilment_reason`, `contact_name`, …).
    """
    from intake.demo_data import answer_as_customer

    said = [(who if isinstance(who, str) else who.id, strength) for who, strength in rows]
    answer_as_customer(deal, rows=said, **answer)
    db.session.commit()


@pytest.fixture
def ready(rep, make_deal, make_account):
    """A deal ready to route, with what the customer said by their link.

    ready(partner=..., strength=..., fulfilment=..., contact=..., vendor_strength=..., consent=..., **answers)
    """

    def make(
        *,
        partner=None,
        strength=5,
        fulfilment="no_preference",
        contact="no_preference",
        vendor_strength=0,
        account=None,
        owner=None,
        consent=True,
        language="en",
        rep_partners=(),
        **answers,
    ):
        deal = make_deal(
            owner or rep,
            account=account,
            account_values={"vendor_strength": vendor_strength},
            status="awaiting_customer",
            partners=rep_partners,
            **answers,
        )
        answer_for(
            deal,
            rows=[(partner, strength)] if partner is not None else [],
            fulfilment=fulfilment,
            contact=contact,
            chosen_row=0 if fulfilment == "partner" else None,
            consent=consent,
            language=language,
        )
        return deal

    return make


@pytest.fixture
def live_server(app):
    """Serve the test app on a free loopback port in a background thread; yields its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


# Mail: a real SMTP server on loopback -------------------------------------------------


class SmtpServer:
    """An aiosmtpd server on a fixed loopback port that records every message it accepts.

    It can be stopped and started again on the same port (an outage), refuse addresses
    for good (550), defer every message (451), and hold deliveries at DATA until the
    test opens the gate.
    """

    def __init__(self, port: int, tls_context=None):
        import threading

        self.port = port
        self.tls_context = tls_context
        self.raw: list[bytes] = []  # every message accepted, in arrival order
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refused: dict[str, str] = {}
        self.data_reply: str | None = None
        self.gate = threading.Event()
        self.gate.set()
        self.holding = threading.Event()
        self.dropped = threading.Event()  # a held client went away before its reply
        self.sessions: set[int] = set()
        self._lock = threading.Lock()
        self._controller = None

    # aiosmtpd handler hooks
    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self._lock:
            self.sessions.add(id(session))
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        try:
            while not self.gate.is_set():
                self.holding.set()
                await asyncio.sleep(0.005)
        except asyncio.CancelledError:
            self.dropped.set()
            raise
        if self.data_reply:
            return self.data_reply
        with self._lock:
            self.raw.append(envelope.original_content)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        kwargs = {}
        if self.tls_context is not None:
            kwargs = {"tls_context": self.tls_context, "require_starttls": True}
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list:
        """The messages accepted, parsed (email.message.EmailMessage)."""
        import email
        from email import policy

        with self._lock:
            raw = list(self.raw)
        return [email.message_from_bytes(data, policy=policy.default) for data in raw]

    def message_ids(self) -> list[str]:
        """The Message-ID of every message accepted, a duplicate as often as it came."""
        from email.parser import BytesHeaderParser

        with self._lock:
            raw = list(self.raw)
        return [BytesHeaderParser().parsebytes(data)["Message-ID"] for data in raw]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A running loopback SMTP server (see SmtpServer); stopped after the test."""
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.gate.set()
    server.stop()


@pytest.fixture
def smtp(app, smtp_server):
    """The test app's mail goes to the loopback SMTP server."""
    app.config.update(MAIL_SINK="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, MAIL_TIMEOUT=10)
    return smtp_server


@pytest.fixture
def quarter(rep, ready, thames, borealis):
    """This quarter's deals with Thames and Borealis, counted by hand (tests/deal_steps.py counted_quarter)."""
    from .deal_steps import counted_quarter

    return counted_quarter(rep, ready, thames, borealis)
