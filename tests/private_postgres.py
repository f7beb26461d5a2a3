"""A PostgreSQL cluster of a test's own, which the test may stop and start (an outage).

The shared server (INTAKE_TEST_POSTGRES_URL) is never stopped: other people use it. Instead the
test makes a cluster from the server binaries under /usr/lib/postgresql/*/bin in a temporary
directory, listening on a free loopback port with its socket in that directory. PostgreSQL
refuses to run as root, so when the tests run as root (this machine, CI) every server command
runs as the `postgres` OS user, which owns the directory. Without the binaries, or as root
without a `postgres` user, the tests that need a cluster are skipped, and fail instead when
INTAKE_REQUIRE_POSTGRES=1.

Use it through the fixture, imported where it is needed (ruff reads the import as unused and
the parameter as redefining it, hence the two noqa):

    from .private_postgres import private_postgres  # noqa: F401  (a fixture)

    def test_something(private_postgres):  # noqa: F811
        url = private_postgres.create_database("intake")
        private_postgres.stop()   # the database is gone ...
        private_postgres.start()  # ... and back, on the same port
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REQUIRE_POSTGRES = os.environ.get("INTAKE_REQUIRE_POSTGRES") == "1"
SERVER_BINARIES = "/usr/lib/postgresql/*/bin"
OS_USER = "postgres"
SUPERUSER = "postgres"


class ClusterError(RuntimeError):
    """A server command failed; the message carries its output and the end of the server's log."""


def find_binaries() -> Path | None:
    """The newest PostgreSQL server's bin directory that has initdb and pg_ctl, or None."""
    found = []
    for bindir in Path("/").glob(SERVER_BINARIES.lstrip("/")):
        version = re.fullmatch(r"\d+(?:\.\d+)?", bindir.parent.name)
        if version and (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            found.append((float(version.group()), bindir))
    return max(found)[1] if found else None


def missing() -> str | None:
    """Why a private cluster cannot be made on this machine, or None when it can."""
    if find_binaries() is None:
        return f"no PostgreSQL server binaries (initdb, pg_ctl) under {SERVER_BINARIES}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            return f"the tests run as root and there is no {OS_USER!r} OS user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return f"the tests run as root and there is no runuser to run PostgreSQL as {OS_USER!r}"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivatePostgres:
    """One cluster in `directory`: its data, its socket and its log; `start()` and `stop()` at will."""

    def __init__(self, bindir: Path, directory: Path, port: int):
        self.bindir = bindir
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "server.log"
        self.port = port

    def url(self, database: str = "postgres") -> str:
        """A libpq URL for `database`, over TCP on loopback."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *args: str) -> str:
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", OS_USER, "--", *command]
        # The server's own directory as the working one: the postgres user may not read ours.
        done = subprocess.run(command, cwd=self.directory, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise ClusterError(f"{program} {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done.stdout

    def initdb(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` ends every session at once, as a failover or a restart does."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60")

    @property
    def is_running(self) -> bool:
        command = [str(self.bindir / "pg_ctl"), "status", "-D", str(self.data)]
        if os.geteuid() == 0:
            command = ["runuser", "-u", OS_USER, "--", *command]
        return subprocess.run(command, cwd=self.directory, capture_output=True, timeout=60).returncode == 0

    def create_database(self, name: str) -> str:
        """Create an empty database and return its libpq URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def server_log(self, last: int = 4000) -> str:
        """The end of the server's log, for a failure message."""
        try:
            return self.log.read_text(errors="replace")[-last:]
        except OSError:
            return ""


@contextmanager
def running() -> Iterator[PrivatePostgres]:
    """A started private cluster, stopped and removed on exit; ClusterError when it cannot be made."""
    bindir = find_binaries()
    if bindir is None:
        raise ClusterError(missing() or "no PostgreSQL server binaries")
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as postgres.
    directory = Path(tempfile.mkdtemp(prefix="intake-pg-"))
    try:
        if os.geteuid() == 0:
            owner = pwd.getpwnam(OS_USER)
            os.chown(directory, owner.pw_uid, owner.pw_gid)
        cluster = PrivatePostgres(bindir, directory, _free_port())
        cluster.initdb()
        cluster.start()
        try:
            yield cluster
        finally:
            if cluster.is_running:
                try:
                    cluster.stop("fast")
                except ClusterError:
                    cluster.stop("immediate")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A private cluster for the module's tests, or a skip (a failure under INTAKE_REQUIRE_POSTGRES=1)."""
    reason = missing()
    if reason is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(f"INTAKE_REQUIRE_POSTGRES=1 but a private PostgreSQL cluster cannot be made: {reason}")
        pytest.skip(f"private PostgreSQL cluster tests skipped: {reason}")
    with running() as cluster:
        yield cluster
