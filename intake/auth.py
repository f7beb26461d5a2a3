"""Who is signed in: password checks, throttling of failed sign-ins, and ending sessions."""

import secrets
from datetime import UTC, datetime

from flask import Flask, current_app
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash

from .extensions import db, login_manager
from .models import LoginAttempt, PartnerUser, User
from .models.partners import SESSION_PREFIX as PARTNER_SESSION

# A hash of "not a password" made with werkzeug's default method, as users' passwords are: checking against it
# costs what a real check costs. Written out, not computed at import, which took every worker 0.15 s and a
# 32 MB scrypt allocation at start-up; a test holds it to the method new passwords get.
DUMMY_HASH = (
    "scrypt:32768:8:1$TV1faC7hHbVsJoku$881033894a59af052dc282cf72445c6c146644d60a0ebcdcc49e8b86ca773d07679b03c0142664"
    "e1668aebb0ce4464af035b2c5f49da018d7bf559dd1ca9c518"
)


class Throttled(Exception):
    """Too many failed sign-ins for this account or address."""


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    # The partner portal's pages send a visitor to its own sign-in.
    login_manager.blueprint_login_views = {"portal": "portal.login"}


@login_manager.user_loader
def load_user(cookie_id: str) -> User | PartnerUser | None:
    """Resolve a session to its staff or partner user, only while that user's session token still matches."""
    model: type[User] | type[PartnerUser] = User
    if cookie_id.startswith(PARTNER_SESSION):
        model, cookie_id = PartnerUser, cookie_id.removeprefix(PARTNER_SESSION)
    user_id, _, token = cookie_id.partition(":")
    if not user_id.isdigit() or len(user_id) > 10 or not token:
        return None
    user = db.session.get(model, int(user_id))
    if user is None or not user.is_active or not secrets.compare_digest(user.session_token, token):
        return None
    if model is PartnerUser and not user.partner.is_active:
        return None
    return user


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _since() -> datetime:
    return datetime.now(UTC) - current_app.config["LOGIN_THROTTLE_WINDOW"]


def check_throttle(email: str, address: str) -> None:
    """Raise Throttled when recent failures for this account or address reach their limit."""
    since = _since()
    per_account = db.session.scalar(select(func.count()).where(LoginAttempt.email == email, LoginAttempt.at >= since))
    per_address = db.session.scalar(
        select(func.count()).where(LoginAttempt.address == address, LoginAttempt.at >= since)
    )
    if (
        per_account >= current_app.config["LOGIN_THROTTLE_PER_ACCOUNT"]
        or per_address >= current_app.config["LOGIN_THROTTLE_PER_ADDRESS"]
    ):
        raise Throttled()


def authenticate(email: str, password: str, address: str) -> User | None:
    """Return the active user with these credentials, recording a failure otherwise."""
    email = normalise_email(email)
    check_throttle(email, address)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        # Spend the same time as a real check, so timing does not reveal who has an account.
        check_password_hash(DUMMY_HASH, password)
    elif user.is_active and user.check_password(password):
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
        return user
    db.session.add(LoginAttempt(email=email, address=address))
    # Old failures are of no further use; prune as we go.
    db.session.execute(
        delete(LoginAttempt).where(LoginAttempt.at < _since() - current_app.config["LOGIN_THROTTLE_WINDOW"])
    )
    return None
