"""The partner portal's forms: registering a deal, stating a relationship, recording won or lost (en and de)."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp

from ...vocabulary import STRENGTH
from ..forms import IntakeForm, MultiCheckboxField, optional_int, opts

TEXT = 2000
VALUE = [Optional(), NumberRange(min=0, max=10**11, message=_l("Between 0 and 100,000,000,000."))]


def strength_choices():
    """The one strength scale, in the partner's language: "3 · We work with them regularly"."""
    return opts([("", "—")] + [(str(code), f"{code} · {STRENGTH.word(code, audience='partner')}") for code in STRENGTH])


class RegistrationForm(IntakeForm):
    # Made when the form is shown: sent twice (a double click, a second tab), it registers once.
    form_key = HiddenField(validators=[DataRequired(), Length(max=64)])
    account_name = StringField(_l("Company name"), [Length(max=160)])
    domain = StringField(_l("Web domain"), [Length(max=253)], description=_l("e.g. example.com"))
    country = SelectField(_l("Country"), [Optional()])
    vertical = SelectField(_l("Vertical"), [Optional()])
    contact_name = StringField(_l("Your contact at the customer"), [Length(max=120)])
    contact_email = EmailField(
        _l("Their email"), [Optional(), Email(_l("Enter an email address such as name@example.com.")), Length(max=254)]
    )
    contact_phone = StringField(
        _l("Their phone"),
        [Optional(), Length(max=40), Regexp(r"^\+?[0-9 ()./-]{4,}$", message=_l("Digits, spaces and + ( ) - only."))],
    )
    need = TextAreaField(_l("What the customer needs"), [Length(max=TEXT)])
    solutions = MultiCheckboxField(_l("The solution"))
    estimated_value = DecimalField(_l("Estimated value"), VALUE, places=2)
    currency = SelectField(_l("Currency"), [Optional()])
    close_date = DateField(_l("Expected close"), [Optional()])
    strength = SelectField(_l("Your relationship with the customer"), [Optional()], coerce=optional_int)
    since = DateField(_l("Working with them since"), [Optional()])
    notes = TextAreaField(_l("Notes for the vendor's team"), [Length(max=TEXT)])

    ANSWERS = (
        "account_name",
        "domain",
        "country",
        "vertical",
        "contact_name",
        "contact_email",
        "contact_phone",
        "need",
        "solutions",
        "estimated_value",
        "currency",
        "close_date",
        "strength",
        "since",
        "notes",
    )

    def answers(self) -> dict:
        return {name: self[name].data for name in self.ANSWERS}


class StrengthForm(IntakeForm):
    strength = SelectField(_l("Your relationship"), [Optional()], coerce=optional_int)
    since = DateField(_l("Since"), [Optional()])


class OutcomeForm(IntakeForm):
    """Won or lost, recorded by the partner that fulfils the deal."""

    outcome = RadioField(
        _l("Outcome"),
        [DataRequired(_l("Choose won or lost."))],
        choices=opts([("won", _l("Won")), ("lost", _l("Lost"))]),
    )
    closed_on = DateField(_l("Decided on"), [Optional()])
    final_value = DecimalField(
        _l("Final value"), VALUE, places=2, description=_l("What the customer signed for; 0 when lost.")
    )
    lost_reason = TextAreaField(_l("Why was it lost?"), [Length(max=TEXT)], description=_l("Needed when it was lost."))
