"""Hostile input for the fuzz tests: what a careless or malicious browser can send, and how it sends it.

Three parts:
- values: control characters, NUL, line breaks, bidi overrides, lone surrogates, 100k strings, markup,
  template syntax, numbers out of range or not numbers at all, ids beyond 64 bits, and the like;
- submissions: a form's fields, each declared by kind (text, a choice, a number, an id, a date,
  checkboxes, an email) with a plain value and the values a user could send. A sweep sends every field
  in turn each known-bad value of its kind, the others plain; Hypothesis's submissions fill every
  field with what a user could send and make one thing hostile (a value, a missing field, a field sent
  twice or a thousand times, an undeclared field), with a CSRF token sent right or wrong and the body
  percent-encoded, as raw UTF-8 bytes, or multipart;
- the fuzzer, which sends them, counts them, and records every 5xx with its input and the app's
  traceback line instead of stopping at the first.
"""

from __future__ import annotations

import logging
import os
import secrets
import traceback
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st
from markupsafe import escape
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

# ---------------------------------------------------------------------------------------------- values

NUL = "\x00"
LONG = "x" * 100_000
MARKUP = "<script>alert(1)</script>"
ATTRIBUTE_IN_DOUBLE_QUOTES = '"><b onmouseover=alert(2)>'
ATTRIBUTE_IN_SINGLE_QUOTES = "' autofocus onfocus=alert(3) x='"
TEMPLATE = "{{7*7}}{% if true %}jinja{% endif %}${7*7}"
HEADER_BREAK = "Acme\r\nBcc: evil@attacker.example\r\nX-Injected: yes"
BIDI = "\u202eRTLO\u202c \u2066isolate\u2069 \u200fmark"
CONTROL = "".join(chr(c) for c in range(1, 32) if chr(c) not in "\t\n\r") + "\x7f\x85"
LINE_SEPARATORS = "one\u2028two\u2029three\x0bfour\x0cfive\rsix"
LONE_SURROGATE = "lone \ud800 high and \udfff low"

# Present verbatim in a page or a mail's HTML only when the input was not escaped: every character that
# would make them live (<, ", ') is escaped by an HTML-aware renderer.
LIVE_MARKUP = (MARKUP, ATTRIBUTE_IN_DOUBLE_QUOTES, ATTRIBUTE_IN_SINGLE_QUOTES)
# What the PDF must show as text, character for character.
SHOWN_AS_TEXT = (MARKUP, "{{7*7}}")

# Text a form should take and store as typed: markup, template syntax, bidi marks, line breaks, control
# characters other than NUL, and letters from far away. Each is short, so it fits every text field.
STORABLE = (
    MARKUP,
    ATTRIBUTE_IN_DOUBLE_QUOTES,
    ATTRIBUTE_IN_SINGLE_QUOTES,
    TEMPLATE,
    HEADER_BREAK,
    BIDI,
    CONTROL,
    LINE_SEPARATORS,
    f"Müller & Söhne {MARKUP}",
    f"O'Brien {ATTRIBUTE_IN_DOUBLE_QUOTES} {TEMPLATE}",
    "مرحبا بالعالم 🦄 e\u0301 \u200b\ufeff ｆｕｌｌ",
    "  padded  ",
)

