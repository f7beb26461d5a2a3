from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class ApiToken(db.Model):
    """A personal API token: it acts as its one owner (a member of staff or a partner user), within its scope.

    Only a hash of the token is kept; the token itself is shown once, when it is made.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("(user_id IS NULL) != (partner_user_id IS NULL)", name="one_owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    partner_user_id: Mapped[int | None] = mapped_column(ForeignKey("partner_users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # intake.vocabulary.API_TOKEN_SCOPE: read, or write (which reads too).
    scope: Mapped[str] = mapped_column(String(5))
    # The token's first characters, shown beside its name so its owner knows which one is which.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The settings form that made it, so that the form sent twice makes one token.
    form_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    user = relationship("User")
    partner_user = relationship("PartnerUser")

    @property
    def owner(self):
        return self.user if self.user_id is not None else self.partner_user


class IdempotencyKey(db.Model):
    """A create sent with an `Idempotency-Key`: what was asked (as a hash) and what was answered, kept to
    answer a retry the same way. One token's keys are its own."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("api_token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    # Of the method, the path and the body: the same key with another request is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column()
    body: Mapped[str] = mapped_column(Text, default="")
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
