"""Data for the bench's parts, written into the part's temporary database next to the demo data.

    python -m bench.setup_data customer-link
        Issue a customer link for the first demo deal awaiting the customer's answer, as a rep
        would (deals.customer.create_link); print JSON {token, deal_id, partner_id}.

    python -m bench.setup_data routing [--scale S] [--pool N]
        Build the routing data set (10,000 partners, 100,000 accounts, 1,000,000 account–partner
        relationships, 100,000 open deals, at --scale 1) with the database's bulk path: sqlite3
        executemany, or PostgreSQL COPY. Every column is filled as the app fills it: the partners'
        and accounts' keys with the routing engine's own key functions, each decision's snapshot
        in the shape intake.deals.snapshot builds (checked against it on one decision), each deal's
        lock_version as the app's writes leave it. Print JSON: the counts, and the ids
        bench/routing_in_process.py, bench/growth_in_process.py and the HTTP runs need.

Run it with the same INTAKE_* environment as the server: the link's token derives from the secret key.
Progress goes to stderr; stdout carries only the JSON.
"""

import argparse
import hashlib
import json
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, text

from intake import create_app
from intake.extensions import db
from intake.models import Deal, Decision, Partner, User
from intake.models.partners import coverage_of
from intake.routing.names import company_key, domain_key
from intake.vocabulary import OPEN_STATUSES

REP_EMAIL = "alice@example.com"  # signs in for the HTTP part; the pool's deals are hers
OTHER_REP_EMAIL = "bob@example.com"  # owns the background deals

# The data set at --scale 1.
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
    from intake import tokens
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


def partner_name(i: int) -> str:
    return f"{WORDS_A[i % 40]} {WORDS_B[i // 40 % 50]} Partners {i // 2000 + 1}"


def account_fields(i: int) -> tuple[str, str, str, str, str]:
    """The i-th account: name, domain, country, vertical, size band. Three in a row are one company."""
    group, member = divmod(i, NAME_GROUP)
    legal_form, tld, country = SUBSIDIARIES[member]
    words = f"{WORDS_A[group % 40]} {WORDS_B[group // 40 % 50]} {WORDS_C[group // 2000 % len(WORDS_C)]}"
    if group >= 2000 * len(WORDS_C):
        words += f" {group // (2000 * len(WORDS_C))}"
    domain = f"{words.lower().replace(' ', '-')}-{group}.{tld}"
    vertical, size = VERTICALS[group % len(VERTICALS)], SIZE_BANDS[group % len(SIZE_BANDS)]
    return f"{words} {legal_form}", domain, country, vertical, size


