"""The channel manager's Webhooks pages: endpoints of the vendor's own systems and their deliveries."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ...errors import FieldErrors
from ...extensions import db
from ...models import WebhookDelivery, WebhookEndpoint
from ...webhooks import endpoints
from ..errors import keeps_answers
from ..forms import ButtonForm
from ..pages import attach_errors, render_form
from . import bp
from .forms import WebhookActiveForm, WebhookDeleteForm, WebhookEndpointForm

RECENT = 50


@bp.get("/webhooks")
def webhooks():
    found = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
    counts = {
        (endpoint_id, status): count
        for endpoint_id, status, count in db.session.execute(
            select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count()).group_by(
                WebhookDelivery.endpoint_id, WebhookDelivery.status
            )
        )
    }
    return render_template("admin/webhooks.html", endpoints=found, counts=counts)


@bp.route("/webhooks/new", methods=["GET", "POST"])
@keeps_answers
def new_webhook():
    form = WebhookEndpointForm()
    if form.validate_on_submit():
        try:
            endpoint = endpoints.register(url=form.url.data, events=form.events.data, actor=current_user)
        except FieldErrors as exc:
            db.session.rollback()
            form.form_errors = attach_errors(form, exc.fields)
        else:
            db.session.commit()
            flash("Endpoint added. Copy its secret into the receiver to verify each signature.", "success")
            return redirect(url_for("admin.webhook", endpoint_id=endpoint.id))
    return render_form("admin/webhook_new.html", form)


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    return db.session.get(WebhookEndpoint, endpoint_id) or abort(404)


def _endpoint_page(endpoint: WebhookEndpoint, *, delete_form=None, status: int = 200):
    deliveries = db.session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(RECENT)
    ).all()
    page = render_template(
        "admin/webhook.html",
        endpoint=endpoint,
        deliveries=deliveries,
        button=ButtonForm(),
        active_form=WebhookActiveForm(formdata=None),
        delete_form=delete_form or WebhookDeleteForm(formdata=None),
    )
    return page, status


@bp.get("/webhooks/<id:endpoint_id>")
def webhook(endpoint_id: int):
    return _endpoint_page(_endpoint_or_404(endpoint_id))


@bp.post("/webhooks/<id:endpoint_id>/active")
def webhook_active(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    form = WebhookActiveForm()
    if not form.validate():
        flash("Choose to enable or to disable the endpoint.", "error")
    elif endpoints.set_active(endpoint, form.is_active.data == "yes", actor=current_user):
        db.session.commit()
        said = "Endpoint enabled: its waiting deliveries go out." if endpoint.is_active else "Endpoint disabled."
        flash(said, "success")
    return redirect(url_for("admin.webhook", endpoint_id=endpoint.id))


@bp.post("/webhooks/<id:endpoint_id>/delete")
def delete_webhook(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    form = WebhookDeleteForm()
    if not form.validate():
        return _endpoint_page(endpoint, delete_form=form, status=400)
    endpoints.delete(endpoint, actor=current_user)
    db.session.commit()
    flash("Endpoint deleted.", "success")
    return redirect(url_for("admin.webhooks"))


@bp.post("/webhooks/<id:endpoint_id>/deliveries/<id:delivery_id>/retry")
def retry_webhook_delivery(endpoint_id: int, delivery_id: int):
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint_id:
        abort(404)
    if endpoints.retry(delivery, actor=current_user):
        db.session.commit()
        flash(f"The {delivery.event_type} delivery is queued again.", "success")
    else:
        flash("Only a delivery given up on can be retried.", "error")
    return redirect(url_for("admin.webhook", endpoint_id=endpoint_id))
