"""Intake served as production serves it, for the scale-out test: gunicorn app servers and outbox workers in
processes of their own, and browsers that talk to several servers as a load balancer would send them.

A deployment is started from one environment (as every unit reads /etc/intake/intake.env) and is stopped,
every process of it, when its `with` block ends, however it ends.
"""

from __future__ import annotations

import html
import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from .conftest import PASSWORD, free_port

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
_INPUT = re.compile(r"<input\b[^>]*>", re.I)


def wait_until(predicate, what: str, timeout: float = 60) -> None:
    # A guard against hanging, not a timing assertion.
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def _attr(name: str, tag: str) -> str | None:
    found = re.search(rf'\b{name}="([^"]*)"', tag, re.I)
    return html.unescape(found.group(1)) if found else None


# Processes ------------------------------------------------------------------------------------------


class Deployment:
    """App servers and outbox workers on one database, each in its own process group with its own log."""

    def __init__(self, env: dict[str, str], directory: Path):
        self.env = env
        self.directory = directory
        self.servers: list[str] = []  # base URLs
        self._processes: list[tuple[str, subprocess.Popen, Path]] = []

    def __enter__(self) -> Deployment:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def serve(self, name: str, workers: int = 2) -> None:
        """Start an app server as intake-web.service does (gunicorn with deploy/gunicorn.conf.py)."""
        port = free_port()
        env = {**self.env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
        env["INTAKE_INSTANCE_PATH"] = str(self.directory / name)
        self._start(name, env, "gunicorn", "--config", str(GUNICORN_CONFIG), "intake.wsgi:app")
        self.servers.append(f"http://127.0.0.1:{port}")

    def wait_until_serving(self) -> None:
        """Wait until every app server answers its sign-in page."""

        def answers(base: str) -> bool:
            self.assert_running()
            with suppress(OSError, http.client.HTTPException):
                return _request(base, "GET", "/login", {}).status == 200
            return False

        for base in self.servers:
            wait_until(lambda base=base: answers(base), f"{base} to answer")

    def work(self, name: str) -> None:
        """Start an outbox worker as intake-worker@.service does."""
        env = {**self.env, "INTAKE_INSTANCE_PATH": str(self.directory / name)}
        self._start(name, env, "flask", "--app", "intake", "outbox", "work")

    def _start(self, name: str, env: dict, *command: str) -> None:
        log = self.directory / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", *command],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._processes.append((name, process, log))

    def logs(self, prefix: str = "") -> dict[str, str]:
        return {name: log.read_text(errors="replace") for name, _, log in self._processes if name.startswith(prefix)}

    def assert_running(self) -> None:
        exited = {name: p.returncode for name, p, _ in self._processes if p.poll() is not None}
        assert not exited, f"processes exited: {exited}\n{self.logs()}"

    def stop(self) -> None:
        """SIGTERM to every process group (gunicorn and the workers stop gracefully on it), SIGKILL to any left."""
        for _, process, _ in self._processes:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for _, process, _ in self._processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


# Browsers ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    location: str
    server: str
    cookies: tuple[str, ...] = ()


def _request(base: str, method: str, path: str, headers: dict, body: str | None = None) -> Reply:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        cookies = tuple(response.headers.get_all("Set-Cookie") or ())
        return Reply(response.status, body, response.getheader("Location", ""), base, cookies)
    finally:
        conn.close()


class Browser:
    """One person's browser. Each request goes to the next server in turn, as a round-robin load balancer
    sends them; `server=` picks one. Cookies are kept and sent to every server, the Secure ones too (in
    production the TLS proxy is in front). Its tabs may use it from several threads at once."""

    def __init__(self, servers: list[str], tally: Counter | None = None):
        self.servers = servers
        self.cookies: dict[str, str] = {}
        self.tally = tally if tally is not None else Counter()  # (server, status) of every reply
        self.token = ""  # the CSRF token of the last form read: every form of the session carries the same
        self._turn = 0
        self._lock = threading.Lock()

    def _next(self) -> str:
        with self._lock:
            self._turn += 1
            return self.servers[self._turn % len(self.servers)]

    def open(self, method: str, path: str, form: dict | None = None, *, server: int | None = None) -> Reply:
        base = self.servers[server % len(self.servers)] if server is not None else self._next()
        with self._lock:
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        reply = _request(base, method, path, headers, body)
        with self._lock:
            self.tally[(base, reply.status)] += 1
            for header in reply.cookies:
                cookie = SimpleCookie()
                cookie.load(header)
                for name, morsel in cookie.items():
                    if morsel.value and morsel["max-age"] != "0":
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
        assert reply.status < 500, f"{method} {path} on {base}: {reply.status}\n{reply.body[:2000]}"
        return reply

    def get(self, path: str, **kwargs) -> Reply:
        return self.open("GET", path, **kwargs)

    def hidden(self, page: str, action: str | None = None, **kwargs) -> dict[str, str]:
        """The hidden fields (its CSRF token among them) of the form on `page` that posts to `action`."""
        reply = self.get(page, **kwargs)
        assert reply.status == 200, f"{page}: {reply.status}"
        return self.fields(reply, page, action)

    def fields(self, reply: Reply, page: str, action: str | None = None) -> dict[str, str]:
        """The hidden fields of the form posting to `action` (by default the page itself) on a page read."""
        action = action or page
        for attrs, content in _FORM.findall(reply.body):
            if "post" in attrs.lower() and (_attr("action", attrs) or page) == action:
                fields = {}
                for tag in _INPUT.findall(content):
                    if _attr("type", tag) == "hidden" and _attr("name", tag):
                        fields[_attr("name", tag)] = _attr("value", tag) or ""
                assert "csrf_token" in fields, f"no CSRF token in the form to {action} on {page}"
                self.token = fields["csrf_token"]
                return fields
        raise AssertionError(f"no form posting to {action} on {page}")

    def submit(self, action: str, data: dict | None = None, *, page: str | None = None, **kwargs) -> Reply:
        """Read the form on `page` (by default the action itself), then send it with `data`, as a person does."""
        form = {**self.hidden(page or action, action), **(data or {})}
        return self.open("POST", action, form, **kwargs)

    def post(self, action: str, data: dict | None = None, **kwargs) -> Reply:
        """Send a form with the CSRF token of the last form read, as the next page's form would carry it."""
        assert self.token, "no form read yet"
        return self.open("POST", action, {"csrf_token": self.token, **(data or {})}, **kwargs)

    def sign_in(self, email: str) -> Browser:
        reply = self.submit("/login", {"email": email, "password": PASSWORD})
        assert reply.status == 302, reply.body[:2000]
        return self


def at_once(*requests) -> list:
    """Call the requests (callables) from one thread each, released together; their results, in order."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)
    failures: list[BaseException] = []

    def call(index: int, request) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = request()
        except BaseException as exc:  # reported in the caller's thread
            failures.append(exc)

    threads = [threading.Thread(target=call, args=(i, r), daemon=True) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(t.is_alive() for t in threads), "a request never got its answer"
    if failures:
        raise failures[0]
    return results
