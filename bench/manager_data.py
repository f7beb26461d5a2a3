"""The channel manager's data set for the manager_pages and growth parts, written next to the demo data.

    python -m bench.manager_data [--deals 100000] [--partners 1000]

Builds, with the database's bulk path (bench/setup_data.py's Writer: sqlite3 executemany, or
PostgreSQL COPY), two years of a channel programme: --partners partners (each with a partner user,
as inviting its contact makes one), 40 % as many accounts as deals (two or three deals each, one
after the other, so no two are open on an account at once) and --deals deals, each with what the
services write on its way:

    the questionnaire    the deal's rows, the rep's relationship rows (source rep, on the deal);
                         a partner's registration (registrations, a relationship of source partner)
                         for a share of the deals partners found
    the customer         their answer (customer_answers) and their relationship rows (source customer)
    routing              each decision version as intake.deals.decisions._record writes it: the input
                         in the shape intake.deals.facts.gather builds (the account's relationship rows
                         stated by then, the partners they name, declined and lapsed partners), the
                         decision routing.decide makes of it (or, when a partner declined the one the
                         customer named, a channel manager's decision in place, routing.decide_as, with
                         the engine's proposal kept), the snapshot as intake.deals.snapshot.build makes
                         it (checked against it on a sample); the deal's status and hold reason as
                         lifecycle.decided sets them
    credit               the rows intake.deals.credit.record writes: credit.earned(decision, originator)
                         per routed version, valued at the deal's estimate; ended (in_force false) when a
                         partner declines or lets its time pass and the deal goes back to routing; closed
                         won, lost (date, final value) or withdrawn
    partner requests     one per partner that leads or fulfils a routed version, expiring after
                         PARTNER_RESPONSE_DAYS: accepted, declined with a reason, lapsed (reminded, the
                         manager alerted, then lapsed by the manager: recycling is manual), or still open
                         (due soon, or overdue and alerted)

decided_at spreads over the last 8 calendar quarters, this one included. A deal that is not its
account's last is closed (won, lost, withdrawn); the last is anywhere in the lifecycle, by its age.
Not written (the manager's pages do not read them): audit events, customer links, customer contacts,
mail. Prints JSON on stdout (the counts, the build time, the ids the benchmark needs); progress on stderr.
"""

import argparse
import json
import sys
import time
from bisect import bisect
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from random import Random

from flask import current_app
from sqlalchemy import func, select

from bench.setup_data import (
    COUNTRIES,
    SIZE_BANDS,
    TIERS,
    VERTICALS,
    WORDS_A,
    WORDS_B,
    WORDS_C,
    Writer,
    next_id,
    partner_name,
    reset_sequences,
    settle,
)
from intake import create_app, routing, tokens
from intake.deals import credit, rules, snapshot
from intake.deals.facts import Facts
from intake.deals.partner_requests import PURPOSE
from intake.extensions import db
from intake.models import Credit, Deal, Decision, Partner, PartnerRequest, User
from intake.models.partners import coverage_of
from intake.models.users import new_session_token
from intake.routing.names import company_key, domain_key

MANAGER_EMAIL = "manager@example.com"
REP_EMAILS = ("alice@example.com", "bob@example.com")
DEALS = 100_000
PARTNERS = 1_000
ACCOUNTS_PER_DEAL = 0.4  # two or three deals per account
CURRENCY = {"GB": "GBP", "IE": "EUR", "US": "USD", "CA": "USD", "CH": "CHF"}  # else EUR
LEGAL = {"DE": "GmbH", "AT": "GmbH", "CH": "AG", "GB": "Ltd", "IE": "Ltd", "US": "Inc", "CA": "Inc", "FR": "SA"}
TLD = {"GB": "co.uk", "US": "com", "CA": "ca"}
DURATIONS = ("under_1", "1_3", "3_5", "over_5")
DECLINES = (
    "No capacity this quarter",
    "Outside our region",
    "The customer works with a competitor of ours",
    "Too small for us",
    "",
)
LOST = ("Price", "Went with a competitor", "No budget this year", "Project cancelled")
# The last deal of an account: (status, share). Earlier deals on the account are closed.
LAST = (
    ("draft", 10),
    ("awaiting_customer", 10),
    ("ready_to_route", 5),
    ("returned", 4),  # ready_to_route again: a partner declined or let its time pass
    ("on_hold", 6),
    ("routed", 15),
    ("accepted", 25),
    ("won", 15),
    ("lost", 8),
    ("withdrawn", 2),
)
EARLIER = (("won", 58), ("lost", 35), ("withdrawn", 4), ("expired", 3))  # expired: a registration withdrawn


def log(message: str) -> None:
    print(f"  [manager data] {message}", file=sys.stderr, flush=True)


