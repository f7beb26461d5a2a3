"""Choices are drawn in one pass (intake.web.fields), and the HTML is what WTForms' own widgets draw."""

from datetime import date
from decimal import Decimal

from flask import Flask
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    Form,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import NumberInput

from intake.web.fields import choice_inputs, draw, field, label, select
from intake.web.forms import MultiCheckboxField, opts, yes_no


class Everything(Form):
    budget = RadioField(
        "Budget", [InputRequired()], choices=opts([("identified", "Identified"), ("none", 'None "yet" <b>')])
    )
    answer = RadioField("Decision maker?", [Optional()], choices=opts([("yes", "Yes"), ("no", "No")]), coerce=yes_no)
    pains = MultiCheckboxField(
        "Pain points", choices=opts([("slow", "Slow & manual"), ("cost", "Cost"), ("", "—")]), render_kw={"data_x": "1"}
    )
    country = SelectField(
        "Country", [Optional()], choices=opts([("", "—"), ("DE", "Germany"), ("GB", "United <Kingdom>")])
    )
    needed = SelectField("Needed", [InputRequired()], choices=opts([(True, "True"), (False, "False")]), coerce=bool)
    count = SelectField("Count", choices=opts([(1, "one"), (2, "two")]), coerce=int)
    fancy = SelectField("Fancy", choices=[SelectChoice("a", "A", render_kw={"disabled": True}), SelectChoice("b", "B")])
    grouped = SelectField(
        "Partner",
        choices=[
            SelectChoice("", "Choose…"),
            SelectChoice("1", "Near & dear", optgroup="In your <country>"),
            SelectChoice("2", "Also near", optgroup="In your <country>"),
            SelectChoice("3", "Far", optgroup="Other partners"),
        ],
    )


class Typed(Form):
    name = StringField("Name <full>", [InputRequired(), Length(max=120)], render_kw={"maxlength": 80, "class_": "x"})
    note = TextAreaField("Note", [Length(min=2, max=500)])
    email = EmailField("Email", [Optional()])
    value = DecimalField("Value", [NumberRange(min=0)], places=2, widget=NumberInput(step="0.01", min=0))
    count = IntegerField("Count", [NumberRange(min=0, max=9)])
    close = DateField("Close date", [Optional()])
    agreed = BooleanField("I agree")
    key = HiddenField()
    secret = PasswordField("Password")


def typed_forms():
    yield Typed()
    yield Typed(
        data={"name": 'Ann "A" <b>', "note": "line\n<two>", "value": Decimal("12.5"), "count": 3, "agreed": True}
    )
    yield Typed(data={"email": "a@b.example", "close": date(2031, 6, 30), "key": "k&1"})


def test_inputs_text_areas_and_labels_are_drawn_as_wtforms_draws_them():
    extra = {"aria-describedby": "x-hint", "autocomplete": "off", "data_role": "y"}
    for form in typed_forms():
        for bound in form:
            assert draw(bound) == bound(), bound.name
            assert draw(bound, dict(extra)) == bound(**extra), bound.name
            assert label(bound) == bound.label(), bound.name
    first = next(typed_forms())
    assert 'class="x" id="name" maxlength="80" name="name" required type="text"' in draw(first.name)
    assert 'min="0" name="value" step="0.01" type="number"' in draw(first.value)


def wtforms_choices(bound) -> list[Markup]:
    """What the questionnaire drew before: each option field WTForms binds, drawn by its widget, in its label."""
    return [
        Markup('<label class="choice">{} <span>{}</span></label>').format(option(), option.label.text)
        for option in bound
    ]


def forms():
    yield Everything()
    data = {"budget": "none", "answer": "no", "pains": ["slow", ""], "country": "GB", "needed": True, "count": 2}
    yield Everything(data=data)
    yield Everything(data={"pains": ["cost"], "country": "DE", "fancy": "a", "grouped": "2"})


def test_radio_and_checkbox_choices_are_drawn_as_wtforms_draws_them():
    drawn = 0
    for form in forms():
        for bound in (form.budget, form.answer, form.pains):
            assert choice_inputs(bound) == wtforms_choices(bound), bound.name
            drawn += len(choice_inputs(bound))
    assert drawn == 21
    # The checks above compare something real: a required radio's every input says so, a chosen one is checked.
    second = list(forms())[1]
    assert 'checked id="budget-1" name="budget" required type="radio" value="none"' in choice_inputs(second.budget)[1]
    assert 'data-x="1"' in choice_inputs(second.pains)[0]


def test_selects_are_drawn_as_wtforms_draws_them():
    for form in forms():
        for bound in (form.country, form.needed, form.count, form.fancy, form.grouped):
            assert select(bound) == bound(), bound.name
            assert select(bound, **{"aria-describedby": "x-hint", "class": "wide"}) == bound(
                **{"aria-describedby": "x-hint", "class": "wide"}
            )
    chosen = list(forms())[1].country
    assert '<option selected value="GB">United &lt;Kingdom&gt;</option>' in select(chosen)
    grouped = select(list(forms())[2].grouped)
    assert (
        '<optgroup label="In your &lt;country&gt;"><option value="1">Near &amp; dear</option><option selected'
        in grouped
    )


def test_a_whole_field_block_uses_the_one_pass_drawing():
    app = Flask(__name__)
    with app.test_request_context():
        form = Everything(data={"country": "GB"})
        form.country.errors = ["Choose one."]
        block = field(form.country)
    assert 'aria-describedby="country-error" aria-invalid="true" id="country" name="country"' in block
    assert '<option selected value="GB">' in block


def test_a_csrf_token_is_drawn_as_wtforms_draws_it():
    from flask_wtf import FlaskForm

    app = Flask(__name__)
    app.config["SECRET_KEY"] = "drawing"
    with app.test_request_context():
        token = FlaskForm().csrf_token
        assert draw(token, {"id": False}) == token(id=False)
        assert 'name="csrf_token" type="hidden" value="' in draw(token, {"id": False})
