"""Error pages: a clear message and the right status, never a traceback.

Policies, once each:
- a domain error (`intake.errors.DomainError`) that no form took beside a field becomes a 4xx
  page that says what happened and where to go back to;
- CSRF: every POST carries the session's token and is refused without it (Flask-WTF's
  CSRFProtect, before the view). A form page marked `keeps_answers` is the one variation: sent
  with a stale token (a form left open too long), it comes back with everything typed kept and
  the form's own message, instead of an empty error page. Its view runs to render that page,
  and nothing it does is committed;
- the database out of reach (down, restarting, out of connections: `failures.is_database_unavailable`)
  is a 503 that says nothing saved is lost and to try again in a minute, with Retry-After. That
  page is rendered from its template alone, without Flask's context processors, in a bare
  layout: Flask-Login's context processor puts `current_user` into every template, and loading
  the user needs the very database that is gone (that is how signed-in users got gunicorn's bare
  500). The bare layout has no menu, flashes or CSRF token, so it reads neither the user nor the
  session. Any error page whose full layout fails to render falls back to it;
- the JSON API (`/api/`) answers every one of these as a problem document (RFC 9457,
  `application/problem+json`) with a machine-readable `code` and, for bad input, each field with
  its reason; never an HTML page;
- every request has an id, sent back in X-Request-ID and shown on 5xx pages for the user to
  quote. Every failure is logged as one line with that id and its cause, its traceback at most
  once per cause a minute (`intake.failures`), instead of Flask's traceback per request.
"""

import json
import re
import secrets
from contextlib import suppress
from functools import wraps
from http import HTTPStatus

from flask import Flask, current_app, g, has_request_context, render_template, request, url_for
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import BuildError
from wtforms import ValidationError

from ..errors import ChangedMeanwhile, DomainError, FieldErrors, Gone, NotNow
from ..extensions import csrf, db
from ..failures import FailureLog, is_database_unavailable

STALE_FORM = "This form has expired or did not come from Intake. Reload the page and send it again."
RETRY_AFTER_SECONDS = 60
# An id a client or proxy sends is kept only when it cannot forge a log line or a header.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
FAILURES = "intake.failures"

MESSAGES = {
    400: ("Something in that request was not right", "Go back, check the page and try again."),
    401: ("Sign in first", "This page needs you to be signed in."),
    403: ("Not for your role", "This page is for the channel manager. Ask one if you need a change here."),
    404: ("Not found", "There is nothing here, or it is not yours to see."),
    405: ("Not allowed", "That page does not take this kind of request."),
    409: ("That changed", "Someone else changed this a moment ago."),
    410: ("No longer available", "This has expired or was replaced."),
    413: ("Too large", "That request was larger than Intake accepts."),
    429: ("Too many attempts", "Wait a few minutes, then try again."),
    500: (
        "Something went wrong on our side",
        "Nothing you saved before is lost. Try again in a moment; if it keeps happening, tell your channel manager.",
    ),
    503: ("Intake cannot reach its database", "Nothing you saved is lost. Try again in a minute."),
}


# The API's words for each status: what a program's author reads, with the code a program tests.
PROBLEMS = {
    400: ("bad_request", "The request could not be read."),
    401: ("unauthenticated", "Send a personal API token as `Authorization: Bearer …`."),
    403: ("forbidden", "This token may not do that."),
    404: ("not_found", "There is nothing here, or it is not this token's to see."),
    405: ("method_not_allowed", "This address does not take that method."),
    409: ("conflict", "This does not fit the state it is in."),
    410: ("gone", "This has expired or was replaced."),
    412: (
        "precondition_failed",
        "It changed since you read it: read it again, then send your change with its new ETag.",
    ),
    413: ("too_large", "The request body is larger than the API accepts."),
    415: ("unsupported_media_type", "Send the body as JSON (`Content-Type: application/json`)."),
    422: ("validation_failed", "Some fields need another look."),
    428: ("precondition_required", "Send `If-Match` with the ETag you read, so that no one else's change is lost."),
    429: ("rate_limited", "Too many requests with this token: wait for the time in Retry-After."),
    500: ("server_error", "Something went wrong on our side; nothing saved before is lost. Quote the request_id."),
    503: ("database_unavailable", "Intake cannot reach its database. Nothing saved is lost; try again in a minute."),
}
DOMAIN_CODES = (
    (FieldErrors, "validation_failed"),
    (ChangedMeanwhile, "changed_meanwhile"),
    (NotNow, "not_now"),
    (Gone, "gone"),
)


class Problem(HTTPException):
    """An API refusal with its own machine-readable code and, for bad input, the fields and their reasons."""

    def __init__(self, status: int, code: str, detail: str, *, errors: list[dict] | None = None, headers=None):
        super().__init__(detail)
        self.code, self.problem_code, self.errors, self.extra_headers = status, code, errors or [], headers or {}


