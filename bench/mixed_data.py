"""Data for bench/mixed_load.py, made by the app's own services next to the demo data.

    python -m bench.mixed_data --drafts D --links L --ready R --requests Q

Writes, for Alice (the demo rep the load signs in as), each deal on an account of its own:
  D draft deals, the questionnaire filled up to the need section (reps save drafts on them);
  L deals awaiting the customer, each with its personal link (customers answer by them);
  R deals ready to route: completed, answered by the customer, who names a partner of theirs
    at "trusted" (4) and wants the vendor as contact, so each routes cleanly to that partner;
  Q deals routed the same way, each with the partner's open request to accept.
Every record is made as demo_data makes it (intake.demo_data.qualify, answer_as_customer,
decisions.route_deal): the questionnaire's services, the customer's answer, routing.

Run it with the server's INTAKE_* environment: tokens derive from the secret key. Prints JSON
{drafts: [ids], links: [{token, partner_id}], ready: [ids], requests: [tokens], build_s};
progress goes to stderr.
"""

import argparse
import json
import sys
import time
from datetime import UTC, datetime

from sqlalchemy import select

from intake import create_app, tokens
from intake.deals import customer, decisions, partner_requests
from intake.demo_data import answer_as_customer, qualify
from intake.extensions import db
from intake.models import Partner, User

REP_EMAIL = "alice@example.com"
BATCH = 50  # deals per commit: one transaction per deal would only slow the build down


def log(message: str) -> None:
    print(f"  [mixed data] {message}", file=sys.stderr, flush=True)


def new_deal(rep: User, partner: Partner, kind: str, i: int, *, complete: bool):
    """A deal on an account of its own, in the partner's first country, the rep knowing the partner."""
    today = datetime.now(UTC).date()
    domain = f"mixed-{kind}-{i}.example"
    return qualify(
        rep,
        today,
        account=dict(
            name=f"Mixed {kind.capitalize()} {i} GmbH",
            domain=domain,
            country=partner.countries[0],
            vertical="Manufacturing",
            size_band="250-999",
            vendor_strength=1,
            vendor_since=None,
        ),
        contact=dict(
            contact_name=f"Customer {i}",
            contact_title="Head of IT",
            contact_email=f"it@{domain}",
            contact_phone="+49 30 1234567",
        ),
        origin=dict(originator="vendor", originator_partner_id=None, origin_channel="meeting", origin_date=today),
        need=dict(
            pain_points=["Rising infrastructure cost"],
            business_impact="Cost overruns slow the business down.",
            incumbent="On-premises servers",
            solutions=["Cloud platform"],
            estimated_value=48000,
            close_date=today.replace(year=today.year + 1),
        ),
        qualification=dict(budget="identified"),
        landscape=[dict(partner_id=partner.id, strength=3, since=None)],
        complete=complete,
        partial=not complete,
    )


def build(drafts: int, links: int, ready: int, requests: int) -> dict:
    rep = db.session.scalar(select(User).where(User.email == REP_EMAIL))
    partners = db.session.scalars(select(Partner).where(Partner.is_active.is_(True)).order_by(Partner.id)).all()
    out: dict = {"drafts": [], "links": [], "ready": [], "requests": []}
    started = time.perf_counter()

    def each(kind: str, count: int, make) -> None:
        for i in range(count):
            out[kind].append(make(i, partners[i % len(partners)]))
            if i % BATCH == BATCH - 1:
                db.session.commit()
        db.session.commit()
        log(f"{count} {kind} in {time.perf_counter() - started:.1f} s")

    def draft(i: int, partner: Partner) -> int:
        return new_deal(rep, partner, "draft", i, complete=False).id

    def link(i: int, partner: Partner) -> dict:
        deal = new_deal(rep, partner, "link", i, complete=True)
        made = customer.create_link(deal, language="en", actor=rep)
        return {"token": tokens.token_for(made), "partner_id": partner.id, "deal_id": deal.id}

    def answered(kind: str, i: int, partner: Partner):
        deal = new_deal(rep, partner, kind, i, complete=True)
        answer_as_customer(deal, rows=[(partner.id, 4)], fulfilment="no_preference", contact="vendor")
        return deal

    def routable(i: int, partner: Partner) -> int:
        return answered("ready", i, partner).id

    def request(i: int, partner: Partner) -> str:
        deal = answered("routed", i, partner)
        version = decisions.route_deal(deal, actor=rep)
        asked = partner_requests.of_decision(version)
        if len(asked) != 1 or asked[0].partner_id != partner.id:
            raise SystemExit(f"deal {deal.id} routed without one request to partner {partner.id}: {asked}")
        return tokens.token_from(asked[0].nonce, partner_requests.PURPOSE)

    each("drafts", drafts, draft)
    each("links", links, link)
    each("ready", ready, routable)
    each("requests", requests, request)
    out["build_s"] = round(time.perf_counter() - started, 1)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    for name in ("drafts", "links", "ready", "requests"):
        parser.add_argument(f"--{name}", type=int, default=0)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        result = build(args.drafts, args.links, args.ready, args.requests)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
