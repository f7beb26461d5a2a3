"""The personal API token settings, one page for staff (`/account/tokens`) and for partner users
(`/partner/tokens`): the owner's own tokens, a form to make one, and a button to revoke each.

A new token is rendered in the answer to the POST that made it, and nowhere else: never in the
session (signed, not encrypted), a flash message or a URL. The same form sent again (a refresh
of that answer, a double click) finds the token its key made, and says its value was shown once.
"""

import secrets

from flask import abort, flash, redirect, render_template, request
from flask_babel import gettext as _

from .. import api_tokens
from ..errors import DomainError
from ..extensions import db
from .forms import ApiTokenForm, ButtonForm
from .pages import attach_errors


def _new_form(audience: str) -> ApiTokenForm:
    form = ApiTokenForm(formdata=None, audience=audience)
    form.form_key.data = secrets.token_urlsafe(24)
    return form


def settings(owner, *, audience: str, template: str, revoke_endpoint: str, **context):
    """The settings page; sent its form, make the token and show it this once."""
    form = ApiTokenForm(audience=audience) if request.method == "POST" else _new_form(audience)
    made = token = None
    again = False
    status = 200
    if request.method == "POST":
        if not form.validate():
            status = 400
        else:
            try:
                made, token = api_tokens.create(
                    owner, name=form.name.data, scope=form.scope.data, actor=owner, form_key=form.form_key.data
                )
            except DomainError as exc:
                if not exc.fields:
                    raise
                db.session.rollback()
                form.form_errors = attach_errors(form, exc.fields)
                status = 400
            else:
                db.session.commit()
                again = token is None
                form = _new_form(audience)
    body = render_template(
        template,
        form=form,
        tokens=api_tokens.of(owner),
        made=made,
        token=token,
        again=again,
        audience=audience,
        revoke_form=ButtonForm(),
        revoke_endpoint=revoke_endpoint,
        **context,
    )
    return body, status


def revoke(owner, token_id: int, *, back: str):
    """Revoke one of the owner's tokens; anyone else's is not found."""
    row = api_tokens.get(owner, token_id)
    if row is None:
        abort(404)
    if api_tokens.revoke(row, actor=owner):
        db.session.commit()
        flash(_("Revoked “%(name)s”: it no longer works.", name=row.name), "success")
    else:
        flash(_("“%(name)s” was revoked already.", name=row.name), "info")
    return redirect(back)
