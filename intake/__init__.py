"""Intake: qualify channel deals and route them between a vendor and its partners."""

import logging
import os
import sys
from pathlib import Path

from flask import Flask

from . import config as settings
from . import extensions as ext

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None, *, commands: bool = True) -> Flask:
    """Build the app: load settings, wire extensions, blueprints, error pages and commands.

    App servers build it without the command-line tools (`commands=False`, see intake/wsgi.py): the migrations
    (Alembic) are only needed by `flask db …`, and a web process that never loads them stays smaller.
    """
    app = Flask(
        __name__,
        instance_path=os.environ.get("INTAKE_INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
    )
    try:
        app.config.update(settings.from_env(instance_path=app.instance_path))
    except settings.ConfigError as exc:
        # One line that names the variable, not a traceback.
        raise SystemExit(f"Intake cannot start: {exc}") from None
    if config:
        app.config.update(config)
    os.makedirs(app.instance_path, exist_ok=True)

    register_extensions(app)
    register_request_policies(app)
    register_templates(app)
    register_blueprints(app)
    register_errors(app)
    if commands:
        register_cli(app)
    register_logging(app)
    register_background_work(app)
    return app


def register_extensions(app: Flask) -> None:
    from . import auth, i18n, models  # noqa: F401  (models register their tables)

    ext.db.init_app(app)
    ext.mail.init_app(app)
    ext.csrf.init_app(app)
    ext.login_manager.init_app(app)
    auth.init_app(app)
    i18n.init_app(app)
    from .deals import documents, reviews
    from .mail import attachments, worker
    from .webhooks import delivery as webhook_delivery

    attachments.register("deal_summary", documents.build, find=documents.find)
    attachments.register("partner_review", reviews.build)
    worker.deliver_also("webhooks", webhook_delivery.batch)
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)


def register_request_policies(app: Flask) -> None:
    """How every request is read (ids, text, size, body) and which headers every response carries."""
    from .web import inputs, security, sessions

    inputs.init_app(app)
    security.init_app(app)
    sessions.init_app(app)


def register_templates(app: Flask) -> None:
    from . import vocabulary
    from .web import fields

    # Every form field is shown by one function: {{ field(form.email, autocomplete="username") }}.
    app.add_template_global(fields.field, "field")
    app.add_template_global(fields.errors, "field_errors")
    # A page that lays a field out itself draws its input, or its choices, by the same functions.
    app.add_template_global(fields.draw, "field_input")
    app.add_template_global(fields.label, "field_label")
    app.add_template_global(fields.choice_inputs, "field_choices")

    # Templates read product words from the one vocabulary: `deal.status|words("status")`.
    app.add_template_filter(vocabulary.words, "words")
    app.add_template_filter(vocabulary.strength_words, "strength_words")
    app.add_template_filter(vocabulary.country_name, "country_name")
    app.add_template_global(vocabulary.history_changes, "history_changes")


def register_blueprints(app: Flask) -> None:
    from .web import admin, api, auth, link, partner, portal, rep

    app.register_blueprint(auth.bp)
    app.register_blueprint(link.bp, url_prefix="/p")
    app.register_blueprint(partner.bp, url_prefix="/r")
    app.register_blueprint(portal.bp, url_prefix="/partner")
    app.register_blueprint(rep.bp)
    app.register_blueprint(admin.bp, url_prefix="/admin")
    api.init_app(app)


def register_errors(app: Flask) -> None:
    from .web import errors

    errors.init_app(app)


def register_cli(app: Flask) -> None:
    from flask_migrate import Migrate

    from . import cli

    # `flask db upgrade` and the rest; migrations run in batch mode, as SQLite alters tables that way.
    Migrate(app, ext.db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    cli.init_app(app)


def register_background_work(app: Flask) -> None:
    """In development only: the outbox worker and the partner sweep run inside the app process."""
    from .deals import sweeper
    from .mail import worker

    worker.init_app(app)
    sweeper.init_app(app)


def register_logging(app: Flask) -> None:
    from flask.logging import default_handler

    if not app.debug and not app.testing:
        # One line per record, with the time and level, instead of Flask's request-less default.
        app.logger.removeHandler(default_handler)
    if not app.debug and not app.testing and not app.logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        app.logger.addHandler(handler)
        app.logger.setLevel(logging.INFO)
