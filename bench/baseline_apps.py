"""The yardsticks Intake is held against, served by gunicorn like Intake itself.

- ``create_hello()``: bare Flask. GET / answers "hello"; POST / redirects back to /.
- ``create_form(section)``: bare Flask-WTF. GET / renders the questionnaire section's own
  form class (the same WTForms fields Intake renders) in a template with no layout;
  POST / validates it, CSRF included, and redirects back to / (400 if it does not validate).
  No sign-in, no database, no flash messages.
- ``create_answer_form()``: the same for the customer's answer form (intake/web/link/forms.py),
  with Flask-Babel for its translatable labels and the demo partners as fixed choices.
- ``create_form_write(section, database)`` and ``create_answer_form_write(database)``: "bare form
  plus one write", the yardstick of a save. POST / validates the same form, CSRF included, then
  writes one row (the form's data) with Flask-SQLAlchemy to the SQLite file `database` and commits,
  then redirects. The file is in WAL mode with synchronous=NORMAL, as Intake's embedded database
  (intake/extensions.py). Its GET is the bare form's.
"""

import json
from datetime import UTC, datetime

from flask import Flask, redirect, render_template, request
from flask_babel import Babel
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader
from sqlalchemy import DateTime, String, Text, event, inspect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from intake import config
from intake.demo_data import PARTNERS
from intake.web.forms import opts
from intake.web.link.forms import AnswerForm
from intake.web.rep.views import FORMS

FORM_PAGE = """<!doctype html>
<title>{{ title }}</title>
<form method="post" novalidate>
  {{ form.csrf_token }}
  {% for field in form if field.name != "csrf_token" %}
  <p>{{ field.label() }} {{ field() }}{% for error in field.errors %} {{ error }}{% endfor %}</p>
  {% endfor %}
  <button type="submit" name="action" value="save">Save draft</button>
</form>
"""

# Choices Intake sets per request from its configuration; here its defaults, fixed.
CHOICES = {
    "pain_points": [(v, v) for v in config.DEFAULT_PAIN_POINTS],
    "solutions": [(v, v) for v in config.DEFAULT_CATALOGUE],
    "currency": [("", "—")] + [(v, v) for v in config.DEFAULT_CURRENCIES],
}


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Save(db.Model):
    """One row per POST of the write yardstick: the form's data, as a save stores a deal's answers."""

    __tablename__ = "saves"
    id: Mapped[int] = mapped_column(primary_key=True)
    form: Mapped[str] = mapped_column(String(40))
    data: Mapped[str] = mapped_column(Text)
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def create_hello() -> Flask:
    app = Flask(__name__)

    @app.route("/", methods=["GET", "POST"])
    def hello():
        return redirect("/") if request.method == "POST" else "hello"

    return app


def create_form(section: str = "need", database: str | None = None) -> Flask:
    form_class = FORMS[section]

    def build_form():
        form = form_class()
        for name, choices in CHOICES.items():
            if name in form:
                form[name].choices = choices
        return form

    return form_app(build_form, section.capitalize(), database)


def create_form_write(section: str, database: str) -> Flask:
    return create_form(section, database)


def create_answer_form(database: str | None = None) -> Flask:
    # The demo partners, as `flask demo load` numbers them; Intake reads them from its database.
    partners = opts([("", "Choose a partner…")] + [(i, p[0]) for i, p in enumerate(PARTNERS, 1)])

    def build_form():
        form = AnswerForm()
        for entry in form.rows.entries:
            entry.form.partner_id.choices = partners
        form.fulfilment_row.choices = opts((str(i), f"Partner {i + 1}") for i in range(len(form.rows.entries)))
        return form

    app = form_app(build_form, "Your answers", database)
    Babel(app)
    return app


def create_answer_form_write(database: str) -> Flask:
    return create_answer_form(database)


def form_app(build_form, title: str, database: str | None) -> Flask:
    """GET / renders the form; POST / validates it (CSRF included), with `database` writes one row, redirects."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "bench-baseline-form"
    app.jinja_loader = DictLoader({"form.html": FORM_PAGE})
    if database:
        open_database(app, database)

    @app.route("/", methods=["GET", "POST"])
    def page():
        form = build_form()
        if form.validate_on_submit():
            if database:
                data = {name: value for name, value in form.data.items() if name != "csrf_token"}
                db.session.add(Save(form=title, data=json.dumps(data, default=str), saved_at=datetime.now(UTC)))
                db.session.commit()
            return redirect("/")
        status = 400 if request.method == "POST" else 200
        return render_template("form.html", form=form, title=title), status

    return app


def open_database(app: Flask, path: str) -> None:
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    db.init_app(app)
    with app.app_context():
        event.listen(db.engine, "connect", wal)
        try:
            db.create_all()
        except OperationalError:
            # Each gunicorn worker builds its app: the other one may have created the table first.
            if not inspect(db.engine).has_table(Save.__tablename__):
                raise


def wal(dbapi_connection, connection_record) -> None:
    """Intake's pragmas for its embedded SQLite database (intake/extensions.py)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
