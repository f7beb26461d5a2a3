from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..extensions import db
from ..routing.model import TIERS
from .types import UTCDateTime, utcnow
from .users import new_session_token

# The coverage row every active partner has, so "any partner, best tier first" is read by the same index.
ANYWHERE = ("any", "")
# A "pair" row's value: the country and the vertical, joined by a character no form lets through (a control
# character), so no two pairs read alike.
PAIR_JOIN = "\x1f"


def pair(country: str, vertical: str) -> tuple[str, str]:
    """The coverage row of a partner that covers this country and serves this vertical (both as coverage keeps them)."""
    return ("pair", f"{country}{PAIR_JOIN}{vertical}")


class Partner(db.Model):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    # The engine's company key, so a partner the customer types by name is found by index.
    name_key: Mapped[str] = mapped_column(String(160), index=True, default="")
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    verticals: Mapped[list[str]] = mapped_column(JSON, default=list)
    tier: Mapped[str] = mapped_column(String(12), default="registered")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    coverage: Mapped[list[PartnerCoverage]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Partner {self.name}>"


def coverage_of(countries, verticals, tier: str | None, active: bool = True) -> dict[tuple[str, str], int]:
    """Where a partner can be recommended, as its coverage rows: (kind, value) → the rank of its tier (0 best).

    One row for anywhere, one per country, one per vertical and one per country and vertical together, so each
    group a recommendation reads is the front of one index. An inactive partner is recommended nowhere: no rows.
    Values are compared as the engine compares them: stripped and case-folded.
    """
    if not active:
        return {}
    rank = TIERS.index(tier) if tier in TIERS else len(TIERS) - 1
    countries = {c.strip().casefold() for c in countries or () if c.strip()}
    verticals = {v.strip().casefold() for v in verticals or () if v.strip()}
    rows = {ANYWHERE: rank}
    rows.update({("country", c): rank for c in countries})
    rows.update({("vertical", v): rank for v in verticals})
    rows.update({pair(c, v): rank for c in countries for v in verticals})
    return rows


class PartnerCoverage(db.Model):
    """Where an active partner can be recommended (`coverage_of`), each row with the partner's tier rank: the
    partners to recommend for an account are the first rows of an index, whatever their number.

    Kept by the partner itself (see `_keep_coverage`): never written directly.
    """

    __tablename__ = "partner_coverage"
    __table_args__ = (Index("ix_partner_coverage_ranked", "kind", "value", "tier_rank", "partner_id"),)

    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # any, country, vertical or pair
    value: Mapped[str] = mapped_column(String(250), primary_key=True)
    tier_rank: Mapped[int] = mapped_column()

    partner: Mapped[Partner] = relationship(back_populates="coverage")


_COVERED = ("countries", "verticals", "tier", "is_active")


@event.listens_for(Session, "before_flush")
def _keep_coverage(session, flush_context, instances) -> None:
    """Bring each new or changed partner's coverage rows in line with its countries, verticals, tier and activity."""
    for item in (*session.new, *session.dirty):
        if not isinstance(item, Partner):
            continue
        state = inspect(item)
        if not state.pending and not any(state.attrs[name].history.has_changes() for name in _COVERED):
            continue
        tier = item.tier or Partner.__table__.c.tier.default.arg
        wanted = coverage_of(item.countries, item.verticals, tier, active=item.is_active is not False)
        kept = []
        for row in item.coverage:
            rank = wanted.pop((row.kind, row.value), None)
            if rank is not None:
                row.tier_rank = rank
                kept.append(row)
        item.coverage = kept + [PartnerCoverage(kind=k, value=v, tier_rank=r) for (k, v), r in wanted.items()]


class PartnerUser(db.Model):
    """One of a partner's contacts, who signs in by a one-time link mailed to them (no password).

    Like a staff user's, every session cookie carries the session token: replacing it (sign-out,
    deactivation) ends every session of this partner user at once.
    """

    __tablename__ = "partner_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    partner = relationship("Partner")

    # Flask-Login protocol; a partner user is never staff.
    is_authenticated = True
    is_anonymous = False
    is_partner_user = True
    is_admin = False

    def get_id(self) -> str:
        return f"{SESSION_PREFIX}{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        self.session_token = new_session_token()

    def __repr__(self) -> str:
        return f"<PartnerUser {self.email}>"


# A partner user's session id starts with this; a staff user's with digits.
SESSION_PREFIX = "partner-"


class SignInLink(db.Model):
    """A one-time sign-in link mailed to a partner user: valid for minutes, used once; only its hash is kept."""

    __tablename__ = "sign_in_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_user_id: Mapped[int] = mapped_column(ForeignKey("partner_users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    partner_user = relationship("PartnerUser")


class SignInRequest(db.Model):
    """Someone asked for a sign-in link, for a known address or not: kept briefly to limit asking."""

    __tablename__ = "sign_in_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
