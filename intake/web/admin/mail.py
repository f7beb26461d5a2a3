"""The channel manager's Mail page: every outbox message, its rendering, attachments and a retry."""

from io import BytesIO

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import defer, selectinload

from ...extensions import db
from ...mail import outbox
from ...models import Document
from ...models.outbox import OutboxAttachment, OutboxMessage
from ...vocabulary import MAIL_STATUS
from ..forms import ButtonForm
from ..inputs import page_number
from . import bp

PAGE_SIZE = 100

# The message's HTML is served on its own address into a sandboxed frame (no scripts, no
# forms, no same-origin access) under a policy of its own: the mail's inline styles apply,
# nothing loads from elsewhere (a tracking pixel, an internal address), and only the
# message page of Intake itself may frame it. The page around it keeps the strict policy.
MAIL_BODY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'; sandbox"
)


@bp.get("/mail")
def mail():
    status = request.args.get("status", "")
    page = page_number(request.args.get("page"))
    query = select(OutboxMessage).options(defer(OutboxMessage.text_body), defer(OutboxMessage.html_body))
    if status in MAIL_STATUS:
        query = query.where(OutboxMessage.status == status)
    messages = db.session.scalars(
        query.order_by(OutboxMessage.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    ).all()
    counts = {
        status: count
        for status, count in db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
    }
    return render_template(
        "admin/mail.html",
        messages=messages[:PAGE_SIZE],
        has_more=len(messages) > PAGE_SIZE,
        page=page,
        status=status if status in MAIL_STATUS else "",
        statuses=MAIL_STATUS.codes,
        counts=counts,
    )


def _message_or_404(message_id: int) -> OutboxMessage:
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .options(selectinload(OutboxMessage.attachments).defer(OutboxAttachment.data))
    ).one_or_none()
    return message or abort(404)


@bp.get("/mail/<id:message_id>")
def mail_message(message_id: int):
    message = _message_or_404(message_id)
    # Each file's size, its own bytes or the stored document's it refers to, counted in the database.
    sizes = {
        attachment_id: size
        for attachment_id, size in db.session.execute(
            select(OutboxAttachment.id, func.coalesce(func.length(OutboxAttachment.data), func.length(Document.data)))
            .outerjoin(Document, Document.id == OutboxAttachment.document_id)
            .where(OutboxAttachment.outbox_message_id == message.id)
        )
    }
    return render_template("admin/mail_message.html", message=message, sizes=sizes, button=ButtonForm())


@bp.get("/mail/<id:message_id>/html")
def mail_html(message_id: int):
    """The message's HTML as it was queued, for the preview frame on its page."""
    html = db.session.scalar(select(OutboxMessage.html_body).where(OutboxMessage.id == message_id))
    if html is None:
        abort(404)
    return (
        html,
        200,
        {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": MAIL_BODY_POLICY,
            "X-Frame-Options": "SAMEORIGIN",
        },
    )


@bp.get("/mail/<id:message_id>/attachments/<id:attachment_id>")
def mail_attachment(message_id: int, attachment_id: int):
    attachment = db.session.get(OutboxAttachment, attachment_id)
    content = attachment.content if attachment is not None else None
    if content is None or attachment.outbox_message_id != message_id:
        abort(404)
    return send_file(
        BytesIO(content),
        mimetype=attachment.content_type or "application/octet-stream",
        as_attachment=True,
        download_name=attachment.filename or f"attachment-{attachment.id}",
    )


@bp.post("/mail/<id:message_id>/retry")
def mail_retry(message_id: int):
    message = _message_or_404(message_id)
    if outbox.retry(message, actor=current_user):
        db.session.commit()
        flash(f"Message #{message.id} is queued again.", "success")
    else:
        flash(f"Message #{message.id} is {message.status}: only a failed or dead message can be retried.", "error")
    return redirect(url_for("admin.mail_message", message_id=message.id))
