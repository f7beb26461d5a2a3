"""The rules of engagement the channel manager sets, versioned: each decision keeps the rules it used."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from .. import audit
from ..errors import FieldErrors
from ..extensions import db
from ..models import RulesOfEngagement, User
from ..routing import TIES
from ..routing.model import Rules
from ..vocabulary import RECYCLE


@dataclass(frozen=True)
class InForce:
    """The rules in force: what the engine reads, and what the lifecycle does when a partner lets time pass."""

    engine: Rules
    recycle: str = "manual"

    def as_form(self) -> dict:
        return {"threshold": self.engine.threshold, "ties": self.engine.ties, "recycle": self.recycle}


def in_force() -> InForce:
    """The newest rules of engagement, or the defaults before any were set."""
    row = db.session.scalar(select(RulesOfEngagement).order_by(RulesOfEngagement.id.desc()).limit(1))
    if row is None:
        return InForce(Rules())
    return InForce(Rules(threshold=row.threshold, ties=row.ties), recycle=row.recycle)


def set_rules(*, threshold: int, ties: str, recycle: str, actor: User) -> RulesOfEngagement:
    """Record new rules of engagement; decisions already made keep the rules they used."""
    errors = {}
    if threshold not in range(1, 6):
        errors["threshold"] = "Choose a strength from 1 to 5."
    if ties not in TIES:
        errors["ties"] = "Choose who wins a tie."
    if recycle not in RECYCLE:
        errors["recycle"] = "Choose what happens when a partner lets its time pass."
    if errors:
        raise FieldErrors(errors)
    before = in_force()
    row = RulesOfEngagement(threshold=threshold, ties=ties, recycle=recycle, created_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    changes = {
        key: [old, new] for (key, old), new in zip(before.as_form().items(), (threshold, ties, recycle), strict=True)
    }
    audit.record(actor, "rules", row.id, "changed", changes)
    return row
