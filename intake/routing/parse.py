"""Read the JSON forms of a routing input and of a decision, refusing a malformed one with the name of the bad field.

`parse_input` checks the shape (objects, lists, types); `validate` checks the values (the
strength scale, the enums, partners referred to but not listed). Both name the field by its
path in the input, such as `relationships[2].strength`. `parse_decision` reads a stored
decision back: the inverse of `Decision.to_dict()`.
"""

from typing import Any

from .model import (
    CONTACTS,
    FLAGS,
    FULFILMENTS,
    PARTY_KINDS,
    ROLES,
    SOURCES,
    STATUSES,
    STEP_RULES,
    STRENGTHS,
    TIERS,
    TIES,
    Account,
    Decision,
    OpenDeal,
    Partner,
    Party,
    Preference,
    Recommendation,
    Relationship,
    Role,
    RoutingInput,
    Rules,
    Step,
)
from .when import instant

_MISSING = object()


class InvalidInput(ValueError):
    """An input the engine refuses; the message starts with the path of the bad field."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def parse_input(data: Any) -> RoutingInput:
    """Return the routing input the JSON form describes; raise InvalidInput naming the bad field."""
    obj = _Object(data, "")
    result = RoutingInput(
        originator=_party(obj.get("originator", required=True), "originator"),
        vendor_strength=_int(obj.get("vendor_strength", required=True), "vendor_strength"),
        account=_account(obj.get("account", required=True), "account"),
        partners=tuple(_partner(item, path) for item, path in obj.items_of("partners", required=True)),
        relationships=tuple(_relationship(item, path) for item, path in obj.items_of("relationships")),
        preference=_preference(obj.get("preference"), "preference"),
        open_deals=tuple(_open_deal(item, path) for item, path in obj.items_of("open_deals")),
        declined_partner_ids=frozenset(_int(item, path) for item, path in obj.items_of("declined_partner_ids")),
        lapsed_partner_ids=frozenset(_int(item, path) for item, path in obj.items_of("lapsed_partner_ids")),
        rules=_rules(obj.get("rules"), "rules"),
    )
    obj.refuse_unknown()
    validate(result)
    return result


def validate(data: RoutingInput) -> None:
    """Raise InvalidInput when a value is off its scale or names a partner that is not in partners."""
    known: set[int] = set()
    for index, item in enumerate(data.partners):
        if item.id in known:
            raise InvalidInput(f"partners[{index}].id", f"partner {item.id} is listed twice")
        known.add(item.id)
        _check_choice(item.tier, f"partners[{index}].tier", TIERS)
    _check_party(data.originator, "originator", known)
    _check_strength(data.vendor_strength, "vendor_strength")
    for index, rel in enumerate(data.relationships):
        _check_relationship(rel, f"relationships[{index}]", known)
    if data.preference is not None:
        _check_preference(data.preference, known)
    for index, deal in enumerate(data.open_deals):
        # Another deal's parties need not be among this deal's partners.
        _check_party(deal.originator, f"open_deals[{index}].originator", None)
    if data.rules.threshold not in range(1, 6):
        # 0 ("none") is no relationship at all, so it cannot be the strength at which one counts.
        raise InvalidInput("rules.threshold", f"must be an integer from 1 to 5, got {data.rules.threshold!r}")
    _check_choice(data.rules.ties, "rules.ties", TIES)


def _check_relationship(rel: Relationship, path: str, known: set[int]) -> None:
    in_words = bool((rel.partner_name or "").strip())
    if rel.partner_id is None and not in_words:
        raise InvalidInput(f"{path}.partner_id", "give a partner_id or a partner_name")
    if rel.partner_id is not None and in_words:
        raise InvalidInput(f"{path}.partner_name", "give a partner_id or a partner_name, not both")
    if rel.partner_id is not None:
        _check_known(rel.partner_id, f"{path}.partner_id", known)
    _check_strength(rel.strength, f"{path}.strength")
    _check_choice(rel.source, f"{path}.source", SOURCES)
    if rel.stated_at is not None and instant(rel.stated_at) is None:
        raise InvalidInput(f"{path}.stated_at", f"must be an ISO-8601 date or date and time, got {rel.stated_at!r}")


def _check_party(party: Party, path: str, known: set[int] | None) -> None:
    _check_choice(party.kind, f"{path}.kind", PARTY_KINDS)
    if party.kind != "partner":
        if party.partner_id is not None:
            raise InvalidInput(f"{path}.partner_id", f"only a partner names a partner_id, not the {party.kind}")
    elif party.partner_id is None:
        raise InvalidInput(f"{path}.partner_id", "is required when kind is partner")
    elif known is not None:
        _check_known(party.partner_id, f"{path}.partner_id", known)


def _check_preference(preference: Preference, known: set[int]) -> None:
    _check_choice(preference.fulfilment, "preference.fulfilment", FULFILMENTS)
    _check_choice(preference.contact, "preference.contact", CONTACTS)
    if preference.partner_id is not None:
        _check_known(preference.partner_id, "preference.partner_id", known)
    elif preference.fulfilment == "partner" and not (preference.partner_name or "").strip():
        raise InvalidInput("preference.partner_id", "fulfilment 'partner' needs a partner_id or a partner_name")


def _check_known(partner_id: int, path: str, known: set[int]) -> None:
    if partner_id not in known:
        raise InvalidInput(path, f"partner {partner_id} is not in partners")


def _check_strength(value: int, path: str) -> None:
    if value not in STRENGTHS:
        raise InvalidInput(path, f"must be an integer from 0 to 5, got {value!r}")


def _check_choice(value: str, path: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InvalidInput(path, f"must be one of {', '.join(choices)}; got {value!r}")


# ---------------------------------------------------------------- shape


class _Object:
    """A JSON object being read field by field; a field never read is refused as unknown."""

    def __init__(self, data: Any, path: str, what: str = "routing input"):
        if not isinstance(data, dict):
            raise InvalidInput(path or what.split()[-1], f"must be an object, got {_kind(data)}")
        self.data = data
        self.path = path
        self.what = what
        self.read: set[str] = set()

    def field(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def get(self, name: str, *, required: bool = False, default: Any = None) -> Any:
        self.read.add(name)
        value = self.data.get(name, _MISSING)
        if value is _MISSING:
            if required:
                raise InvalidInput(self.field(name), "is required")
            return default
        return value

    def items_of(self, name: str, *, required: bool = False) -> list[tuple[Any, str]]:
        values = self.get(name, required=required, default=[])
        if not isinstance(values, list):
            raise InvalidInput(self.field(name), f"must be a list, got {_kind(values)}")
        return [(value, f"{self.field(name)}[{index}]") for index, value in enumerate(values)]

    def refuse_unknown(self) -> None:
        unknown = sorted(str(key) for key in self.data if key not in self.read)
        if unknown:
            raise InvalidInput(self.field(unknown[0]), f"is not a field of the {self.what}")


def _party(data: Any, path: str) -> Party:
    obj = _Object(data, path)
    partner_id = obj.get("partner_id")
    result = Party(
        kind=_text(obj.get("kind", required=True), obj.field("kind")),
        partner_id=None if partner_id is None else _int(partner_id, obj.field("partner_id")),
    )
    obj.refuse_unknown()
    return result


def _partner(data: Any, path: str) -> Partner:
    obj = _Object(data, path)
    result = Partner(
        id=_int(obj.get("id", required=True), obj.field("id")),
        name=_text(obj.get("name", required=True), obj.field("name")),
        active=_bool(obj.get("active", default=True), obj.field("active")),
        countries=_texts(obj.get("countries", default=[]), obj.field("countries")),
        verticals=_texts(obj.get("verticals", default=[]), obj.field("verticals")),
        tier=_text(obj.get("tier", default="registered"), obj.field("tier")),
    )
    obj.refuse_unknown()
    return result


def _account(data: Any, path: str) -> Account:
    obj = _Object(data, path)
    result = Account(
        country=_optional_text(obj.get("country"), obj.field("country")),
        vertical=_optional_text(obj.get("vertical"), obj.field("vertical")),
        domain=_optional_text(obj.get("domain"), obj.field("domain")),
        name=_optional_text(obj.get("name"), obj.field("name")),
    )
    obj.refuse_unknown()
    return result


def _relationship(data: Any, path: str) -> Relationship:
    obj = _Object(data, path)
    partner_id = obj.get("partner_id")
    result = Relationship(
        partner_id=None if partner_id is None else _int(partner_id, obj.field("partner_id")),
        partner_name=_optional_text(obj.get("partner_name"), obj.field("partner_name")),
        strength=_int(obj.get("strength", required=True), obj.field("strength")),
        source=_text(obj.get("source", required=True), obj.field("source")),
        on_this_deal=_bool(obj.get("on_this_deal", default=False), obj.field("on_this_deal")),
        stated_at=_optional_text(obj.get("stated_at"), obj.field("stated_at")),
    )
    obj.refuse_unknown()
    return result


def _preference(data: Any, path: str) -> Preference | None:
    if data is None:
        return None
    obj = _Object(data, path)
    partner_id = obj.get("partner_id")
    result = Preference(
        fulfilment=_text(obj.get("fulfilment", required=True), obj.field("fulfilment")),
        partner_id=None if partner_id is None else _int(partner_id, obj.field("partner_id")),
        partner_name=_optional_text(obj.get("partner_name"), obj.field("partner_name")),
        contact=_text(obj.get("contact", default="no_preference"), obj.field("contact")),
    )
    obj.refuse_unknown()
    return result


def _open_deal(data: Any, path: str) -> OpenDeal:
    obj = _Object(data, path)
    partner_id = obj.get("partner_id")
    result = OpenDeal(
        id=_int(obj.get("id", required=True), obj.field("id")),
        account_domain=_optional_text(obj.get("account_domain"), obj.field("account_domain")),
        account_name=_optional_text(obj.get("account_name"), obj.field("account_name")),
        originator=_party(obj.get("originator", required=True), obj.field("originator")),
        partner_id=None if partner_id is None else _int(partner_id, obj.field("partner_id")),
    )
    obj.refuse_unknown()
    return result


def _rules(data: Any, path: str) -> Rules:
    if data is None:
        return Rules()
    obj = _Object(data, path)
    result = Rules(
        threshold=_int(obj.get("threshold", default=Rules.threshold), obj.field("threshold")),
        ties=_text(obj.get("ties", default=Rules.ties), obj.field("ties")),
    )
    obj.refuse_unknown()
    return result


# ---------------------------------------------------------------- a stored decision


def parse_decision(data: Any) -> Decision:
    """Read back a stored decision (the inverse of `Decision.to_dict()`); raise InvalidInput naming the bad field."""
    obj = _Object(data, "", "decision")
    fulfilment = obj.get("fulfilment", required=True)
    result = Decision(
        leader=_decided_party(obj.get("leader", required=True), "leader"),
        fulfilment=None if fulfilment is None else _decided_party(fulfilment, "fulfilment"),
        supporting=tuple(_role(item, path) for item, path in obj.items_of("supporting", required=True)),
        status=_choice(obj.get("status", required=True), "status", STATUSES),
        flags=tuple(_choice(item, path, FLAGS) for item, path in obj.items_of("flags", required=True)),
        conflicts=tuple(_int(item, path) for item, path in obj.items_of("conflicts", required=True)),
        recommendations=tuple(
            _recommendation(item, path) for item, path in obj.items_of("recommendations", required=True)
        ),
        trace=tuple(_step(item, path) for item, path in obj.items_of("trace", required=True)),
    )
    obj.refuse_unknown()
    return result


def _decided_party(data: Any, path: str) -> Party:
    """The vendor or a partner: the customer coming in never leads, fulfils or supports."""
    obj = _Object(data, path, "decision")
    kind = _choice(obj.get("kind", required=True), obj.field("kind"), ("vendor", "partner"))
    if kind == "partner":
        result = Party("partner", _int(obj.get("partner_id", required=True), obj.field("partner_id")))
    else:
        result = Party(kind)
    obj.refuse_unknown()
    return result


def _role(data: Any, path: str) -> Role:
    obj = _Object(data, path, "decision")
    result = Role(
        party=_decided_party(obj.get("party", required=True), obj.field("party")),
        role=_choice(obj.get("role", required=True), obj.field("role"), ROLES),
    )
    obj.refuse_unknown()
    return result


def _recommendation(data: Any, path: str) -> Recommendation:
    obj = _Object(data, path, "decision")
    result = Recommendation(
        partner_id=_int(obj.get("partner_id", required=True), obj.field("partner_id")),
        reason=_text(obj.get("reason", required=True), obj.field("reason")),
    )
    obj.refuse_unknown()
    return result


def _step(data: Any, path: str) -> Step:
    obj = _Object(data, path, "decision")
    result = Step(
        rule=_choice(obj.get("rule", required=True), obj.field("rule"), STEP_RULES),
        says=_text(obj.get("says", required=True), obj.field("says")),
        partner_says=_text(obj.get("partner_says", required=True), obj.field("partner_says")),
    )
    obj.refuse_unknown()
    return result


def _choice(value: Any, path: str, choices: tuple[str, ...]) -> str:
    _check_choice(_text(value, path), path, choices)
    return value


# ---------------------------------------------------------------- values


def _int(value: Any, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(path, f"must be an integer, got {_kind(value)}")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(path, f"must be true or false, got {_kind(value)}")
    return value


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(path, f"must be a string, got {_kind(value)}")
    return value


def _optional_text(value: Any, path: str) -> str | None:
    return None if value is None else _text(value, path)


def _texts(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise InvalidInput(path, f"must be a list of strings, got {_kind(value)}")
    return tuple(_text(item, f"{path}[{index}]") for index, item in enumerate(value))


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    names = {dict: "an object", list: "a list", str: "a string", type(None): "null"}
    return names.get(type(value), type(value).__name__)
