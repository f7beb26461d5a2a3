"""Command-line tools: `flask --app intake users …`, `… import …`, `… demo …` and the others registered here."""

import sys

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import func, select

from .extensions import db
from .models import User
from .vocabulary import API_TOKEN_SCOPE, IMPORT_KIND, USER_ROLE


def init_app(app: Flask) -> None:
    from .mail.cli import outbox
    from .routing.cli import routing

    routing.add_command(explain)
    app.cli.add_command(users)
    app.cli.add_command(demo)
    app.cli.add_command(routing)
    app.cli.add_command(partners)
    app.cli.add_command(outbox)
    app.cli.add_command(import_csv)
    app.cli.add_command(tokens)


@click.group(help="Manage the people who sign in.")
def users():
    pass


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(USER_ROLE.codes), default="rep", show_default=True)
@click.option("--name", default="", help="Display name (default: the part of the email before @).")
@click.password_option(help="Prompted for when not given.")
def create_user(email: str, role: str, name: str, password: str):
    """Create a user who signs in with EMAIL."""
    from .admin import services

    if len(password) < 10:
        raise click.UsageError("The password needs at least 10 characters.")
    try:
        user = services.create_user(
            email=email, name=name or email.split("@")[0], role=role, password=password, actor=None
        )
    except services.Refused as exc:
        raise click.UsageError(exc.message) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


@click.command("explain")
@click.argument("deal_id", type=int)
@with_appcontext
def explain(deal_id: int):
    """Print a deal's decision in force and its trace (or the engine's proposal if none yet)."""
    from .deals import audiences, decisions
    from .deals import snapshot as snapshots
    from .errors import DomainError
    from .models import Deal

    deal = db.session.get(Deal, deal_id)
    if deal is None:
        raise click.UsageError(f"There is no deal {deal_id}.")
    version = decisions.current(deal)
    if version is not None:
        click.echo(f"Deal {deal.id} ({deal.title}), decision version {version.version} ({version.kind}):")
        decision = version.routing
        names = audiences.snapshot_names(snapshots.of(version))
    else:
        try:
            proposal = decisions.propose(deal)
        except DomainError as exc:
            raise click.UsageError(f"Deal {deal_id}: {exc.message}") from None
        click.echo(f"Deal {deal.id} ({deal.title}) is not routed; the engine would decide:")
        decision = proposal.decision
        names = {pid: p.name for pid, p in proposal.facts.partners.items()}
    words = audiences.describe(decision, names, audiences.vendor_name())
    click.echo(f"  {words['leader']} leads; {words['fulfilment']} fulfils; status {decision.status}.")
    for step in decision.trace:
        click.echo(f"  - {step.rule}: {step.says}")
    click.echo(decision.to_json())


@click.group(help="Partners' answers to routed deals.")
def partners():
    pass


@partners.command("sweep")
@with_appcontext
def sweep_partners():
    """Remind partners whose deadline nears and alert the channel manager to passed ones, and remind of and
    expire registrations waiting without progress (run it every few minutes)."""
    from .deals import sweeper

    reminders, passed, registrations_reminded, expired = sweeper.sweep()
    db.session.commit()
    click.echo(
        f"{reminders} reminder(s) queued; {passed} deadline(s) passed; "
        f"{registrations_reminded} registration reminder(s); {expired} registration(s) expired."
    )


@click.group(help="Personal API tokens.")
def tokens():
    pass


def _signs_in_with(email: str):
    """The member of staff, or else the partner user, who signs in with this email; None for nobody."""
    from .models import PartnerUser

    address = email.strip().lower()
    return db.session.scalar(select(User).where(func.lower(User.email) == address)) or db.session.scalar(
        select(PartnerUser).where(func.lower(PartnerUser.email) == address)
    )


@tokens.command("create")
@click.argument("email")
@click.option("--scope", type=click.Choice(API_TOKEN_SCOPE.codes), default="read", show_default=True)
@click.option("--name", default="command line", show_default=True, help="Where the token is used.")
@with_appcontext
def create_token(email: str, scope: str, name: str):
    """Make a token for the member of staff or partner user who signs in with EMAIL, and print it once."""
    from . import api_tokens
    from .errors import FieldErrors

    owner = _signs_in_with(email)
    if owner is None or not owner.is_active:
        raise click.UsageError(f"No active user signs in with {email}.")
    try:
        row, token = api_tokens.create(owner, name=name, scope=scope, actor=None)
    except FieldErrors as exc:
        raise click.UsageError(" ".join(exc.fields.values())) from None
    db.session.commit()
    click.echo(
        f"Token {row.name!r} ({API_TOKEN_SCOPE.word(scope)}) for {owner.email}; it is not shown again:", err=True
    )
    click.echo(token)


