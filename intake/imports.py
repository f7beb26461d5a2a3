"""Importing partners, accounts and relationships from CSV: every row checked first, then all or nothing.

The channel manager keeps partners and accounts in a spreadsheet or a CRM; an export of it comes in
here, from `flask --app intake import KIND FILE.csv` or the upload page. The file is read whole and
every row validated before anything is written: one bad row and the report gives each bad row's
line and reason and nothing is imported. Otherwise every change is written in the caller's one
transaction. A record that already exists is found by the keys the routing engine matches on — a
partner by its normalised name, an account by its registrable domain and else its normalised name —
and updated instead of duplicated; a row that changes nothing writes nothing, so importing the same
file twice changes nothing the second time. A blank cell leaves a field as it is.

Imported relationships are the vendor side's own knowledge of who works with whom (source `rep`,
on the account, not on a deal), which the engine weighs as PRODUCT.md says: below what the customer
states.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pycountry
from flask import current_app
from sqlalchemy import false, func, insert, select, text, update

from . import audit
from .extensions import db
from .matching import InvalidDomain, normalise_company, normalise_domain, registrable_domain
from .models import Account, Partner, Relationship, User
from .models.types import utcnow
from .vocabulary import IMPORT_KIND, SIZE_BAND, STRENGTH, TIER

BATCH = 2000  # records written per statement batch
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Told how far the import is, in steps: (phase, done since last told, of how many), where the phase is
# "checking" (rows) and then "writing" (records).
Progress = Callable[[str, int, int], None]


class Unreadable(ValueError):
    """The file as a whole cannot be read: not UTF-8, no header, missing or unknown columns."""


@dataclass(frozen=True)
class Problem:
    line: int  # the file's line, the header being line 1; 0 for the file as a whole
    reason: str


@dataclass
class Change:
    line: int
    action: str  # create, update or unchanged
    label: str  # the record, as a person reads it
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field → (was, becomes)

    def what(self) -> str:
        if self.action == "create":
            return f"create {self.label}"
        if self.action == "unchanged":
            return f"{self.label} unchanged"
        said = "; ".join(f"{name} {_shown(was)} → {_shown(becomes)}" for name, (was, becomes) in self.fields.items())
        return f"update {self.label}: {said}"

    def describe(self) -> str:
        return f"line {self.line}: {self.what()}"


def _shown(value) -> str:
    if value in (None, "", []):
        return "(blank)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@dataclass
class Report:
    kind: str
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    imported: bool = False

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)

    def summary(self, *, done: bool = False) -> str:
        created, updated, unchanged = self.count("create"), self.count("update"), self.count("unchanged")
        noun = IMPORT_KIND.word(self.kind)
        create, update = ("created", "updated") if done else ("to create", "to update")
        return f"{self.rows} {noun} rows: {created} {create}, {updated} {update}, {unchanged} unchanged."


# ---------------------------------------------------------------- reading the file


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False
    help: str = ""


COLUMNS: dict[str, tuple[Column, ...]] = {
    "partners": (
        Column("name", True, "the partner's company name"),
        Column("contact_name"),
        Column("contact_email"),
        Column("countries", help="ISO codes, e.g. DE, AT"),
        Column("verticals", help="separated by ;"),
        Column("tier", help="platinum, gold, silver or registered"),
        Column("active", help="yes or no"),
    ),
    "accounts": (
        Column("name", True, "the company's name"),
        Column("domain", help="its web domain, e.g. example.com"),
        Column("country", help="ISO code, e.g. GB"),
        Column("vertical"),
        Column("size_band", help="employees: 1-49, 50-249, 250-999, 1000-4999 or 5000+"),
        Column("owner", help="the email of the rep who owns it"),
        Column("vendor_strength", help="0 to 5: the vendor's own relationship"),
    ),
    "relationships": (
        Column("account", True, "the account's domain, or its name"),
        Column("partner", True, "the partner's name"),
        Column("strength", True, "0 none, 1 aware, 2 transactional, 3 working, 4 trusted, 5 strategic"),
        Column("since", help="YYYY-MM-DD"),
        Column("notes"),
    ),
}


def read_rows(data: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and (line, row) of each non-blank row; Unreadable when the file as a whole cannot be read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise Unreadable(
            f"The file is not UTF-8 text (line {line} has a byte UTF-8 does not allow). "
            "Save it as “CSV UTF-8” and import it again."
        ) from None
    if "\x00" in text:
        raise Unreadable("The file holds NUL characters: it is not a CSV text file.")
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise Unreadable("The file is empty: its first line should name the columns.")
        names = [cell.strip().lower().replace(" ", "_") for cell in header]
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise Unreadable(f"Line {reader.line_num} is not valid CSV: {exc}.") from None
    return names, [(line, _row(names, cells)) for line, cells in rows]


def _row(names: list[str], cells: list[str]) -> dict[str, str]:
    row = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(names)}
    if len(cells) > len(names):
        row["\x00extra"] = "yes"
    return row


def check_columns(kind: str, names: list[str]) -> None:
    known = {column.name for column in COLUMNS[kind]}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise Unreadable(
            f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown) or '(blank)'}. "
            f"Importing {kind} takes the columns {', '.join(c.name for c in COLUMNS[kind])}."
        )
    if len(set(names)) < len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise Unreadable(f"The column {', '.join(twice)} appears twice.")
    missing = [c.name for c in COLUMNS[kind] if c.required and c.name not in names]
    if missing:
        raise Unreadable(f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.")


# ---------------------------------------------------------------- reading one cell


def _text(value: str, limit: int, what: str) -> str:
    if len(value) > limit:
        raise ValueError(f"{what} is longer than {limit} characters")
    if _CONTROL.search(value):
        raise ValueError(f"{what} holds control characters")
    return value


def _country(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"“{value}” is not an ISO country code such as GB or DE")
    return code


def _countries(value: str) -> list[str]:
    return sorted({_country(code) for code in re.split(r"[,;\s]+", value) if code})


def _one_of(value: str, allowed: Iterable[str], what: str) -> str:
    for choice in allowed:
        if value.casefold() == str(choice).casefold():
            return choice
    raise ValueError(f"“{value}” is not a {what}: {', '.join(str(a) for a in allowed)}")


def _strength(value: str) -> int:
    for code in STRENGTH:
        if value == str(code) or value.casefold() == STRENGTH.word(code).casefold():
            return code
    raise ValueError(f"“{value}” is not a strength: 0 to 5, or none, aware, transactional, working, trusted, strategic")


def _yes_no(value: str) -> bool:
    lowered = value.casefold()
    if lowered in ("yes", "y", "true", "1", "active"):
        return True
    if lowered in ("no", "n", "false", "0", "inactive"):
        return False
    raise ValueError(f"“{value}” is not yes or no")


def _date(value: str) -> date:
    try:
        found = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"“{value}” is not a date written YYYY-MM-DD") from None
    if found > date.today():
        raise ValueError(f"{value} is in the future")
    return found


def _domain(value: str) -> str:
    try:
        return normalise_domain(value)
    except InvalidDomain:
        raise ValueError(f"“{value}” is not a web domain such as example.com") from None


def _email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError(f"“{value}” is not an email address")
    return value


# ---------------------------------------------------------------- planning and writing


class _Plan:
    """What a file would do: each row's values checked against what is stored, nothing written."""

    def __init__(self, kind: str, report: Report, progress: Progress | None = None):
        self.kind = kind
        self.report = report
        self.creates: list[dict] = []
        self.updates: list[dict] = []
        self.progress = progress
        self.required = {column.name for column in COLUMNS[kind] if column.required}

    def problem(self, line: int, reason: str) -> None:
        self.report.problems.append(Problem(line, reason))

    def cells(self, line: int, row: dict[str, str], readers: dict[str, Callable[[str], Any]]) -> dict | None:
        """The row's non-blank cells read; None (with the reasons noted) when one cannot be."""
        if self.progress:
            self.progress("checking", 1, self.report.rows)
        values, bad = {}, []
        if row.get("\x00extra"):
            bad.append("it has more cells than the header has columns")
        for name, reader in readers.items():
            raw = row.get(name, "")
            if not raw:
                if name in self.required:
                    bad.append(f"{name}: it is empty")
                continue
            try:
                values[name] = reader(raw)
            except ValueError as exc:
                bad.append(f"{name}: {exc}")
        if bad:
            self.problem(line, "; ".join(bad))
            return None
        return values

    def compare(self, line: int, label: str, record, values: dict, keys: dict) -> None:
        """Note the row as a creation (no record), an update of the fields that differ, or unchanged."""
        if record is None:
            self.report.changes.append(Change(line, "create", label))
            self.creates.append({**values, **keys})
            return
        differs = {
            name: (getattr(record, name), value) for name, value in values.items() if getattr(record, name) != value
        }
        if not differs:
            self.report.changes.append(Change(line, "unchanged", label))
            return
        self.report.changes.append(Change(line, "update", label, differs))
        self.updates.append({"id": record.id, **{name: value for name, (_, value) in differs.items()}, **keys})