NUMBERS = (
    "",
    " ",
    "-1",
    "-0",
    "0",
    "00",
    "+5",
    "--5",
    ".",
    "1e",
    "e5",
    "1,5",
    "12.345",
    "1_000",
    "0x10",
    "١٢٣",
    "１２３",
    "4\x002",
    str(2**63 - 1),
    str(2**63),
    str(2**64),
    str(2**70),
    str(-(2**70)),
    "9" * 5_000,
    "NaN",
    "nan",
    "sNaN",
    "-sNaN",
    "Infinity",
    "-inf",
    "1e309",
    "-1e309",
    "1e-400",
    "1E+999999999",
    "100000000000.001",
)
IDS = (
    str(2**63 - 1),
    str(2**63),
    str(2**64),
    str(2**70),
    "9" * 40,
    "-1",
    "0",
    "1.0",
    "0x1",
    "١",
    "None",
    "null",
    "",
)
DATES = (
    "2024-02-30",
    "2023-02-29",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "-2024-01-01",
    "2024-13-01",
    "2024-1-1",
    "today",
    "2024-01-01T00:00",
    "2024-01-01\x00",
    "１９９９-01-01",
    str(2**70),
)
DOMAINS = (
    "https://www.Example.com/about",
    "a" * 64 + ".example",
    ("a" * 63 + ".") * 4 + "example",
    "xn--zz.example",
    "xn--.example",
    "bücher.example",
    "exa\u200bmple.com",
    "ＥＸＡＭＰＬＥ.com",
    "example\u3002com",
    "..",
    "example..com",
    "-dash.example",
    "http://[::1]:80/",
    "http://user:pw@evil.example@good.example",
    "1.2.3.4",
    "localhost",
    "com",
    "co.uk",
    "%00.example",
    "example.com\r\nX: y",
)
EMAILS = (
    "plain@example.com",
    "Mixed.Case@Example.COM",
    "o'neil+tag@example.co.uk",
    "a@b",
    "@example.com",
    "user@",
    "two@@example.com",
    "user@example.com\r\nBcc: evil@attacker.example",
    "<script>@example.com",
    "üser@bücher.example",
    "user@xn--zz.example",
    "a" * 65 + "@example.com",
    "user@" + "a" * 250 + ".com",
)
# Field names a form does not declare, or declares in a form no browser builds.
EXTRA_NAMES = (
    "rows-" + str(2**70) + "-partner_id",
    "rows-99-strength",
    "rows--1-notes",
    "rows-0",
    "csrf_token\x00",
    "\ud800",
    "n" * 5_000,
    "action",
    "id",
    "is_admin",
)


def storable_text(max_size: int) -> st.SearchStrategy[str]:
    """Hostile text that fits a field of this size, which the form should take and store."""
    return st.sampled_from([t for t in STORABLE if len(t) <= max_size])


def anything() -> st.SearchStrategy[str]:
    """Any hostile value: of every kind above, or random text that may hold lone surrogates and NUL."""
    return st.one_of(
        st.sampled_from(
            (NUL, f"before{NUL}after", LONG, LONE_SURROGATE, "\ud800", "\r\n", "\n", HEADER_BREAK)
            + STORABLE
            + NUMBERS
            + IDS
            + DATES
            + DOMAINS
            + EMAILS
        ),
        st.text(st.characters(exclude_categories=()), max_size=30),
    )


def past_dates() -> st.SearchStrategy[str]:
    return st.integers(0, 3650).map(lambda days: (date.today() - timedelta(days=days)).isoformat())


def future_dates() -> st.SearchStrategy[str]:
    return st.integers(1, 3650).map(lambda days: (date.today() + timedelta(days=days)).isoformat())


def choice(*codes) -> st.SearchStrategy[str]:
    return st.sampled_from([str(c) for c in codes])


def some_of(codes: Sequence[str]) -> st.SearchStrategy[list[str]]:
    """Checkbox values a browser sends: some of those offered, each once."""
    return st.lists(st.sampled_from(list(codes)), unique=True, max_size=len(codes))


def shown(value) -> str:
    """A value as a report shows it: its repr, cut short, with its length when long."""
    if isinstance(value, list):
        if len(value) > 3:
            return f"[{shown(value[0])}, … {len(value):,} values]"
        return "[" + ", ".join(shown(v) for v in value) + "]"
    text = repr(value)
    if len(text) <= 70:
        return text
    return f"{text[:40]}… ({len(value):,} characters)"


# ----------------------------------------------------------------------------------------- submissions


@dataclass(frozen=True)
class Field:
    """A form field: the values a user could send in it, one plain value, and what a hostile client sends."""

    name: str
    valid: st.SearchStrategy
    hostile: st.SearchStrategy | None = None
    plain: object = None  # what a user sends; None leaves the field out (an unticked box)
    kind: str = "text"  # which of SWEEP's values every request of the sweep tries in it
    second: object = None  # another value a user could pick, sent beside `plain` in a single-choice field


def text(name: str, max_size: int) -> Field:
    """Free text: hostile text that fits is valid, so the form should store it."""
    return Field(name, storable_text(max_size), plain="Plain words")


def one_of(name: str, *codes, hostile: st.SearchStrategy | None = None, kind: str = "choice") -> Field:
    """A choice among codes (a radio, a select, a hidden id); the first is the plain one."""
    second = str(codes[1]) if len(codes) > 1 and str(codes[1]) != str(codes[0]) else None
    return Field(name, choice(*codes), hostile, plain=str(codes[0]), kind=kind, second=second)


