"""Requests no page of ours sends get a clear 4xx, and nothing already saved is lost.

Each test here is one way in which a request was tried as an attacker or a broken client would:
the redirect after signing in, the size of a request, NUL and other control characters, numbers
beyond what the database stores, repeated values and a body that cannot be read.
"""

import io
import re
import socket
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import DechunkedInput
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from intake.extensions import db
from intake.models import AuditEvent, Deal
from intake.web.inputs import whole_chunks_only

from .conftest import PASSWORD
from .test_customer_link import create_link


def _field_error(response, field_id: str) -> str:
    found = dict(re.findall(r'class="field-error" id="([^"]+)-error"[^>]*>([^<]*)<', response.get_data(as_text=True)))
    assert field_id in found, f"no message beside {field_id}: {found}"
    return found[field_id].strip()


@pytest.fixture
def draft(client, rep, make_deal):
    return make_deal(rep, decision_maker="Ada Lovelace", competitors="Initech")


# Where signing in leads -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%0d%0a/evil.example",
        "//evil.example",
        "/\\evil.example",
        "/%5Cevil.example",
        "https://evil.example/",
        "http:/evil.example",
        "%2F%2Fevil.example",
        "/%20/evil.example",
        "javascript:alert(1)",
    ],
)
def test_signing_in_never_leads_to_another_site(client, make_user, target):
    user = make_user("rep")
    response = client.submit(f"/login?next={target}", {"email": user.email, "password": PASSWORD}, page="/login")
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 302:
        location = urlsplit(response.headers["Location"])
        assert not location.netloc and not location.scheme
        assert location.path.startswith("/") and not location.path.startswith("//")
        assert response.headers["Location"] == "/deals"


def test_signing_in_keeps_a_same_site_next_page(client, make_user):
    user = make_user("rep")
    response = client.submit("/login?next=/deals%3Fstatus%3Ddraft", {"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/deals?status=draft"


def test_the_csrf_token_changes_at_sign_in(client, make_user):
    user = make_user("rep")
    before = client.csrf_token("/login")
    client.post("/login", data={"csrf_token": before, "email": user.email, "password": PASSWORD})
    after = client.csrf_token("/deals")
    assert after != before
    # A token seen before signing in no longer works after it.
    response = client.post("/deals/new", data={"csrf_token": before})
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count()).select_from(Deal)) == 0


# Size --------------------------------------------------------------------------------------------


def test_a_request_larger_than_any_page_sends_is_refused_unread(client):
    token = client.csrf_token("/login")
    response = client.post("/login", data={"csrf_token": token, "email": "x" * (5 * 1024 * 1024), "password": "x"})
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "larger than Intake accepts" in body
    assert len(body) < 20_000 and "xxxxxxxxxx" not in body


def test_the_same_checkbox_sent_a_thousand_times_is_refused_and_the_draft_kept(client, draft):
    saved = list(draft.pain_points)
    response = client.submit(
        f"/deals/{draft.id}/need", {"pain_points": ["Slow or manual processes"] * 1000, "action": "save"}
    )
    assert response.status_code == 400
    assert _field_error(response, "pain_points") == "Each option can be chosen once."
    assert len(response.get_data()) < 200_000
    db.session.expire_all()
    assert db.session.get(Deal, draft.id).pain_points == saved


def test_two_answers_to_a_single_choice_are_refused(client, draft):
    response = client.submit(f"/deals/{draft.id}/qualification", {"budget": ["approved", "none"], "action": "save"})
    assert response.status_code == 400
    assert _field_error(response, "budget") == "Please send one answer here."


# Text --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["Ada\x00Lovelace", "Ada\x1bLovelace", "Ada\x7fLovelace", "Ada\u0085Lovelace", "Ada\u202eLovelace"]
)
def test_control_characters_in_text_get_a_message_beside_the_field(client, draft, text):
    response = client.submit(f"/deals/{draft.id}/qualification", {"decision_maker": text, "action": "save"})
    assert response.status_code == 400
    assert _field_error(response, "decision_maker") == "Remove the invisible control characters from this answer."
    db.session.expire_all()
    assert db.session.get(Deal, draft.id).decision_maker == "Ada Lovelace"  # what was saved is kept


def test_a_multi_line_answer_keeps_its_line_breaks_and_tabs(client, draft):
    response = client.submit(
        f"/deals/{draft.id}/qualification", {"competitors": "Initech\r\n\tGlobex", "action": "save"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Deal, draft.id).competitors.split() == ["Initech", "Globex"]


def test_a_single_line_answer_refuses_a_line_break(client, draft):
    response = client.submit(f"/deals/{draft.id}/qualification", {"decision_maker": "Ada\r\nBcc: x", "action": "save"})
    assert response.status_code == 400


def test_a_nul_byte_on_the_sign_in_page_is_a_message_not_an_error(client, make_user):
    user = make_user("rep")
    response = client.submit("/login", {"email": user.email + "\x00", "password": PASSWORD})
    assert response.status_code == 400
    assert _field_error(response, "email") == "Remove the invisible control characters from this answer."


def test_a_nul_byte_in_the_customers_answer_is_a_message_in_their_language(client, rep, make_deal):
    deal = make_deal(rep, status="awaiting_customer")
    link = create_link(client, deal, language="de")
    customer = client.application.test_client()
    response = customer.submit(link, {"company_name": "Kunde\x00GmbH", "works_with_partner": "no"})
    assert response.status_code == 400
    assert "Steuerzeichen" in _field_error(response, "company_name")
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).status == "awaiting_customer"


