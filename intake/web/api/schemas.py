"""What the API reads and writes, as marshmallow schemas: they validate each request and are the OpenAPI document.

Choices come from the one vocabulary (`intake.vocabulary`) or the configured lists; text refuses
control characters as every form does; unknown fields are refused. Input schemas name fields as
the questionnaire's services do, so a rule a service states lands on the field the caller sent.
"""

from __future__ import annotations

import pycountry
from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...vocabulary import (
    BUDGET,
    DEAL_STATUS,
    LANGUAGE,
    ORIGIN_CHANNEL,
    ORIGINATOR,
    PARTNER_RESPONSE,
    PARTNERS_KNOWN,
    SIZE_BAND,
    TIER,
)
from ..inputs import MAX_INT, has_control

COUNTRIES = tuple(sorted(c.alpha_2 for c in pycountry.countries))
MONEY = validate.Range(min=0, max=10**11, error="Between 0 and 100,000,000,000.")
STRENGTH = validate.Range(min=0, max=5, error="A strength from 0 (none) to 5 (strategic).")


def one_of(words) -> validate.OneOf:
    return validate.OneOf(tuple(words))


class Text(fields.String):
    """Text as a form takes it: no control characters (a multi-line text keeps tabs and line breaks)."""

    def __init__(self, *, max_length: int, min_length: int | None = None, lines: bool = False, **kwargs):
        super().__init__(validate=validate.Length(min=min_length, max=max_length), **kwargs)
        self.lines = lines

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if has_control(text, lines=self.lines):
            raise ValidationError("Remove the control characters from this text.")
        return text


class Configured(fields.String):
    """One of a list the channel manager configures (verticals, pain points, the catalogue, currencies)."""

    def __init__(self, setting: str, **kwargs):
        super().__init__(validate=validate.Length(max=160), **kwargs)
        self.setting = setting

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if text not in current_app.config[self.setting]:
            raise ValidationError(f"Not one of: {', '.join(current_app.config[self.setting])}.")
        return text


def Money(**kwargs) -> fields.Decimal:  # noqa: N802  (a field, named as fields are)
    # The bounds stated as numbers: apispec would write a Decimal field's own as strings.
    return fields.Decimal(places=2, validate=MONEY, metadata={"minimum": 0, "maximum": 10**11}, **kwargs)


def Id(**kwargs) -> fields.Integer:  # noqa: N802  (a field, named as fields are)
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_INT), **kwargs)


# ---------------------------------------------------------------- problems


class FieldProblemSchema(Schema):
    field = fields.String(required=True, metadata={"description": "The field, as a path: `need.estimated_value`."})
    reason = fields.String(required=True)
    in_ = fields.String(data_key="in", metadata={"description": "body, query or header"})


class ProblemSchema(Schema):
    """An RFC 9457 problem document: every refusal the API gives has this shape."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    code = fields.String(metadata={"description": "What went wrong, for a program: `validation_failed`, …"})
    detail = fields.String()
    instance = fields.String()
    request_id = fields.String()
    errors = fields.List(fields.Nested(FieldProblemSchema))


# ---------------------------------------------------------------- lists


class ListArgs(Schema):
    """A page of a list, in the order things last changed, oldest first: follow `next_cursor` to the end."""

    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))
    cursor = fields.String(validate=validate.Length(max=200))
    updated_since = fields.AwareDateTime(metadata={"description": "Only what changed at or after this time."})


class DealListArgs(ListArgs):
    status = fields.String(validate=one_of(DEAL_STATUS))


def page_of(item: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict(
        {"items": fields.List(fields.Nested(item), required=True), "next_cursor": fields.String(allow_none=True)},
        name=name,
    )


# ---------------------------------------------------------------- deals: what a caller sends


class AccountIn(Schema):
    name = Text(max_length=160)
    domain = Text(max_length=253, allow_none=True)
    country = fields.String(validate=validate.OneOf(COUNTRIES), allow_none=True)
    vertical = Configured("VERTICALS", allow_none=True)
    size_band = fields.String(validate=one_of(SIZE_BAND), allow_none=True)
    vendor_strength = fields.Integer(strict=True, validate=STRENGTH, allow_none=True)
    vendor_since = fields.Date(allow_none=True)


class ContactIn(Schema):
    contact_name = Text(max_length=120)
    contact_title = Text(max_length=120)
    contact_email = fields.Email(validate=validate.Length(max=254))
    contact_phone = fields.String(
        validate=validate.Regexp(r"^(\+?[0-9 ()./-]{4,40})?$", error="Digits, spaces and + ( ) - only.")
    )


class OriginIn(Schema):
    originator = fields.String(validate=one_of(ORIGINATOR), allow_none=True)
    originator_partner_id = Id(allow_none=True)
    origin_channel = fields.String(validate=one_of(ORIGIN_CHANNEL), allow_none=True)
    origin_date = fields.Date(allow_none=True)


class NeedIn(Schema):
    pain_points = fields.List(Configured("PAIN_POINTS"), validate=validate.Length(max=20))
    pain_other = Text(max_length=2000, lines=True)
    business_impact = Text(max_length=2000, lines=True)
    incumbent = Text(max_length=500, lines=True)
    solutions = fields.List(Configured("CATALOGUE"), validate=validate.Length(max=20))
    estimated_value = Money(allow_none=True)
    currency = Configured("CURRENCIES", allow_none=True)
    close_date = fields.Date(allow_none=True)


class QualificationIn(Schema):
    budget = fields.String(validate=one_of(BUDGET), allow_none=True)
    has_decision_maker = fields.Boolean(allow_none=True)
    decision_maker = Text(max_length=160)
    decision_process = Text(max_length=2000, lines=True)
    competitors = Text(max_length=1000, lines=True)
    next_step = Text(max_length=1000, lines=True)
    next_step_date = fields.Date(allow_none=True)


class PartnerRowIn(Schema):
    """One of the customer's partners as the rep knows it: one of ours by id, or another by name."""

    partner_id = Id(allow_none=True)
    partner_name = Text(max_length=160)
    strength = fields.Integer(strict=True, validate=STRENGTH, allow_none=True)
    since = fields.Date(allow_none=True)
    does_what = Text(max_length=500)
    notes = Text(max_length=1000)

    @validates_schema
    def _names_one(self, data, **kwargs):
        if data.get("partner_id") is None and not (data.get("partner_name") or "").strip():
            raise ValidationError("Give one of our partners' partner_id, or the partner_name of another.", "partner_id")