def _partners(plan: _Plan, rows) -> None:
    readers = {
        "name": lambda v: _text(v, 160, "the name"),
        "contact_name": lambda v: _text(v, 120, "the contact's name"),
        "contact_email": _email,
        "countries": _countries,
        "verticals": lambda v: sorted(
            {_one_of(x.strip(), current_app.config["VERTICALS"], "vertical") for x in v.split(";") if x.strip()}
        ),
        "tier": lambda v: _one_of(v, list(TIER), "tier"),
        "active": _yes_no,
    }
    stored = {p.name_key: p for p in db.session.scalars(select(Partner))}
    seen: dict[str, int] = {}
    for line, row in rows:
        values = plan.cells(line, row, readers)
        if values is None:
            continue
        key = normalise_company(values["name"])
        if not key:
            plan.problem(line, "name: it has no letters or digits to match it by")
            continue
        if key in seen:
            plan.problem(line, f"the same partner as line {seen[key]} ({values['name']})")
            continue
        seen[key] = line
        if "active" in values:
            values["is_active"] = values.pop("active")
        partner = stored.get(key)
        if partner is None:
            values = {"contact_name": "", "contact_email": "", "countries": [], "verticals": [], **values}
        plan.compare(line, f"partner {values['name']}", partner, values, {"name_key": key})


