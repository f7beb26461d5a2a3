"""Where the bench's apps run: gunicorn on loopback ports, databases of the bench's own, the app's environment.

- server_env(workdir, database_url): the environment Intake runs with in the bench — INTAKE_ENV=development,
  its instance folder in the part's temporary folder, the mail worker and partner sweep off (a
  deployment runs them as processes of their own; here they would poll the database during the
  measurements), and PYTHONPATH led by this checkout, so the gunicorn workers and the in-process
  helpers import the intake package next to bench/ (and bench itself).
- prepare_database(env): `flask db upgrade` and `flask demo load`, as `make run` does.
- in_process(module, env, ...): a helper module of bench/ (setup_data, routing_in_process, ...) run as
  `python -m bench.<module>` with the app's environment; its JSON answer.
- database(engine, ...): a SQLite file in the part's folder, or with --database-url a PostgreSQL
  database created for the run (intake_bench_<random>) and dropped after it.
- gunicorn(app, env, log): `gunicorn -w 2` (sync workers; `workers` to change it) on a free 127.0.0.1
  port, stopped with its workers on exit; crashes(log) and worker_deaths(log) read the workers that
  died out of its log.
- smtp_sink(): bench/smtp_sink.py, a loopback SMTP server that accepts every message and keeps none,
  in a process of its own; it counts what arrived.
"""

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.load import HOST
from bench.summary import BenchError

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORKERS = 2
# Intake as app servers run it (intake/wsgi.py): the whole app without its command-line tools.
INTAKE_APP = "intake.wsgi:app"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
ENGINES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True)
class Server:
    port: int
    process: subprocess.Popen

    def worker_pids(self) -> list[int]:
        """The gunicorn master's children: its web workers (Linux /proc)."""
        pid = self.process.pid
        return sorted(int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())

    def cpu_seconds(self) -> float:
        """CPU time used so far by the gunicorn workers (Linux /proc)."""
        ticks = 0
        for child in self.worker_pids():
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")


def python_path() -> str:
    """PYTHONPATH with this checkout first: the intake package measured is the one next to bench/."""
    rest = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p).resolve() != ROOT]
    return os.pathsep.join([str(ROOT), *rest])


def server_env(workdir: Path, database_url: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(
        INTAKE_ENV="development",
        INTAKE_INSTANCE_PATH=str(workdir),
        INTAKE_DATABASE_URL=database_url,
        INTAKE_SECRET_KEY="bench-only-secret",
        INTAKE_MAIL_WORKER="0",
        INTAKE_PARTNER_SWEEP="0",
        PYTHONPATH=python_path(),
        PYTHONDONTWRITEBYTECODE="1",  # leave no __pycache__ behind in bench/
        **extra,
    )
    return env


def prepare_database(env: dict) -> None:
    for command in (["db", "upgrade"], ["demo", "load"]):
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "intake", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode:
            raise BenchError(f"flask {' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def in_process(module: str, env: dict, *arguments: str, timeout: int = 60) -> dict:
    """Run bench/<module>.py with the app's environment; its JSON answer (progress and errors go to stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *arguments],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=sys.stderr,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        raise BenchError(
            f"bench/{module}.py {' '.join(arguments)} failed (status {done.returncode}; its error is above)"
        )
    return json.loads(done.stdout)


def engines(options) -> list[str]:
    """SQLite always; PostgreSQL too with --database-url."""
    return ["sqlite", "postgresql"] if options.database_url else ["sqlite"]


@contextmanager
def database(engine: str, options, workdir: Path, name: str) -> Iterator[str]:
    """The URL of an empty database for `name`: a SQLite file in workdir, or one of our own on PostgreSQL."""
    if engine == "sqlite":
        yield f"sqlite:///{workdir}/{name}.sqlite"
    else:
        with postgres_database(options.database_url) as url:
            yield url


def label(engine: str, url: str) -> str:
    if engine == "sqlite":
        return "SQLite"
    return f"PostgreSQL (database {urlsplit(url).path[1:]}, dropped after)"


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A database of our own on the PostgreSQL server, dropped on exit."""
    import psycopg

    parts = urlsplit(server_url)
    if parts.scheme not in ("postgresql", "postgres") or (parts.hostname or "127.0.0.1") not in LOOPBACK:
        raise BenchError(f"--database-url must be a postgresql:// URL on this machine ({', '.join(LOOPBACK)})")
    name = f"intake_bench_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        raise BenchError(f"cannot create a database at {server_url}: {exc}") from None
    try:
        yield urlunsplit(parts._replace(path="/" + name))
    finally:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict, log: Path, workers: int = WORKERS) -> Iterator[Server]:
    """Serve `app` (e.g. "intake:create_app()") with gunicorn on a free loopback port; stop it on exit."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(workers),
        "-b",
        f"{HOST}:{port}",
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
        app,
    ]
    with log.open("w") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until_serving(server, port)
        yield Server(port, server)
    except BaseException:
        if text := log.read_text().strip():
            sys.stderr.write(f"--- gunicorn log ({app}) ---\n{text[-3000:]}\n")
        raise
    finally:
        stop(server)


def wait_until_serving(server: subprocess.Popen, port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited with status {server.returncode}")
        conn = http.client.HTTPConnection(HOST, port, timeout=5)
        try:
            conn.request("GET", "/")
            conn.getresponse().read()
            return
        except (OSError, http.client.HTTPException):
            time.sleep(0.1)
        finally:
            conn.close()
    raise BenchError(f"gunicorn did not answer on port {port} within {timeout:.0f} s")


def stop(server: subprocess.Popen) -> None:
    """SIGTERM the server's process group (master and workers), then make sure none is left."""
    with suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    with suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()


class SmtpSink:
    """bench/smtp_sink.py running: its port, and how many messages it has accepted so far."""

    def __init__(self, process: subprocess.Popen, port: int):
        self.process, self.port = process, port

    def messages(self) -> int:
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline().split()[0])


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    """A discarding SMTP server on a free loopback port, in a process of its own; stopped on exit."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(BENCH / "smtp_sink.py"), str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        if process.stdout.readline().strip() != "ready":
            raise BenchError("bench/smtp_sink.py did not start")
        yield SmtpSink(process, port)
    finally:
        with suppress(OSError):
            process.stdin.close()  # its signal to end
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        stop(process)


def crashes(log: Path) -> list[str]:
    """The log's worker deaths, each fatal error with the app's innermost frame (PYTHONFAULTHANDLER is on)."""
    found, lines = [], log.read_text().splitlines()
    for i, line in enumerate(lines):
        if "was sent SIG" in line:
            found.append(line.strip())
        elif line.startswith("Fatal Python error"):
            frames = [f.strip() for f in lines[i + 1 : i + 40] if "/intake/" in f or f.strip() == "Garbage-collecting"]
            found.append(f"{line.strip()} — " + " < ".join(frames[:3]))
    return found


def worker_deaths(log: Path) -> int:
    """How many gunicorn workers the log says were killed by a signal (a crash, or a timeout's SIGKILL)."""
    return sum("was sent SIG" in line for line in log.read_text().splitlines()) if log.exists() else 0
