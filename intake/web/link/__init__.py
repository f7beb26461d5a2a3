"""The customer's pages, opened by a personal link: no account, the token is the key to one deal."""

from flask import Blueprint

bp = Blueprint("link", __name__)

from . import views  # noqa: E402,F401
