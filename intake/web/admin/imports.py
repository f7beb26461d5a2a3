"""The import page: the channel manager uploads a CSV of partners, accounts or relationships, checks it and
imports it. Bigger files go through `flask --app intake import`, which shows its progress."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField

from ... import imports
from ...extensions import db
from ...vocabulary import IMPORT_KIND
from ..errors import keeps_answers
from ..forms import IntakeForm, vocabulary_choices
from ..inputs import accepts_upload
from . import bp

SHOWN = 200  # problems or changes listed on the page; the command line lists them all
TOO_LARGE = (
    "The import page takes files up to {limit_mb} MB. Import a bigger file from the command line, where "
    "you see its progress: flask --app intake import accounts FILE.csv (or partners, relationships)."
)


class ImportForm(IntakeForm):
    kind = SelectField("What the file holds", choices=vocabulary_choices(IMPORT_KIND))
    file = FileField("CSV file", [FileRequired("Choose the CSV file to import.")])


@bp.route("/import", methods=["GET", "POST"])
@accepts_upload("IMPORT_UPLOAD_LIMIT", TOO_LARGE)
@keeps_answers
def import_page():
    """Check a file (what would change, or each bad row and why), or import it: all of it, or nothing."""
    form = ImportForm()
    report, unreadable, status = None, None, 200
    if form.validate_on_submit():
        checking = request.form.get("action") != "import"
        upload = form.file.data
        try:
            report = imports.run(
                form.kind.data, upload.read(), actor=current_user, dry_run=checking, source=upload.filename or ""
            )
        except imports.Unreadable as exc:
            unreadable, status = str(exc), 400
        if report is not None and report.problems:
            status = 400
        if report is not None and report.imported:
            db.session.commit()
            flash(f"Imported. {report.summary(done=True)}", "success")
            return redirect(url_for("admin.import_page"))
        db.session.rollback()
    elif form.errors:
        status = 400
    page = render_template(
        "admin/import.html",
        form=form,
        report=report,
        unreadable=unreadable,
        columns=imports.COLUMNS,
        shown=SHOWN,
    )
    return page, status
