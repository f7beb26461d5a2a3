"""The partner portal at /partner: a partner's users sign in by a mailed one-time link and see their partner's work."""

from flask import Blueprint

bp = Blueprint("portal", __name__)

from . import views  # noqa: E402,F401
