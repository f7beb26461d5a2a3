"""Reading what a request sends, in one place: ids, numbers, text, the `next` address and the body.

Every id, page number or count a request carries is read by `read_int` (URL converter `<id:…>`,
form fields, query arguments), so anything outside what the database stores is refused with a
404 or 400 instead of reaching SQL. Text refuses control characters before anything stores it;
a request whose address carries them, or whose body cannot be read, is a 400.
"""

import io
import re
from datetime import date
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter, ValidationError
from werkzeug.serving import DechunkedInput

# Ids and counts are INTEGER columns: 32-bit signed on PostgreSQL, the narrower engine.
MAX_INT = 2**31 - 1

# C0 and C1 control characters, lone surrogates and the bidi embeddings, overrides and isolates
# (which can turn a subject line or a name around as shown); a multi-line answer may keep tab and
# line breaks, a single line none, not even Unicode's line and paragraph separators.
_BIDI = "\u202a-\u202e\u2066-\u2069"
CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029{_BIDI}]")
CONTROL_IN_LINES = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{_BIDI}]")


def read_int(value, *, low: int = -MAX_INT, high: int = MAX_INT) -> int:
    """An integer the database can store, from what a request sent; ValueError for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("not a number")
    if isinstance(value, str):
        value = value.strip()
        # Digits only (int() would also take "1_000", "٣" and a 10,000-digit string).
        if not re.fullmatch(r"[+-]?[0-9]{1,12}", value):
            raise ValueError("not a whole number in range")
    number = int(value)
    if not low <= number <= high:
        raise ValueError("out of range")
    return number


def read_id(value) -> int:
    """A row id: a positive integer the database can store."""
    return read_int(value, low=1)


def sent_int(name: str) -> int | None:
    """A whole number from the submitted form or query, or None when it is missing or not storable."""
    try:
        return read_int(request.values.get(name, ""))
    except ValueError:
        return None


def sent_id(name: str) -> int | None:
    """A row id from the submitted form or query, or None when it is missing or could be no row's."""
    try:
        return read_id(request.values.get(name, ""))
    except ValueError:
        return None


def sent_date(name: str) -> date | None:
    """A date (YYYY-MM-DD, years 1900 to 2999) from the submitted form or query, or None for anything else."""
    value = request.values.get(name, "")
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None
    try:
        found = date.fromisoformat(value)
    except ValueError:
        return None
    return found if 1900 <= found.year <= 2999 else None


def page_number(value) -> int:
    """A list's page number from `?page=`: 1 for anything missing or out of range."""
    try:
        return read_int(value, low=1, high=100_000)
    except ValueError:
        return 1


class IdConverter(BaseConverter):
    """`<id:deal_id>`: a row id in a URL; anything else is a 404 before the view runs."""

    regex = r"[1-9][0-9]{0,9}"
    part_isolating = True

    def to_python(self, value: str) -> int:
        try:
            return read_id(value)
        except ValueError:
            raise ValidationError() from None

    def to_url(self, value) -> str:
        return str(int(value))


def has_control(text: str, *, lines: bool = False) -> bool:
    return bool((CONTROL_IN_LINES if lines else CONTROL).search(text))


def safe_next(target: str | None) -> str | None:
    """The same-site path to go to after signing in, or None when `target` is not one.

    Browsers drop tabs and line breaks from addresses and read a backslash as a slash, so
    `/\\t/evil.example` would be `//evil.example`: any of them, or anything with a scheme or a
    host once parsed, is refused.
    """
    if not target or has_control(target) or "\\" in target or " " in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return target


def accepts_upload(limit: str, too_large: str):
    """Mark a view that takes a file larger than the usual request limit: up to the config value `limit`
    (bytes), for a signed-in channel manager only; `too_large` is what a larger file is told."""

    def mark(view):
        view.upload_limit, view.too_large = limit, too_large
        return view

    return mark


def _upload_allowance() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "upload_limit", None)
    if limit is None:
        return
    g.too_large = view.too_large.format(limit_mb=current_app.config[limit] // (1024 * 1024))
    # Only a signed-in channel manager may send that much; anyone else keeps the usual limit.
    if current_user.is_authenticated and getattr(current_user, "is_admin", False):
        request.max_content_length = current_app.config[limit]


def _read_the_request() -> None:
    """Refuse, with a 400, a query with control characters or a body that cannot be read.

    Runs before every view and before the CSRF check, which reads the form: a malformed
    chunked body or a client that stops sending is the client's error, not a 500. The size
    limits (MAX_CONTENT_LENGTH, MAX_FORM_MEMORY_SIZE, MAX_FORM_PARTS) answer 413 from here.
    """
    # (A path is read by its route: ids by `<id:…>`, tokens by their hash, names against a list.)
    if any(has_control(value) for values in request.args.listvalues() for value in values):
        abort(400)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.path.startswith("/api/"):
            # The API reads JSON only, and less of it than the largest form a page can send.
            request.max_content_length = current_app.config["API_MAX_BODY"]
        _upload_allowance()
        try:
            request.form  # noqa: B018  (parses the body now, inside this guard)
        except HTTPException:
            raise
        except Exception:
            abort(400)


class _WholeChunks(io.RawIOBase):
    """A chunked body from the development server that refuses a chunk cut short.

    Werkzeug's `DechunkedInput` (behind `flask run` and the tests' server; gunicorn reads chunks
    itself) counts a chunk as read in full when the client sent less of it and shrinks the buffer
    it was given; `io` then copies the counted bytes from the shorter buffer, past its end (on
    Python 3.11 that crashed the server). Each read goes into a buffer of our own, and a count
    beyond it is the OSError that Werkzeug's stream reports as a client that stopped sending.
    """

    def __init__(self, chunks: DechunkedInput):
        self._chunks = chunks

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        scratch = bytearray(len(buffer))
        count = self._chunks.readinto(scratch)
        if count > len(scratch):
            raise OSError("a chunk ended before the length it declared")
        buffer[:count] = scratch[:count]
        return count


def whole_chunks_only(wsgi_app):
    """Wrap a WSGI app so that a chunked body from the development server is read safely."""

    def app(environ, start_response):
        stream = environ.get("wsgi.input")
        if isinstance(stream, DechunkedInput):
            environ["wsgi.input"] = _WholeChunks(stream)
        return wsgi_app(environ, start_response)

    return app


def init_app(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter
    app.wsgi_app = whole_chunks_only(app.wsgi_app)
    # Registered before the CSRF check so that it reads an already parsed, bounded body.
    app.before_request_funcs.setdefault(None, []).insert(0, _read_the_request)