def lock_versions() -> dict[str, int]:
    """A deal's lock_version by status, as the app's writes leave it: read off the demo deals, which the
    app's own services made (each section saved, completed, linked, answered, routed, accepted)."""
    seen = dict(db.session.execute(select(Deal.status, func.max(Deal.lock_version)).group_by(Deal.status)).all())
    seen.setdefault("on_hold", seen.get("routed"))  # routing writes once, whether it routes or holds
    missing = [status for status in OPEN if seen.get(status) is None]
    if missing:
        raise SystemExit(f"the demo data has no deal that is {', '.join(missing)}: run `flask demo load` first")
    return {status: seen[status] for status in OPEN}


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
    bob = db.session.scalar(select(User).where(User.email == OTHER_REP_EMAIL))
    lock_version = lock_versions()
    vendor = current_app.config["VENDOR_NAME"]
    tables = ("partners", "accounts", "deals", "relationships", "customer_answers", "customer_links", "decisions")
    base = {t: next_id(t) for t in tables}
    dialect = db.engine.dialect.name
    connection = db.engine.raw_connection()
    w = Writer(connection.dbapi_connection, dialect)
    now, since = w.value(NOW), w.value((NOW - timedelta(days=400)).date())
    yes, no = w.value(True), w.value(False)
    counts = {}
    started = time.perf_counter()

    # Partners: 97% active, each serving one to three countries; keyed by the engine's company key,
    # as the admin's save_partner keys them.
    partner_ids = range(base["partners"], base["partners"] + n_partners)
    coverage = []  # where each partner works, as the partner model keeps it: written beside the partners

    def partners():
        for i, pid in enumerate(partner_ids):
            countries = sorted(rng.sample(COUNTRIES, rng.randint(1, 3)))
            verticals = sorted(rng.sample(VERTICALS, rng.randint(1, 2)))
            name, tier, active = partner_name(i), TIERS[i % len(TIERS)], rng.random() < 0.97
            rows = coverage_of(countries, verticals, tier, active)
            coverage.extend((pid, kind, value, rank) for (kind, value), rank in rows.items())
            flag = yes if active else no
            yield pid, name, company_key(name), "", "", json.dumps(countries), json.dumps(verticals), tier, flag, now

    columns = "id name name_key contact_name contact_email countries verticals tier is_active created_at"
    counts["partners"] = w.insert("partners", columns, partners())
    # Where each partner works, as the partner model keeps it (the rows a recommendation reads).
    counts["partner_coverage"] = w.insert("partner_coverage", "partner_id kind value tier_rank", coverage)

    # Accounts: companies of three subsidiaries sharing one company key, each its own registrable
    # domain; both keys the engine's, as the questionnaire's account section stores them.
    account_ids = range(base["accounts"], base["accounts"] + n_accounts)

    def accounts():
        for i, aid in enumerate(account_ids):
            name, domain, country, vertical, size = account_fields(i)
            strength = rng.randint(0, 5)
            owner = alice if i % 2 else bob.id
            vendor_since = since if strength else None
            keys = company_key(name), domain_key(domain) or None
            yield aid, name, keys[0], domain, keys[1], country, vertical, size, owner, strength, vendor_since, now, now

    columns = "id name name_key domain domain_key country vertical size_band owner_id vendor_strength vendor_since"
    counts["accounts"] = w.insert("accounts", columns + " created_at updated_at", accounts())

    # Deals. The reserved deals and the pool (ready to route, Alice's) sit on every third account
    # from the first, so each one's company has two sister accounts; the background deals, one per
    # account in id order, give each of them three other open deals on its company key or domain.
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

    pains, solutions = ["Rising infrastructure cost"], ["Cloud platform"]
    channels = {"vendor": "meeting", "partner": "partner_marketing", "customer": "referral"}
    contact = ("Pat Customer", "COO", "pat@example.com", "+44 20 7946 0000")
    need = (w.value(pains), "", "Their platform goes out of support.", "On-premises servers", w.value(solutions))
    qualification = ("COO", "", "", "Scoping call", "yes")
    # Background deals that carry a decision (routed, accepted, on hold): (deal, account, leader, fulfilment).
    routed = []

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
        # lock_version, then returned_reason closed_on final_value lost_reason: open, and never sent back;
        # status_changed_at (last) now, as they all changed status when built.
        state = (lock_version[status], "", None, None, "")
        return (did, status, rep, aid, *contact, *origin, *need, *qualification, completed, now, now, *state, now)

    def party(partner_id: int | None) -> dict:
        return {"kind": "partner", "partner_id": partner_id} if partner_id else {"kind": "vendor"}

    def deals():
        for k, did in enumerate(ready):
            yield deal_row(did, "ready_to_route", alice, ready_accounts[did], 0 if repeat_business(k) else 1)
        for j, did in enumerate(background):
            aid = account_ids[j % n_accounts]
            if j in usual_partner:
                row = deal_row(did, ("routed", "accepted")[j % 2], bob.id, aid, 0)
                routed.append((did, aid, party(None), party(usual_partner[j])))
            else:
                row = deal_row(did, OPEN[j % len(OPEN)], bob.id, aid, j)
                status, originator_partner = row[1], row[9]
                if status in ("routed", "accepted", "on_hold"):
                    chosen = party(originator_partner if j % 2 else partners_of(aid)[0])
                    routed.append((did, aid, chosen, chosen))
            yield row

    columns = (
        "id status rep_id account_id contact_name contact_title contact_email contact_phone "
        "originator originator_partner_id origin_channel "
        "pain_points pain_other business_impact incumbent solutions "
        "decision_maker decision_process competitors next_step partners_known completed_at created_at updated_at "
        "lock_version returned_reason closed_on final_value lost_reason status_changed_at"
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

    # The customer's answers on the ready deals: they name their partner (the one their row
    # confirms) to deliver, kept by identity as the link's form keeps it; the second reserved deal
    # asks us to recommend a local partner instead (any_partner).
    def answers():
        for k, did in enumerate(ready):
            if did == any_partner_deal:
                fulfilment, chosen = "any_partner", None
            else:
                fulfilment, chosen = "partner", partners_of(ready_accounts[did])[0]
            main_contact = "vendor" if repeat_business(k) else "partner"
            said = ("yes", fulfilment, chosen, "", "", main_contact, now, "Consent (bench)", "en", now, now)
            yield (base["customer_answers"] + k, did, "Customer Co", *contact, *said)

    columns = (
        "id deal_id company_name contact_name contact_title contact_email contact_phone "
        "works_with_partner fulfilment fulfilment_partner_id fulfilment_partner_name fulfilment_reason "
        "contact_preference consented_at consent_text language submitted_at updated_at"
    )
    counts["customer_answers"] = w.insert("customer_answers", columns, answers())

    # One decision version on every background deal that was routed (routed, accepted, on hold),
    # with the deal's snapshot as intake.deals.snapshot.build makes it: a background deal has no
    # customer answer, no questionnaire rows of its own and no estimated value or dates.
    rules = w.value({"threshold": 3, "ties": "partners"})
    empty = {"supporting": [], "status": "routable", "flags": [], "conflicts": [], "recommendations": [], "trace": []}
    need_words = {"pain_points": pains, "pain_other": need[1], "impact": need[2], "incumbent": need[3]}
    need_words.update(solutions=solutions, value="", close_date="")
    decision_maker, process, competitors, next_step, _ = qualification
    internal = {"decision_maker": decision_maker, "process": process, "competitors": competitors}
    internal.update(next_step=next_step, budget="", rep_partners=[])

    def summary(did: int, aid: int, *parties: dict) -> str:
        name, domain, country, vertical, size = account_fields(aid - base["accounts"])
        named = sorted({p["partner_id"] for p in parties if p["kind"] == "partner"})
        return json.dumps(
            {
                "deal_id": did,
                "vendor": vendor,
                "account": {"name": name, "domain": domain, "country": country, "vertical": vertical, "size": size},
                "need": need_words,
                "rep": {"name": bob.name, "email": bob.email},
                "partners": {
                    str(pid): {"name": partner_name(pid - base["partners"]), "contact_name": "", "contact_email": ""}
                    for pid in named
                },
                "customer": None,
                "customer_contact": dict(zip(("name", "title", "email", "phone"), contact, strict=True)),
                "internal": internal,
            }
        )

    def decisions():
        for k, (did, aid, leader, fulfilment) in enumerate(routed):
            output = json.dumps({"leader": leader, "fulfilment": fulfilment, **empty})
            snapshot = summary(did, aid, leader, fulfilment)
            yield base["decisions"] + k, did, 1, "engine", "{}", output, None, rules, "", no, snapshot, bob.id, now

    columns = "id deal_id version kind input output proposal rules reason reason_shared summary decided_by_id"
    counts["decisions"] = w.insert("decisions", columns + " decided_at", decisions())

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
        reset_sequences(connection, base)
    connection.close()
    built = time.perf_counter() - started
    log(f"inserted {', '.join(f'{n:,} {t}' for t, n in counts.items())} in {built:.1f} s")
    if counts["decisions"]:
        check_snapshot(base["decisions"])

    settle(dialect)
    open_deals = db.session.scalar(select(func.count()).select_from(Deal).where(Deal.status.in_(OPEN_STATUSES)))
    return {
        "counts": {**counts, "open_deals": open_deals},
        "build_s": round(built, 1),
        "pool_first": ready[reserved],
        "pool_count": pool,
        "page_deal": page_deal,
        "any_partner_deal": any_partner_deal,
        "route_deal": route_deal,
    }


def reset_sequences(connection, tables) -> None:
    """After bulk inserts that gave the ids, PostgreSQL's id sequences go on from the largest one."""
    cursor = connection.dbapi_connection.cursor()
    for table in tables:
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    connection.commit()


def settle(dialect: str) -> float:
    """Leave the database as a server would find it: statistics on PostgreSQL (autovacuum would
    gather them; doing it now keeps it from running during the measurements), and on SQLite the
    write-ahead log folded into the file. SQLite gets no ANALYZE: Intake never runs one. Returns
    the seconds it took."""
    started = time.perf_counter()
    with db.engine.connect() as conn:
        if dialect == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
            tidy = "VACUUM ANALYZE"
        else:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            tidy = "WAL checkpoint"
    seconds = time.perf_counter() - started
    log(f"{tidy} in {seconds:.1f} s")
    return seconds


def check_snapshot(decision_id: int) -> None:
    """The first bulk-written decision's snapshot must be what the app builds for it from the rows written."""
    from intake.deals import snapshot
    from intake.deals.facts import Facts

    db.session.remove()  # read what was written, not what this session saw before
    version = db.session.get(Decision, decision_id)
    if version is None:
        raise SystemExit(f"decision {decision_id} was written but cannot be read back")
    ids = version.routing.role_partner_ids()
    partners = {p.id: p for p in db.session.scalars(select(Partner).where(Partner.id.in_(ids)))}
    built = snapshot.build(version.deal, Facts(data=version.input, input=None, partners=partners), version.routing)
    if version.summary != built:
        raise SystemExit(f"decision {decision_id}: the bulk-written snapshot differs from the app's:\n{built}")
    db.session.remove()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("customer-link")
    routing = sub.add_parser("routing")
    routing.add_argument("--scale", type=float, default=1.0)
    routing.add_argument("--pool", type=int, default=4000)
    args = parser.parse_args()

    app = create_app()
    with app.app_context():
        result = customer_link() if args.command == "customer-link" else build_routing_data(args.scale, args.pool)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
