"""Helpers every page blueprint uses: access policies and showing form errors."""

from collections.abc import Callable

from flask import abort, render_template, request
from flask_login import current_user
from wtforms import FieldList, FormField

from ..errors import DomainError
from ..extensions import db


def require_user() -> None:
    """Blueprint policy: a signed-in, active member of staff (a partner's session opens nothing here)."""
    from ..extensions import login_manager

    if not current_user.is_authenticated or current_user.is_partner_user:
        return login_manager.unauthorized()
    return None


def require_partner_user() -> None:
    """Blueprint policy of the partner portal: a signed-in, active partner user (a staff session opens nothing)."""
    from ..extensions import login_manager

    if not current_user.is_authenticated or not current_user.is_partner_user:
        return login_manager.unauthorized()
    return None


def require_admin():
    """Blueprint policy: a signed-in channel manager."""
    response = require_user()
    if response is not None:
        return response
    if not current_user.is_admin:
        abort(403)
    return None


def _walk(fields):
    for field in fields:
        if isinstance(field, FieldList):
            for entry in field.entries:
                yield from _walk([entry])
        elif isinstance(field, FormField):
            yield from _walk(field.form)
        else:
            yield field


def has_errors(form, name: str) -> bool:
    """Whether the form's own checks already put a message on this field."""
    return any(field.name == name and field.errors for field in _walk(form))


def attach_errors(form, errors: dict[str, str]) -> list[str]:
    """Put each {field name: reason} beside its field; return reasons that have no field."""
    by_name = {field.name: field for field in _walk(form)}
    unplaced = []
    for name, message in errors.items():
        field = by_name.get(name)
        if field is None:
            unplaced.append(message)
            continue
        if isinstance(field.errors, tuple):
            field.errors = list(field.errors)
        field.errors.append(message)
    return unplaced


def render_form(template: str, form, **context):
    """Render a page with a form: 400 when a submitted form has errors, so clients can tell."""
    has_errors = bool(form.errors) or bool(context.get("form_errors"))
    status = 400 if request.method == "POST" and has_errors else 200
    return render_template(template, form=form, **context), status


def attempt(form, action: Callable, *args, **kwargs) -> bool:
    """Run one service for a submitted form; a rule it breaks goes beside its field.

    Returns whether the service succeeded (the caller then commits). A domain error that names
    fields is rolled back and put on the form, with any reason that has no field of its own in
    `form.form_errors`; one that names none is left to the error page (`intake.web.errors`).
    """
    try:
        action(*args, **kwargs)
    except DomainError as exc:
        if not exc.fields:
            raise
        db.session.rollback()
        form.form_errors = attach_errors(form, exc.fields)
        return False
    return True


def pdf(document, filename: str):
    """A stored PDF, shown in the browser. The filename is built by the caller from checked route
    values, never from stored text, so nothing a user typed reaches the header."""
    return (
        document.data,
        200,
        {"Content-Type": "application/pdf", "Content-Disposition": f'inline; filename="{filename}"'},
    )