def is_api_request() -> bool:
    """Whether this request is for the JSON API, which answers in problem documents rather than pages."""
    return has_request_context() and (request.path == "/api" or request.path.startswith("/api/"))


def problem(status: int, *, code: str | None = None, detail: str | None = None, errors=None, headers=None):
    """The API's one error shape: an RFC 9457 problem document, with `code` and, for bad input, `errors`."""
    default_code, default_detail = PROBLEMS.get(status, ("error", ""))
    code = code or default_code
    body = {
        "type": f"urn:intake:problem:{code}",
        "title": HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else f"Error {status}",
        "status": status,
        "code": code,
        "detail": detail or default_detail,
        "instance": request.path,
        "request_id": request_id(),
    }
    if errors:
        body["errors"] = errors
    response = current_app.response_class(json.dumps(body), status=status, mimetype="application/problem+json")
    response.headers.update(headers or {})
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="intake"'
    return response


def _field_errors(messages, location: str = "body", path: str = "") -> list[dict]:
    """A validation library's nested messages ({field: [reasons]} or {field: {…}}) as a list of fields and reasons."""
    if isinstance(messages, dict):
        found = []
        for key, value in messages.items():
            name = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key))
            found += _field_errors(value, location, name)
        return found
    if isinstance(messages, list | tuple) and not all(isinstance(item, str) for item in messages):
        return [error for i, item in enumerate(messages) for error in _field_errors(item, location, f"{path}[{i}]")]
    reasons = [messages] if isinstance(messages, str) else list(messages)
    return [{"field": path or "body", "in": location, "reason": reason} for reason in reasons]


def _api_http_error(exc: HTTPException):
    status = exc.code or 500
    if isinstance(exc, Problem):
        return problem(
            status, code=exc.problem_code, detail=exc.description, errors=exc.errors, headers=exc.extra_headers
        )
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or {}
    errors = []
    for location, fields in messages.items():
        errors += _field_errors(fields, {"json": "body", "query": "query", "headers": "header"}.get(location, location))
    if status == 400 and any(e["in"] == "body" and e["field"] == "body" for e in errors):
        return problem(400, code="malformed_json", detail="The body is not valid JSON.")
    detail = g.get("too_large") if status == 413 else None
    return problem(status, errors=errors, detail=detail)


def _api_domain_error(exc: DomainError):
    code = next((code for kind, code in DOMAIN_CODES if isinstance(exc, kind)), "refused")
    if isinstance(exc, FieldErrors):
        errors = [{"field": field, "in": "body", "reason": reason} for field, reason in exc.fields.items()]
        return problem(422, code=code, detail=exc.message, errors=errors)
    errors = [{"field": field, "in": "body", "reason": reason} for field, reason in exc.fields.items()]
    return problem(exc.status, code=code, detail=exc.message, errors=errors)


def request_id() -> str:
    """This request's id: the X-Request-ID a client or proxy sent, when it is a safe short token, else a new one."""
    if "request_id" not in g:
        sent = request.headers.get("X-Request-ID", "")
        g.request_id = sent if SAFE_REQUEST_ID.fullmatch(sent) else secrets.token_hex(8)
    return g.request_id


def _send_request_id(response):
    response.headers["X-Request-ID"] = request_id()
    return response


def _log_failure(exc: BaseException, what: str) -> None:
    failures: FailureLog = current_app.extensions[FAILURES]
    failures.record(exc, f"{what} on {request.method} {request.path}", request_id=request_id())


def _end_transaction() -> None:
    """Roll back what the request started; on a connection already lost there is nothing left to roll back."""
    with suppress(SQLAlchemyError):
        db.session.rollback()


def _back() -> tuple[str, str]:
    """Where the error page sends the user back to: the deal they were on, else their deals."""
    deal_id = (request.view_args or {}).get("deal_id")
    if deal_id is not None and request.blueprint in ("rep", "admin"):
        return url_for("rep.deal", deal_id=deal_id), "Back to the deal"
    return url_for("rep.deals"), "Back to deals"


def _again() -> str | None:
    """The address to try a failed page again at, rebuilt from its route so that it stays inside Intake."""
    if request.method != "GET" or request.endpoint is None:
        return None
    values = dict(request.view_args or {})
    for name, given in request.args.lists():
        if name not in values and not name.startswith("_"):
            values[name] = given
    try:
        return url_for(request.endpoint, **values)
    except BuildError:
        return None


def _context(status: int, detail: str | None) -> dict:
    title, hint = MESSAGES.get(status, (f"Error {status}", ""))
    back, back_label = _back()
    return dict(
        status=status,
        title=title,
        hint=detail or hint,
        back=back,
        back_label=back_label,
        again=_again() if status >= 500 else None,
        request_id=request_id() if status >= 500 else None,
    )