class LandscapeIn(Schema):
    partners_known = fields.String(validate=one_of(PARTNERS_KNOWN), allow_none=True)
    partners = fields.List(fields.Nested(PartnerRowIn), validate=validate.Length(max=30))


class DealIn(Schema):
    """A qualification: any of its sections, as far as they are known. A draft may be partial."""

    account_id = Id(metadata={"description": "An existing account; or describe a new one in `account`."})
    account = fields.Nested(AccountIn)
    contact = fields.Nested(ContactIn)
    origin = fields.Nested(OriginIn)
    need = fields.Nested(NeedIn)
    qualification = fields.Nested(QualificationIn)
    landscape = fields.Nested(LandscapeIn)


class CloseIn(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(("won", "lost")))
    closed_on = fields.Date(allow_none=True)
    final_value = Money(allow_none=True)
    lost_reason = Text(max_length=2000, lines=True, load_default="")


class LinkIn(Schema):
    language = fields.String(validate=one_of(LANGUAGE), load_default="en")


class RouteIn(Schema):
    partner_id = Id(
        allow_none=True,
        metadata={"description": "When the engine recommends partners to confirm: the one chosen (else the first)."},
    )


# ---------------------------------------------------------------- deals: what the API answers


class PersonOut(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()


class AccountOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    domain = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    vertical = fields.String(allow_none=True)
    size_band = fields.String(allow_none=True)
    vendor_strength = fields.Integer(allow_none=True)
    vendor_since = fields.Date(allow_none=True)
    owner = fields.Nested(PersonOut, allow_none=True)
    updated_at = fields.AwareDateTime()


class PartnerRowOut(Schema):
    partner_id = fields.Integer(allow_none=True)
    partner_name = fields.String(attribute="display_name")
    strength = fields.Integer(allow_none=True)
    since = fields.Date(allow_none=True)
    does_what = fields.String()
    notes = fields.String()


class PartySchema(Schema):
    kind = fields.String(required=True, metadata={"description": "vendor, partner or customer"})
    partner_id = fields.Integer(allow_none=True)
    name = fields.String()


class DecisionOut(Schema):
    version = fields.Integer(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    leader = fields.Nested(PartySchema, allow_none=True)
    fulfiller = fields.Nested(PartySchema, allow_none=True)
    flags = fields.List(fields.String())
    reason = fields.String()
    decided_at = fields.AwareDateTime()
    decided_by = fields.String(allow_none=True)
    decision = fields.Dict(metadata={"description": "The decision as the engine gives it (`routing simulate`)."})
    input = fields.Dict(
        metadata={"description": "The engine's input it was decided on: try a change of it on `/routing/simulate`."}
    )


class LinkOut(Schema):
    state = fields.String(required=True, metadata={"description": "none, not_sent, sent, opened, answered, …"})
    url = fields.String(allow_none=True, metadata={"description": "The customer's personal link, while it works."})
    language = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(allow_none=True)
    expires_at = fields.AwareDateTime(allow_none=True)
    opened_at = fields.AwareDateTime(allow_none=True)
    answered_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)


class DealOut(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    hold_reason = fields.String(allow_none=True)
    returned_reason = fields.String()
    rep = fields.Nested(PersonOut, allow_none=True)
    account = fields.Nested(AccountOut, allow_none=True)
    contact = fields.Dict(keys=fields.String(), values=fields.String())
    origin = fields.Dict()
    need = fields.Dict()
    qualification = fields.Dict()
    landscape = fields.Dict()
    outcome = fields.Dict(allow_none=True)
    missing = fields.Dict(metadata={"description": "Per section, the answers still needed to complete the deal."})
    decision = fields.Nested(DecisionOut, allow_none=True)
    customer_link = fields.Nested(LinkOut)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    completed_at = fields.AwareDateTime(allow_none=True)


# ---------------------------------------------------------------- the directory and the rest


class PartnerOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    tier = fields.String()
    countries = fields.List(fields.String())
    verticals = fields.List(fields.String())
    is_active = fields.Boolean()
    contact_name = fields.String()
    contact_email = fields.String()


class PartnerIn(Schema):
    name = Text(max_length=160, required=True, min_length=1)
    tier = fields.String(validate=one_of(TIER), load_default="registered")
    countries = fields.List(fields.String(validate=validate.OneOf(COUNTRIES)), validate=validate.Length(max=250))
    verticals = fields.List(Configured("VERTICALS"), validate=validate.Length(max=50))
    contact_name = Text(max_length=120, load_default="")
    contact_email = fields.Email(validate=validate.Length(max=254), load_default="")
    is_active = fields.Boolean(load_default=True)


class PartnerPatch(PartnerIn):
    name = Text(max_length=160, min_length=1)
    tier = fields.String(validate=one_of(TIER))
    contact_name = Text(max_length=120)
    contact_email = fields.Email(validate=validate.Length(max=254))
    is_active = fields.Boolean()


class PartnerRequestOut(Schema):
    id = fields.Integer(required=True)
    deal_id = fields.Integer()
    state = fields.String(
        metadata={"description": "open, accepted, declined, lapsed, replaced, expired, or how the deal ended"}
    )
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    responded_at = fields.AwareDateTime(allow_none=True)
    response = fields.String(allow_none=True, validate=one_of(PARTNER_RESPONSE))
    deal = fields.Dict(metadata={"description": "What the partner may see of the deal."})


class DeclineIn(Schema):
    reason = Text(max_length=2000, lines=True, required=True, min_length=1)


class RegistrationIn(Schema):
    """A deal the partner found, as the portal's registration form takes it."""

    account_name = Text(max_length=160, required=True)
    domain = Text(max_length=253, load_default="")
    country = fields.String(validate=validate.OneOf(COUNTRIES), required=True)
    vertical = Configured("VERTICALS", allow_none=True)
    contact_name = Text(max_length=120, required=True)
    contact_email = fields.Email(validate=validate.Length(max=254), load_default="")
    contact_phone = ContactIn._declared_fields["contact_phone"]
    need = Text(max_length=2000, lines=True, required=True)
    solutions = fields.List(Configured("CATALOGUE"), validate=validate.Length(max=20), load_default=list)
    estimated_value = Money(allow_none=True)
    currency = Configured("CURRENCIES", allow_none=True)
    close_date = fields.Date(allow_none=True)
    strength = fields.Integer(strict=True, validate=STRENGTH, required=True)
    since = fields.Date(allow_none=True)
    notes = Text(max_length=2000, lines=True, load_default="")


class RegistrationOut(Schema):
    id = fields.Integer(required=True)
    deal_id = fields.Integer()
    already_registered = fields.Boolean(
        required=True, metadata={"description": "The account already has an open deal: it goes to the channel manager."}
    )
    message = fields.String()
    stage = fields.String()
    registered_at = fields.AwareDateTime()


class StatementIn(Schema):
    strength = fields.Integer(strict=True, validate=STRENGTH, required=True)
    since = fields.Date(allow_none=True)


class StatedRelationshipOut(Schema):
    account_id = fields.Integer(required=True)
    account = fields.String()
    domain = fields.String(allow_none=True)
    strength = fields.Integer(allow_none=True)
    since = fields.Date(allow_none=True)
    stated_at = fields.AwareDateTime(allow_none=True)


class LedgerRowOut(Schema):
    partner_id = fields.Integer()
    partner = fields.String()
    quarter = fields.String()
    brought = fields.Dict()
    received = fields.Dict()


class ScorecardOut(Schema):
    partner_id = fields.Integer()
    partner = fields.String()
    figures = fields.Dict()


class QuarterArgs(Schema):
    quarter = fields.String(validate=validate.Regexp(r"^\d{4}-Q[1-4]$", error="A quarter such as 2026-Q4."))
