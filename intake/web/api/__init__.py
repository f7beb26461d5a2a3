"""The JSON API at /api/v1/: what a rep, a partner user or the channel manager does by form, for their tools.

flask-smorest reads each request through a marshmallow schema and writes the OpenAPI 3.1 document
from the same schemas, so the document cannot drift from what is checked. Policies, once each:

- a personal API token (`Authorization: Bearer …`) authenticates every call; cookies never do, so the
  API needs no CSRF token. The token acts as its owner, with the owner's object-level checks; a `read`
  token reads, a `write` token also writes;
- each part of the API is for one audience (the vendor's staff, or partner users); a token of the
  other audience is a 403;
- what a token may not touch is refused before its body is read (`access_first`): another rep's
  deal or another partner's request is a 404 whatever was sent;
- requests per token are limited (Flask-Limiter, before the token is even read), with Retry-After on a 429;
- a body must say it is JSON (its size is bounded with every other request's, `intake.web.inputs`);
- every refusal is a problem document (`intake.web.errors`).
"""

from __future__ import annotations

import hashlib
from functools import wraps
from pathlib import Path

import flask_swagger_ui
from flask import Blueprint as FlaskBlueprint
from flask import Flask, current_app, g, render_template, request
from flask_smorest import Api, Blueprint

from ... import api_tokens, rate_limits  # noqa: F401  (rate_limits registers the database's storage)
from ...extensions import csrf, db, limiter
from ...models import PartnerUser, User
from ...models.types import utcnow
from ..errors import Problem
from ..inputs import MAX_INT, IdConverter
from .schemas import ProblemSchema

STAFF, PARTNER = "staff", "partner"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
PREFIX = "/api/v1"


class IntakeApi(Api):
    """flask-smorest's Api, with errors documented and answered as Intake's problem documents."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        # Errors under /api/ are answered by intake.web.errors, which knows the problem shape;
        # flask-smorest's own handler would answer every page of the app in JSON.
        pass

    def _register_responses(self):
        # Refusals are documented as problem documents, in their own media type; answers stay JSON.
        self.DEFAULT_RESPONSE_CONTENT_TYPE = "application/problem+json"
        try:
            super()._register_responses()
        finally:
            del self.DEFAULT_RESPONSE_CONTENT_TYPE


def reads_only(view):
    """Mark a POST that changes nothing (a simulation), so that a read token may make it."""
    view.reads_only = True
    return view


def access_first(check):
    """Run `check(**path values)` before the body is read: a request the token may not make is refused as
    such (403, or 404 for what is not its to see), whatever the body holds."""

    def mark(view):
        @wraps(view)
        def checked(*args, **kwargs):
            check(**kwargs)
            return view(*args, **kwargs)

        return checked

    return mark


def acting() -> User | PartnerUser:
    """Whom the request's token acts for."""
    return g.api_token.owner


def admin_only(**_) -> None:
    if not acting().is_admin:
        raise Problem(403, "channel_manager_only", "Only the channel manager may do this.")


def _audience_of(blueprint_name: str) -> str:
    return current_app.extensions["intake-api-audiences"][blueprint_name]


def _authenticate() -> None:
    """Before every API view (after the rate limit): the token, its audience and scope, and that a body is JSON."""
    token = api_tokens.authenticate(request.headers.get("Authorization"), now=utcnow())
    if token is None:
        db.session.rollback()
        raise Problem(401, "unauthenticated", "Send a personal API token in force as `Authorization: Bearer …`.")
    db.session.commit()  # its last use, noted at most once a minute, whatever the request does next
    g.api_token = token
    owner = token.owner
    audience = PARTNER if isinstance(owner, PartnerUser) else STAFF
    wanted = _audience_of(request.blueprint)
    if audience != wanted:
        who = "partner users" if wanted == PARTNER else "the vendor's staff"
        raise Problem(403, "wrong_audience", f"This part of the API is for {who}; this token is not.")
    view = current_app.view_functions.get(request.endpoint or "")
    if request.method in WRITES and not getattr(view, "reads_only", False):
        if not api_tokens.allows(token, writing=True):
            raise Problem(403, "read_only_token", "This token may only read: make a token with the write scope.")
    if request.method in WRITES and (request.content_length or request.headers.get("Transfer-Encoding")):
        if not request.is_json:
            raise Problem(415, "unsupported_media_type", "Send the body as JSON (`Content-Type: application/json`).")


def _token_key() -> str:
    """What a request's rate is counted by: the token it presents, counted before it is even looked up (a token
    tried again and again is limited too), else the address the request comes from."""
    presented = (request.headers.get("Authorization") or "").encode("utf-8", "replace")[:512]
    if presented:
        return "api-token:" + hashlib.sha256(b"rate-limit\0" + presented).hexdigest()[:32]
    return f"api-address:{request.remote_addr or 'unknown'}"


def _retry_after_only_when_refused(response):
    if request.path.startswith(PREFIX) and response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


# One count per token across the whole API, whatever part of it a request is for.
_per_token = limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="api", key_func=_token_key)


def blueprint(name: str, audience: str, description: str) -> Blueprint:
    """A part of the API, for one audience: its views authenticate, count against the token's limit and need no CSRF."""
    blp = Blueprint(f"api_{name}", __name__, description=description)
    blp.audience = audience
    blp.before_request(_authenticate)
    csrf.exempt(blp)
    _per_token(blp)
    return blp


# The reference page: Swagger UI's own files (from flask-swagger-ui), served by Intake, reading the document.
reference = FlaskBlueprint(
    "api_reference",
    __name__,
    static_folder=str(Path(flask_swagger_ui.__file__).parent / "dist"),
    static_url_path="/assets",
)


@reference.get("")
def page():
    return render_template("api/reference.html")


def init_app(app: Flask) -> None:
    from . import deals, directory, partner_side, reports, routing

    # Registered before the limiter's own, so it runs after it: Retry-After only where it means something.
    app.after_request(_retry_after_only_when_refused)
    limiter.init_app(app)
    api = IntakeApi(
        app,
        spec_kwargs={
            "info": {
                "description": "Qualify channel deals and route them between the vendor and its partners. "
                "Authenticate with a personal API token: `Authorization: Bearer …`."
            },
            "security": [{"token": []}],
        },
    )
    api.spec.components.security_scheme("token", {"type": "http", "scheme": "bearer"})
    api.register_converter(IdConverter, lambda converter: {"type": "integer", "minimum": 1, "maximum": MAX_INT})
    audiences = app.extensions.setdefault("intake-api-audiences", {})
    for module in (deals, routing, directory, reports, partner_side):
        for blp in module.BLUEPRINTS:
            audiences[blp.name] = blp.audience
            api.register_blueprint(blp, url_prefix=PREFIX + blp.url_part)
    app.register_blueprint(reference, url_prefix=PREFIX + "/reference")
