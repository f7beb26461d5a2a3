"""Form pieces shared by the pages: choice lists and fields the product uses everywhere."""

from functools import lru_cache

import pycountry
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, StopValidation

from ..vocabulary import STRENGTH, Words
from ..vocabulary import country_name as country_name

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


def finite(form, field) -> None:
    """Refuse what is not a number (NaN, infinity) before any range check reads it."""
    if field.data is not None and not field.data.is_finite():
        raise StopValidation("Enter a number.")


def optional_int(value):
    """Coerce a submitted value to int, or None when blank; WTForms reports anything else."""
    if value in (None, "", "None"):
        return None
    return int(value)


def yes_no(value):
    if value in (None, "", "None"):
        return None
    if isinstance(value, bool):
        return value
    return {"yes": True, "no": False}[value]


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


class ButtonForm(FlaskForm):
    """A form with nothing but its CSRF token, for action buttons."""
