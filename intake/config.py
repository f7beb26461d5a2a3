"""Settings, read from the environment once when the app is created."""

import os
from datetime import timedelta

DEFAULT_PAIN_POINTS = (
    "Slow or manual processes",
    "Security or compliance gaps",
    "Rising infrastructure cost",
    "Outages or poor reliability",
    "Can't scale with growth",
    "Poor visibility and reporting",
    "Legacy system end of life",
)
DEFAULT_CATALOGUE = (
    "Cloud platform",
    "Managed security",
    "Backup and recovery",
    "Data analytics",
    "Network services",
    "Migration services",
    "Professional services",
    "Training",
)
DEFAULT_VERTICALS = (
    "Education",
    "Financial services",
    "Government",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Technology",
    "Other",
)
DEFAULT_CURRENCIES = ("EUR", "USD", "GBP", "CHF")

# Values that must never reach production as secrets.
_PLACEHOLDER_SECRETS = {"", "dev", "change-me", "development-only-secret"}


class ConfigError(RuntimeError):
    """A setting is missing or unusable; the message names the variable."""


def _list(env: dict, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if not raw:
        return default
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def database_driver(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs (SQLAlchemy would look for psycopg2)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_options(url: str, env: dict) -> dict:
    """Connections are checked before use (the app recovers by itself after a database restart),
    customers' data never appears in logged SQL, and a server that hangs instead of refusing
    fails a request after a few seconds rather than holding it. PostgreSQL sessions run in UTC, as every
    time Intake keeps is, so a date taken from a time in SQL (a quarter, a month) is the UTC one."""
    options: dict = {"pool_pre_ping": True, "hide_parameters": True}
    if url.startswith("postgresql"):
        options["connect_args"] = {
            "connect_timeout": int(env.get("INTAKE_DATABASE_CONNECT_TIMEOUT", "5")),
            "options": "-c timezone=UTC",
        }
    return options


def from_env(env: dict | None = None, instance_path: str = "instance") -> dict:
    """Build the settings mapping from environment variables."""
    env = os.environ if env is None else env
    mode = env.get("INTAKE_ENV", "development")
    if mode not in ("development", "production", "test"):
        raise ConfigError(f"INTAKE_ENV must be development, production or test, not {mode!r}")
    production = mode == "production"

    secret = env.get("INTAKE_SECRET_KEY", "")
    database_url = env.get("INTAKE_DATABASE_URL", "")
    if production:
        if secret in _PLACEHOLDER_SECRETS or len(secret) < 32:
            raise ConfigError("INTAKE_SECRET_KEY is missing or too short (32+ random characters) for production")
        if not database_url:
            raise ConfigError("INTAKE_DATABASE_URL is missing: production needs a real database")
    if not secret:
        secret = "development-only-secret"
    if not database_url:
        database_url = "sqlite:///" + os.path.join(instance_path, "intake.sqlite")
    database_url = database_driver(database_url)

    return {
        "INTAKE_ENV": mode,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url, env),
        # Cookies: never readable by scripts, not sent on cross-site posts,
        # HTTPS-only in production, and bounded in time.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=int(env.get("INTAKE_SESSION_HOURS", "12"))),
        # A session's lifetime runs from its last use, to within this much (see web/sessions.py).
        "SESSION_RENEW_AFTER": timedelta(minutes=1),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_DURATION": timedelta(days=int(env.get("INTAKE_REMEMBER_DAYS", "14"))),
        # No request is larger than a questionnaire page can send (its longest form, every row and
        # every answer filled, is under half of this): anything bigger is refused with a 413 unread.
        "MAX_CONTENT_LENGTH": int(env.get("INTAKE_MAX_REQUEST_KB", "1024")) * 1024,
        "MAX_FORM_MEMORY_SIZE": int(env.get("INTAKE_MAX_REQUEST_KB", "1024")) * 1024,
        "MAX_FORM_PARTS": 1000,
        # A CSV sent to the import page; a bigger file is imported from the command line.
        "IMPORT_UPLOAD_LIMIT": int(env.get("INTAKE_IMPORT_UPLOAD_MB", "5")) * 1024 * 1024,
        # A rep may keep the questionnaire open through a long call: the CSRF
        # token lives as long as the session rather than the default hour.
        "WTF_CSRF_TIME_LIMIT": None,
        "LOGIN_THROTTLE_WINDOW": timedelta(minutes=int(env.get("INTAKE_LOGIN_WINDOW_MINUTES", "15"))),
        "LOGIN_THROTTLE_PER_ACCOUNT": int(env.get("INTAKE_LOGIN_MAX_PER_ACCOUNT", "5")),
        "LOGIN_THROTTLE_PER_ADDRESS": int(env.get("INTAKE_LOGIN_MAX_PER_ADDRESS", "20")),
        "PROXY_COUNT": int(env.get("INTAKE_PROXY_COUNT", "0")),
        "MAIL_SERVER": env.get("INTAKE_MAIL_SERVER") or "localhost",
        "MAIL_PORT": int(env.get("INTAKE_MAIL_PORT", "25")),
        "MAIL_USE_TLS": env.get("INTAKE_MAIL_USE_TLS", "") == "1",
        "MAIL_USE_SSL": env.get("INTAKE_MAIL_USE_SSL", "") == "1",
        "MAIL_USERNAME": env.get("INTAKE_MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("INTAKE_MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": env.get("INTAKE_MAIL_SENDER", "Intake <intake@localhost>"),
        # The outbox worker. With no INTAKE_MAIL_SERVER, mail goes to .eml files in the
        # instance folder (the embedded default), viewable on the admin Mail page.
        "MAIL_SINK": "smtp" if env.get("INTAKE_MAIL_SERVER") else "file",
        "MAIL_FILE_DIR": env.get("INTAKE_MAIL_DIR") or os.path.join(instance_path, "mail"),
        "MAIL_CA_FILE": env.get("INTAKE_MAIL_CA_FILE") or None,
        "MAIL_TIMEOUT": float(env.get("INTAKE_MAIL_TIMEOUT", "30")),
        # A stopping worker lets the message in hand finish for this long, then closes its connection.
        "MAIL_STOP_SECONDS": float(env.get("INTAKE_MAIL_STOP_SECONDS", "5")),
        "MAIL_MAX_ATTEMPTS": int(env.get("INTAKE_MAIL_MAX_ATTEMPTS", "8")),
        "MAIL_RETRY_SECONDS": float(env.get("INTAKE_MAIL_RETRY_SECONDS", "60")),
        "MAIL_RETRY_MAX_SECONDS": float(env.get("INTAKE_MAIL_RETRY_MAX_SECONDS", "3600")),
        "MAIL_LEASE_SECONDS": float(env.get("INTAKE_MAIL_LEASE_SECONDS", "300")),
        "MAIL_BATCH": int(env.get("INTAKE_MAIL_BATCH", "50")),
        "MAIL_POLL_SECONDS": float(env.get("INTAKE_MAIL_POLL_SECONDS", "2")),
        # One worker thread inside the app process, for `make run`; never under tests.
        "MAIL_WORKER": env.get("INTAKE_MAIL_WORKER", "1" if mode == "development" else "0") == "1",
        # Where customers and partners reach Intake: links in mail are built on this,
        # never on the Host header of whoever made the request.
        "BASE_URL": env.get("INTAKE_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "VENDOR_NAME": env.get("INTAKE_VENDOR_NAME", "Northwind Technologies"),
        "LINK_DAYS": int(env.get("INTAKE_LINK_DAYS", "14")),
        # The most partners a select lists; with more, a partner is typed by name (intake/web/partner_choices.py).
        "PARTNER_CHOICES": int(env.get("INTAKE_PARTNER_CHOICES", "200")),
        # How long a partner has to accept or decline a routed deal, and when it is reminded.
        "PARTNER_RESPONSE_DAYS": int(env.get("INTAKE_PARTNER_RESPONSE_DAYS", "5")),
        "PARTNER_REMIND_HOURS": int(env.get("INTAKE_PARTNER_REMIND_HOURS", "24")),
        # Reminders and passed deadlines swept by a thread in the app process, for `make run`;
        # in production a timer runs `flask --app intake partners sweep` instead.
        "PARTNER_SWEEP": env.get("INTAKE_PARTNER_SWEEP", "1" if mode == "development" else "0") == "1",
        "PARTNER_SWEEP_SECONDS": float(env.get("INTAKE_PARTNER_SWEEP_SECONDS", "60")),
        # A partner user's one-time sign-in link, and how often one may be asked for.
        "PARTNER_SIGN_IN_MINUTES": int(env.get("INTAKE_PARTNER_SIGN_IN_MINUTES", "15")),
        "SIGN_IN_LINKS_PER_EMAIL": int(env.get("INTAKE_SIGN_IN_LINKS_PER_EMAIL", "3")),
        "SIGN_IN_LINKS_PER_ADDRESS": int(env.get("INTAKE_SIGN_IN_LINKS_PER_ADDRESS", "20")),
        "LINK_MISSES_PER_ADDRESS": int(env.get("INTAKE_LINK_MISSES_PER_ADDRESS", "30")),
        # Deals a partner user may register in an hour; how long a registration waits for progress
        # before it expires, and how many days before that everyone concerned is reminded.
        "REGISTRATIONS_PER_HOUR": int(env.get("INTAKE_REGISTRATIONS_PER_HOUR", "20")),
        "REGISTRATION_EXPIRY_DAYS": int(env.get("INTAKE_REGISTRATION_EXPIRY_DAYS", "30")),
        "REGISTRATION_REMINDER_DAYS": int(env.get("INTAKE_REGISTRATION_REMINDER_DAYS", "7")),
        # Webhooks to the vendor's own systems (intake.webhooks): where they may go, how hard
        # the worker tries, and after how many deliveries given up on an endpoint is disabled.
        "WEBHOOK_ALLOW_PRIVATE": env.get("INTAKE_WEBHOOK_ALLOW_PRIVATE", "") == "1",
        "WEBHOOK_ALLOWED_HOSTS": tuple(
            host.strip().lower().rstrip(".")
            for host in env.get("INTAKE_WEBHOOK_ALLOWED_HOSTS", "").split(",")
            if host.strip()
        ),
        "WEBHOOK_TIMEOUT": float(env.get("INTAKE_WEBHOOK_TIMEOUT", "5")),
        "WEBHOOK_MAX_ATTEMPTS": int(env.get("INTAKE_WEBHOOK_MAX_ATTEMPTS", "8")),
        "WEBHOOK_DISABLE_AFTER": int(env.get("INTAKE_WEBHOOK_DISABLE_AFTER", "10")),
        "WEBHOOK_LEASE_SECONDS": float(env.get("INTAKE_WEBHOOK_LEASE_SECONDS", "120")),
        "WEBHOOK_BATCH": int(env.get("INTAKE_WEBHOOK_BATCH", "20")),
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_TRANSLATION_DIRECTORIES": "translations",
        "PAIN_POINTS": _list(env, "INTAKE_PAIN_POINTS", DEFAULT_PAIN_POINTS),
        "CATALOGUE": _list(env, "INTAKE_CATALOGUE", DEFAULT_CATALOGUE),
        "VERTICALS": _list(env, "INTAKE_VERTICALS", DEFAULT_VERTICALS),
        "CURRENCIES": _list(env, "INTAKE_CURRENCIES", DEFAULT_CURRENCIES),
        # The JSON API (flask-smorest): its OpenAPI document is generated from the schemas it validates with.
        "API_TITLE": "Intake API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        # The largest JSON body the API reads: a deal with every answer and 30 partner rows is under 64 KB.
        "API_MAX_BODY": int(env.get("INTAKE_API_MAX_BODY_KB", "256")) * 1024,
        # Requests per API token (Flask-Limiter), counted in the database (intake.rate_limits), so every
        # app server counts the same; INTAKE_RATELIMIT_STORAGE_URI=redis://host:6379 counts them in Redis.
        "API_RATE_LIMIT": env.get("INTAKE_API_RATE_LIMIT", "120 per minute"),
        "RATELIMIT_STORAGE_URI": env.get("INTAKE_RATELIMIT_STORAGE_URI", "intake-database://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": "intake",
    }
