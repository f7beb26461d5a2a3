"""A form field as every page shows it: its label, its hint and its errors tied to the input for screen readers.

One Python function rather than a template macro: a questionnaire page shows a dozen fields, and a Jinja macro
call (its keyword dict, the nested macros) cost more than the field itself. Templates call it as `field(...)`:

    {{ field(form.password, autocomplete="new-password") }}   any keyword becomes an attribute of the input
    {{ field(form.country, class="wide") }}                    `class` goes on the field's wrapper
"""

from __future__ import annotations

from markupsafe import Markup, escape

CHOICE_TYPES = ("RadioField", "MultiCheckboxField")


def described_by(field) -> str:
    """The ids of the field's hint and error message, for aria-describedby ("" when it has neither)."""
    ids = []
    if field.description:
        ids.append(f"{field.id}-hint")
    if field.errors:
        ids.append(f"{field.id}-error")
    return " ".join(ids)


def errors(field) -> Markup:
    """The field's error messages, in the paragraph its input is described by."""
    if not field.errors:
        return Markup("")
    said = Markup(" ").join(escape(message) for message in field.errors)
    return Markup('<p class="field-error" id="{}-error">{}</p>').format(field.id, said)


def _hint(field) -> Markup:
    if not field.description:
        return Markup("")
    return Markup('<p class="hint" id="{}-hint">{}</p>').format(field.id, field.description)


def field(field, **attributes) -> Markup:
    """The field's whole block: wrapper, label (or legend), hint, errors and input."""
    wrapper = attributes.pop("class", "")
    described = described_by(field)
    if field.errors:
        attributes["aria-invalid"] = "true"
    if described:
        attributes["aria-describedby"] = described
    parts = [
        Markup('<div class="field {}{}">').format(wrapper, Markup(" has-error") if field.errors else ""),
    ]
    if field.type in CHOICE_TYPES:
        fieldset = Markup(' aria-describedby="{}"').format(described) if described else Markup("")
        parts += [
            Markup("<fieldset{}><legend>{}</legend>").format(fieldset, field.label.text),
            _hint(field),
            errors(field),
            Markup('<div class="choices">'),
            *(
                Markup('<label class="choice">{} <span>{}</span></label>').format(option(), option.label.text)
                for option in field
            ),
            Markup("</div></fieldset>"),
        ]
    elif field.type == "BooleanField":
        parts += [
            Markup('<label class="choice">{} <span>{}</span></label>').format(field(**attributes), field.label.text),
            errors(field),
        ]
    else:
        parts += [field.label(), _hint(field), errors(field), field(**attributes)]
    parts.append(Markup("</div>"))
    return Markup("\n").join(parts)
