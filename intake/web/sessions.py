"""The sign-in session's cookie: signed, bounded in time, and renewed while it is used.

A signed-in session ends PERMANENT_SESSION_LIFETIME after its last use, as Flask's own cookie session does
with SESSION_REFRESH_EACH_REQUEST. Flask renews it by signing and sending the cookie again on every response;
here it is renewed once it is SESSION_RENEW_AFTER old, so a session ends within that much of the same moment,
and the requests in between (most of a rep's: re-signing was about 6% of a questionnaire page) send none.
A session whose contents change is sent at once, as before.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature


class RenewedSession(SecureCookieSession):
    """A session as its cookie carried it, with when that cookie was signed (None for a new one)."""

    signed_at: datetime | None = None


class RenewedSessionInterface(SecureCookieSessionInterface):
    session_class = RenewedSession

    def open_session(self, app: Flask, request) -> RenewedSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = serializer.loads(cookie, max_age=max_age, return_timestamp=True)
        except BadSignature:  # forged, or expired (SignatureExpired is one)
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = signed_at
        return session

    def should_set_cookie(self, app: Flask, session: RenewedSession) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = session.signed_at
        return signed_at is None or datetime.now(UTC) - signed_at >= app.config["SESSION_RENEW_AFTER"]


def init_app(app: Flask) -> None:
    app.session_interface = RenewedSessionInterface()
