"""Webhooks against a real HTTP receiver on loopback: signed, delivered once, retried, given up on, refused."""

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from intake.errors import FieldErrors
from intake.extensions import db
from intake.models import AuditEvent, OutboxMessage, WebhookDelivery, WebhookEndpoint
from intake.webhooks import delivery as webhook_delivery
from intake.webhooks import endpoints

from .deal_steps import request_to, route
from .test_mail_worker import deliver, later

# The receiver's check, exactly as the README gives it.


def verify(secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """Whether `Intake-Signature: t=…,v1=…` signs this body with the secret, and is recent."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(fields["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - timestamp) <= tolerance


class Receiver:
    """A loopback HTTP server recording every POST; `answers` are the statuses it gives next (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int] = []
        self.always: int | None = None  # answer this to every request
        self.together = 0  # the first this many requests wait for each other: workers really run at once
        self._arrived = threading.Condition()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver._wait_for_the_others()
                with receiver._lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    status = receiver.always or (receiver.answers.pop(0) if receiver.answers else 200)
                self.send_response(status)
                if status in (301, 302):
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _wait_for_the_others(self) -> None:
        with self._arrived:
            if self.together <= 0:
                return
            self.together -= 1
            self._arrived.notify_all()
            self._arrived.wait_for(lambda: self.together <= 0, timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks/intake"

    def events(self) -> list[str]:
        with self._lock:
            return [r["headers"]["Intake-Event"] for r in self.requests]

    def of(self, event: str) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if r["headers"]["Intake-Event"] == event]


@pytest.fixture
def receiver(app):
    """A running receiver; loopback targets are allowed while it runs, as no real one would be."""
    app.config.update(WEBHOOK_ALLOW_PRIVATE=True, WEBHOOK_MAX_ATTEMPTS=3, WEBHOOK_DISABLE_AFTER=2)
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def make_endpoint(receiver, boss):
    """Register an endpoint as the channel manager does: make_endpoint(events=[...], url=...)."""

    def make(*, events=("deal.routed", "deal.accepted", "deal.declined"), url=None):
        endpoint = endpoints.register(url=url or receiver.url, events=list(events), actor=boss)
        db.session.commit()
        return endpoint

    return make


@pytest.fixture
def endpoint(make_endpoint):
    return make_endpoint()


def customers_deal(ready, partner, strength: int):
    """A deal the customer brought us, ready to route, with the partner they work with: it routes clean."""
    return ready(partner=partner, strength=strength, originator="customer", origin_channel="referral")


def deliveries(**where) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).order_by(WebhookDelivery.id)
    for name, value in where.items():
        query = query.where(getattr(WebhookDelivery, name) == value)
    return list(db.session.scalars(query))


def test_routing_a_deal_delivers_one_signed_deal_routed_event(app, rep, ready, thames, receiver, endpoint):
    deal = route(customers_deal(ready, thames, 5), rep)

    deliver(app)
    deliver(app, at=later(3600))  # nothing is sent twice, however often the worker runs

    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    assert request["path"] == "/hooks/intake"
    assert verify(endpoint.secret, body, headers["Intake-Signature"])
    assert not verify("another secret", body, headers["Intake-Signature"])
    assert headers["Intake-Event"] == "deal.routed"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Intake-Webhooks/1"
    event = json.loads(body)
    assert event["id"] == headers["Intake-Delivery"] and event["id"].startswith("evt_")
    assert event["type"] == "deal.routed" and event["created_at"].endswith("Z")
    data = event["data"]
    assert data["deal"]["id"] == deal.id and data["deal"]["status"] == "routed"
    assert data["deal"]["url"] == f"/api/v1/deals/{deal.id}"
    assert data["deal"]["account"]["name"] == deal.account.name
    assert data["deal"]["account"]["domain"] == deal.account.domain
    assert data["decision"]["leader"] == {"kind": "partner", "partner_id": thames.id, "name": "Thames Cloud"}
    assert data["decision"]["fulfiller"]["name"] == "Thames Cloud"
    assert isinstance(data["decision"]["flags"], list)
    [sent] = deliveries()
    assert (sent.status, sent.attempts, sent.last_response_code) == ("delivered", 1, 200)
    assert sent.body.encode() == body and sent.deal_id == deal.id
    assert sent.delivered_at is not None and sent.last_duration_ms is not None