def _bare(context: dict) -> str:
    """The error page in its bare layout, from the template alone: no context processor, so no user is loaded."""
    return current_app.jinja_env.get_template("errors/error.html").render(bare=True, **context)


def page(status: int, detail: str | None = None):
    """The error page for a status, with a message that says what to do (for the API, its problem document)."""
    if is_api_request():
        return problem(status, detail=detail)
    context = _context(status, detail)
    try:
        return render_template("errors/error.html", **context), status
    except Exception as exc:
        # The full layout names the signed-in user, and loading them may fail on the database again.
        _end_transaction()
        if is_database_unavailable(exc):
            return unavailable(exc)
        if _propagates():
            raise
        _log_failure(exc, f"Error page {status} failed to render")
        return _bare(context), status


def unavailable(exc: BaseException):
    """The 503 page for a database out of reach, logged in one line; it touches neither the user nor the session."""
    _end_transaction()
    _log_failure(exc, "Database unavailable")
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "X-Request-ID": request_id()}
    if is_api_request():
        return problem(503, headers=headers)
    return _bare(_context(503, None)), 503, headers


def _propagates() -> bool:
    """Whether an unexpected exception should reach the test or the debugger, as Flask decides it."""
    propagate = current_app.config["PROPAGATE_EXCEPTIONS"]
    return current_app.testing or current_app.debug if propagate is None else propagate


class StaleForm(Exception):
    """A commit was attempted while answering a request whose CSRF token was refused."""


def keeps_answers(view):
    """A form page that, sent with a stale CSRF token, comes back with the answers kept.

    The token is checked here instead of before the view; when it fails, the view runs only to
    render its form (whose own check refuses the same token, with a 400), no commit is allowed,
    and anything but that 400 page becomes the plain refusal.
    """

    @wraps(view)
    def checked(*args, **kwargs):
        if request.method != "POST":
            return view(*args, **kwargs)
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            g.stale_form = True
            try:
                response = current_app.make_response(view(*args, **kwargs))
            except (StaleForm, DomainError):
                response = None  # nothing is decided on a stale token, not even a refusal
            finally:
                db.session.rollback()
            if response is None or response.status_code != 400:
                return page(400, STALE_FORM)
            return response
        return view(*args, **kwargs)

    return csrf.exempt(checked)


@event.listens_for(Session, "before_commit")
def _refuse_commit_of_a_stale_form(session) -> None:
    if has_request_context() and g.get("stale_form"):
        raise StaleForm()


def init_app(app: Flask) -> None:
    app.extensions[FAILURES] = FailureLog(app.logger)
    app.after_request(_send_request_id)

    def end_session(what: str, request_id: str | None = None) -> None:
        """End the database session. A database that went away after the work was done (shut down, restarted)
        fails the rollback that ends it; that must not turn a response into a 500 or stop a task. The connection
        is lost with the server's side of its transaction: the session is dropped and the failure logged in one
        line."""
        try:
            db.session.remove()
        except SQLAlchemyError as failure:
            if not is_database_unavailable(failure):
                raise
            db.session.registry.clear()
            app.extensions[FAILURES].record(failure, what, request_id=request_id)

    # A request's teardown runs before any app context's (Flask-SQLAlchemy's among them): its line names it.
    @app.teardown_request
    def end_request_session(exc: BaseException | None) -> None:
        what = f"Database unavailable on {request.method} {request.path} after its answer, ending its session"
        end_session(what, request_id())

    # Registered after Flask-SQLAlchemy's, so it runs before it: an app context outside a request (a command).
    @app.teardown_appcontext
    def end_context_session(exc: BaseException | None) -> None:
        end_session("Database unavailable after a task outside a request, ending its session")

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        _end_transaction()
        if is_api_request():
            return _api_domain_error(exc)
        return page(exc.status, exc.message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return page(400, STALE_FORM)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if status >= 500:
            _log_failure(exc, "Server error")
        if is_api_request():
            _end_transaction()
            return _api_http_error(exc)
        return page(status, g.get("too_large") if status == 413 else None)

    @app.errorhandler(SQLAlchemyError)
    def database_error(exc: SQLAlchemyError):
        if is_database_unavailable(exc):
            return unavailable(exc)
        _end_transaction()
        _log_failure(exc, "Database error")
        return page(500)

    @app.errorhandler(InternalServerError)
    def server_error(exc: InternalServerError):
        # Reached by abort(500), and by an exception raised in another error handler.
        original = exc.original_exception or exc
        if is_database_unavailable(original):
            return unavailable(original)
        _log_failure(original, "Unhandled error")
        return page(500)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        # Handled here rather than by Flask, which would log a whole traceback for each request.
        if is_database_unavailable(exc):
            return unavailable(exc)
        if _propagates():
            raise exc
        _log_failure(exc, "Unhandled error")
        return page(500)