@tokens.command("revoke")
@click.argument("email")
@click.argument("prefix")
@with_appcontext
def revoke_token(email: str, prefix: str):
    """Revoke the token of EMAIL whose first characters are PREFIX (as `tokens list` shows them)."""
    from . import api_tokens

    owner = _signs_in_with(email)
    found = [row for row in api_tokens.of(owner) if row.prefix == prefix] if owner else []
    if len(found) != 1:
        raise click.UsageError(f"{email} has no token {prefix}.")
    revoked = api_tokens.revoke(found[0], actor=None)
    db.session.commit()
    click.echo(f"Revoked {found[0].name!r}." if revoked else f"{found[0].name!r} was revoked already.")


@tokens.command("list")
@click.argument("email")
@with_appcontext
def list_tokens(email: str):
    """List the tokens of EMAIL: prefix, name, scope, made, last used, revoked."""
    from . import api_tokens

    owner = _signs_in_with(email)
    if owner is None:
        raise click.UsageError(f"No user signs in with {email}.")
    for row in api_tokens.of(owner):
        used = row.last_used_at.strftime("%Y-%m-%d %H:%M") if row.last_used_at else "never"
        revoked = f", revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else ""
        click.echo(f"{row.prefix}  {row.name}  {row.scope}  made {row.created_at:%Y-%m-%d}, last used {used}{revoked}")


@click.command("import")
@click.argument("kind", type=click.Choice(IMPORT_KIND.codes))
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check the file and print what would change; import nothing.")
@click.option("--quiet", is_flag=True, help="No progress bar, no list of changes: only the summary.")
@with_appcontext
def import_csv(kind: str, file, dry_run: bool, quiet: bool):
    """Import partners, accounts or relationships from a CSV FILE (the header names the columns).

    Every row is checked first: any bad row is reported with its line and reason, and nothing is
    imported. Otherwise all rows are imported in one transaction; records that exist already (by
    normalised name or domain) are updated, not duplicated, and a blank cell leaves a field as it is.
    """
    from . import imports

    data = file.read()
    bars: dict[str, click.progressbar] = {}

    err = sys.stderr

    def progress(phase: str, step: int, total: int) -> None:
        if quiet or not err.isatty():
            return
        if phase not in bars:
            for bar in bars.values():
                bar.render_finish()
            label = "Checking rows" if phase == "checking" else "Writing"
            bars[phase] = click.progressbar(length=max(total, 1), label=label, file=err)
        bars[phase].update(step)

    try:
        report = imports.run(kind, data, actor=None, dry_run=dry_run, source=file.name, progress=progress)
    except imports.Unreadable as exc:
        raise click.ClickException(f"{exc} Nothing was imported.") from None
    for bar in bars.values():
        bar.render_finish()
    if report.problems:
        for problem in report.problems:
            click.echo(f"line {problem.line}: {problem.reason}", err=True)
        db.session.rollback()
        raise click.ClickException(
            f"{len(report.problems)} row(s) cannot be imported, as listed above. Nothing was imported."
        )
    if dry_run and not quiet:
        for change in report.changes:
            if change.action != "unchanged":
                click.echo(change.describe())
    if dry_run:
        db.session.rollback()
        click.echo(f"Dry run: {report.summary()} Nothing was imported.")
        return
    db.session.commit()
    click.echo(f"Imported: {report.summary(done=True)}")


@click.group(help="Demo data for trying Intake out.")
def demo():
    pass


@demo.command("load")
def load_demo():
    """Load the demo data into an empty database; leave a database with users alone."""
    from flask import current_app

    from . import demo_data

    if current_app.config["INTAKE_ENV"] == "production":
        raise click.UsageError("Demo data is not loaded in production.")
    if db.session.scalar(select(func.count()).select_from(User)):
        click.echo("The database already has users; demo data not loaded.")
        return
    demo_data.load()
    db.session.commit()
    click.echo("Demo data loaded.")
