"""The two yardsticks bench/run.py holds Intake against, served by gunicorn like Intake itself.

- ``create_hello()``: bare Flask. GET / answers "hello"; POST / redirects back to /.
- ``create_form(section)``: bare Flask-WTF. GET / renders the questionnaire section's own
  form class (the same WTForms fields Intake renders) in a template with no layout;
  POST / validates it, CSRF included, and redirects back to / (400 if it does not validate).
  No sign-in, no database, no flash messages.
- ``create_answer_form()``: the same for the customer's answer form (intake/web/link/forms.py),
  with Flask-Babel for its translatable labels and the demo partners as fixed choices.
"""

from flask import Flask, redirect, render_template, request
from flask_babel import Babel
from jinja2 import DictLoader

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


def create_hello() -> Flask:
    app = Flask(__name__)

    @app.route("/", methods=["GET", "POST"])
    def hello():
        return redirect("/") if request.method == "POST" else "hello"

    return app


def create_form(section: str = "need") -> Flask:
    form_class = FORMS[section]
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "bench-baseline-form"
    app.jinja_loader = DictLoader({"form.html": FORM_PAGE})

    def build_form():
        form = form_class()
        for name, choices in CHOICES.items():
            if name in form:
                form[name].choices = choices
        return form

    @app.route("/", methods=["GET", "POST"])
    def page():
        form = build_form()
        if form.validate_on_submit():
            return redirect("/")
        status = 400 if request.method == "POST" else 200
        return render_template("form.html", form=form, title=section.capitalize()), status

    return app


def create_answer_form() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "bench-baseline-form"
    app.jinja_loader = DictLoader({"form.html": FORM_PAGE})
    Babel(app)
    # The demo partners, as `flask demo load` numbers them; Intake reads them from its database.
    partners = opts([("", "Choose a partner…")] + [(i, p[0]) for i, p in enumerate(PARTNERS, 1)])

    def build_form():
        form = AnswerForm()
        for entry in form.rows.entries:
            entry.form.partner_id.choices = partners
        form.fulfilment_row.choices = opts((str(i), f"Partner {i + 1}") for i in range(len(form.rows.entries)))
        return form

    @app.route("/", methods=["GET", "POST"])
    def page():
        form = build_form()
        if form.validate_on_submit():
            return redirect("/")
        status = 400 if request.method == "POST" else 200
        return render_template("form.html", form=form, title="Your answers"), status

    return app