def number(name: str, *valid) -> Field:
    return Field(name, choice(*valid), st.sampled_from(NUMBERS), plain=str(valid[0]), kind="number")


def an_id(name: str, *valid) -> Field:
    """A row id a form names: a partner, an account, a deal, a row of the form."""
    return Field(name, choice(*valid), st.sampled_from(IDS), plain=str(valid[0]), kind="id")


def day(name: str, *, future: bool = False, blank: bool = False) -> Field:
    days = future_dates() if future else past_dates()
    plain = (date.today() + timedelta(days=7 if future else -7)).isoformat()
    return Field(name, st.one_of(st.just(""), days) if blank else days, st.sampled_from(DATES), plain, "date")


def checkboxes(name: str, codes: Sequence[str]) -> Field:
    """Several checkboxes of one name: a browser sends each ticked value once."""
    return Field(name, some_of(codes), plain=[codes[0]], kind="checkboxes")


def checkbox(name: str) -> Field:
    """One checkbox: ticked or not sent at all."""
    return Field(name, st.sampled_from([None, "y"]), plain="y", kind="choice")


def email(name: str, *valid) -> Field:
    return Field(name, choice(*valid), st.sampled_from(EMAILS), plain=str(valid[0]), kind="email")


# What the sweep sends in each field, by kind, with every other field plain: the inputs known to
# break forms, tried everywhere, where the random examples only sample them.
SWEEP = {
    "text": (f"before{NUL}after", LONE_SURROGATE, LONG),
    "number": ("NaN", "sNaN", "1e309", str(2**70), ""),
    "id": (str(2**70), "9" * 40, "-1", "x"),
    "choice": ("maybe", f"yes{NUL}", ""),
    "date": ("2024-02-30", str(2**70)),
    "email": (f"a{NUL}@example.com", "user@example.com\r\nBcc: evil@attacker.example"),
    "domain": ("a" * 64 + ".example", "xn--zz.example", "example.com\r\nX: y", "http://[::1]:80/", f"a{NUL}.example"),
}


def sweep(fields: Sequence[Field], *, encoding: str) -> list[Submission]:
    """The deterministic part of fuzzing a form: every field in turn missing, and given each known-bad value
    of its kind (a lone surrogate also as raw bytes in a multipart body; two choices in a single-choice field;
    a checkbox value 3 and 1,000 times), every other field plain; then the plain form with each wrong token."""
    plain = {f.name: f.plain for f in fields}
    found = []

    def send(target: Field, value, change: str, how: str = encoding) -> None:
        found.append(Submission(tuple({**plain, target.name: value}.items()), change, "page", how))

    for target in fields:
        if target.plain is not None:
            send(target, None, f"{target.name} not sent")
        for value in SWEEP.get(target.kind, ()):
            send(target, value, f"{target.name}={shown(value)}")
        if target.kind == "text" and encoding != "query":
            send(target, LONE_SURROGATE, f"{target.name}={shown(LONE_SURROGATE)} as raw bytes", "multipart")
        if target.second is not None:
            send(
                target, [target.plain, target.second], f"{target.name} sent twice: {target.plain!r}, {target.second!r}"
            )
        if target.kind == "checkboxes":
            for times in (3, 1_000):
                send(target, target.plain * times, f"{target.name}={target.plain[0]!r}, the same value {times:,} times")
            send(target, [*target.plain, "not offered"], f"{target.name} with a value not offered")
    if encoding != "query":
        for mode in WRONG_CSRF:
            found.append(Submission(tuple(plain.items()), "", mode, encoding))
    return found


@dataclass(frozen=True)
class Submission:
    """One filled form: its values (a list for a field sent several times, None for one not sent)."""

    values: tuple[tuple[str, object], ...]
    change: str  # what was made hostile, in words; "" when every value is one a user could send
    csrf: str  # how the CSRF token is sent: "page" (as the page gave it), "missing", "forged", …
    encoding: str  # "percent", "raw" (raw UTF-8 bytes in a urlencoded body), "multipart", or "query" (a GET's)

    @property
    def csrf_ok(self) -> bool:
        return self.csrf == "page"

    def pairs(self) -> list[tuple[str, str]]:
        found = []
        for name, value in self.values:
            if value is None:
                continue
            for one in value if isinstance(value, list) else [value]:
                found.append((name, one))
        return found

    def value(self, name: str):
        return dict(self.values).get(name)

    def describe(self) -> str:
        parts = [self.change or "every value one a user could send"]
        if not self.csrf_ok:
            parts.append(f"CSRF token {self.csrf}")
        parts.append("query string" if self.encoding == "query" else f"{self.encoding} body")
        return "; ".join(parts)


