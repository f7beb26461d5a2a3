from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class RateLimitCount(db.Model):
    """How many requests a rate limit's key made in its current window, shared by every app server."""

    __tablename__ = "rate_limit_counts"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    # When the window ends, in seconds since the epoch (the clock Flask-Limiter's windows are reckoned in).
    expires_at: Mapped[float] = mapped_column(Float, index=True)
