"""What-if on the rules of engagement: every decision of a period, replayed by the engine under other rules.

Each decision version is replayed from the input it stored (never from today's rows), with only
the rules changed, and compared with what the engine decided then (for a decision a person made,
the engine's proposal beside it): who leads, who fulfils, and the credit each party earns.
Recycling (what happens when a partner lets its time pass) changes no decision, so only the
threshold and the tie rule are replayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import routing
from ..extensions import db
from ..models import Deal
from ..models import Decision as Version
from . import credit

# Replaying is bounded: a longer period is narrowed by its dates.
MOST = 5000


@dataclass(frozen=True)
class Change:
    version: Version
    before: routing.Decision
    after: routing.Decision
    # What differs, in words: "who leads", "who fulfils", "credit".
    what: tuple[str, ...]


@dataclass(frozen=True)
class Replay:
    replayed: int
    changes: list[Change]
    truncated: bool


def _credit(decision: routing.Decision, originator: routing.Party) -> set:
    return set(credit.earned(decision, originator)) if decision.status == "routable" else set()


def replay(*, threshold: int, ties: str, since: date, until: date) -> Replay:
    """Replay every decision made from `since` to `until` (inclusive) under these rules."""
    start = datetime.combine(since, time.min, tzinfo=UTC)
    end = datetime.combine(until, time.min, tzinfo=UTC) + timedelta(days=1)
    versions = db.session.scalars(
        select(Version)
        .where(Version.decided_at >= start, Version.decided_at < end)
        .options(selectinload(Version.deal).selectinload(Deal.account))
        .order_by(Version.decided_at, Version.id)
        .limit(MOST + 1)
    ).all()
    changes = []
    for version in versions[:MOST]:
        given = routing.parse_input({**version.input, "rules": {"threshold": threshold, "ties": ties}})
        before = version.proposed or version.routing
        after = routing.decide(given)
        what = []
        if before.leader != after.leader:
            what.append("who leads")
        if before.fulfilment != after.fulfilment:
            what.append("who fulfils")
        if _credit(before, given.originator) != _credit(after, given.originator):
            what.append("credit")
        if what:
            changes.append(Change(version, before, after, tuple(what)))
    return Replay(replayed=min(len(versions), MOST), changes=changes, truncated=len(versions) > MOST)
