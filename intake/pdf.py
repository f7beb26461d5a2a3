"""PDF rendering with WeasyPrint, reading nothing but our own static files.

Customer text ends up in PDFs. Whatever it contains — an `<img src="file:///etc/passwd">`,
a stylesheet on an internal server, an `<a rel=attachment>` — the renderer reads no file
and calls no server: every resource goes through `StaticFetcher`, which serves files from
`intake/static` and refuses everything else. Inline raster images (`data:image/png` and
the like) are allowed: they read nothing.

Link assets as `/static/<name>` (what `url_for('static', filename=...)` gives inside a
request) or as `{BASE_URL}/static/<name>`: both resolve to the static folder, no request made.
"""

from __future__ import annotations

import base64
import binascii
import logging
import mimetypes
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from flask import current_app, has_app_context
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

STATIC_ROOT = Path(__file__).resolve().parent / "static"
# Relative links resolve against this; `.invalid` never resolves (RFC 2606), and the
# fetcher answers for it from the static folder without any network.
BASE_URL = "http://intake.invalid/"
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
INLINE_IMAGE_LIMIT = 2 * 1024 * 1024

log = logging.getLogger("intake.pdf")


class RefusedResource(ValueError):
    """A resource the PDF renderer may not read."""


class StaticFetcher(URLFetcher):
    """A WeasyPrint fetcher that serves our static files and refuses every other URL."""

    def __init__(self, static_root: Path = STATIC_ROOT, prefixes: tuple[str, ...] = ()) -> None:
        # No protocol is handed to urllib's handlers: `fetch` below never calls them.
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
        self.static_root = static_root.resolve()
        self.prefixes = (BASE_URL + "static/", *prefixes)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        if url[:5].lower() == "data:":
            return self._inline_image(url)
        for prefix in self.prefixes:
            if url.startswith(prefix):
                return self._static_file(url, url[len(prefix) :])
        return self._refuse(url)

    def _refuse(self, url: str):
        self.refused.append(url[:200])
        log.info("PDF: refused to fetch %s", url[:200])
        raise RefusedResource(f"not fetched: {url[:200]}")

    def _static_file(self, url: str, relative: str) -> URLFetcherResponse:
        relative = unquote(urlsplit(relative).path)
        path = (self.static_root / relative).resolve()
        if not path.is_relative_to(self.static_root) or not path.is_file():
            return self._refuse(url)
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})

    def _inline_image(self, url: str) -> URLFetcherResponse:
        header, comma, payload = url[5:].partition(",")
        parts = [part.strip().lower() for part in header.split(";")]
        kind = parts[0]
        if not comma or kind not in INLINE_IMAGE_TYPES or len(payload) > INLINE_IMAGE_LIMIT * 2:
            return self._refuse(url)
        try:
            raw = unquote_to_bytes(payload)
            data = base64.b64decode(raw, validate=False) if "base64" in parts[1:] else raw
        except (binascii.Error, ValueError):
            return self._refuse(url)
        if len(data) > INLINE_IMAGE_LIMIT:
            return self._refuse(url)
        return URLFetcherResponse(url[:64], data, {"Content-Type": kind})


def fetcher() -> StaticFetcher:
    """The fetcher for one rendering; with an app, `{BASE_URL}/static/` links are served from disk too."""
    prefixes: tuple[str, ...] = ()
    if has_app_context():
        prefixes = (current_app.config["BASE_URL"].rstrip("/") + "/static/",)
    return StaticFetcher(prefixes=prefixes)


def render_pdf(html: str) -> bytes:
    """Render an HTML document to PDF bytes, with resources from our static folder only."""
    return HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher()).write_pdf()
