from flask import Blueprint

from ..pages import require_user

bp = Blueprint("rep", __name__)
bp.before_request(require_user)

from . import accounts, views  # noqa: E402,F401