def _accounts(plan: _Plan, rows) -> None:
    owners = {
        email.lower(): user_id
        for user_id, email in db.session.execute(select(User.id, User.email).where(User.is_active.is_(True)))
    }

    def owner(value: str) -> int:
        email = _email(value)
        if email not in owners:
            raise ValueError(f"{email} is not an active user of Intake")
        return owners[email]

    readers = {
        "name": lambda v: _text(v, 160, "the name"),
        "domain": _domain,
        "country": _country,
        "vertical": lambda v: _one_of(v, current_app.config["VERTICALS"], "vertical"),
        "size_band": lambda v: _one_of(v, list(SIZE_BAND), "size band"),
        "owner": owner,
        "vendor_strength": _strength,
    }
    by_domain: dict[str, Account] = {}
    by_name: dict[str, list[Account]] = {}
    # Plain rows, not objects: what is compared, for every account (a file may hold 100,000 of them).
    stored = select(
        Account.id, Account.domain_key, Account.name_key, *(getattr(Account, name) for name in ACCOUNT_FIELDS)
    )
    for account in db.session.execute(stored):
        if account.domain_key:
            by_domain[account.domain_key] = account
        by_name.setdefault(account.name_key, []).append(account)
    seen: dict[tuple[str, str], int] = {}
    for line, row in rows:
        values = plan.cells(line, row, readers)
        if values is None:
            continue
        name_key = normalise_company(values["name"])
        if not name_key:
            plan.problem(line, "name: it has no letters or digits to match it by")
            continue
        keys = {"name_key": name_key}
        if "owner" in values:
            values["owner_id"] = values.pop("owner")
        if "domain" in values:
            domain_key = registrable_domain(values["domain"])
            keys["domain_key"] = domain_key
            seen_as = ("domain", domain_key)
            account = by_domain.get(domain_key)
            if account is None:
                # The same company by name, if it has no domain yet; another domain is another company.
                account = next((a for a in by_name.get(name_key, []) if a.domain_key is None), None)
        else:
            seen_as = ("name", name_key)
            named = by_name.get(name_key, [])
            if len(named) > 1:
                plan.problem(
                    line, f"{len(named)} accounts are called {values['name']}: give the domain of the one meant"
                )
                continue
            account = named[0] if named else None
        if seen_as in seen or (account is not None and ("id", account.id) in seen):
            first = seen.get(seen_as) or seen.get(("id", account.id))
            plan.problem(line, f"the same account as line {first} ({values.get('domain') or values['name']})")
            continue
        seen[seen_as] = line
        if account is not None:
            seen[("id", account.id)] = line
        label = f"account {values['name']}" + (f" ({values['domain']})" if values.get("domain") else "")
        plan.compare(line, label, account, values, keys)


