"""Locust users for bench/mixed_load.py: the people who use Intake at once, and a bare "hello" yardstick.

    locust -f bench/mixed_users.py --headless -u N -r N -t 20s -H http://127.0.0.1:PORT MixedUser
    locust -f bench/mixed_users.py --headless -u N -r N -t 10s -H http://127.0.0.1:PORT HelloUser

MixedUser: the k-th user takes the k-th role of ROLES, each doing what that person does, with no
pause between flows (so the server is saturated and req/s is its capacity under this mix):
  rep       saves a draft of the need section on a draft deal of its own (a POST answered by a 302
            back to the section, then the section it is sent back to), and one time in four routes a
            deal ready to route (POST /deals/<id>/route, a 302 to the deal, then the deal page)
  customer  a new visitor each time, opens a personal link (GET /p/<token>, the form), answers it
            completely (POST, a 302 back) and reads the page it is sent back to
  partner   a new visitor each time, opens a partner request by its link (GET /r/<token>), accepts
            (POST /r/<token>/accept, a 302 back) and reads the page it is sent back to
Every answer must be the expected one (status, and for a 302 where it points); anything else is a
failure, named by its status. Deals to route and requests to accept are used once each; when the
pool runs out a rep saves drafts instead and a partner re-reads a request it accepted (said in the
results).

The data comes from the JSON file named by MIXED_DATA (written by bench/mixed_load.py): the rep's
signed-in session cookie, drafts, links, deals to route, request tokens; MIXED_MAX_REQUESTS (if set)
stops the run after that many requests; MIXED_WARMUP (seconds, if set) is load before the figures
start (the stats are reset then). At the end the results go to the JSON file MIXED_OUT:
per request kind requests, failures, p50, p99; the failures by kind and cause; the pools' use.
"""

import itertools
import json
import os
import re
import time
from urllib.parse import urlencode, urlsplit

import gevent
from locust import FastHttpUser, constant, events, task
from requests.cookies import create_cookie

from bench.customer_link import CUSTOMER_ANSWER
from bench.questionnaire import ANSWERS

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ROLES = ("rep", "customer", "partner", "rep")
ROUTE_EVERY = 4  # a rep routes a deal once in this many flows

# The rep's draft save and the customer's complete answer, as the questionnaire and customer parts send them;
# "BENCH_N" becomes a counter.
NEED = {**ANSWERS["need"], "action": "save"}
ANSWER = CUSTOMER_ANSWER


def _load(name: str) -> dict:
    path = os.environ.get(name)
    if not path:
        return {}
    with open(path) as f:
        return json.load(f)


DATA = _load("MIXED_DATA")
MAX_REQUESTS = int(os.environ.get("MIXED_MAX_REQUESTS") or 0)
WARMUP_S = float(os.environ.get("MIXED_WARMUP") or 0)
users = itertools.count()
reps = itertools.count()
counter = itertools.count(1)
links = itertools.cycle(DATA.get("links") or [None])
to_route = iter(DATA.get("ready", []))
to_accept = iter(DATA.get("requests", []))
accepted: list[str] = []
pools = {name: {"given": len(DATA.get(name, [])), "used": 0} for name in ("ready", "requests")}
started = time.time()
stopping: list[bool] = []  # not empty once the run was told to stop at MAX_REQUESTS
environment = None  # locust's, kept at init to stop the run after MAX_REQUESTS


def encode(form: dict) -> str:
    """The form as a browser posts it (a list is a field sent once per value); BENCH_N a fresh counter."""
    n = str(next(counter))
    pairs = [
        (k, str(v).replace("BENCH_N", n)) for k, vs in form.items() for v in (vs if isinstance(vs, list) else [vs])
    ]
    return urlencode(pairs)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Unexpected(Exception):
    pass