# Most submissions make one thing hostile; some send only values a user could, so that what the
# form accepts is stored and its rendering checked.
MUTATIONS = ("none",) * 3 + ("hostile",) * 6 + ("missing", "twice", "repeated", "thousand", "extra")
WRONG_CSRF = ("missing", "forged", "empty", "of another session", "forged, then the page's")
CSRF_MODES = ("page",) * 9 + WRONG_CSRF
ENCODINGS = ("percent",) * 2 + ("raw", "multipart")


@st.composite
def submissions(draw, fields: Sequence[Field], *, csrf: bool = True, encodings=ENCODINGS) -> Submission:
    """A form as a browser (or something pretending to be one) sends it, with at most one thing made hostile."""
    values = {f.name: draw(f.valid) for f in fields}
    mutation = draw(st.sampled_from(MUTATIONS)) if fields else "extra"
    change = ""
    if mutation != "none":
        target = draw(st.sampled_from(list(fields))) if fields else None
        if mutation == "hostile":
            value = draw(_hostile(target))
            values[target.name] = value
            change = f"{target.name}={shown(value)}"
        elif mutation == "missing":
            values[target.name] = None
            change = f"{target.name} not sent"
        elif mutation == "twice":
            second = draw(st.one_of(target.valid, _hostile(target)))
            values[target.name] = _as_list(values[target.name]) + _as_list(second)
            change = f"{target.name} sent twice: {shown(values[target.name])}"
        elif mutation in ("repeated", "thousand"):
            first = (_as_list(values[target.name]) or ["x"])[0][:50]
            times = 1_000 if mutation == "thousand" else draw(st.integers(2, 50))
            values[target.name] = [first] * times
            change = f"{target.name}={shown(first)}, the same value {times:,} times"
        else:
            name, value = draw(st.sampled_from(EXTRA_NAMES)), draw(anything())
            values[name] = value
            change = f"an undeclared field {shown(name)}={shown(value)}"
    return Submission(
        values=tuple(values.items()),
        change=change,
        csrf=draw(st.sampled_from(CSRF_MODES)) if csrf else "page",
        encoding=draw(st.sampled_from(encodings)),
    )


def _hostile(target: Field) -> st.SearchStrategy:
    return target.hostile if target.hostile is not None else anything()


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _bytes(text: str) -> bytes:
    # A lone surrogate goes out as the three bytes a careless encoder writes for it (ED A0 80).
    return str(text).encode("utf-8", "surrogatepass")


def urlencoded(pairs: Sequence[tuple[str, str]], *, raw: bool = False) -> bytes:
    """A form body; with `raw`, bytes beyond ASCII go unescaped, as some clients send them."""

    def part(text: str) -> bytes:
        data = _bytes(text)
        if not raw:
            return quote_from_bytes(data, safe="").encode()
        return b"".join(bytes([b]) if b >= 0x80 else quote_from_bytes(bytes([b]), safe="").encode() for b in data)

    return b"&".join(part(name) + b"=" + part(value) for name, value in pairs)