def _relationships(plan: _Plan, rows) -> None:
    partners = {p.name_key: p for p in db.session.scalars(select(Partner))}
    by_domain, by_name = {}, {}
    for account_id, domain_key, name_key in db.session.execute(
        select(Account.id, Account.domain_key, Account.name_key)
    ):
        if domain_key:
            by_domain[domain_key] = account_id
        by_name.setdefault(name_key, []).append(account_id)
    stated = {}
    for row in db.session.scalars(
        select(Relationship)
        .where(Relationship.source == "rep", Relationship.deal_id.is_(None), Relationship.partner_id.is_not(None))
        .order_by(Relationship.id)
    ):
        stated[(row.account_id, row.partner_id)] = row  # the latest one stands
    readers = {
        "account": lambda v: _text(v, 253, "the account"),
        "partner": lambda v: _text(v, 160, "the partner"),
        "strength": _strength,
        "since": _date,
        "notes": lambda v: _text(v, 2000, "the notes"),
    }
    seen: dict[tuple[int, int], int] = {}
    for line, row in rows:
        values = plan.cells(line, row, readers)
        if values is None:
            continue
        account_id = _account_named(values["account"], by_domain, by_name)
        partner = partners.get(normalise_company(values["partner"]))
        reasons = []
        if isinstance(account_id, str):
            reasons.append(account_id)
        if partner is None:
            reasons.append(f"no partner is called {values['partner']}: import partners first")
        if reasons:
            plan.problem(line, "; ".join(reasons))
            continue
        if (account_id, partner.id) in seen:
            plan.problem(line, f"the same relationship as line {seen[account_id, partner.id]}")
            continue
        seen[account_id, partner.id] = line
        label = f"{partner.name} with {values['account']}"
        fields = {name: values[name] for name in ("strength", "since", "notes") if name in values}
        keys = {"account_id": account_id, "partner_id": partner.id, "source": "rep"}
        plan.compare(line, label, stated.get((account_id, partner.id)), fields, keys)


def _account_named(value: str, by_domain: dict, by_name: dict) -> int | str:
    """The account a cell means, by domain when it is one, else by name; a reason when there is none or several."""
    if "." in value and " " not in value:
        try:
            found = by_domain.get(registrable_domain(normalise_domain(value)))
        except InvalidDomain:
            found = None
        if found is not None:
            return found
    named = by_name.get(normalise_company(value), [])
    if len(named) == 1:
        return named[0]
    if named:
        return f"{len(named)} accounts are called {value}: give the domain of the one meant"
    return f"no account {value}: import accounts first"


ACCOUNT_FIELDS = ("name", "domain", "country", "vertical", "size_band", "owner_id", "vendor_strength")
PLANNERS = {"partners": _partners, "accounts": _accounts, "relationships": _relationships}
MODELS = {"partners": Partner, "accounts": Account, "relationships": Relationship}
# What a created record holds where the file says nothing (every row written with the same columns).
CREATED = {
    "partners": {"contact_name": "", "contact_email": "", "countries": [], "verticals": [], "tier": "registered",
                 "is_active": True},
    "accounts": {"domain": None, "domain_key": None, "country": None, "vertical": None, "size_band": None,
                 "owner_id": None, "vendor_strength": None},
    "relationships": {"since": None, "notes": "", "partner_name": "", "does_what": "", "position": 0, "deal_id": None},
}  # fmt: skip


