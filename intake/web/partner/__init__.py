"""The partner's pages, opened by the signed link in a routed-deal email. Only a POST acts."""

from flask import Blueprint

bp = Blueprint("partner", __name__)

from . import views  # noqa: E402,F401