class MixedUser(FastHttpUser):
    wait_time = constant(0)
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.role = ROLES[next(users) % len(ROLES)]
        self.flows = 0
        if self.role == "rep":
            # Signed in already (bench/mixed_load.py did it once): every rep is Alice, each on a draft of their own.
            for name, value in DATA["rep_cookies"].items():
                self.client.cookiejar.set_cookie(create_cookie(name, value, domain=urlsplit(self.host).hostname))
            self.draft = DATA["drafts"][next(reps) % len(DATA["drafts"])]

    @task
    def flow(self) -> None:
        self.flows += 1
        try:
            if self.role == "rep":
                if self.flows % ROUTE_EVERY == 0 and self.route():
                    return
                self.save_draft()
            elif self.role == "customer":
                self.answer_link()
            else:
                self.accept_request()
        except Unexpected:
            pass  # recorded as the request's failure; the next flow starts afresh

    # --- one request, checked ---

    def expect(
        self, name: str, method: str, path: str, status: int, *, body: str = "", location: str = "", form: bool = False
    ) -> str:
        """Send one request; fail it unless it got `status` (for a 302, to `location`; with `form`, a page
        with a CSRF token); return the body, or with `form` the token."""
        headers = FORM if method == "POST" else None
        with self.client.request(
            method, path, name=name, data=body or None, headers=headers, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != status:
                response.failure(f"status {response.status_code}")
                raise Unexpected()
            if status == 302:
                sent = urlsplit(response.headers.get("Location", ""))
                where = sent.path + (f"#{sent.fragment}" if sent.fragment else "")
                if where != location:
                    response.failure(f"302 to {sent.path}")
                    raise Unexpected()
            if form:
                match = CSRF.search(response.text or "")
                if not match:
                    response.failure("no csrf_token on the page")
                    raise Unexpected()
                response.success()
                return match.group(1)
            response.success()
            return response.text or ""

    # --- the flows ---

    def save_draft(self) -> None:
        path = f"/deals/{self.draft}/need"
        body = encode({**NEED, "csrf_token": DATA["rep_csrf"]})
        self.expect("rep: save draft (POST section)", "POST", path, 302, body=body, location=path)
        self.expect("rep: section after save (GET)", "GET", path, 200)

    def route(self) -> bool:
        deal_id = next(to_route, None)
        if deal_id is None:
            pools["ready"].setdefault("ran_out_after_s", round(time.time() - started, 1))
            return False
        pools["ready"]["used"] += 1
        path = f"/deals/{deal_id}"
        body = encode({"csrf_token": DATA["rep_csrf"]})
        self.expect("rep: route deal (POST route)", "POST", path + "/route", 302, body=body, location=path + "#routing")
        self.expect("rep: deal after routing (GET)", "GET", path, 200)
        return True

    def answer_link(self) -> None:
        self.client.cookiejar.clear()  # a customer's first visit
        link = next(links)
        path = f"/p/{link['token']}"
        token = self.expect("customer: link form (GET)", "GET", path, 200, form=True)
        answer = {**ANSWER, "rows-0-partner_id": link["partner_id"], "csrf_token": token}
        self.expect("customer: answer (POST)", "POST", path, 302, body=encode(answer), location=path)
        self.expect("customer: page after answer (GET)", "GET", path, 200)

    def accept_request(self) -> None:
        self.client.cookiejar.clear()  # a partner's contact opening the mailed link
        token = next(to_accept, None)
        if token is None:
            pools["requests"].setdefault("ran_out_after_s", round(time.time() - started, 1))
            if not accepted:
                gevent.sleep(1)
                return
            token = accepted[self.flows % len(accepted)]
            self.expect("partner: re-read accepted request (GET)", "GET", f"/r/{token}", 200)
            return
        pools["requests"]["used"] += 1
        path = f"/r/{token}"
        body = encode({"csrf_token": self.expect("partner: request (GET)", "GET", path, 200, form=True)})
        self.expect("partner: accept (POST)", "POST", path + "/accept", 302, body=body, location=path)
        accepted.append(token)
        self.expect("partner: page after accepting (GET)", "GET", path, 200)


class HelloUser(FastHttpUser):
    """The yardstick: bare Flask's GET / ("hello"), as fast as it answers."""

    wait_time = constant(0)
    network_timeout = 30.0

    @task
    def hello(self) -> None:
        with self.client.get("/", name="hello (GET)", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")


@events.init.add_listener
def _keep(environment, **kwargs) -> None:
    globals()["environment"] = environment


@events.spawning_complete.add_listener
def _warm_up(**kwargs) -> None:
    """Count from the end of the warm-up: fresh workers first compile templates and fill caches."""
    if WARMUP_S and environment is not None:
        gevent.spawn_later(WARMUP_S, environment.runner.stats.reset_all)


@events.request.add_listener
def _count(**kwargs) -> None:
    """Stop the run once MAX_REQUESTS requests are done (the memory row's 1,000)."""
    if MAX_REQUESTS and environment is not None:
        if environment.runner.stats.total.num_requests >= MAX_REQUESTS and not stopping:
            stopping.append(True)
            gevent.spawn(environment.runner.quit)


@events.quitting.add_listener
def _write_results(environment, **kwargs) -> None:
    out = os.environ.get("MIXED_OUT")
    if not out:
        return
    stats = environment.runner.stats
    kinds = {}
    for entry in stats.entries.values():
        kinds[entry.name] = {
            "method": entry.method,
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.5) if entry.num_requests else None,
            "p99_ms": entry.get_response_time_percentile(0.99) if entry.num_requests else None,
            "mean_ms": round(entry.avg_response_time, 1) if entry.num_requests else None,
        }
    total = stats.total
    seconds = max(1e-9, (total.last_request_timestamp or 0) - total.start_time) if total.num_requests else 0
    result = {
        "kinds": kinds,
        "requests": total.num_requests,
        "failures": total.num_failures,
        "seconds": round(seconds, 2),
        "rps": round(total.num_requests / seconds, 1) if seconds else 0.0,
        "errors": [
            {"method": e.method, "name": e.name, "error": str(e.error), "occurrences": e.occurrences}
            for e in stats.errors.values()
        ],
        "pools": pools,
    }
    with open(out, "w") as f:
        json.dump(result, f)