def quarter_start(moment: datetime, back: int) -> datetime:
    """The first instant of the calendar quarter `back` quarters before the one `moment` is in."""
    index = moment.year * 4 + (moment.month - 1) // 3 - back
    return datetime(index // 4, index % 4 * 3 + 1, 1, tzinfo=UTC)


class Builder:
    """Generates the rows account by account, and writes them in batches of accounts, parents first."""

    TABLES = (
        "partners",
        "partner_users",
        "accounts",
        "deals",
        "registrations",
        "relationships",
        "customer_answers",
        "decisions",
        "credits",
        "partner_requests",
    )
    COLUMNS = {
        "accounts": "id name name_key domain domain_key country vertical size_band owner_id vendor_strength "
        "vendor_since created_at updated_at",
        "deals": "id status rep_id account_id contact_name contact_title contact_email contact_phone originator "
        "originator_partner_id origin_channel origin_date pain_points pain_other business_impact incumbent "
        "solutions estimated_value currency close_date budget has_decision_maker decision_maker decision_process "
        "competitors next_step next_step_date partners_known completed_at created_at updated_at hold_reason "
        "lock_version returned_reason closed_on final_value lost_reason status_changed_at routed_at route_leader "
        "route_fulfiller",
        "registrations": "id deal_id partner_id partner_user_id form_key account_name domain registered_at clashed "
        "notes reminded_at expired_at",
        "relationships": "id account_id deal_id partner_id partner_name strength since source does_what notes "
        "position created_at duration",
        "customer_answers": "id deal_id company_name contact_name contact_title contact_email contact_phone "
        "works_with_partner fulfilment fulfilment_reason contact_preference consented_at consent_text language "
        "submitted_at updated_at fulfilment_partner_id fulfilment_partner_name",
        "decisions": "id deal_id version kind input output proposal rules reason reason_shared summary "
        "decided_by_id decided_at",
        "credits": "id deal_id decision_id party partner_id credit originator value currency decided_at in_force "
        "outcome closed_on final_value",
        "partner_requests": "id deal_id decision_id partner_id nonce token_hash created_at expires_at reminded_at "
        "overdue_alerted_at response reason responded_at",
    }

    def __init__(self, writer: Writer, n_deals: int, n_partners: int):
        self.w = writer
        self.rng = Random(7)
        self.n_deals, self.n_partners = n_deals, n_partners
        self.n_accounts = max(1, int(n_deals * ACCOUNTS_PER_DEAL))
        self.now = datetime.now(UTC)
        self.first = quarter_start(self.now, 7)  # decided_at spreads over 8 calendar quarters
        self.ids = {table: next_id(table) for table in self.TABLES}
        self.rows: dict[str, list] = {table: [] for table in self.TABLES}
        # The route each deal keeps beside its credit in force (credit.record sets it): deal id → its three columns.
        self.routes: dict[int, tuple] = {}
        self.counts: Counter = Counter()
        self.statuses: Counter = Counter()
        self.routes: Counter = Counter()
        self.manager = db.session.scalar(select(User).where(User.email == MANAGER_EMAIL))
        self.reps = [db.session.scalar(select(User).where(User.email == email)) for email in REP_EMAILS]
        engine = rules.in_force().engine
        self.rules = {"threshold": engine.threshold, "ties": engine.ties}
        self.vendor = current_app.config["VENDOR_NAME"]
        self.response_days = current_app.config["PARTNER_RESPONSE_DAYS"]
        self.remind = timedelta(hours=current_app.config["PARTNER_REMIND_HOURS"])
        self.lock_version = self._lock_versions()
        self.last_statuses = self._picker(LAST)
        self.earlier_statuses = self._picker(EARLIER)

    def _picker(self, shares):
        names, weights = zip(*shares, strict=True)
        cumulative = list(accumulate(weights))
        return lambda: names[bisect(cumulative, self.rng.random() * cumulative[-1])]

    def _lock_versions(self) -> dict[str, int]:
        """A deal's lock_version by status, read off the demo deals the services made."""
        seen = dict(db.session.execute(select(Deal.status, func.max(Deal.lock_version)).group_by(Deal.status)).all())
        routed = seen.get("routed", 9)
        base = {"on_hold": routed, "withdrawn": routed + 1, "returned": routed + 2, "expired": seen.get("draft", 3) + 1}
        return {**base, **{s: v for s, v in seen.items() if s not in ("on_hold",)}}

    def new_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table] - 1

    def at(self, base: datetime, low_days: float, high_days: float) -> datetime:
        return base + timedelta(seconds=self.rng.uniform(low_days * 86400, high_days * 86400))

    # --- partners ---------------------------------------------------------------------

    def partners(self) -> None:
        rng, now = self.rng, self.w.value(self.now - timedelta(days=800))
        self.partner_info: dict[int, dict] = {}
        self.partner_user: dict[int, int] = {}
        for i in range(self.n_partners):
            pid = self.new_id("partners")
            name = partner_name(i)
            info = {
                "id": pid,
                "name": name,
                "active": rng.random() < 0.97,
                "countries": sorted(rng.sample(COUNTRIES, rng.randint(1, 3))),
                "verticals": sorted(rng.sample(VERTICALS, rng.randint(1, 2))),
                "tier": TIERS[i % len(TIERS)],
                "contact_name": f"Partner Contact {i + 1}",
                "contact_email": f"deals@partner-{i + 1}.example",
            }
            self.partner_info[pid] = info
            self.rows["partners"].append(
                (
                    pid,
                    name,
                    company_key(name),
                    info["contact_name"],
                    info["contact_email"],
                    json.dumps(info["countries"]),
                    json.dumps(info["verticals"]),
                    info["tier"],
                    self.w.value(info["active"]),
                    now,
                )
            )
            uid = self.new_id("partner_users")
            self.partner_user[pid] = uid
            self.rows["partner_users"].append(
                (uid, pid, info["contact_name"], info["contact_email"], self.w.value(True), new_session_token(), now)
            )
        # Some partners are much busier than others: a partner is picked with weight 1 / rank^0.6.
        self.active = [pid for pid, info in self.partner_info.items() if info["active"]]
        self.weights = list(accumulate(1 / (rank + 1) ** 0.6 for rank in range(len(self.active))))
        self.w.insert(
            "partners",
            "id name name_key contact_name contact_email countries verticals tier is_active created_at",
            self.rows.pop("partners"),
        )
        coverage = [
            (pid, kind, value, rank)
            for pid, info in self.partner_info.items()
            for (kind, value), rank in coverage_of(
                info["countries"], info["verticals"], info["tier"], info["active"]
            ).items()
        ]
        self.w.insert("partner_coverage", "partner_id kind value tier_rank", coverage)
        columns = "id partner_id name email is_active session_token created_at"
        self.w.insert("partner_users", columns, self.rows.pop("partner_users"))

    def some_partners(self, n: int) -> list[int]:
        chosen: list[int] = []
        while len(chosen) < n:
            pid = self.active[bisect(self.weights, self.rng.random() * self.weights[-1])]
            if pid not in chosen:
                chosen.append(pid)
        return chosen

    # --- accounts and their deals -----------------------------------------------------

    def account(self, i: int) -> None:
        rng, w = self.rng, self.w
        country = COUNTRIES[i % len(COUNTRIES)]
        words = f"{WORDS_A[i % 40]} {WORDS_B[i // 40 % 50]} {WORDS_C[i // 2000 % len(WORDS_C)]}"
        name = f"{words} {i + 1} {LEGAL.get(country, 'Ltd')}"
        domain = f"{words.lower().replace(' ', '-')}-{i + 1}.{TLD.get(country, country.lower())}"
        vendor_strength = rng.randint(0, 5)
        owner = self.reps[i % 2]
        deals = int(self.n_deals / self.n_accounts * (i + 1)) - int(self.n_deals / self.n_accounts * i)
        # The last deal's status and age; the earlier ones began at random before it, a month apart at least.
        last_status = self.last_statuses()
        last_created = self.now - timedelta(days=self._age(last_status))
        begins = self.spaced(self.first + timedelta(days=1), last_created, deals - 1)
        a = {
            "id": self.new_id("accounts"),
            "name": name,
            "domain": domain,
            "country": country,
            "vertical": VERTICALS[i % len(VERTICALS)],
            "size": SIZE_BANDS[i % len(SIZE_BANDS)],
            "vendor_strength": vendor_strength,
            "owner": owner,
            "currency": CURRENCY.get(country, "EUR"),
            "partners": self.some_partners(3),
            "relationships": [],  # every row stated on the account so far: (created_at, facts' dict)
        }
        created = w.value((begins[0] if begins else last_created) - timedelta(days=30))
        since = w.value(date(2012 + i % 10, 1 + i % 12, 1)) if vendor_strength else None
        self.rows["accounts"].append(
            (
                a["id"],
                name,
                company_key(name),
                domain,
                domain_key(domain),
                country,
                a["vertical"],
                a["size"],
                owner.id,
                vendor_strength,
                since,
                created,
                created,
            )
        )
        for created, ends in zip(begins, [*begins[1:], last_created], strict=True):
            self.deal(a, self.earlier_statuses(), created, ends - timedelta(days=1))
        self.deal(a, last_status, last_created, self.now)

    def spaced(self, low: datetime, high: datetime, n: int, gap: timedelta = timedelta(days=30)) -> list[datetime]:
        """n moments at random between low and high, sorted, each `gap` before the next and before high."""
        span = (high - low).total_seconds()
        for _ in range(20):
            found = sorted(low + timedelta(seconds=self.rng.uniform(0, span)) for _ in range(n))
            if all(b - a >= gap for a, b in zip(found, [*found[1:], high], strict=True)):
                return found
        step = max(gap, (high - low) / (n + 1))
        return [high - step * (n - k) for k in range(n)]

    def _age(self, status: str) -> float:
        """How many days ago the last deal of an account began, by where it stands now."""
        u = self.rng.uniform
        return {
            "draft": u(0.5, 45),
            "awaiting_customer": u(1, 28),
            "ready_to_route": u(3, 14),
            "returned": u(8, 40),
            "on_hold": u(2, 30),
            "routed": u(4, 90),  # a routed deal's partners answer within days: one older is the vendor's own
            "accepted": u(10, 160),
            "won": u(30, 320),
            "lost": u(30, 320),
            "withdrawn": u(20, 200),
        }[status]

    def deal(self, a: dict, status: str, created: datetime, ends: datetime) -> None:
        """One deal from its creation to `status`, every event before `ends` (and before now)."""
        rng, w = self.rng, self.w
        did = self.new_id("deals")
        p1, p2, p3 = rng.sample(a["partners"], 3)
        roll = rng.random()
        originator = (
            "partner" if status == "expired" else "vendor" if roll < 0.45 else "partner" if roll < 0.8 else "customer"
        )
        registered = originator == "partner" and (status == "expired" or rng.random() < 0.4)
        # A registration goes to the account's owner; a rep's own deal is mostly on an account they own.
        rep = a["owner"] if registered or rng.random() < 0.7 else self.reps[rng.randrange(2)]
        channel = {"vendor": ("meeting", "campaign"), "customer": ("referral",), "partner": ("partner_marketing",)}
        channel = "registration" if registered else rng.choice(channel[originator])
        value = rng.randrange(50, 2000) * 100
        d = {
            "id": did,
            "account": a,
            "rep": rep,
            "originator": originator,
            "originator_partner_id": p1 if originator == "partner" else None,
            "value": value,
            "close_date": (created + timedelta(days=rng.randint(60, 200))).date(),
            "contact": (f"Contact {did}", "Head of IT", f"it{did}@{a['domain']}", "+44 20 7946 0000"),
            "landscape": [],  # the rep's rows on the deal, by position
            "customer_rows": [],
            "answer": None,
        }
        status_at = created
        states = {"status": "draft", "hold": None, "returned": "", "closed_on": None, "final": None, "lost": ""}
        completed = None
        if registered:
            self.registration(d, p1, created, expired=status == "expired")
        # The questionnaire: the rep states the partners they know of on the deal.
        if status != "draft" or rng.random() < 0.5:
            self.rep_rows(d, [p1] + ([p2] if rng.random() < 0.4 else []), created + timedelta(hours=2))
        if status not in ("draft", "expired"):
            completed = status_at = self.at(created, 0.2, 3)
            states["status"] = "awaiting_customer"
        decided_at = None
        if status not in ("draft", "expired", "awaiting_customer"):
            answered = status_at = self.at(completed, 0.5, 6)
            self.customer_answer(d, status, p1, p2, p3, answered)
            states["status"] = "ready_to_route"
            decided_at = self.at(answered, 0.05, 2)
        if status == "expired":
            states["status"], status_at = "withdrawn", created + timedelta(days=30)
        if decided_at is not None and status != "ready_to_route":
            status_at = self.route(d, status, decided_at, ends, states)
        self.statuses[states["status"]] += 1
        # As the app's writes leave it: by the status reached, and two more writes for every further version.
        lock = self.lock_version.get(states["status"], 9) + 2 * max(0, d.get("versions", 1) - 1)
        if status in ("returned", "expired"):
            lock = self.lock_version[status]
        pains, solutions = ["Rising infrastructure cost", "Security or compliance gaps"], ["Cloud platform"]
        need = (w.value(pains[: 1 + did % 2]), "", "Their platform goes out of support.", "On-premises servers")
        qualification = ("identified", w.value(True), "CIO", "CIO decides with the CFO.", "", "Workshop")
        self.rows["deals"].append(
            (
                did,
                states["status"],
                rep.id if not (registered and status == "draft" and did % 7 == 0) else None,
                a["id"],
                *d["contact"],
                originator,
                d["originator_partner_id"],
                channel,
                w.value(created.date()),
                *need,
                w.value(solutions),
                value,
                a["currency"],
                w.value(d["close_date"]),
                *qualification,
                w.value(d["close_date"] - timedelta(days=30)),
                "yes" if d["landscape"] else None,
                w.value(completed),
                w.value(created),
                w.value(status_at),
                states["hold"],
                lock,
                states["returned"],
                w.value(states["closed_on"]),
                states["final"],
                states["lost"],
                w.value(status_at),
            )
        )

    def registration(self, d: dict, pid: int, at: datetime, *, expired: bool) -> None:
        a = d["account"]
        rid = self.new_id("registrations")
        expired_at = self.w.value(at + timedelta(days=30)) if expired else None
        reminded = self.w.value(at + timedelta(days=23)) if expired else None
        self.rows["registrations"].append(
            (
                rid,
                d["id"],
                pid,
                self.partner_user[pid],
                f"bench-{rid}",
                a["name"],
                a["domain"],
                self.w.value(at),
                self.w.value(False),
                "",
                reminded,
                expired_at,
            )
        )
        self.relationship(d, pid, self.rng.randint(2, 5), "partner", at, deal=False)

    def relationship(self, d, pid, strength, source, at, *, deal=True, position=0, duration=None, name="") -> dict:
        a = d["account"]
        does = {"rep": "Runs their servers and licences", "customer": "Runs our IT", "partner": ""}[source]
        since = self.w.value(date(2015 + pid % 8, 1 + pid % 12, 1)) if source != "customer" else None
        row = {"partner_id": pid, "partner_name": name, "strength": strength, "source": source, "does": does}
        self.rows["relationships"].append(
            (
                self.new_id("relationships"),
                a["id"],
                d["id"] if deal else None,
                pid,
                name,
                strength,
                since,
                source,
                does,
                "",
                position,
                self.w.value(at),
                duration,
            )
        )
        a["relationships"].append((at, d["id"] if deal else None, row))
        return row

    def rep_rows(self, d: dict, pids: list[int], at: datetime) -> None:
        for position, pid in enumerate(pids):
            d["landscape"].append(self.relationship(d, pid, self.rng.randint(2, 5), "rep", at, position=position))

    def customer_answer(self, d: dict, status: str, p1: int, p2: int, p3: int, at: datetime) -> None:
        """The customer's answer by their link: their partners, the delivery and the contact they want."""
        rng, w = self.rng, self.w
        rows = [(p1, rng.randint(3, 5), "")]
        if rng.random() < 0.25:
            rows.append((p2, rng.randint(1, 3), ""))
        if rng.random() < 0.05:
            rows.append((None, rng.randint(1, 4), f"Local IT {p3}"))
        for position, (pid, strength, name) in enumerate(rows):
            duration = DURATIONS[rng.randrange(4)]
            row = self.relationship(d, pid, strength, "customer", at, position=position, duration=duration, name=name)
            d["customer_rows"].append({**row, "duration": duration})
        wish = rng.random()
        fulfilment = "partner" if wish < 0.5 else "direct" if wish < 0.8 else "no_preference"
        if d["originator"] == "partner":
            contact = "partner"
        elif d["originator"] == "vendor":
            contact = "vendor" if rng.random() < 0.9 else "no_preference"
        else:
            contact = ("vendor", "partner", "no_preference")[bisect((0.5, 0.9), rng.random())]
        named, named_word = (p1, "") if fulfilment == "partner" else (None, "")
        if status == "on_hold":  # what puts a deal in the channel manager's queues
            if d["originator"] == "partner" and rng.random() < 0.7:
                contact = "vendor"  # the vendor leads a deal a partner found: alignment
            else:
                fulfilment, named, named_word = "partner", None, f"Local IT {p3}"  # a partner we do not know
        a = d["account"]
        consent = "I agree that the vendor may share these answers and my contact details with the partner."
        d["answer"] = {"fulfilment": fulfilment, "partner_id": named, "partner_name": named_word, "contact": contact}
        self.rows["customer_answers"].append(
            (
                self.new_id("customer_answers"),
                d["id"],
                a["name"],
                *d["contact"],
                "yes",
                fulfilment,
                "",
                contact,
                w.value(at),
                consent,
                "en",
                w.value(at),
                w.value(at),
                named,
                named_word,
            )
        )

    # --- routing, the partners' answers, credit ----------------------------------------------

    def facts(self, d: dict, at: datetime, declined=(), lapsed=()) -> dict:
        """The engine's input as intake.deals.facts.gather reads it at `at`."""
        a = d["account"]
        rows = []
        for stated_at, deal_id, row in a["relationships"]:
            if stated_at <= at and row["strength"] is not None and (row["partner_id"] or row["partner_name"]):
                rows.append(
                    {
                        "partner_id": row["partner_id"],
                        "partner_name": None if row["partner_id"] else row["partner_name"],
                        "strength": row["strength"],
                        "source": row["source"],
                        "on_this_deal": deal_id == d["id"],
                        "stated_at": stated_at.isoformat(),
                    }
                )
        rows.sort(
            key=lambda r: (r["partner_id"] or 0, r["partner_name"] or "", r["source"], r["stated_at"], r["strength"])
        )
        answer = d["answer"]
        preference = {**answer, "partner_name": answer["partner_name"] or None}
        ids = {r["partner_id"] for r in rows if r["partner_id"]}
        ids |= {p for p in (d["originator_partner_id"], answer["partner_id"]) if p}
        originator = {"kind": d["originator"]}
        if d["originator"] == "partner":
            originator["partner_id"] = d["originator_partner_id"]
        return {
            "originator": originator,
            "vendor_strength": a["vendor_strength"],
            "relationships": rows,
            "preference": preference,
            "partners": [self.partner_facts(pid) for pid in sorted(ids)],
            "account": {"country": a["country"], "vertical": a["vertical"], "domain": a["domain"], "name": a["name"]},
            "open_deals": [],  # an account's deals follow each other: none other is open
            "declined_partner_ids": sorted(declined),
            "lapsed_partner_ids": sorted(set(lapsed) - set(declined)),
            "rules": self.rules,
        }

    def partner_facts(self, pid: int) -> dict:
        p = self.partner_info[pid]
        keys = ("id", "name", "active", "countries", "verticals", "tier")
        return {key: p[key] for key in keys}

    def decide(self, d: dict, at: datetime, declined=(), lapsed=(), *, hold: bool = False):
        """Record the engine's decision on the facts at `at`; when it holds the deal (and `hold` is not
        asked for), the channel manager's decision in its place follows, as decisions.decide_in_place
        records it: the engine's leader, and who fulfils (the vendor when the engine found no one).
        Return (version, decision) of the version in force."""
        data = self.facts(d, at, declined, lapsed)
        facts = routing.parse_input(data)
        decision = routing.decide(facts)
        version = self.version(d, facts, data, decision, None, at, "engine", d["rep"].id, "")
        if decision.status == "routable" or hold:
            return version, decision
        kind = "alignment" if decision.status == "needs_alignment" else "override"
        reason = {
            "alignment": "Aligned with the partner that found the deal: the vendor leads, as the customer asked.",
            "override": "The partner the customer wants cannot fulfil: we deliver it ourselves.",
        }[kind]
        chosen = routing.decide_as(
            facts,
            leader=decision.leader,
            fulfilment=decision.fulfilment or routing.model.VENDOR,
            decided_by=f"{self.manager.name}, channel manager",
            reason=reason,
            reason_shared=False,
            kind=kind,
        )
        at = self.at(at, 0.2, 4)
        return self.version(d, facts, data, chosen, decision, at, kind, self.manager.id, reason), chosen

    def route(self, d: dict, status: str, decided_at: datetime, ends: datetime, states: dict) -> datetime:
        """Record the deal's decision versions and what followed; set its final state; return when it changed."""
        rng = self.rng
        limit = min(ends, self.now) - timedelta(hours=1)
        version, decision = self.decide(d, decided_at, hold=status == "on_hold")
        if decision.status != "routable":
            reason = "conflict" if "conflict" in decision.flags else None
            reason = reason or ("needs_alignment" if decision.status == "needs_alignment" else "fulfilment")
            states.update(status="on_hold", hold=reason)
            return version["at"]
        if status == "on_hold":
            status = "routed"  # the engine routed it after all
        acting = decision.acting_partner_ids()
        if status == "routed" and acting and self.now - decided_at > timedelta(days=12):
            status = "accepted"  # its partners have long answered (a routed deal still asking is recent)
        if status == "returned" and not acting:
            status = "routed"  # the vendor leads and fulfils: nobody to decline
        versions = []
        # How the partners asked answer: a decline or a lapse sends the deal back to routing.
        turn = rng.random()
        trouble = status == "returned" or (status != "routed" and turn < 0.14)
        declines = turn < 0.6 if status == "returned" else turn < 0.08
        how = "declined" if declines else "lapsed"
        if trouble and acting:
            back = self.requests(d, version, acting, how)
            versions.append((version, decision, False))
            if status == "returned":
                states.update(status="ready_to_route", returned=self.returned_reason(acting[0], how))
                self.credits(d, versions, None, None)
                return back
            declined = acting[:1] if how == "declined" else ()
            lapsed = acting[:1] if how == "lapsed" else ()
            version, decision = self.decide(d, self.at(back, 0.05, 3), declined, lapsed)
            acting = decision.acting_partner_ids()
        # The version in force: its partners accept (or, for a deal still routed, have not all answered).
        answered = self.requests(d, version, acting, "open" if status == "routed" else "accepted", limit=limit)
        versions.append((version, decision, True))
        self.routes[(decision.leader.kind, decision.fulfilment.kind)] += 1
        outcome = None
        if status in ("routed", "accepted"):
            states["status"] = "accepted" if status == "accepted" and acting else "routed"
            changed = answered if states["status"] == "accepted" else version["at"]
        elif status in ("won", "lost"):
            closed = max(min(self.at(answered, 10, 120), limit), answered + timedelta(minutes=5))
            outcome = status
            final = int(d["value"] * rng.uniform(0.8, 1.1)) if status == "won" else 0
            states.update(status=status, closed_on=closed.date(), final=final)
            if status == "lost":
                states["lost"] = LOST[d["id"] % len(LOST)]
            changed = closed
        else:  # withdrawn in a conflict: its finder keeps origination credit
            outcome = "withdrawn"
            changed = max(min(self.at(answered, 5, 60), limit), answered + timedelta(minutes=5))
            states["status"] = "withdrawn"
        self.credits(d, versions, outcome, states)
        return changed

    def returned_reason(self, pid: int, how: str) -> str:
        name = self.partner_info[pid]["name"]
        if how == "declined":
            return f"{name} declined: {DECLINES[pid % len(DECLINES)]}"
        return f"{name} let its time to answer pass"

    def version(self, d, facts, data, decision, proposal, at, kind, by, reason) -> dict:
        """One decision version as decisions._record writes it."""
        vid = self.new_id("decisions")
        d["versions"] = number = d.get("versions", 0) + 1
        w = self.w
        summary = self.snapshot(d, decision, proposal)
        proposal = None if proposal is None else json.dumps(proposal.to_dict())
        self.rows["decisions"].append(
            (
                vid,
                d["id"],
                number,
                kind,
                json.dumps(data),
                json.dumps(decision.to_dict()),
                proposal,
                json.dumps(data["rules"]),
                reason,
                w.value(False),
                json.dumps(summary),
                by,
                w.value(at),
            )
        )
        return {"id": vid, "at": at, "originator": facts.originator}

    def requests(self, d, version, acting, how, *, limit=None) -> datetime:
        """The requests of a routed version (one per partner leading or fulfilling) and their answers.

        how: accepted (all of them), open (none answered yet), declined or lapsed (the first partner
        declines, or lets its time pass; another may have accepted before). Returns when the last
        answer came, or the decline or lapse that sent the deal back.
        """
        rng, w = self.rng, self.w
        decided_at = last = version["at"]
        created = decided_at + timedelta(milliseconds=3)
        expires = created + timedelta(days=self.response_days)
        reminder = expires - self.remind + timedelta(minutes=2)  # the sweep's, once the deadline is near
        alert = expires + timedelta(minutes=2)
        ended = None  # when the first partner declined or lapsed
        if how == "declined":
            ended = created + timedelta(hours=rng.uniform(1, 70))
        elif how == "lapsed":
            ended = alert + timedelta(hours=rng.uniform(1, 48))  # the manager lapses it (manual recycling)
        for n, pid in enumerate(acting):
            reminded = alerted = response = responded = None
            reason = ""
            if how == "accepted" or (ended is not None and n > 0 and rng.random() < 0.5):
                responded = created + timedelta(hours=min(rng.expovariate(1 / 20), self.response_days * 24 - 1))
                if ended is not None:
                    responded = min(responded, ended - timedelta(minutes=1))
                if limit is not None and responded > limit:
                    responded = max(created + timedelta(minutes=1), limit)
                response = "accepted"
            elif how == "declined" and n == 0:
                response, reason, responded = "declined", DECLINES[pid % len(DECLINES)], ended
            elif how == "lapsed" and n == 0:
                response, responded = "lapsed", ended
            # Unanswered while current, a request is reminded and, once its time passed, alerted.
            open_until = responded or ended or self.now
            if reminder <= open_until:
                reminded = reminder
            if alert <= open_until:
                alerted = alert
            if responded is not None:
                last = max(last, responded)
            nonce, token_hash = tokens.new_secret(PURPOSE)
            self.rows["partner_requests"].append(
                (
                    self.new_id("partner_requests"),
                    d["id"],
                    version["id"],
                    pid,
                    nonce,
                    token_hash,
                    w.value(created),
                    w.value(expires),
                    w.value(reminded),
                    w.value(alerted),
                    response,
                    reason,
                    w.value(responded),
                )
            )
        return ended or last

    def credits(self, d: dict, versions: list, outcome: str | None, states: dict | None) -> None:
        """credit.record per routed version; the one before ended; the one in force closed by the outcome."""
        w = self.w
        for version, decision, in_force in versions:
            if decision.status != "routable":
                continue
            closing = in_force and outcome is not None
            if in_force:
                # As credit.record keeps it: a routed decision naming no fulfiller counts as the vendor fulfilling.
                fulfiller = decision.fulfilment.kind if decision.fulfilment is not None else "vendor"
                self.routes[d["id"]] = (w.value(version["at"]), decision.leader.kind, fulfiller)
            for party, earned in credit.earned(decision, version["originator"]):
                self.rows["credits"].append(
                    (
                        self.new_id("credits"),
                        d["id"],
                        version["id"],
                        party.kind,
                        party.partner_id if party.kind == "partner" else None,
                        earned,
                        version["originator"].kind,
                        d["value"],
                        d["account"]["currency"],
                        w.value(version["at"]),
                        w.value(in_force),
                        outcome if closing else None,
                        w.value(states["closed_on"]) if closing else None,
                        states["final"] if closing else None,
                    )
                )

    def snapshot(self, d: dict, *decisions) -> dict:
        """intake.deals.snapshot.build for this deal and decision, from the rows written."""
        a, answer = d["account"], d["answer"]
        named = set()
        for decision in decisions:
            if decision is not None:
                named |= set(decision.role_partner_ids()) | {r.partner_id for r in decision.recommendations}
        rep = d["rep"]
        chosen = self.partner_info[answer["partner_id"]]["name"] if answer["partner_id"] else answer["partner_name"]
        return {
            "deal_id": d["id"],
            "vendor": self.vendor,
            "account": {
                "name": a["name"],
                "domain": a["domain"],
                "country": a["country"],
                "vertical": a["vertical"],
                "size": a["size"],
            },
            "need": {
                "pain_points": ["Rising infrastructure cost", "Security or compliance gaps"][: 1 + d["id"] % 2],
                "pain_other": "",
                "impact": "Their platform goes out of support.",
                "incumbent": "On-premises servers",
                "solutions": ["Cloud platform"],
                "value": f"{Decimal(d['value']):,.0f} {a['currency']}",
                "close_date": d["close_date"].isoformat(),
            },
            "rep": {"name": rep.name, "email": rep.email},
            "partners": {
                str(pid): {
                    "name": self.partner_info[pid]["name"],
                    "contact_name": self.partner_info[pid]["contact_name"],
                    "contact_email": self.partner_info[pid]["contact_email"],
                }
                for pid in sorted(named)
            },
            "customer": {
                "fulfilment": answer["fulfilment"],
                "chosen_partner_id": answer["partner_id"] if answer["fulfilment"] == "partner" else None,
                "chosen": chosen if answer["fulfilment"] == "partner" else "",
                "reason": "",
                "contact": answer["contact"],
                "consented": True,
                "language": "en",
                "partners": [
                    {
                        "partner_id": r["partner_id"],
                        "name": self.partner_info[r["partner_id"]]["name"] if r["partner_id"] else r["partner_name"],
                        "strength": r["strength"],
                        "duration": r["duration"],
                        "does": r["does"],
                    }
                    for r in d["customer_rows"]
                ],
            },
            "customer_contact": dict(zip(("name", "title", "email", "phone"), d["contact"], strict=True)),
            "internal": {
                "budget": "identified",
                "decision_maker": "CIO",
                "process": "CIO decides with the CFO.",
                "competitors": "",
                "next_step": "Workshop",
                "rep_partners": [
                    {
                        "partner_id": r["partner_id"],
                        "name": self.partner_info[r["partner_id"]]["name"],
                        "strength": r["strength"],
                        "notes": "",
                    }
                    for r in d["landscape"]
                ],
            },
        }

    # --- writing --------------------------------------------------------------------------

    def flush(self) -> None:
        self.rows["deals"] = [(*row, *self.routes.pop(row[0], (None, None, None))) for row in self.rows["deals"]]
        for table in self.TABLES:
            rows = self.rows.get(table)
            if rows:
                self.counts[table] += self.w.insert(table, self.COLUMNS[table], rows)
                rows.clear()

    def build(self) -> None:
        self.partners()
        self.counts.update(partners=self.n_partners, partner_users=self.n_partners)
        for i in range(self.n_accounts):
            self.account(i)
            if i % 2000 == 1999:
                self.flush()
        self.flush()


