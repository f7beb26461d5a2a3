"""Data for bench/run.py, written by the app's own code into the benchmark's temporary database.

    python bench/setup_data.py customer-link
        Issue a customer link for the first demo deal awaiting the customer's answer, as a rep
        would (deals.customer.create_link); print JSON {token, deal_id, partner_id}.

    python bench/setup_data.py routing [--scale S] [--pool N]
        Build the routing data set (10,000 partners, 100,000 accounts, 1,000,000 account–partner
        relationships, 100,000 open deals, at --scale 1) next to the demo data, with the
        database's bulk path: sqlite3 executemany, or PostgreSQL COPY. Then, in this process,
        time routing.propose's two halves (load the inputs, decide) on fresh sessions, capture
        the SQL the load issues (a before_cursor_execute listener) and EXPLAIN each statement,
        and route one deal through the Flask test client to capture the whole request's SQL.
        Print JSON: the pool of deals ready to route over HTTP, the timings and the plans.

Run it with the same INTAKE_* environment as the server: the link's token derives from the secret key.
Progress goes to stderr; stdout carries only the JSON.
"""

import argparse
import hashlib
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event, select, text

from intake import create_app
from intake.extensions import db
from intake.matching import normalise_company
from intake.models import Deal, Partner, User
from intake.models.deals import OPEN_STATUSES

REP_EMAIL = "alice@example.com"  # signs in for the HTTP part; the pool's deals are hers
OTHER_REP_EMAIL = "bob@example.com"  # owns the background deals

# The data set at --scale 1 (issue 4).
PARTNERS = 10_000
ACCOUNTS = 100_000
RELATIONSHIPS_PER_ACCOUNT = 10  # 1,000,000 relationships
OPEN_DEALS = 100_000  # the routing pool included
NAME_GROUP = 3  # accounts per normalised company name: one company, three subsidiaries

COUNTRIES = ("DE", "AT", "CH", "GB", "IE", "FR", "IT", "NL", "BE", "US", "CA", "ES", "SE", "PL")
VERTICALS = ("Education", "Financial services", "Government", "Healthcare", "Manufacturing", "Retail", "Technology")
TIERS = ("platinum", "gold", "silver", "registered", "registered", "registered")
SIZE_BANDS = ("1-49", "50-249", "250-999", "1000-4999", "5000+")
# A company's subsidiaries: legal form, top-level domain, country.
SUBSIDIARIES = (("GmbH", "de", "DE"), ("Ltd", "co.uk", "GB"), ("Inc", "com", "US"))
WORDS_A = (
    "Alder Amber Apex Arc Aster Atlas Aurora Basalt Beacon Birch Blue Bright Cedar Cobalt Coral Crest Delta "
    "Elm Ember Falcon Fern Flint Granite Harbor Hazel Iris Juniper Kestrel Lark Linden Maple Meridian North "
    "Oak Onyx Orbit Pine Quartz Raven Summit"
).split()
WORDS_B = (
    "Analytics Bakeries Biotech Brewing Cargo Clinics Construction Dairy Design Energy Engineering Fabrics "
    "Finance Foods Foundry Freight Furniture Glass Health Hotels Imaging Instruments Insurance Labs Leasing "
    "Logistics Machines Media Metals Milling Mobility Optics Packaging Paper Pharma Plastics Power Printing "
    "Robotics Rubber Security Shipping Software Solar Steel Systems Textiles Tools Travel Water"
).split()
WORDS_C = "Group Holding Partners Works Industries Company Trading Services Europe International".split()
WORDS_C += "Global Digital Alpine Atlantic Nordic Central Continental Pacific".split()
assert (len(WORDS_A), len(WORDS_B)) == (40, 50)

NOW = datetime.now(UTC).replace(microsecond=0)  # links made now are live for the usual 14 days
OPEN = ("draft", "awaiting_customer", "ready_to_route", "routed", "accepted", "on_hold")
assert set(OPEN) == set(OPEN_STATUSES)


def log(message: str) -> None:
    print(f"  [data] {message}", file=sys.stderr, flush=True)


# --- The customer's link ---------------------------------------------------------------


