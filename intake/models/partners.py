from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow
from .users import new_session_token


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

    def __repr__(self) -> str:
        return f"<Partner {self.name}>"


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