def test_a_decline_sends_the_deal_back_with_deal_declined_and_its_reason(app, rep, ready, thames, receiver, endpoint):
    from intake.deals import partners

    deal = route(customers_deal(ready, thames, 5), rep)
    partners.decline(request_to(deal, thames), reason="No capacity this quarter.")
    db.session.commit()

    deliver(app)

    assert receiver.events() == ["deal.routed", "deal.declined"]
    [declined] = receiver.of("deal.declined")
    data = json.loads(declined["body"])["data"]
    assert data["deal"]["status"] == "ready_to_route"
    assert "No capacity this quarter." in data["reason"]


def test_every_event_reaches_only_the_endpoints_subscribed_to_it(app, rep, ready, thames, receiver, make_endpoint):
    make_endpoint(events=["customer.answered"])
    deal = customers_deal(ready, thames, 5)
    route(deal, rep)

    deliver(app)

    assert receiver.events() == ["customer.answered"]
    data = json.loads(receiver.requests[0]["body"])["data"]
    assert data["deal"]["status"] == "ready_to_route" and data["is_first_answer"] is True


def test_an_event_is_written_in_the_callers_transaction(app, rep, ready, thames, endpoint):
    from intake.deals import decisions

    deal = customers_deal(ready, thames, 5)
    decisions.route_deal(deal, actor=rep)
    assert len(deliveries()) == 1  # flushed with the decision
    db.session.rollback()
    assert deliveries() == []  # and gone with it


def test_a_500_is_retried_later_with_each_attempt_recorded(app, rep, ready, thames, receiver, endpoint):
    receiver.answers = [500]
    route(customers_deal(ready, thames, 5), rep)
    at = later()

    deliver(app, at=at)

    [waiting] = deliveries()
    assert (waiting.status, waiting.attempts, waiting.last_response_code) == ("pending", 1, 500)
    assert "500" in waiting.last_error and waiting.last_duration_ms is not None
    assert waiting.next_attempt_at == at + timedelta(minutes=1)
    deliver(app, at=at + timedelta(seconds=30))  # not due yet
    assert len(receiver.requests) == 1

    deliver(app, at=at + timedelta(seconds=61))

    db.session.refresh(waiting)
    assert (waiting.status, waiting.attempts, waiting.last_response_code) == ("delivered", 2, 200)
    first, second = receiver.requests
    assert first["body"] == second["body"]  # the same bytes, the same id: a receiver can tell a resend
    assert first["headers"]["Intake-Delivery"] == second["headers"]["Intake-Delivery"]
    # Signed at each send: the second attempt's timestamp is its own.
    assert first["headers"]["Intake-Signature"] != second["headers"]["Intake-Signature"]


def test_the_retries_back_off_and_the_last_attempt_gives_up(app, rep, ready, thames, receiver, endpoint):
    receiver.always = 503
    route(customers_deal(ready, thames, 5), rep)
    at = later()
    waits = []
    for _ in range(3):  # WEBHOOK_MAX_ATTEMPTS
        deliver(app, at=at)
        [d] = deliveries()
        waits.append(d.next_attempt_at - at)
        at = d.next_attempt_at

    assert waits[:2] == [timedelta(minutes=1), timedelta(minutes=5)]
    [given_up] = deliveries()
    assert (given_up.status, given_up.attempts, given_up.last_response_code) == ("failed", 3, 503)
    assert webhook_delivery.retry_delay(3) == timedelta(minutes=30)
    assert webhook_delivery.retry_delay(50) == timedelta(hours=24)


def test_a_redirect_is_an_answer_not_followed(app, rep, ready, thames, receiver, endpoint):
    receiver.answers = [302]
    route(customers_deal(ready, thames, 5), rep)

    deliver(app)

    [d] = deliveries()
    assert (d.status, d.last_response_code) == ("pending", 302)
    assert len(receiver.requests) == 1


