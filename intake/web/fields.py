"""A form field as every page shows it: its label, its hint and its errors tied to the input for screen readers.

One Python function rather than a template macro: a questionnaire page shows a dozen fields, and a Jinja macro
call (its keyword dict, the nested macros) cost more than the field itself. The inputs, selects, text areas, labels
and choices are drawn here too, in one pass each, as WTForms' widgets draw them (see `draw`). Templates call it as
`field(...)`:

    {{ field(form.password, autocomplete="new-password") }}   any keyword becomes an attribute of the input
    {{ field(form.country, class="wide") }}                    `class` goes on the field's wrapper
"""

from __future__ import annotations

from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.widgets.core import clean_key

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
    return Markup(f'<p class="field-error" id="{escape(field.id)}-error">{said}</p>')


def _hint(field) -> Markup:
    if not field.description:
        return Markup("")
    return Markup(f'<p class="hint" id="{escape(field.id)}-hint">{escape(field.description)}</p>')


def field(field, **attributes) -> Markup:
    """The field's whole block: wrapper, label (or legend), hint, errors and input."""
    wrapper = attributes.pop("class", "")
    described = described_by(field)
    if field.errors:
        attributes["aria-invalid"] = "true"
    if described:
        attributes["aria-describedby"] = described
    parts = [
        Markup(f'<div class="field {escape(wrapper)}{" has-error" if field.errors else ""}">'),
    ]
    if field.type in CHOICE_TYPES:
        fieldset = f' aria-describedby="{escape(described)}"' if described else ""
        parts += [
            Markup(f"<fieldset{fieldset}><legend>{escape(field.label.text)}</legend>"),
            _hint(field),
            errors(field),
            Markup('<div class="choices">'),
            *choice_inputs(field),
            Markup("</div></fieldset>"),
        ]
    elif field.type == "BooleanField":
        box = draw(field, attributes)
        parts += [
            Markup(f'<label class="choice">{box} <span>{escape(field.label.text)}</span></label>'),
            errors(field),
        ]
    else:
        parts += [label(field), _hint(field), errors(field), draw(field, attributes)]
    parts.append(Markup("</div>"))
    return Markup("\n").join(parts)


# Drawing a field through WTForms — its widget called through the form's meta, every attribute escaped and formatted
# one by one, an option field bound per choice — was most of a questionnaire page's time. `draw` makes the same HTML
# in one pass: the attributes in WTForms' (sorted) order, the field's render_kw under the page's, its validators'
# flags (required, maxlength…) as its widget lists them. A widget not listed below is drawn by WTForms itself;
# tests/test_field_drawing.py holds the two to the same output.

# Inputs drawn by Input.__call__ alone (NumberInput adds its step, min and max; PasswordInput, which hides its
# value, is left to WTForms).
_INPUTS = (
    widgets.TextInput,
    widgets.EmailInput,
    widgets.SearchInput,
    widgets.TelInput,
    widgets.URLInput,
    widgets.HiddenInput,
    widgets.CheckboxInput,
    widgets.NumberInput,
    widgets.DateInput,
    widgets.DateTimeInput,
    widgets.DateTimeLocalInput,
    widgets.MonthInput,
    widgets.TimeInput,
    widgets.WeekInput,
)


def _params(attributes: dict) -> Markup:
    """HTML attributes as WTForms' html_params writes them (sorted; True bare, False left out), in one join."""
    return Markup(
        " ".join(
            clean_key(key) if value is True else f'{clean_key(key)}="{escape(value)}"'
            for key, value in sorted(attributes.items())
            if value is not False
        )
    )


def _attributes(field, widget, attributes: dict) -> dict:
    """The page's attributes over the field's render_kw, then the validators' flags the widget shows, where unset."""
    merged = {clean_key(k): v for k, v in (field.render_kw or {}).items()}
    merged.update({clean_key(k): v for k, v in attributes.items()})
    flags = vars(field.flags)
    for name in widget.validation_attrs:
        if name in flags and name not in merged:
            value = flags[name]
            merged[name] = value() if callable(value) else value
    return merged


def draw(field, attributes: dict | None = None) -> Markup:
    """The field's input, select or text area, as calling the field (`field(**attributes)`) draws it."""
    attributes = attributes or {}
    widget = field.widget
    kind = type(widget)
    if kind is widgets.Select and not widget.multiple:
        return select(field, **attributes)
    if kind is widgets.TextArea:
        params = _attributes(field, widget, attributes)
        params.setdefault("id", field.id)
        params["name"] = field.name
        return Markup(f"<textarea {_params(params)}>\r\n{escape(field._value())}</textarea>")
    if kind in _INPUTS and getattr(field, "_datalist", None) is None:
        params = _attributes(field, widget, attributes)
        if kind is widgets.NumberInput:
            for name in ("step", "min", "max"):
                if getattr(widget, name) is not None:
                    params.setdefault(name, getattr(widget, name))
        if kind is widgets.CheckboxInput and getattr(field, "checked", field.data):
            params.setdefault("checked", True)
        params.setdefault("id", field.id)
        params.setdefault("type", widget.input_type)
        if "value" not in params:
            params["value"] = field._value()
        params["name"] = field.name
        return Markup(f"<input {_params(params)}>")
    return field(**attributes)


def label(field) -> Markup:
    """The field's label, as `field.label()` draws it."""
    if not isinstance(field.label.field_id, str):
        return field.label()
    return Markup(f'<label for="{escape(field.label.field_id)}">{escape(field.label.text)}</label>')


def choice_inputs(field) -> list[Markup]:
    """A radio or checkbox field's choices, each its input in a label (WTForms' option widget's HTML)."""
    widget = field.option_widget
    shared = _attributes(field, widget, {"name": field.name, "type": widget.input_type})
    drawn = []
    for index, choice in enumerate(field.iter_choices()):
        attributes = {**shared, "id": f"{field.id}-{index}", "value": str(choice.value)}
        if choice.selected:
            attributes["checked"] = True
        text = _words(choice)
        drawn.append(Markup(f'<label class="choice"><input {_params(attributes)}> <span>{escape(text)}</span></label>'))
    return drawn


def _words(choice) -> str:
    """A choice's label (`label or value`, as WTForms shows it), a translated label looked up once."""
    label = choice.label
    if label is not None and not isinstance(label, Markup):
        label = str(label)  # a lazy translation is looked up here, once
    return label or str(choice.value)


def _option(choice) -> Markup:
    if choice.render_kw:
        return widgets.Select.render_option(choice)
    value, text = str(choice.value), _words(choice)
    if choice.selected:
        return Markup(f'<option selected value="{escape(value)}">{escape(text)}</option>')
    return Markup(f'<option value="{escape(value)}">{escape(text)}</option>')


def select(field, **attributes) -> Markup:
    """A single-choice select, its option groups too, as WTForms' Select widget draws it."""
    params = _attributes(field, field.widget, attributes)
    params.setdefault("id", field.id)
    params["name"] = field.name
    options = []
    if field.has_groups():
        for group, choices in field.iter_groups():
            if group is not None:
                options.append(Markup(f'<optgroup label="{escape(group)}">'))
            options += [_option(choice) for choice in choices]
            if group is not None:
                options.append(Markup("</optgroup>"))
    else:
        options = [_option(choice) for choice in field.iter_choices()]
    return Markup(f"<select {_params(params)}>{''.join(options)}</select>")
