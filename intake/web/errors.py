"""Error pages: a clear message and the right status, never a traceback."""

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..extensions import db

MESSAGES = {
    400: ("Something in that request was not right", "Go back, check the page and try again."),
    401: ("Sign in first", "This page needs you to be signed in."),
    403: ("Not for your role", "This page is for the channel manager. Ask one if you need a change here."),
    404: ("Not found", "There is nothing here, or it is not yours to see."),
    405: ("Not allowed", "That page does not take this kind of request."),
    413: ("Too large", "That request was larger than Intake accepts."),
    429: ("Too many attempts", "Wait a few minutes, then try again."),
    500: (
        "Something went wrong on our side",
        "Nothing you saved before is lost. Try again in a moment; if it keeps happening, tell your channel manager.",
    ),
}


def _page(status: int, detail: str | None = None):
    title, hint = MESSAGES.get(status, (f"Error {status}", ""))
    return render_template("errors/error.html", status=status, title=title, hint=detail or hint), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _page(400, "This form has expired or did not come from Intake. Reload the page and send it again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code and exc.code >= 500:
            return server_error(exc)
        return _page(exc.code or 500)

    @app.errorhandler(SQLAlchemyError)
    def database_error(exc):
        db.session.rollback()
        app.logger.exception("Database error on %s %s", request.method, request.path)
        return _page(500)

    @app.errorhandler(InternalServerError)
    def server_error(exc):
        original = getattr(exc, "original_exception", None)
        if original is not None:
            app.logger.error("Unhandled error on %s %s", request.method, request.path, exc_info=original)
        return _page(500)