def test_an_endpoint_is_disabled_after_deliveries_given_up_on_and_the_managers_are_told(
    app, rep, ready, thames, borealis, receiver, make_endpoint, boss
):
    app.config.update(WEBHOOK_MAX_ATTEMPTS=1)
    receiver.always = 500
    endpoint = make_endpoint()
    route(customers_deal(ready, thames, 5), rep)
    route(customers_deal(ready, borealis, 5), rep)

    deliver(app)

    db.session.refresh(endpoint)
    assert [d.status for d in deliveries()] == ["failed", "failed"]
    assert (endpoint.is_active, endpoint.consecutive_failures) == (False, 2)
    assert endpoint.disabled_at is not None
    [alert] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "webhook_disabled")).all()
    assert alert.recipients == [boss.email]
    assert endpoint.url in alert.text_body and f"/admin/webhooks/{endpoint.id}" in alert.text_body
    # A disabled endpoint hears of nothing more.
    route(customers_deal(ready, thames, 4), rep)
    assert len(deliveries()) == 2

    # Back on: one delivery retried and answered resets the count.
    receiver.always = None
    endpoints.set_active(endpoint, True, actor=boss)
    endpoints.retry(deliveries()[0], actor=boss)
    db.session.commit()
    deliver(app)

    db.session.refresh(endpoint)
    assert [d.status for d in deliveries()] == ["delivered", "failed"]
    assert (endpoint.is_active, endpoint.consecutive_failures) == (True, 0)


def test_two_workers_at_once_deliver_each_event_exactly_once(app, rep, ready, thames, receiver, make_endpoint):
    for _ in range(5):
        make_endpoint(events=["deal.routed"])
    for strength in (2, 3, 4, 5):
        route(customers_deal(ready, thames, strength), rep)
    expected = {d.event_id for d in deliveries()}
    assert len(expected) == 20
    receiver.together = 2
    settings = webhook_delivery.Settings(batch=3, timeout=5)
    reports = {}

    def work(name):
        with app.app_context():
            total = webhook_delivery.Report()
            while True:
                report = webhook_delivery.work_batch(settings, config=app.config, name=name)
                total.add(report)
                if report.claimed == 0:
                    break
            reports[name] = total
            db.session.remove()

    workers = [threading.Thread(target=work, args=(name,)) for name in ("one", "two")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)

    sent = Counter(r["headers"]["Intake-Delivery"] for r in receiver.requests)
    assert set(sent) == expected and set(sent.values()) == {1}
    assert reports["one"].delivered + reports["two"].delivered == 20
    assert reports["one"].delivered and reports["two"].delivered
    db.session.expire_all()
    assert {d.status for d in deliveries()} == {"delivered"}


# Where webhooks may go ----------------------------------------------------------


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://127.0.0.1:8080/hook", "a loopback address"),
        ("http://localhost/hook", "a loopback address"),
        ("http://[::1]/hook", "a loopback address"),
        ("http://10.1.2.3/hook", "a private address"),
        ("http://192.168.0.10/hook", "a private address"),
        ("http://169.254.169.254/latest/meta-data", "address"),
        ("http://0.0.0.0/hook", "address"),
        ("http://224.0.0.1/hook", "address"),
        ("http://[::ffff:127.0.0.1]/hook", "a loopback address"),
        ("ftp://crm.example.com/hook", "Use an http:// or https:// address."),
        ("file:///etc/passwd", "Use an http:// or https:// address."),
        ("javascript:alert(1)", "Use an http:// or https:// address."),
        ("https:///no-host", "names no host"),
        ("https://user:pw@crm.example.com/hook", "Leave the sign-in out"),
        ("http://crm.example.com:99999/", "not a URL"),
    ],
)
def test_a_target_inside_our_network_or_not_over_http_is_refused(app, boss, url, why):
    with pytest.raises(FieldErrors) as refused:
        endpoints.register(url=url, events=["deal.routed"], actor=boss)
    assert why in refused.value.fields["url"]
    db.session.rollback()
    assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_only_the_allowed_hosts_may_be_named_when_a_list_is_set(app, boss, receiver):
    app.config.update(WEBHOOK_ALLOWED_HOSTS=("crm.example.com",))
    with pytest.raises(FieldErrors) as refused:
        endpoints.register(url=receiver.url, events=["deal.routed"], actor=boss)
    assert "not among the hosts webhooks may go to (crm.example.com)" in refused.value.fields["url"]


