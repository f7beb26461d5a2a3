"""The customer's form. Every label is translatable; the customer never sees internal terms."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    FormField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, Length, Optional, Regexp

from ...vocabulary import CONTACT, DURATION, FULFILMENT, STRENGTH, WORKS_WITH_PARTNER
from ..forms import IntakeForm, RowForm, optional_int, vocabulary_choices

CHOOSE = _l("Please choose one.")
TOO_LONG = _l("Please keep this to %(max)d characters.")


class PartnerRowForm(RowForm):
    # Whether the partner is one of ours and active is the answer's own rule (customer.answer_errors): an answer
    # is checked without reading every partner, whose list only the page needs.
    partner_id = SelectField(_l("Partner"), [Optional()], coerce=optional_int, validate_choice=False)
    partner_name = StringField(_l("Or type its name"), [Length(max=160, message=TOO_LONG)])
    duration = SelectField(
        _l("How long have you worked with them?"),
        [Optional()],
        choices=vocabulary_choices(DURATION, audience="customer", blank="—"),
    )
    strength = SelectField(
        _l("How would you describe the relationship?"),
        [Optional()],
        coerce=optional_int,
        # A customer who names a partner has a relationship with it: "none" is not offered.
        choices=vocabulary_choices(STRENGTH, audience="customer", blank="—", only=range(1, 6)),
    )
    does_what = StringField(_l("What do they do for you?"), [Length(max=500, message=TOO_LONG)])


class AnswerForm(IntakeForm):
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
        choices=vocabulary_choices(WORKS_WITH_PARTNER, audience="customer"),
        invalid_choice_message=CHOOSE,
    )
    rows = FieldList(FormField(PartnerRowForm), min_entries=1, max_entries=10)
    fulfilment = RadioField(
        _l("How would you like this solution delivered?"),
        choices=vocabulary_choices(FULFILMENT, audience="customer"),
        invalid_choice_message=CHOOSE,
    )
    # Which of the rows above should deliver: shown in each row, kept as that partner's identity.
    fulfilment_row = RadioField(_l("This partner should deliver the solution"), [Optional()], coerce=optional_int)
    fulfilment_reason = TextAreaField(_l("Why? (optional)"), [Length(max=1000, message=TOO_LONG)])
    contact_preference = RadioField(
        _l("Who should be your main point of contact?"),
        choices=vocabulary_choices(CONTACT, audience="customer"),
        invalid_choice_message=CHOOSE,
    )
    consent = BooleanField(
        _l(
            "I agree that %(vendor)s may share these answers and my contact details with the partner "
            "who will help us with this solution."
        )
    )
