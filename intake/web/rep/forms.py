from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, Length, NumberRange, Optional, Regexp

from ...vocabulary import BUDGET, DEAL_STATUS, LANGUAGE, ORIGIN_CHANNEL, ORIGINATOR, PARTNERS_KNOWN, SIZE_BAND
from ..forms import (
    STRENGTH_CHOICES,
    IntakeForm,
    MultiCheckboxField,
    RowForm,
    optional_int,
    opts,
    vocabulary_choices,
    yes_no,
)

TEXT = 2000


class AccountDetailsForm(IntakeForm):
    """An account's own details, edited in a deal's first section or on the account's page."""

    name = StringField("Company name", [Length(max=160)])
    domain = StringField("Web domain", [Length(max=253)], description="e.g. example.com")
    country = SelectField("Country", [Optional()])
    vertical = SelectField("Vertical", [Optional()])
    size_band = SelectField("Size (employees)", [Optional()], choices=vocabulary_choices(SIZE_BAND, blank="—"))
    vendor_strength = SelectField(
        "Our relationship with them", [Optional()], choices=STRENGTH_CHOICES, coerce=optional_int
    )
    vendor_since = DateField("Customer of ours since", [Optional()])


class AccountForm(AccountDetailsForm):
    account_id = HiddenField(filters=[optional_int])
    contact_name = StringField("Contact name", [Length(max=120)])
    contact_title = StringField("Title", [Length(max=120)])
    contact_email = EmailField(
        "Email", [Optional(), Email("Enter an email address such as name@example.com."), Length(max=254)]
    )
    contact_phone = StringField(
        "Phone",
        [Optional(), Length(max=40), Regexp(r"^\+?[0-9 ()./-]{4,}$", message="Digits, spaces and + ( ) - only.")],
    )


class OriginForm(IntakeForm):
    originator = RadioField(
        "Who found the deal?",
        [Optional()],
        choices=opts((code, label.capitalize()) for code, label in ORIGINATOR.choices()),
    )
    originator_partner_id = SelectField("Which partner?", [Optional()], coerce=optional_int)
    # Shown when there are too many partners to list (partner_choices): the partner typed by name.
    originator_partner_name = StringField("Or type the partner's name", [Length(max=160)])
    origin_channel = RadioField(
        "How?",
        [Optional()],
        choices=opts((code, label.capitalize()) for code, label in ORIGIN_CHANNEL.choices()),
    )
    origin_date = DateField("When?", [Optional()])


class NeedForm(IntakeForm):
    pain_points = MultiCheckboxField("Pain points")
    pain_other = TextAreaField("Other pain, in the customer's words", [Length(max=TEXT)])
    business_impact = TextAreaField("Business impact", [Length(max=TEXT)])
    incumbent = TextAreaField("Current solution or incumbent", [Length(max=500)])
    solutions = MultiCheckboxField("Recommended solution")
    estimated_value = DecimalField(
        "Estimated value",
        [Optional(), NumberRange(min=0, max=10**11, message="Between 0 and 100,000,000,000.")],
        places=2,
    )
    currency = SelectField("Currency", [Optional()])
    close_date = DateField("Expected close date", [Optional()])


class QualificationForm(IntakeForm):
    budget = RadioField(
        "Budget", [Optional()], choices=opts((code, label.capitalize()) for code, label in BUDGET.choices())
    )
    has_decision_maker = RadioField(
        "Decision maker identified?", [Optional()], choices=opts([("yes", "Yes"), ("no", "No")]), coerce=yes_no
    )
    decision_maker = StringField("Who decides?", [Length(max=160)])
    decision_process = TextAreaField("Decision process", [Length(max=TEXT)])
    competitors = TextAreaField("Competitors", [Length(max=1000)])
    next_step = TextAreaField("Next step", [Length(max=1000)])
    next_step_date = DateField("Next step date", [Optional()])


class RelationshipRowForm(RowForm):
    partner_id = SelectField("Partner", [Optional()], coerce=optional_int)
    partner_name = StringField("Partner name (if other)", [Length(max=160)])
    strength = SelectField("Relationship", [Optional()], choices=STRENGTH_CHOICES, coerce=optional_int)
    since = DateField("Since", [Optional()])
    does_what = StringField("What they do for the customer", [Length(max=500)])
    notes = StringField("Notes", [Length(max=1000)])
    remove = BooleanField("Remove this row")


class LandscapeForm(IntakeForm):
    partners_known = RadioField(
        "Does the customer work with partners today?",
        [Optional()],
        choices=opts((code, label.capitalize()) for code, label in PARTNERS_KNOWN.choices()),
    )
    rows = FieldList(FormField(RelationshipRowForm), min_entries=1, max_entries=30)


class DealFilterForm(IntakeForm):
    class Meta:
        csrf = False

    status = SelectField("Status", [Optional()], choices=vocabulary_choices(DEAL_STATUS, blank="Any status"))
    q = StringField("Account", [Length(max=100)])


class LinkForm(IntakeForm):
    language = SelectField("Customer's language", choices=vocabulary_choices(LANGUAGE))


class CloseForm(IntakeForm):
    """Won or lost: the date, the final value and, for lost, why."""

    outcome = RadioField("Outcome", choices=opts([("won", "Won"), ("lost", "Lost")]))
    closed_on = DateField("Decided on", [Optional()])
    final_value = DecimalField(
        "Final value",
        [Optional(), NumberRange(min=0, max=10**11, message="Between 0 and 100,000,000,000.")],
        places=2,
        description="What the customer signed for; 0 when lost.",
    )
    lost_reason = TextAreaField("Why was it lost?", [Length(max=2000)], description="Needed when it was lost.")