def test_a_target_is_checked_again_when_sent(app, rep, ready, thames, receiver, endpoint):
    route(customers_deal(ready, thames, 5), rep)
    app.config.update(WEBHOOK_ALLOW_PRIVATE=False)  # the network changed under a registered endpoint

    deliver(app)

    assert receiver.requests == []
    [held] = deliveries()
    assert held.status == "pending" and "a loopback address" in held.last_error


# The channel manager's pages ----------------------------------------------------


def test_the_manager_adds_an_endpoint_sees_its_secret_and_its_deliveries(app, manager, receiver, rep, ready, thames):
    response = manager.submit("/admin/webhooks/new", {"url": receiver.url, "events": ["deal.routed", "deal.won"]})
    assert response.status_code == 302
    endpoint = db.session.scalars(select(WebhookEndpoint)).one()
    assert response.location == f"/admin/webhooks/{endpoint.id}"
    assert endpoint.events == ["deal.routed", "deal.won"] and len(endpoint.secret) >= 40

    route(customers_deal(ready, thames, 5), rep)
    deliver(app)
    page = manager.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert endpoint.secret in page and "deal.routed" in page and "delivered" in page and "200" in page
    listing = manager.get("/admin/webhooks").get_data(as_text=True)
    assert receiver.url in listing and "active" in listing
    assert 'href="/admin/webhooks"' in manager.get("/deals").get_data(as_text=True)  # in the navigation
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "webhook")).all() == [
        "webhook endpoint added"
    ]


@pytest.mark.parametrize(
    "data, field_message",
    [
        ({"url": "ftp://crm.example.com/hook", "events": ["deal.routed"]}, "Use an http:// or https:// address."),
        ({"url": "http://10.0.0.7/hook", "events": ["deal.routed"]}, "a private address"),
        ({"url": "https://crm.example.com/hook"}, "Choose at least one event to send."),
        ({"url": "", "events": ["deal.routed"]}, "Enter the address that receives the events."),
        ({"url": "https://crm.example.com/hook", "events": ["deal.nonsense"]}, "not a valid choice"),
    ],
)
def test_bad_input_on_the_endpoint_form_is_shown_beside_its_field(app, manager, data, field_message):
    response = manager.submit("/admin/webhooks/new", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_message in page and 'class="field-error"' in page
    assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_the_manager_disables_enables_retries_and_deletes(app, manager, rep, ready, thames, receiver, make_endpoint):
    app.config.update(WEBHOOK_MAX_ATTEMPTS=1)
    receiver.answers = [500]
    endpoint = make_endpoint()
    route(customers_deal(ready, thames, 5), rep)
    deliver(app)
    [failed] = deliveries()
    assert failed.status == "failed"
    page = f"/admin/webhooks/{endpoint.id}"

    assert manager.submit(f"{page}/active", {"is_active": "no"}, page=page).status_code == 302
    db.session.refresh(endpoint)
    assert not endpoint.is_active
    assert manager.submit(f"{page}/active", {"is_active": "yes"}, page=page).status_code == 302
    db.session.refresh(endpoint)
    assert endpoint.is_active

    retried = manager.submit(f"{page}/deliveries/{failed.id}/retry", page=page)
    assert retried.status_code == 302
    deliver(app)
    db.session.refresh(failed)
    assert (failed.status, failed.attempts) == ("delivered", 1)

    unconfirmed = manager.submit(f"{page}/delete", page=page)
    assert unconfirmed.status_code == 400 and "Tick this to delete the endpoint" in unconfirmed.get_data(as_text=True)
    assert manager.submit(f"{page}/delete", {"confirm": "y"}, page=page).status_code == 302
    assert db.session.scalars(select(WebhookEndpoint)).all() == [] and deliveries() == []
    assert manager.get(page).status_code == 404
