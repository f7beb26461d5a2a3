"""Which partners a form's select offers, and the names suggested as a partner's name is typed.

While Intake has at most PARTNER_CHOICES active partners, a select lists them all. With more, such a list
would be thousands of options in every partner select of the page (a customer's phone, a rep in a call), so
the select lists only the partners the form already names, and any other partner is typed by name: the page
suggests names as they are typed (`suggested`, with intake.js), and saving takes a typed name for the partner
of ours it names, by the engine's name key (matching.our_partner_named), as if it had been chosen.
"""

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Row, select

from ..extensions import db
from ..matching import normalise_company
from ..models import Partner

SUGGESTIONS = 10  # names offered for what has been typed so far
_COLUMNS = (Partner.id, Partner.name, Partner.countries, Partner.is_active)


@dataclass(frozen=True)
class Offered:
    partners: list[Row]  # by name: (id, name, countries, is_active); a filter's (id, name)
    complete: bool  # every partner it could list is listed; if not, the others are typed by name


def _every_one_if_few(query) -> list[Row] | None:
    """The rows of `query` if there are at most PARTNER_CHOICES of them (one read of at most one more), else None."""
    limit = current_app.config["PARTNER_CHOICES"]
    rows = list(db.session.execute(query.order_by(Partner.name, Partner.id).limit(limit + 1)))
    return rows if len(rows) <= limit else None


def offered(*keep: int | None, active_only: bool = False) -> Offered:
    """The partners to list: every active one while there are few enough, else only `keep` (the ones the form
    names). Kept partners that are no longer active are listed too, unless `active_only`."""
    every = _every_one_if_few(select(*_COLUMNS).where(Partner.is_active.is_(True)))
    complete = every is not None
    listed = every or []
    wanted = {k for k in keep if k} - {row.id for row in listed}
    if wanted:
        query = select(*_COLUMNS).where(Partner.id.in_(wanted))
        if active_only:
            query = query.where(Partner.is_active.is_(True))
        listed = sorted([*listed, *db.session.execute(query)], key=lambda row: (row.name, row.id))
    return Offered(listed, complete)


def for_filter(chosen: int | None) -> Offered:
    """A filter's partners: every partner, active or not (both have deals to show), while there are few enough to
    list; else only the one chosen, and another is typed by name (`named`)."""
    columns = (Partner.id, Partner.name)
    every = _every_one_if_few(select(*columns))
    if every is not None:
        return Offered(every, True)
    return Offered(list(db.session.execute(select(*columns).where(Partner.id == chosen))) if chosen else [], False)


def named(typed: str) -> int | None:
    """The partner, active or not, that a name typed in a filter names (by the engine's name key), if any: a
    name no partner has filters by no partner, and the filter says so."""
    key = normalise_company(typed[:160])
    if not key:
        return None
    return db.session.scalar(
        select(Partner.id).where(Partner.name_key == key).order_by(Partner.is_active.desc(), Partner.id).limit(1)
    )


def suggested(typed: str) -> list[str]:
    """Names of active partners that what was typed is part of (case, accents, spaces, punctuation and legal forms
    aside, as names are matched): those it begins first, then those it is inside."""
    key = normalise_company(typed[:160])
    if len(key) < 2:
        return []
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    names: list[str] = []
    for pattern in (f"{escaped}%", f"%{escaped}%"):
        if len(names) < SUGGESTIONS:
            names += db.session.scalars(
                select(Partner.name)
                .where(Partner.is_active.is_(True), Partner.name_key.like(pattern, escape="\\"))
                .where(Partner.name.not_in(names))
                .order_by(Partner.name, Partner.id)
                .limit(SUGGESTIONS - len(names))
            )
    return names
