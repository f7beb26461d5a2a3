import pycountry
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, URLField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from ...vocabulary import TIER, USER_ROLE, WEBHOOK_EVENT
from ..forms import PASSWORD, IntakeForm, MultiCheckboxField, opts, vocabulary_choices


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


class WebhookEndpointForm(IntakeForm):
    """Register an endpoint of the vendor's own systems; where it may point is the service's to decide."""

    url = URLField(
        "URL",
        [DataRequired("Enter the address that receives the events."), Length(max=2000)],
        description="An https:// address of your CRM or integration, e.g. https://crm.example.com/hooks/intake",
    )
    events = MultiCheckboxField(
        "Events",
        [DataRequired("Choose at least one event to send.")],
        choices=vocabulary_choices(WEBHOOK_EVENT),
        description="Intake sends each of these as it happens.",
    )


class WebhookActiveForm(IntakeForm):
    """Disable or enable an endpoint: the button says which."""

    is_active = SelectField("Active", choices=opts([("yes", "enable"), ("no", "disable")]))


class WebhookDeleteForm(IntakeForm):
    confirm = BooleanField(
        "Yes, delete this endpoint and every delivery to it",
        [DataRequired("Tick this to delete the endpoint: its deliveries go with it.")],
    )