@pytest.mark.parametrize("query", ["q=%00", "status=%00", "q=a%1b"])
def test_control_characters_in_a_query_are_a_bad_request(client, rep, query):
    assert client.get(f"/deals?{query}").status_code == 400


# Numbers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("deal_id", [str(2**31), str(2**64), str(2**70), "0", "-1", "1e3", "０１"])
def test_an_id_out_of_range_in_an_address_is_not_found(client, rep, deal_id):
    assert client.get(f"/deals/{deal_id}").status_code == 404
    assert client.get(f"/deals/{deal_id}/account").status_code == 404


@pytest.mark.parametrize("page", [str(2**70), "-5", "abc", "1e9", ""])
def test_any_page_number_shows_a_page(client, rep, page):
    response = client.get(f"/deals?page={page}")
    assert response.status_code == 200


@pytest.mark.parametrize("field", ["account_id", "vendor_strength"])
@pytest.mark.parametrize("value", [str(2**70), str(2**40), "9" * 5000, "1.5", "x"])
def test_a_form_id_or_number_out_of_range_is_refused(client, draft, field, value):
    response = client.submit(f"/deals/{draft.id}/account", {"name": draft.account.name, field: value})
    assert response.status_code == 400


@pytest.mark.parametrize("value", [str(2**70), "-1", "x"])
def test_a_partner_row_beyond_the_range_is_refused(client, draft, value):
    response = client.submit(
        f"/deals/{draft.id}/landscape", {"partners_known": "yes", "rows-0-partner_id": value, "action": "save"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("value", ["maybe", "1", "", "yes\x00"])
def test_a_yes_no_answer_takes_yes_or_no_only(client, draft, value):
    response = client.submit(f"/deals/{draft.id}/qualification", {"has_decision_maker": value, "action": "save"})
    assert response.status_code in (302, 400)
    if value:
        assert response.status_code == 400


@pytest.mark.parametrize("value", ["sNaN", "NaN", "-Infinity", "1e309", "1e999999999"])
def test_a_value_that_is_not_a_number_is_refused(client, draft, value):
    response = client.submit(f"/deals/{draft.id}/need", {"estimated_value": value, "action": "save"})
    assert response.status_code == 400


def test_a_route_chosen_with_a_partner_beyond_the_range_is_a_message(client, rep, make_deal, thames):
    deal = make_deal(rep, status="ready_to_route")
    response = client.submit(f"/deals/{deal.id}/route", {"partner_id": str(2**70)}, page=f"/deals/{deal.id}")
    assert response.status_code in (302, 400, 409)


# A body that cannot be read ---------------------------------------------------------------------


def _raw(base_url: str, request: bytes) -> bytes:
    host, port = urlsplit(base_url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "body",
    [b"zz\r\nemail=a\r\n0\r\n\r\n", b"5\r\nemail=a@b.c&password=x\r\n0\r\n\r\n", b"ffffffffffffffffff\r\nx\r\n"],
)
def test_a_malformed_chunked_body_is_a_bad_request(live_server, body):
    response = _raw(
        live_server,
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body,
    )
    status = int(response.split(b" ", 2)[1])
    assert 400 <= status < 500, response[:200]


def _read_chunked(body: bytes):
    """What an app behind `whole_chunks_only` reads of a body the development server dechunks."""
    environ = EnvironBuilder(method="POST").get_environ()
    environ["wsgi.input"] = DechunkedInput(io.BufferedReader(io.BytesIO(body)))
    environ["wsgi.input_terminated"] = True
    seen = {}

    def reader(environ, start_response):
        request = Request(environ)
        request.max_content_length = 10**6
        try:
            seen["body"] = request.get_data()
        except Exception as error:  # what the request's stream raised
            seen["error"] = error
        start_response("204 No Content", [])
        return []

    whole_chunks_only(reader)(environ, lambda *args: None)
    return seen


def test_a_chunked_body_is_read_whole():
    assert _read_chunked(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n") == {"body": b"hello world"}


def test_a_chunk_shorter_than_it_declared_is_a_client_error_not_bytes_beyond_it():
    # Unguarded, the development server counts 65,536 bytes read from a 3-byte chunk.
    seen = _read_chunked(b"ffffffffffffffffff\r\nx\r\n")
    assert "body" not in seen and getattr(seen["error"], "code", None) == 400, seen


def test_nothing_is_written_by_a_refused_request(client, draft):
    before = db.session.scalar(db.select(db.func.count()).select_from(AuditEvent))
    client.submit(f"/deals/{draft.id}/qualification", {"decision_maker": "\x00", "budget": ["a", "b"]})
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)) == before


def test_every_form_of_the_app_is_guarded(app):
    """A new form cannot skip the guards: every form class in Intake derives from IntakeForm or RowForm."""
    import wtforms

    from intake.web.forms import IntakeForm, RowForm

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = {form for form in subclasses(wtforms.Form) if form.__module__.startswith("intake.")}
    assert len(ours) > 15
    unguarded = sorted(f"{f.__module__}.{f.__name__}" for f in ours if not issubclass(f, (IntakeForm, RowForm)))
    assert unguarded == []
