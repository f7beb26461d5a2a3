"""gunicorn settings for an Intake app server: `gunicorn -c deploy/gunicorn.conf.py 'intake.wsgi:app'`.

Intake's own settings come from its environment (deploy/intake.env.example); this file only says how
the server runs. Two variables change it per machine: GUNICORN_BIND (where it listens, default
127.0.0.1:8000, behind the TLS proxy) and WEB_CONCURRENCY (how many workers, default 2 × cores + 1).
"""

import os
import re

from gunicorn.glogging import Logger

bind = [address.strip() for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",") if address.strip()]
# Sync workers: each request holds one worker and one database connection from start to commit, which is
# what Intake's row locks and one-transaction-per-request are written for. Size by CPU: no request waits on
# anything slow (mail, PDFs and webhooks are the outbox workers'), so threads would add nothing.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1) + 1)

# The slowest page (the channel manager's dashboard at 100,000 deals) answers in about 2 s; a worker
# silent for 30 s is stuck and is replaced. A restart lets requests in hand finish for as long.
timeout = 30
graceful_timeout = 30
# Each worker is replaced after about a thousand requests (never all at the same moment), so memory a
# worker gathers over days is given back.
max_requests = 1000
max_requests_jitter = 100
# The workers' heartbeat files: on tmpfs, so a slow or full disk never makes a healthy worker look dead.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# The app is loaded once in the master and forked: workers start fast and share its memory, and a
# missing secret stops the service at once with one line instead of every worker failing in turn.
# Safe because building the app opens no database connection (a test holds it to that); post_fork
# drops any pool all the same, so no worker ever shares a connection with another. A new release is
# a restart (`systemctl restart intake-web`), not a HUP, which would keep the old code.
preload_app = True


def post_fork(server, worker):
    """Start each worker with empty connection pools: connections are never shared across a fork."""
    from intake.extensions import db

    app = server.app.wsgi()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


# Logs go to stderr and stdout, which systemd keeps in the journal (`journalctl -u intake-web`).
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
accesslog = "-"
# The client's address as the proxy saw it, the request without its query, status, size, time in ms and
# the request id Intake answers with (X-Request-ID, also in its error log), to join the two logs.
access_log_format = '%({x-forwarded-for}i)s %(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms %({x-request-id}o)s'

# A personal link's token is as good as a password to whoever reads it: a customer's answer page,
# a partner's request, a partner user's sign-in. The access log never keeps one.
_TOKEN_PATH = re.compile(r"^(/p/|/r/|/partner/sign-in/)[^/]+")


class IntakeLogger(Logger):
    """gunicorn's logger, with the tokens of personal links cut out of the access log."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = _TOKEN_PATH.sub(r"\1[token]", atoms["U"] or "")
        # The request line too, should the format above ever use it (its query is left out as well).
        atoms["r"] = f"{atoms['m']} {atoms['U']} {atoms['H']}"
        return atoms


logger_class = IntakeLogger
proc_name = "intake-web"
