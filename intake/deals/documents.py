"""The summary PDFs of a decision version: rendered in the outbox worker, once per copy, from the snapshot."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import DomainError
from ..extensions import db
from ..mail import attachments
from ..models import Decision as Version
from ..models import Document
from ..models.types import utcnow
from . import audiences


def copies(version: Version) -> list[str]:
    """The copies a version has: the vendor's, and one for each partner with a role."""
    return ["vendor", *(f"partner-{pid}" for pid in version.routing.role_partner_ids())]


def view(version: Version, copy: str) -> dict:
    """The audience view one copy renders."""
    if copy == "vendor":
        return audiences.staff_view(version)
    kind, _, partner_id = copy.partition("-")
    if kind == "partner" and partner_id.isdigit() and int(partner_id) in version.routing.role_partner_ids():
        return audiences.partner_view(version, int(partner_id))
    raise DomainError(f"There is no {copy} copy of this decision.")


def build(params: dict) -> attachments.Kept:
    """The attachment builder: the stored PDF for (decision version, copy), rendered the first time; the message
    refers to it (every message of a copy sends the one stored document)."""
    kept = find(params)
    if kept is not None:
        return kept
    version = db.session.get(Version, int(params["decision_id"]))
    copy = params["copy"]
    from .. import pdf  # WeasyPrint is loaded by the worker that renders, never by a web process

    filename = f"deal-{version.deal_id}-v{version.version}-{copy}.pdf"
    html = render_template("pdf/deal_summary.html", s=view(version, copy), generated_at=utcnow())
    document = Document(decision_id=version.id, copy=copy, filename=filename, data=pdf.render_pdf(html))
    try:
        with db.session.begin_nested():
            db.session.add(document)
    except IntegrityError:  # another worker stored it first: use theirs
        document = stored(version.id, copy)
    return attachments.Kept(document.filename, "application/pdf", document.id)


def find(params: dict) -> attachments.Kept | None:
    """The stored PDF for (decision version, copy), if it was rendered: its name and id (the bytes are read when
    the message is sent, never copied)."""
    found = db.session.execute(
        select(Document.id, Document.filename).where(
            Document.decision_id == int(params["decision_id"]), Document.copy == params["copy"]
        )
    ).one_or_none()
    return attachments.Kept(found.filename, "application/pdf", found.id) if found else None


def stored(version_id: int, copy: str) -> Document | None:
    return db.session.scalar(select(Document).where(Document.decision_id == version_id, Document.copy == copy))


def of_version(version: Version) -> list[Document]:
    return list(db.session.scalars(select(Document).where(Document.decision_id == version.id).order_by(Document.copy)))
