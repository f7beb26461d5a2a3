from flask import Blueprint

from ..pages import require_admin

bp = Blueprint("admin", __name__)
bp.before_request(require_admin)

from . import imports, ledger, mail, routing, views, webhooks  # noqa: E402,F401
