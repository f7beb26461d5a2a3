import pycountry
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from ...vocabulary import TIER, USER_ROLE
from ..forms import PASSWORD, IntakeForm, MultiCheckboxField, vocabulary_choices


class UserCreateForm(IntakeForm):
    name = StringField("Name", [DataRequired("Enter the name."), Length(max=120)])
    email = EmailField(
        "Email", [DataRequired("Enter the email."), Email("Enter a valid email address."), Length(max=254)]
    )
    role = SelectField("Role", choices=vocabulary_choices(USER_ROLE))
    password = PasswordField(
        "Initial password", PASSWORD, description="Share it with them privately; they can change it."
    )


class UserEditForm(IntakeForm):
    name = StringField("Name", [DataRequired("Enter the name."), Length(max=120)])
    role = SelectField("Role", choices=vocabulary_choices(USER_ROLE))
    is_active = BooleanField("Active (may sign in)")


class PasswordForm(IntakeForm):
    password = PasswordField("New password", PASSWORD)
    confirm = PasswordField("Repeat it", [EqualTo("password", "The two passwords differ.")])


class PartnerForm(IntakeForm):
    name = StringField("Partner name", [DataRequired("Enter the partner's name."), Length(max=160)])
    contact_name = StringField("Contact name", [Length(max=120)])
    contact_email = EmailField("Contact email", [Optional(), Email("Enter a valid email address."), Length(max=254)])
    countries = StringField(
        "Countries served", [Length(max=400)], description="ISO codes, comma-separated, e.g. DE, AT, CH"
    )
    verticals = MultiCheckboxField("Verticals", [Optional()])
    tier = SelectField("Tier", choices=vocabulary_choices(TIER))

    def validate_countries(self, field):
        codes = [c.strip().upper() for c in (field.data or "").replace(";", ",").split(",") if c.strip()]
        unknown = [c for c in codes if pycountry.countries.get(alpha_2=c) is None]
        if unknown:
            raise ValidationError(f"Not ISO country codes: {', '.join(unknown)}.")
        field.codes = sorted(set(codes))


class SearchForm(IntakeForm):
    class Meta:
        csrf = False

    q = StringField("Search", [Length(max=100)])


class PartnerUserForm(IntakeForm):
    """Invite one of a partner's contacts to the partner portal."""

    # It shares its page with the partner's own form: ids of its own, for labels and errors.
    name = StringField("Name", [DataRequired("Enter the contact's name."), Length(max=120)], id="invite-name")
    email = EmailField(
        "Email",
        [DataRequired("Enter the email."), Email("Enter a valid email address."), Length(max=254)],
        id="invite-email",
    )


class ReviewForm(IntakeForm):
    """Ask for a partner's quarterly review PDF, mailed to the manager asking."""

    quarter = SelectField("Quarter", [DataRequired("Choose a quarter.")], validate_choice=False)

    def validate_quarter(self, field):
        if field.data not in {choice.value for choice in self.quarter.choices}:
            raise ValidationError("Choose one of the quarters listed, such as the one just ended.")
