"""Accept or decline a routed deal at /r/<token>: opening the link changes nothing; the buttons do."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ... import tokens
from ...deals import partners, summary
from ...extensions import csrf, db
from ...models.types import utcnow
from ..forms import ButtonForm
from . import bp


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        "Why do you decline?", [DataRequired("Tell us why, so the deal can go to the right party."), Length(max=2000)]
    )


def _problem(status: int, why: str = ""):
    db.session.commit()
    return render_template(
        "partner/problem.html", status=status, why=why, vendor=current_app.config["VENDOR_NAME"]
    ), status


def _page(partner_request, *, decline_form=None, status=200):
    state = partner_request.response or ("expired" if partner_request.expires_at <= utcnow() else "open")
    if not partners.is_current(partner_request) and not partner_request.response:
        state = "replaced"
    return render_template(
        "partner/request.html",
        r=partner_request,
        s=summary.context(partner_request.decision, "partner"),
        state=state,
        token=request.view_args["token"],
        accept_form=ButtonForm(),
        decline_form=decline_form or DeclineForm(formdata=None),
        vendor=current_app.config["VENDOR_NAME"],
    ), status


def _load(token: str, *, lock: bool = False):
    address = request.remote_addr or "unknown"
    if tokens.is_guessing(address):
        return None, _problem(429)
    found = partners.resolve(token, lock=lock)
    if found is None:
        from ...models import LinkMiss

        db.session.add(LinkMiss(address=address))
        return None, _problem(404)
    return found, None


@bp.get("/<token>")
def show(token: str):
    found, problem = _load(token)
    return problem or _page(found)


@bp.post("/<token>/accept")
def accept(token: str):
    found, problem = _load(token, lock=True)
    if problem:
        return problem
    try:
        accepted = partners.accept(found)
    except partners.RequestGone as exc:
        db.session.rollback()
        return _gone(exc.why)
    db.session.commit()
    flash("Thank you: you accepted the deal." if accepted else "You have already accepted this deal.", "success")
    return redirect(url_for("partner.show", token=token))


@bp.post("/<token>/decline")
@csrf.exempt  # the form checks its own token, so a failure keeps the reason typed
def decline(token: str):
    found, problem = _load(token, lock=True)
    if problem:
        return problem
    form = DeclineForm()
    if not form.validate():
        return _page(found, decline_form=form, status=400)
    try:
        partners.decline(found, reason=form.reason.data)
    except partners.RequestGone as exc:
        db.session.rollback()
        return _gone(exc.why)
    db.session.commit()
    flash("Thank you: you declined the deal. The vendor will route it again.", "success")
    return redirect(url_for("partner.show", token=token))


def _gone(why: str):
    if why == "accepted":
        return _problem(409, "accepted")
    if why == "declined":
        return _problem(409, "declined")
    return _problem(410, why)
