"""Accept or decline a routed deal at /r/<token>: opening the link changes nothing; the buttons do."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ... import tokens
from ...deals import audiences, partner_requests, partners
from ...extensions import db
from ...models import LinkMiss
from ..errors import keeps_answers
from ..forms import ButtonForm, IntakeForm
from . import bp

# What a partner is told once it answered, by the mailed link or in the portal (in its language there).
ACCEPTED = _l("Thank you: you accepted the deal.")
ALREADY_ACCEPTED = _l("You have already accepted this deal.")
DECLINED = _l("Thank you: you declined the deal. The vendor will route it again.")


class DeclineForm(IntakeForm):
    reason = TextAreaField(
        "Why do you decline?", [DataRequired("Tell us why, so the deal can go to the right party."), Length(max=2000)]
    )


def _problem(status: int, why: str = ""):
    db.session.commit()
    return render_template(
        "partner/problem.html", status=status, why=why, vendor=current_app.config["VENDOR_NAME"]
    ), status


def _page(found, *, decline_form=None, status=200):
    token = request.view_args["token"]
    return request_page(
        found,
        layout="link/base.html",
        accept_url=url_for("partner.accept", token=token),
        decline_url=url_for("partner.decline", token=token),
        decline_form=decline_form,
        status=status,
    )


def request_page(found, *, layout: str, accept_url: str, decline_url: str, decline_form=None, status=200, **more):
    """A request as its partner reads it, by the mailed link or in the portal: its summary, and the
    buttons to accept or decline while it is open."""
    return render_template(
        "partner/request.html",
        layout=layout,
        r=found,
        s=audiences.partner_view(found.decision, found.partner_id),
        state=partner_requests.standing(found),
        accept_url=accept_url,
        decline_url=decline_url,
        accept_form=ButtonForm(),
        decline_form=decline_form or DeclineForm(formdata=None),
        vendor=current_app.config["VENDOR_NAME"],
        **{"outcome_form": None, **more},
    ), status


def _load(token: str):
    address = request.remote_addr or "unknown"
    if tokens.is_guessing(address):
        return None, _problem(429)
    found = partner_requests.resolve(token)
    if found is None:
        db.session.add(LinkMiss(address=address))
        return None, _problem(404)
    return found, None


@bp.get("/<token>")
def show(token: str):
    found, problem = _load(token)
    return problem or _page(found)


def answer(found, *, decline_form: "DeclineForm | None" = None) -> None:
    """Accept the request, or decline it with the checked form's reason, commit, and say so: the one
    answer of the mailed link and of the portal. Raises partners.RequestGone, rolled back, when it
    can no longer be answered."""
    try:
        if decline_form is None:
            said = ACCEPTED if partners.accept(found) else ALREADY_ACCEPTED
        else:
            partners.decline(found, reason=decline_form.reason.data)
            said = DECLINED
    except partners.RequestGone:
        db.session.rollback()
        raise
    db.session.commit()
    flash(said, "success")


@bp.post("/<token>/accept")
def accept(token: str):
    found, problem = _load(token)
    if problem:
        return problem
    try:
        answer(found)
    except partners.RequestGone as exc:
        return _problem(exc.status, exc.why)
    return redirect(url_for("partner.show", token=token))


@bp.post("/<token>/decline")
@keeps_answers
def decline(token: str):
    found, problem = _load(token)
    if problem:
        return problem
    form = DeclineForm()
    if not form.validate():
        return _page(found, decline_form=form, status=400)
    try:
        answer(found, decline_form=form)
    except partners.RequestGone as exc:
        return _problem(exc.status, exc.why)
    return redirect(url_for("partner.show", token=token))