def customer_link() -> dict:
    from intake.deals import customer

    deal = db.session.scalar(select(Deal).where(Deal.status == "awaiting_customer").order_by(Deal.id).limit(1))
    if deal is None:
        raise SystemExit("no demo deal awaits the customer's answer")
    rep = db.session.scalar(select(User).where(User.email == REP_EMAIL))
    link = customer.create_link(deal, language="en", actor=rep)
    # The customer names a partner that serves their country, as the form offers first.
    country = deal.account.country if deal.account else None
    partners = db.session.scalars(select(Partner).where(Partner.is_active.is_(True)).order_by(Partner.id)).all()
    partner = next((p for p in partners if country in p.countries), partners[0])
    db.session.commit()
    from intake import tokens

    return {"token": tokens.token_for(link), "deal_id": deal.id, "partner_id": partner.id}


# --- The routing data set --------------------------------------------------------------


class Writer:
    """Bulk inserts on the raw DBAPI connection: sqlite3 executemany, or COPY on PostgreSQL.

    Values are given in the database's own form (see `value`), so no per-row conversion runs.
    """

    def __init__(self, connection, dialect: str):
        self.raw = connection
        self.sqlite = dialect == "sqlite"

    def value(self, v):
        """A constant in the form the driver stores it, as SQLAlchemy's column types would."""
        if isinstance(v, (list, dict)):
            return json.dumps(v)
        if self.sqlite:
            if isinstance(v, datetime):
                return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            if isinstance(v, date):
                return v.isoformat()
            if isinstance(v, bool):
                return int(v)
        return v

    def insert(self, table: str, columns: str, rows) -> int:
        """Insert the rows (tuples in the order of the space-separated columns); return how many."""
        columns = columns.split()
        cursor = self.raw.cursor()
        count = 0
        try:
            if self.sqlite:
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                batch = []
                for row in rows:
                    batch.append(row)
                    if len(batch) == 50_000:
                        cursor.executemany(sql, batch)
                        count += len(batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
                    count += len(batch)
            else:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
        finally:
            cursor.close()
        return count


def next_id(table: str) -> int:
    return (db.session.scalar(text(f"SELECT max(id) FROM {table}")) or 0) + 1


def build_routing_data(scale: float, pool: int) -> dict:
    """Write the data set; return the ids the benchmark needs."""
    rng = random.Random(4)
    n_partners = max(20, int(PARTNERS * scale))
    n_accounts = max(30, int(ACCOUNTS * scale))
    n_deals = max(10, int(OPEN_DEALS * scale))
    reserved = 3  # the deal page, the any_partner runs, one route in process; then the pool routed over HTTP
    if (pool + reserved) * NAME_GROUP > n_accounts or pool + reserved > n_deals:
        raise SystemExit(f"--pool {pool} does not fit the data set at --scale {scale}")

    alice = db.session.scalar(select(User.id).where(User.email == REP_EMAIL))
    bob = db.session.scalar(select(User.id).where(User.email == OTHER_REP_EMAIL))
    tables = ("partners", "accounts", "deals", "relationships", "customer_answers", "customer_links", "decisions")
    base = {t: next_id(t) for t in tables}
    dialect = db.engine.dialect.name
    connection = db.engine.raw_connection()
    w = Writer(connection.dbapi_connection, dialect)
    now, since = w.value(NOW), w.value((NOW - timedelta(days=400)).date())
    yes, no = w.value(True), w.value(False)
    counts = {}
    started = time.perf_counter()

    # Partners: 97% active, each serving one to three countries.
    partner_ids = range(base["partners"], base["partners"] + n_partners)

    def partners():
        for i, pid in enumerate(partner_ids):
            countries = json.dumps(sorted(rng.sample(COUNTRIES, rng.randint(1, 3))))
            verticals = json.dumps(sorted(rng.sample(VERTICALS, rng.randint(1, 2))))
            name = f"{WORDS_A[i % 40]} {WORDS_B[i // 40 % 50]} Partners {i // 2000 + 1}"
            active = yes if rng.random() < 0.97 else no
            yield pid, name, "", "", countries, verticals, TIERS[i % len(TIERS)], active, now

    columns = "id name contact_name contact_email countries verticals tier is_active created_at"
    counts["partners"] = w.insert("partners", columns, partners())

    # Accounts: companies of three subsidiaries sharing one normalised name, each its own domain.
    account_ids = range(base["accounts"], base["accounts"] + n_accounts)

    def accounts():
        for i, aid in enumerate(account_ids):
            group, member = divmod(i, NAME_GROUP)
            legal_form, tld, country = SUBSIDIARIES[member]
            words = f"{WORDS_A[group % 40]} {WORDS_B[group // 40 % 50]} {WORDS_C[group // 2000 % len(WORDS_C)]}"
            if group >= 2000 * len(WORDS_C):
                words += f" {group // (2000 * len(WORDS_C))}"
            name = f"{words} {legal_form}"
            domain = f"{words.lower().replace(' ', '-')}-{group}.{tld}"
            vertical, size = VERTICALS[group % len(VERTICALS)], SIZE_BANDS[group % len(SIZE_BANDS)]
            strength = rng.randint(0, 5)
            owner = alice if i % 2 else bob
            vendor_since = since if strength else None
            key = normalise_company(name)
            yield aid, name, key, domain, country, vertical, size, owner, strength, vendor_since, now, now

    columns = "id name name_key domain country vertical size_band owner_id vendor_strength vendor_since"
    counts["accounts"] = w.insert("accounts", columns + " created_at updated_at", accounts())

    # Deals. The reserved deals and the pool (ready to route, Alice's) sit on every third account
    # from the first, so each one's company has two sister accounts; the background deals, one per
    # account in id order, give each of them three other open deals on its normalised name or domain.
    # Two ready deals in three are repeat business: the vendor found them, the customer wants the
    # vendor as main contact and their usual partner to deliver, and the company's other open deals
    # were found by the vendor and routed to that same partner, so the deal routes cleanly. The
    # third was brought by a partner while other deals for the company came from elsewhere: a
    # conflict, held for the channel manager. Both kinds record a decision version when routed.
    ready = range(base["deals"], base["deals"] + reserved + pool)
    page_deal, any_partner_deal, route_deal = ready[0], ready[1], ready[2]
    ready_accounts = {did: account_ids[k * NAME_GROUP] for k, did in enumerate(ready)}
    background = range(ready.stop, base["deals"] + n_deals)
    account_partners: dict[int, list[int]] = {}  # each account's partners, chosen once

    def partners_of(account_id: int) -> list[int]:
        if account_id not in account_partners:
            account_partners[account_id] = rng.sample(partner_ids, RELATIONSHIPS_PER_ACCOUNT)
        return account_partners[account_id]

    pains, solutions = w.value(["Rising infrastructure cost"]), w.value(["Cloud platform"])
    channels = {"vendor": "meeting", "partner": "partner_marketing", "customer": "referral"}
    contact = ("Pat Customer", "COO", "pat@example.com", "+44 20 7946 0000")
    need = (pains, "", "Their platform goes out of support.", "On-premises servers", solutions)
    qualification = ("COO", "", "", "Scoping call", "yes")
    routed = []  # background deals that carry a decision: (deal id, leader, fulfilment)

    def repeat_business(k: int) -> bool:
        return k % 3 != 1

    usual_partner = {  # background deal index -> the partner its company's deals are routed to
        k * NAME_GROUP + m: partners_of(ready_accounts[did])[0]
        for k, did in enumerate(ready)
        if repeat_business(k)
        for m in range(NAME_GROUP)
    }

    def deal_row(did: int, status: str, rep: int, aid: int, k: int) -> tuple:
        originator = ("vendor", "partner", "customer")[k % 3]
        partner = partners_of(aid)[k % 4] if originator == "partner" else None
        completed = None if status == "draft" else now
        origin = (originator, partner, channels[originator])
        return (did, status, rep, aid, *contact, *origin, *need, *qualification, completed, now, now)

    def party(partner_id: int | None) -> dict:
        return {"kind": "partner", "partner_id": partner_id} if partner_id else {"kind": "vendor"}

    def deals():
        for k, did in enumerate(ready):
            yield deal_row(did, "ready_to_route", alice, ready_accounts[did], 0 if repeat_business(k) else 1)
        for j, did in enumerate(background):
            aid = account_ids[j % n_accounts]
            if j in usual_partner:
                row = deal_row(did, ("routed", "accepted")[j % 2], bob, aid, 0)
                routed.append((did, party(None), party(usual_partner[j])))
            else:
                row = deal_row(did, OPEN[j % len(OPEN)], bob, aid, j)
                if row[1] in ("routed", "accepted", "on_hold"):
                    routed.append((did, *[party(row[9] if j % 2 else partners_of(aid)[0])] * 2))
            yield row

    columns = (
        "id status rep_id account_id contact_name contact_title contact_email contact_phone "
        "originator originator_partner_id origin_channel "
        "pain_points pain_other business_impact incumbent solutions "
        "decision_maker decision_process competitors next_step partners_known completed_at created_at updated_at"
    )
    counts["deals"] = w.insert("deals", columns, deals())

    # Relationships: ten partners per account, as the rep, the customer or the partner stated them;
    # on a ready deal's account the rep's rows belong to the deal's questionnaire, and the customer
    # confirms the first partner (the one they want to deliver).
    ready_by_account = {aid: did for did, aid in ready_accounts.items()}
    sources = ("rep",) * 7 + ("customer",) * 2 + ("partner",)

    def relationships():
        rid = base["relationships"]
        for aid in account_ids:
            deal_id = ready_by_account.get(aid)
            for position, pid in enumerate(partners_of(aid)):
                name = ""
                if deal_id is not None:
                    if position < RELATIONSHIPS_PER_ACCOUNT - 1:
                        source, strength = "rep", rng.randint(1, 5)
                    else:
                        source, strength, pid, position = "customer", 4, partners_of(aid)[0], 0
                else:
                    source = sources[rng.randrange(len(sources))]
                    strength = rng.randint(1, 5) if rng.random() < 0.95 else None
                    if rng.random() < 0.03:  # a partner that is not one of ours, by name
                        pid, name = None, f"Local IT {pid}"
                yield rid, aid, deal_id, pid, name, strength, source, "", "", position, now
                rid += 1

    columns = "id account_id deal_id partner_id partner_name strength source does_what notes position created_at"
    counts["relationships"] = w.insert("relationships", columns, relationships())

    # The customer's answers on the ready deals: they name their partner (the first row) to deliver;
    # the second reserved deal asks us to recommend a local partner instead (any_partner).
    def answers():
        for k, did in enumerate(ready):
            fulfilment, row = ("any_partner", None) if did == any_partner_deal else ("partner", 0)
            main_contact = "vendor" if repeat_business(k) else "partner"
            said = ("yes", fulfilment, row, "", main_contact, now, "Consent (bench)", "en", now, now)
            yield (base["customer_answers"] + k, did, "Customer Co", *contact, *said)

    columns = (
        "id deal_id company_name contact_name contact_title contact_email contact_phone "
        "works_with_partner fulfilment fulfilment_row fulfilment_reason contact_preference "
        "consented_at consent_text language submitted_at updated_at"
    )
    counts["customer_answers"] = w.insert("customer_answers", columns, answers())

    # One decision version on every background deal that was routed (routed, accepted, on hold).
    rules = w.value({"threshold": 3, "ties": "partners"})
    empty = {"supporting": [], "status": "routable", "flags": [], "conflicts": [], "recommendations": [], "trace": []}

    def decisions():
        for k, (did, leader, fulfilment) in enumerate(routed):
            output = json.dumps({"leader": leader, "fulfilment": fulfilment, **empty})
            yield base["decisions"] + k, did, 1, "engine", "{}", output, None, rules, "", bob, now

    columns = "id deal_id version kind input output proposal rules reason decided_by_id decided_at"
    counts["decisions"] = w.insert("decisions", columns, decisions())

    # The customer's link on every deal past its questionnaire (the ready deals answered by theirs).
    # Only hashes are stored; these tokens are never used.
    expires = w.value(NOW + timedelta(days=14))

    def links():
        linked = [
            *ready,
            *(did for j, did in enumerate(background) if j in usual_partner or OPEN[j % len(OPEN)] != "draft"),
        ]
        for k, did in enumerate(linked):
            lid = base["customer_links"] + k
            token_hash = hashlib.sha256(f"bench-link-{lid}".encode()).hexdigest()
            answered = now if k < len(ready) else None
            yield lid, did, f"{lid:032x}", token_hash, "en", alice, now, expires, now, now, answered, None

    columns = "id deal_id nonce token_hash language created_by_id created_at expires_at emailed_at opened_at"
    counts["customer_links"] = w.insert("customer_links", columns + " answered_at revoked_at", links())
    connection.commit()
    if dialect == "postgresql":
        cursor = connection.dbapi_connection.cursor()
        for table in base:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        connection.commit()
    connection.close()
    built = time.perf_counter() - started
    log(f"inserted {', '.join(f'{n:,} {t}' for t, n in counts.items())} in {built:.1f} s")

    # Leave the database as a server would find it: statistics on PostgreSQL (autovacuum would
    # gather them; doing it now keeps it from running during the measurements), and on SQLite
    # the write-ahead log folded into the file. SQLite gets no ANALYZE: Intake never runs one.
    started = time.perf_counter()
    with db.engine.connect() as conn:
        if dialect == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
            tidy = "VACUUM ANALYZE"
        else:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            tidy = "WAL checkpoint"
    log(f"{tidy} in {time.perf_counter() - started:.1f} s")
    open_deals = db.session.scalar(select(db.func.count()).select_from(Deal).where(Deal.status.in_(OPEN_STATUSES)))
    return {
        "counts": {**counts, "open_deals": open_deals},
        "build_s": round(built, 1),
        "pool_first": ready[reserved],
        "pool_count": pool,
        "page_deal": page_deal,
        "any_partner_deal": any_partner_deal,
        "route_deal": route_deal,
    }


# --- Measuring the load and the decision, in process -----------------------------------


def timed_proposals(deal_ids: list[int], repetitions: int) -> dict:
    """Median (and spread) of routing.propose's two halves, each run on a fresh session."""
    from intake import routing as engine
    from intake.deals import routing

    load, decide, total = [], [], []
    result, decisions = None, {}
    for i in range(repetitions):
        db.session.remove()  # nothing cached: every row is read again, as in a request
        deal = db.session.get(Deal, deal_ids[i % len(deal_ids)])
        t0 = time.perf_counter()
        data = routing.routing_input(deal)  # what propose() does, in its two halves
        t1 = time.perf_counter()
        result = engine.decide(engine.parse_input(data)).to_dict()
        t2 = time.perf_counter()
        load.append(t1 - t0)
        decide.append(t2 - t1)
        total.append(t2 - t0)
        decisions[deal.id] = " ".join([result["status"], *result["flags"]])
    db.session.remove()
    deal = db.session.get(Deal, deal_ids[(repetitions - 1) % len(deal_ids)])
    if routing.propose(deal)[1] != result:
        raise SystemExit("propose() and its two halves disagree")

    def ms(values, q):
        values = sorted(values)
        return round(values[min(len(values) - 1, int(len(values) * q))] * 1000, 3)

    return {
        "repetitions": repetitions,
        "deals": len(deal_ids),
        "load_ms": round(statistics.median(load) * 1000, 3),
        "decide_ms": round(statistics.median(decide) * 1000, 3),
        "total_ms": round(statistics.median(total) * 1000, 3),
        "total_p90_ms": ms(total, 0.9),
        "inputs": {
            "relationships": len(data["relationships"]),
            "partners": len(data["partners"]),
            "open_deals": len(data["open_deals"]),
        },
        "decisions": dict(Counter(decisions.values()).most_common()),  # over the distinct deals
    }


class Capture:
    """The SQL statements run on the engine while in use (a before_cursor_execute listener)."""

    def __enter__(self) -> list[tuple[str, object]]:
        self.statements: list[tuple[str, object]] = []
        event.listen(db.engine, "before_cursor_execute", self.capture)
        return self.statements

    def capture(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append((statement, parameters))

    def __exit__(self, *exc) -> None:
        event.remove(db.engine, "before_cursor_execute", self.capture)


def captured_statements(deal_id: int) -> list[tuple[str, object]]:
    """The SQL one cold propose() issues, deal lookup included (as the request's own lookup)."""
    from intake.deals import routing

    db.session.remove()
    with Capture() as statements:
        deal = db.session.scalar(select(Deal).where(Deal.id == deal_id))
        routing.propose(deal)
    db.session.remove()
    return statements


def route_request(app, deal_id: int) -> dict:
    """One whole route request in process (Flask test client, signed in as the rep): its SQL.

    Every SELECT is explained; a statement run again and again with other values is an N+1.
    """
    db.session.remove()
    client = app.test_client()
    token = csrf_from(client.get("/login"))
    client.post("/login", data={"email": REP_EMAIL, "password": "intake-demo", "csrf_token": token})
    token = csrf_from(client.get(f"/deals/{deal_id}"))
    with Capture() as statements:
        started = time.perf_counter()
        response = client.post(f"/deals/{deal_id}/route", data={"csrf_token": token})
        elapsed = time.perf_counter() - started
    if response.status_code != 302 or not response.headers["Location"].endswith(f"/deals/{deal_id}#routing"):
        raise SystemExit(f"routing deal {deal_id} in process answered {response.status_code}")
    kinds = Counter(statement.split(None, 1)[0].upper() for statement, _ in statements)
    repeated = Counter(" ".join(statement.split()) for statement, _ in statements)
    selects = {}
    for statement, parameters in statements:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.setdefault(" ".join(statement.split()), (statement, parameters))
    return {
        "cold_ms": round(elapsed * 1000, 1),  # the process's first route: templates compiled on the way
        "statements": dict(kinds.most_common()),
        "repeated": {sql: n for sql, n in repeated.most_common() if n > 2},
        "plans": explain(list(selects.values())),
    }


def csrf_from(response) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    if match is None:
        raise SystemExit(f"no CSRF token on {response.request.path}")
    return match.group(1)


def explain(statements: list[tuple[str, object]]) -> list[dict]:
    """Each statement's plan, summarised: which index each table is searched by, or SCAN."""
    dialect = db.engine.dialect.name
    sizes: dict[str, int] = {}
    plans = []
    with db.engine.connect() as conn:

        def size(table: str) -> int:
            if table not in sizes:
                sizes[table] = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
            return sizes[table]

        for statement, parameters in statements:
            if dialect == "sqlite":
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
                steps = [row[3] for row in rows]
                scans = [s.split()[1] for s in steps if s.startswith("SCAN ") and len(s.split()) > 1]
            else:
                rows = conn.exec_driver_sql("EXPLAIN (COSTS OFF) " + statement, parameters).all()
                steps = [row[0].strip().removeprefix("->").strip() for row in rows]
                nodes = ("Hash", "Nested Loop", "Merge", "Sort", "Limit", "Aggregate")
                steps = [s for s in steps if "Scan" in s or (s.startswith(nodes) and ":" not in s)]
                scans = [s.split(" on ")[1].split()[0] for s in steps if "Seq Scan on " in s]
            plans.append(
                {
                    "sql": " ".join(statement.split()),
                    "plan": steps,
                    "scans": [{"table": t, "rows": size(t)} for t in scans],
                }
            )
    return plans


def measure_routing(app, info: dict, repetitions: int) -> dict:
    # The named-partner deals of the pool: the same kind of deal the HTTP part routes.
    sample = list(range(info["pool_first"], info["pool_first"] + min(150, info["pool_count"])))
    timed_proposals(sample[:10], 10)  # warm-up: imports, compiled statements, pages in cache
    started = time.perf_counter()
    named = timed_proposals(sample, repetitions)
    log(f"{repetitions} proposals in {time.perf_counter() - started:.1f} s, median {named['total_ms']} ms")
    any_partner = timed_proposals([info["any_partner_deal"]], max(5, repetitions // 40))
    log(f"any_partner proposals: median {any_partner['total_ms']} ms")
    return {
        "propose": named,
        "propose_any_partner": any_partner,
        "plans": explain(captured_statements(info["page_deal"])),
        "plans_any_partner": explain(captured_statements(info["any_partner_deal"])),
        "route_request": route_request(app, info["route_deal"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("customer-link")
    routing = sub.add_parser("routing")
    routing.add_argument("--scale", type=float, default=1.0)
    routing.add_argument("--pool", type=int, default=4000)
    routing.add_argument("--repetitions", type=int, default=400)
    args = parser.parse_args()

    app = create_app()
    with app.app_context():
        if args.command == "customer-link":
            result = customer_link()
        else:
            result = build_routing_data(args.scale, args.pool)
            result.update(measure_routing(app, result, args.repetitions))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