def check(kind: str, data: bytes, progress: Progress | None = None) -> tuple[Report, _Plan]:
    """Read and validate the whole file against what is stored; write nothing."""
    if kind not in PLANNERS:
        raise Unreadable(f"Intake imports {', '.join(PLANNERS)}, not {kind}.")
    report = Report(kind)
    names, rows = read_rows(data)
    check_columns(kind, names)
    report.rows = len(rows)
    if not rows:
        raise Unreadable("The file has a header but no rows.")
    plan = _Plan(kind, report, progress)
    PLANNERS[kind](plan, rows)
    return report, plan


IMPORT_LOCK = 0x1A7A_0001  # PostgreSQL advisory lock key of imports


def _one_import_at_a_time() -> None:
    """Hold the import lock for the rest of the transaction: a second import (another tab, another server) waits,
    then finds what the first wrote, so a file sent twice creates nothing twice."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK})
    else:
        # A write that changes nothing takes SQLite's write lock all the same.
        db.session.execute(update(Partner).where(false()).values(name=Partner.name))


def _fingerprint(kind: str) -> tuple:
    """What a plan of `kind` read, in a few numbers: equal before and after, the plan still holds."""
    tables = {"partners": (Partner,), "accounts": (Account, User), "relationships": (Relationship, Account, Partner)}
    found = []
    for model in tables[kind]:
        found += db.session.execute(select(func.count(), func.max(model.id))).one()
        if hasattr(model, "updated_at"):
            found.append(db.session.scalar(select(func.max(model.updated_at))))
    return tuple(found)


def run(
    kind: str,
    data: bytes,
    *,
    actor: User | None,
    dry_run: bool = False,
    source: str = "",
    progress: Progress | None = None,
) -> Report:
    """Check the file, and unless it has problems or this is a dry run, write every change (the caller commits).

    Unreadable for a file that cannot be read at all; otherwise the report says what was (or would be) done.
    """
    if dry_run:
        return check(kind, data, progress)[0]
    # Checked before the lock, so the lock is held for the writing alone; checked again under it only if
    # what the plan read has changed meanwhile (another import, an edit, a merge).
    seen = _fingerprint(kind)
    report, plan = check(kind, data, progress)
    if report.problems:
        return report
    _one_import_at_a_time()
    if _fingerprint(kind) != seen:
        report, plan = check(kind, data)
        if report.problems:
            return report
    model = MODELS[kind]
    writes = len(plan.creates) + len(plan.updates)
    now = utcnow()
    stamp = {"created_at": now} | ({"updated_at": now} if kind == "accounts" else {})
    for start in range(0, len(plan.creates), BATCH):
        batch = [{**CREATED[kind], **stamp, **values} for values in plan.creates[start : start + BATCH]]
        # Core's executemany on the table: the ORM's bulk path costs more than the rows themselves.
        db.session.execute(insert(model.__table__), batch)
        if progress:
            progress("writing", len(batch), writes)
    touched = {"updated_at": now} if kind == "accounts" else {}
    alike: dict[frozenset, list[dict]] = {}  # updates of the same fields, written together
    for values in plan.updates:
        alike.setdefault(frozenset(values), []).append({**values, **touched})
    for batch_of_alike in alike.values():
        for start in range(0, len(batch_of_alike), BATCH):
            batch = batch_of_alike[start : start + BATCH]
            db.session.execute(update(model), batch)
            if progress:
                progress("writing", len(batch), writes)
    if plan.creates or plan.updates:
        audit.record(
            actor,
            "import",
            0,
            f"{kind} imported",
            {"file": source[:200], "created": len(plan.creates), "updated": len(plan.updates)},
        )
    db.session.expire_all()
    report.imported = True
    return report
