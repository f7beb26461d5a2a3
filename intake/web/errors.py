"""Error pages: a clear message and the right status, never a traceback.

Two policies live here, once each:
- a domain error (`intake.errors.DomainError`) that no form took beside a field becomes a 4xx
  page that says what happened and where to go back to;
- CSRF: every POST carries the session's token and is refused without it (Flask-WTF's
  CSRFProtect, before the view). A form page marked `keeps_answers` is the one variation: sent
  with a stale token (a form left open too long), it comes back with everything typed kept and
  the form's own message, instead of an empty error page. Its view runs to render that page,
  and nothing it does is committed.
"""

from functools import wraps

from flask import Flask, current_app, g, has_request_context, render_template, request, url_for
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, InternalServerError
from wtforms import ValidationError

from ..errors import DomainError
from ..extensions import csrf, db

STALE_FORM = "This form has expired or did not come from Intake. Reload the page and send it again."

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
}


def _back() -> tuple[str, str]:
    """Where the error page sends the user back to: the deal they were on, else their deals."""
    deal_id = (request.view_args or {}).get("deal_id")
    if deal_id is not None and request.blueprint in ("rep", "admin"):
        return url_for("rep.deal", deal_id=deal_id), "Back to the deal"
    return url_for("rep.deals"), "Back to deals"


def page(status: int, detail: str | None = None):
    """The error page for a status, with a message that says what to do."""
    title, hint = MESSAGES.get(status, (f"Error {status}", ""))
    back, back_label = _back()
    return (
        render_template(
            "errors/error.html", status=status, title=title, hint=detail or hint, back=back, back_label=back_label
        ),
        status,
    )


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
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        return page(exc.status, exc.message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return page(400, STALE_FORM)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code and exc.code >= 500:
            return server_error(exc)
        return page(exc.code or 500)

    @app.errorhandler(SQLAlchemyError)
    def database_error(exc):
        db.session.rollback()
        app.logger.exception("Database error on %s %s", request.method, request.path)
        return page(500)

    @app.errorhandler(InternalServerError)
    def server_error(exc):
        original = getattr(exc, "original_exception", None)
        if original is not None:
            app.logger.error("Unhandled error on %s %s", request.method, request.path, exc_info=original)
        return page(500)
