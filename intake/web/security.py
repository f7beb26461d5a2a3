"""Security headers on every response, set here and nowhere else, and the CSRF token's rotation.

Pages load scripts and styles only from Intake itself (no inline script, no style attributes),
cannot be framed, are never sniffed as another type, send no address to other sites, and, since
they hold customers' and partners' details, are never stored by a browser or a proxy. Static
files keep their caching. In production, browsers are told to use HTTPS only.
"""

from flask import Flask, current_app, g, request, session

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = "max-age=31536000; includeSubDomains"


def _headers(response):
    headers = response.headers
    # A response with a different need (a queued mail's HTML, framed by its page) sets its own.
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers["X-Content-Type-Options"] = "nosniff"
    # Same-origin keeps the Referer that CSRF checks read over HTTPS; other sites get nothing,
    # so a customer's or partner's link never leaves in it.
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    endpoint = request.endpoint or ""
    if endpoint != "static" and not endpoint.endswith(".static"):
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
        if not request.path.startswith("/api/"):
            headers.pop("ETag", None)  # the API's ETag is what If-Match is checked against
    if current_app.config["INTAKE_ENV"] == "production":
        headers["Strict-Transport-Security"] = HSTS
    return response


def rotate_csrf_token() -> None:
    """Start a new CSRF token: one issued before signing in must not be valid after it."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.pop(field, None)
    g.pop(field, None)


def init_app(app: Flask) -> None:
    app.after_request(_headers)
