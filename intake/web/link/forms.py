"""The customer's form. Every label is translatable; the customer never sees internal terms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, Length, Optional, Regexp

from ..forms import optional_int, opts

CHOOSE = _l("Please choose one.")
TOO_LONG = _l("Please keep this to %(max)d characters.")

# The relationship scale of PRODUCT.md, in the customer's words.
STRENGTH_WORDS = {
    1: _l("We know of them"),
    2: _l("We buy from them now and then"),
    3: _l("They work with us regularly"),
    4: _l("We trust them with important work"),
    5: _l("They are a strategic partner to us"),
}
DURATION_WORDS = {
    "under_1": _l("Less than a year"),
    "1_3": _l("1 to 3 years"),
    "3_5": _l("3 to 5 years"),
    "over_5": _l("More than 5 years"),
}


class PartnerRowForm(Form):
    partner_id = SelectField(_l("Partner"), [Optional()], coerce=optional_int)
    partner_name = StringField(_l("Or type its name"), [Length(max=160, message=TOO_LONG)])
    duration = SelectField(
        _l("How long have you worked with them?"),
        [Optional()],
        choices=opts([("", "—")] + list(DURATION_WORDS.items())),
    )
    strength = SelectField(
        _l("How would you describe the relationship?"),
        [Optional()],
        coerce=optional_int,
        choices=opts([("", "—")] + [(str(k), v) for k, v in STRENGTH_WORDS.items()]),
    )
    does_what = StringField(_l("What do they do for you?"), [Length(max=500, message=TOO_LONG)])


class AnswerForm(FlaskForm):
    company_name = StringField(_l("Company"), [Length(max=160, message=TOO_LONG)])
    contact_name = StringField(_l("Your name"), [Length(max=120, message=TOO_LONG)])
    contact_title = StringField(_l("Your role"), [Length(max=120, message=TOO_LONG)])
    contact_email = EmailField(
        _l("Email"),
        [Optional(), Email(_l("Enter an email address such as name@example.com.")), Length(max=254, message=TOO_LONG)],
    )
    contact_phone = StringField(
        _l("Phone"),
        [
            Optional(),
            Length(max=40, message=TOO_LONG),
            Regexp(r"^\+?[0-9 ()./-]{4,}$", message=_l("Digits, spaces and + ( ) - only.")),
        ],
    )
    works_with_partner = RadioField(
        _l("Do you work with a technology partner, reseller or service provider today?"),
        choices=opts([("yes", _l("Yes")), ("no", _l("No")), ("not_sure", _l("Not sure"))]),
        invalid_choice_message=CHOOSE,
    )
    rows = FieldList(FormField(PartnerRowForm), min_entries=1, max_entries=10)
    fulfilment = RadioField(
        _l("How would you like this solution delivered?"),
        choices=opts(
            [
                ("partner", _l("Through the partner I named")),
                ("direct", _l("Directly from %(vendor)s")),
                ("any_partner", _l("Through a local partner you recommend")),
                ("no_preference", _l("No preference")),
            ]
        ),
        invalid_choice_message=CHOOSE,
    )
    fulfilment_row = RadioField(_l("Which partner?"), [Optional()], coerce=optional_int)
    fulfilment_reason = TextAreaField(_l("Why? (optional)"), [Length(max=1000, message=TOO_LONG)])
    contact_preference = RadioField(
        _l("Who should be your main point of contact?"),
        choices=opts(
            [("partner", _l("The partner")), ("vendor", _l("%(vendor)s")), ("no_preference", _l("No preference"))]
        ),
        invalid_choice_message=CHOOSE,
    )
    consent = BooleanField(
        _l(
            "I agree that %(vendor)s may share these answers and my contact details with the partner "
            "who will help us with this solution."
        )
    )