def build(n_deals: int, n_partners: int) -> dict:
    dialect = db.engine.dialect.name
    connection = db.engine.raw_connection()
    builder = Builder(Writer(connection.dbapi_connection, dialect), n_deals, n_partners)
    started = time.perf_counter()
    builder.build()
    connection.commit()
    built = time.perf_counter() - started
    log(f"inserted {', '.join(f'{n:,} {t}' for t, n in builder.counts.items())} in {built:.1f} s")
    if dialect == "postgresql":
        reset_sequences(connection, Builder.TABLES)
    connection.close()
    settled = settle(dialect)
    checked = check(builder)
    return {
        "counts": dict(builder.counts),
        "deals_by_status": dict(builder.statuses.most_common()),
        "routes_in_force": {f"{lead}/{fulfil}": n for (lead, fulfil), n in builder.routes.most_common()},
        "build_s": round(built, 1),
        "settle_s": round(settled, 1),
        "quarters_from": builder.first.date().isoformat(),
        **checked,
    }


def check(builder: Builder) -> dict:
    """The rows read back as the services would: snapshots, credits and requests of a sample of decisions."""
    rng = Random(11)
    first, last = builder.ids["decisions"] - builder.counts["decisions"], builder.ids["decisions"] - 1
    for decision_id in sorted(rng.sample(range(first, last + 1), min(40, last - first + 1))):
        db.session.remove()  # read what was written
        version = db.session.get(Decision, decision_id)
        decided = [d for d in (version.routing, version.proposed) if d is not None]
        ids = {pid for d in decided for pid in d.role_partner_ids()}
        partners = {p.id: p for p in db.session.scalars(select(Partner).where(Partner.id.in_(ids)))} if ids else {}
        if version.summary != snapshot.build(version.deal, Facts(version.input, None, partners), *decided):
            raise SystemExit(f"decision {decision_id}: the bulk-written snapshot differs from snapshot.build's")
        data = routing.parse_input(version.input)
        engine = version.proposed or version.routing
        if routing.decide(data) != engine:
            raise SystemExit(f"decision {decision_id}: the engine decides otherwise on the stored input")
        credits = db.session.scalars(select(Credit).filter_by(decision_id=version.id))
        wrote = sorted((c.party, c.partner_id, c.credit) for c in credits)
        expected = sorted(
            (p.kind, p.partner_id if p.kind == "partner" else None, name)
            for p, name in credit.earned(version.routing, data.originator)
        )
        if version.routing.status == "routable" and wrote != expected:
            raise SystemExit(f"decision {decision_id}: credits {wrote} are not credit.earned's {expected}")
        asked = db.session.scalars(select(PartnerRequest.partner_id).filter_by(decision_id=version.id)).all()
        if not set(asked) <= set(version.routing.acting_partner_ids()):
            raise SystemExit(f"decision {decision_id}: requests to {asked}, not to the partners acting")
    db.session.remove()
    # Every deal with a lead credit in force keeps its route beside it, as credit.record keeps it.
    routed = db.session.scalar(select(func.count()).select_from(Deal).where(Deal.route_leader.is_not(None)))
    leads = db.session.scalar(
        select(func.count()).select_from(Credit).where(Credit.credit == "lead", Credit.in_force.is_(True))
    )
    if routed != leads:
        raise SystemExit(f"{routed:,} deals keep a route, but {leads:,} lead credits are in force")
    busiest = db.session.execute(
        select(Credit.partner_id, func.count())
        .where(Credit.partner_id.is_not(None))
        .group_by(Credit.partner_id)
        .order_by(func.count().desc())
        .limit(1)
    ).one()
    return {"scorecard_partner": busiest[0], "scorecard_partner_credits": busiest[1]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--deals", type=int, default=DEALS)
    parser.add_argument("--partners", type=int, default=PARTNERS)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        result = build(args.deals, max(10, args.partners))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
