"""The discovery questionnaire: its sections and what each needs before the deal is complete."""

from dataclasses import dataclass

from ..models import Deal


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    hint: str


SECTIONS = (
    Section("account", "Account", "Who the customer is and who we talk to"),
    Section("origin", "Origin", "Who found the deal, and how"),
    Section("need", "Need", "Pain, impact and what we recommend"),
    Section("qualification", "Qualification", "Budget, decision and next step"),
    Section("landscape", "Partners", "The customer's partners, as you know them"),
)
SECTION_KEYS = tuple(s.key for s in SECTIONS)
REQUIRED = "Required to complete the questionnaire."


def next_section(key: str) -> str | None:
    i = SECTION_KEYS.index(key)
    return SECTION_KEYS[i + 1] if i + 1 < len(SECTION_KEYS) else None


def missing_answers(deal: Deal) -> dict[str, dict[str, str]]:
    """Return, per section, the answers still needed to complete the deal: {section: {field: reason}}."""
    missing: dict[str, dict[str, str]] = {key: {} for key in SECTION_KEYS}

    account = missing["account"]
    if deal.account is None:
        account["name"] = "Choose an existing account or create one."
    else:
        for field in ("country", "vertical", "size_band", "vendor_strength"):
            if getattr(deal.account, field) is None:
                account[field] = REQUIRED
    for field in ("contact_name", "contact_email"):
        if not getattr(deal, field):
            account[field] = REQUIRED

    origin = missing["origin"]
    if not deal.originator:
        origin["originator"] = REQUIRED
    elif deal.originator == "partner" and deal.originator_partner_id is None:
        origin["originator_partner_id"] = "Name the partner that found the deal."
    for field in ("origin_channel", "origin_date"):
        if not getattr(deal, field):
            origin[field] = REQUIRED

    need = missing["need"]
    if not deal.pain_points and not deal.pain_other.strip():
        need["pain_points"] = "Pick at least one pain point or describe it."
    if not deal.business_impact.strip():
        need["business_impact"] = REQUIRED
    if not deal.solutions:
        need["solutions"] = "Recommend at least one product or service."
    for field in ("estimated_value", "currency", "close_date"):
        if getattr(deal, field) is None:
            need[field] = REQUIRED

    qualification = missing["qualification"]
    if deal.budget is None:
        qualification["budget"] = REQUIRED
    if deal.has_decision_maker is None:
        qualification["has_decision_maker"] = REQUIRED
    elif deal.has_decision_maker and not deal.decision_maker.strip():
        qualification["decision_maker"] = "Say who the decision maker is."
    if not deal.next_step.strip():
        qualification["next_step"] = REQUIRED
    if deal.next_step_date is None:
        qualification["next_step_date"] = REQUIRED

    landscape = missing["landscape"]
    if deal.partners_known is None:
        landscape["partners_known"] = REQUIRED
    elif deal.partners_known == "yes" and not deal.landscape:
        landscape["partners_known"] = "Add the partners the customer works with, or change this answer."
    for row in deal.landscape:
        if row.strength is None:
            landscape[f"rows-{row.position}-strength"] = "Estimate the relationship strength."

    return {key: fields for key, fields in missing.items() if fields}