def multipart(pairs: Sequence[tuple[str, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body with the raw bytes of every value, and its content type."""
    boundary = "----intake-fuzz-" + secrets.token_hex(8)
    chunks = []
    for name, value in pairs:
        quoted = _bytes(name).replace(b'"', b"%22").replace(b"\r", b"%0D").replace(b"\n", b"%0A")
        chunks.append(b"--" + boundary.encode() + b'\r\nContent-Disposition: form-data; name="' + quoted + b'"\r\n\r\n')
        chunks.append(_bytes(value) + b"\r\n")
    chunks.append(b"--" + boundary.encode() + b"--\r\n")
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def query(pairs: Sequence[tuple[str, str]]) -> str:
    """A query string, percent-encoded as a browser writes it."""
    return urlencoded(pairs).decode("ascii")


# ----------------------------------------------------------------------------------------------- fuzzer


@dataclass
class Finding:
    """Something the app did that it must not: a 5xx, or a property broken by what it accepted."""

    engine: str
    where: str  # the method and the route's rule
    what: str  # the input, in words
    status: int | None
    error: str  # the exception and the app's traceback line, or the broken property

    def __str__(self) -> str:
        status = f" → {self.status}" if self.status else ""
        return f"[{self.engine}] {self.where}{status}: {self.what} — {self.error}"


@dataclass
class Record:
    """Every request fuzzed, per engine, and everything found; one for the whole test session."""

    requests: Counter = field(default_factory=Counter)
    reads: Counter = field(default_factory=Counter)
    server_errors: Counter = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)

    def summary(self) -> str:
        engines = sorted(set(self.requests) | set(self.reads))
        per_engine = [
            f"{engine} {self.requests[engine]:,} requests ({self.reads[engine]:,} follow-up reads), "
            f"{self.server_errors[engine]:,} 5xx"
            for engine in engines
        ]
        total = sum(self.requests.values())
        return f"fuzz: {total:,} requests, {sum(self.server_errors.values()):,} 5xx — " + "; ".join(per_engine)

    def distinct(self) -> list[tuple[Finding, int]]:
        """Each kind of finding once (by engine, route and error), with how often it came."""
        seen: dict[tuple, list] = {}
        for finding in self.findings:
            key = (finding.engine, finding.where, finding.error.split(" (at ")[0][:120], finding.status)
            seen.setdefault(key, [finding, 0])[1] += 1
        return [(finding, count) for finding, count in seen.values()]


RECORD = Record()


class _Raised(logging.Handler):
    """The exceptions raised while the app answers one request, whether or not an error page handled them.

    The app's handlers turn a database error into a 500 page and log it in one line (its traceback
    at most once a minute), so the exception is taken where Flask hands it to them, and from the log.
    """

    def __init__(self, app):
        super().__init__(logging.ERROR)
        self.caught: list[BaseException] = []
        self.lines: list[str] = []
        self._app = app
        self._handle = app.handle_user_exception

        def observed(exc):
            self.caught.append(exc)
            return self._handle(exc)

        app.handle_user_exception = observed
        app.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.caught.append(record.exc_info[1])
        self.lines.append(record.getMessage()[:300])

    def clear(self) -> None:
        self.caught.clear()
        self.lines.clear()

    def cause(self) -> str:
        """The error behind a 5xx: the last exception that was no HTTP refusal, else the last log line."""
        for exc in reversed(self.caught):
            if not isinstance(exc, HTTPException) or (exc.code or 500) >= 500:
                return app_line(exc)
        return self.lines[-1] if self.lines else "no exception raised or logged"

    def close(self) -> None:
        self._app.logger.removeHandler(self)
        self._app.handle_user_exception = self._handle
        super().close()


def app_line(exc: BaseException) -> str:
    """The exception and the innermost line of Intake's own code it passed through."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}intake{os.sep}" in f.filename]
    frame = (ours or frames or [None])[-1]
    message = (str(exc).strip().splitlines() or [""])[0][:160]
    where = ""
    if frame is not None:
        path = frame.filename.split(f"{os.sep}intake{os.sep}", 1)[-1]
        where = f" (at intake/{path}:{frame.lineno} in {frame.name}: {(frame.line or '').strip()[:100]})"
    return f"{type(exc).__name__}: {message}{where}"


class Fuzzer:
    """Sends submissions through test browsers, counts them, and records what goes wrong."""

    def __init__(self, app, engine: str):
        self.app = app
        self.engine = engine
        self.errors = _Raised(app)
        self._other_token: str | None = None
        self.found_here: list[Finding] = []  # what this fuzzer found, for its test to assert on

    def close(self) -> None:
        self.errors.close()

    # -- what was found

    def found(self, where: str, what: str, error: str, status: int | None = None) -> None:
        method, _, url = where.partition(" ")
        if method in ("GET", "POST") and url.startswith("/"):
            where = self.route(method, url)
        finding = Finding(self.engine, where, what, status, error)
        RECORD.findings.append(finding)
        self.found_here.append(finding)

    def route(self, method: str, url: str) -> str:
        path = url.split("?", 1)[0]
        try:
            rule, _ = self.app.url_map.bind("localhost").match(path, method=method, return_rule=True)
        except (NotFound, MethodNotAllowed):
            return f"{method} {path[:80]}"
        return f"{method} {rule.rule}"

    # -- sending

    def _token_of_another_session(self) -> str:
        if self._other_token is None:
            self._other_token = self.app.test_client().csrf_token("/login")
        return self._other_token

    def _csrf_pairs(self, mode: str, token: str | None) -> list[tuple[str, str]]:
        if mode == "page":
            return [("csrf_token", token)] if token else []
        return {
            "missing": [],
            "forged": [("csrf_token", "forged." + "A" * 40)],
            "empty": [("csrf_token", "")],
            "of another session": [("csrf_token", self._token_of_another_session())],
            "forged, then the page's": [("csrf_token", "forged"), ("csrf_token", token or "")],
        }[mode]

    def post(
        self,
        browser,
        url: str,
        submission: Submission,
        *,
        hidden: dict | None = None,
        headers: dict | None = None,
        address: str | None = None,
    ):
        """POST a submission with the page's hidden fields; return the response, or None for a 5xx."""
        hidden = dict(hidden or {})
        token = hidden.pop("csrf_token", None)
        sent = dict(submission.values)
        pairs = self._csrf_pairs(submission.csrf, token)
        pairs += [(k, v) for k, v in hidden.items() if k not in sent]
        pairs += submission.pairs()
        if submission.encoding == "multipart":
            body, content_type = multipart(pairs)
        else:
            body = urlencoded(pairs, raw=submission.encoding == "raw")
            content_type = "application/x-www-form-urlencoded"
        response = self._send(
            browser,
            "POST",
            url,
            submission.describe(),
            data=body,
            content_type=content_type,
            headers=headers,
            address=address,
        )
        if response is not None and not submission.csrf_ok and response.status_code < 400:
            self.found(
                self.route("POST", url),
                submission.describe(),
                f"a POST whose CSRF token was {submission.csrf} was answered {response.status_code}, not refused",
                response.status_code,
            )
        return response

    def get(self, browser, url: str, submission: Submission | None = None, *, address: str | None = None):
        """GET a URL, with a submission as its query string; return the response, or None for a 5xx."""
        what = submission.describe() if submission else f"GET {shown(url)}"
        if submission is not None:
            url = f"{url}?{query(submission.pairs())}"
        return self._send(browser, "GET", url, what, address=address)

    def read(self, browser, url: str, why: str):
        """A follow-up read that checks what was stored; a 5xx here is found like any other."""
        return self._send(browser, "GET", url, why, counts_as="read")

    def _send(self, browser, method, url, what, *, counts_as="request", address=None, **kwargs):
        (RECORD.requests if counts_as == "request" else RECORD.reads)[self.engine] += 1
        if address:
            kwargs["environ_overrides"] = {"REMOTE_ADDR": address}
        self.errors.clear()
        where = self.route(method, url)
        try:
            response = browser.open(url, method=method, **kwargs)
        except Exception as exc:  # under TESTING an unhandled error reaches the client instead of a 500 page
            self._server_error(where, what, 500, app_line(exc))
            return None
        if response.status_code >= 500:
            self._server_error(where, what, response.status_code, self.errors.cause())
            return None
        return response

    def _server_error(self, where: str, what: str, status: int, error: str) -> None:
        RECORD.server_errors[self.engine] += 1
        self.found(where, what, error, status)

    # -- what was stored

    def check_page(self, html: str, where: str, what: str, shown_values: Sequence[str] = ()) -> None:
        """No markup from the input is live on the page, and each stored value it shows is shown escaped."""
        for payload in LIVE_MARKUP:
            if payload in html:
                self.found(where, what, f"the page holds the input unescaped: {shown(payload)}")
        for value in shown_values:
            if value and any(c in value for c in "<>&\"'") and str(escape(value)) not in html:
                self.found(where, what, f"the stored value {shown(value)} is not shown escaped")

    def check_unique(self, values, where: str, what: str, name: str) -> None:
        """A list of choices stored once each, however often the browser sent one."""
        values = list(values or [])
        if len(values) != len(set(values)):
            self.found(where, what, f"{name} stored with repeats: {len(values):,} values, {len(set(values))} distinct")
