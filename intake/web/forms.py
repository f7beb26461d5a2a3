"""Form pieces shared by the pages: choice lists and fields the product uses everywhere."""

import math
from decimal import Decimal
from functools import lru_cache

import pycountry
from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    FieldList,
    FloatField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, Length, StopValidation

from ..api_tokens import NAME_LENGTH
from ..vocabulary import API_TOKEN_SCOPE, STRENGTH, Words
from ..vocabulary import country_name as country_name
from .inputs import MAX_INT, has_control, read_int

# What a form says about input no browser sends from our pages (shown to customers too: translated).
CONTROL_CHARACTERS = _l("Remove the invisible control characters from this answer.")
ONE_VALUE = _l("Please send one answer here.")
EACH_ONCE = _l("Each option can be chosen once.")
NOT_A_NUMBER = _l("Enter a number.")

# The one password rule, wherever a password is set.
PASSWORD = [DataRequired("Enter a password."), Length(min=10, max=200, message="Use 10 to 200 characters.")]


def opts(pairs) -> list[SelectChoice]:
    """Choices for a select or radio field from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def with_current(choices: list[SelectChoice], current) -> list[SelectChoice]:
    """Add saved values that are no longer offered, so an old answer stays visible and valid."""
    offered = {c.value for c in choices}
    return choices + opts((v, v) for v in current if v not in offered)


def vocabulary_choices(words: Words, *, audience: str = "staff", blank: str | None = None, only=None) -> list:
    """Choices for a field from one product word list (`only` keeps some of its codes)."""
    pairs = words.choices(audience=audience, blank=blank)
    if only is not None:
        allowed = {str(code) for code in only} | {""}
        pairs = [(value, label) for value, label in pairs if value in allowed]
    return opts(pairs)


STRENGTH_CHOICES = opts([("", "—")] + [(str(k), f"{k} · {STRENGTH.word(k)}") for k in STRENGTH])


def sent_once(form, field) -> None:
    """A field is sent once; a multiple choice names each option once."""
    raw = field.raw_data or []
    if isinstance(field, SelectMultipleField):
        if len(set(raw)) != len(raw):
            raise StopValidation(EACH_ONCE)
    elif len(raw) > 1:
        raise StopValidation(ONE_VALUE)


def plain_text(form, field) -> None:
    """Text is printable: no NUL or other control characters (a multi-line answer keeps its line breaks)."""
    lines = isinstance(field, TextAreaField)
    if any(isinstance(value, str) and has_control(value, lines=lines) for value in field.raw_data or []):
        raise StopValidation(CONTROL_CHARACTERS)


def finite(form, field) -> None:
    """Refuse what is not a number (NaN, infinity) or is beyond what is stored, before a range check reads it."""
    value = field.data
    if value is None:
        return
    if isinstance(value, Decimal) and not value.is_finite():
        raise StopValidation(NOT_A_NUMBER)
    if isinstance(value, float) and not math.isfinite(value):
        raise StopValidation(NOT_A_NUMBER)
    if isinstance(value, int) and not -MAX_INT <= value <= MAX_INT:
        raise StopValidation(NOT_A_NUMBER)


def _guards(field) -> list:
    if isinstance(field, (CSRFTokenField, FieldList, FormField)):
        return []
    guards = [sent_once]
    if isinstance(field, StringField):
        guards.append(plain_text)
    if isinstance(field, (DecimalField, FloatField, IntegerField)):
        guards.append(finite)
    return guards


class _Guarded:
    """Form meta: every field refuses repeated values, control characters and unstorable numbers first."""

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        field.validators = [*_guards(field), *field.validators]
        return field


@lru_cache(maxsize=8)
def _wtforms_messages(locale: str) -> support.Translations:
    """WTForms' own messages in a language, read from its catalogue once per process (the file never changes)."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class IntakeForm(FlaskForm):
    """Every page's form: CSRF-protected, and guarded against input no page of ours sends."""

    class Meta(_Guarded):
        def get_translations(self, form):
            # Flask-WTF reads WTForms' catalogue from disk in every request that translates a word of it (a field
            # without a label does): the catalogue of the request's language, once.
            if not current_app.config.get("WTF_I18N_ENABLED", True) or "babel" not in current_app.extensions:
                return super().get_translations(form)
            return _wtforms_messages(str(get_locale()))


class RowForm(Form):
    """A repeated part of a form (one row of a list), guarded like the form around it."""

    class Meta(_Guarded):
        pass


def optional_int(value):
    """Coerce a submitted value to a storable int, or None when blank; WTForms reports anything else."""
    if value in (None, "", "None"):
        return None
    return read_int(value)


def yes_no(value):
    """Coerce "yes"/"no" to a boolean, None when blank; anything else is not a choice (ValueError)."""
    if value in (None, "", "None"):
        return None
    if isinstance(value, bool):
        return value
    if value not in ("yes", "no"):
        raise ValueError("not yes or no")
    return value == "yes"


@lru_cache(maxsize=1)
def country_choices() -> list[SelectChoice]:
    countries = sorted(pycountry.countries, key=lambda c: getattr(c, "common_name", c.name))
    return opts([("", "—")] + [(c.alpha_2, getattr(c, "common_name", c.name)) for c in countries])


def config_choices(key: str, blank: bool = True) -> list[SelectChoice]:
    items = [(v, v) for v in current_app.config[key]]
    return opts([("", "—")] + items if blank else items)


class MultiCheckboxField(SelectMultipleField):
    """A multi-select shown as checkboxes: easier on a phone than a list box."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ButtonForm(IntakeForm):
    """A form with nothing but its CSRF token, for action buttons."""


class ApiTokenForm(IntakeForm):
    """A personal API token to make: on a member of staff's settings and in the partner portal (en and de).

    The name and scope are checked by `intake.api_tokens.create`, the one rule for the page and the command line.
    """

    # Made when the form is shown: sent twice (a double click, a refresh), it makes one token.
    form_key = HiddenField(validators=[DataRequired(), Length(max=64)])
    name = StringField(
        _l("Name"),
        description=_l("Where the token is used, such as “Salesforce”."),
        render_kw={"maxlength": NAME_LENGTH},
    )
    scope = RadioField(_l("Access"), default="read", validate_choice=False)

    def __init__(self, *args, audience: str = "staff", **kwargs):
        super().__init__(*args, **kwargs)
        self.scope.choices = vocabulary_choices(API_TOKEN_SCOPE, audience=audience)
