"""A small, believable data set for `make run`: users, partners, accounts and deals."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from . import audit
from .admin import services as admin
from .extensions import db
from .matching import normalise_company
from .models import Account, CustomerAnswer, Deal, Relationship

DEMO_PASSWORD = "intake-demo"

USERS = (
    ("manager@example.com", "Morgan Channel", "admin"),
    ("alice@example.com", "Alice Rep", "rep"),
    ("bob@example.com", "Bob Rep", "rep"),
)

PARTNERS = (
    (
        "Nordlicht IT GmbH",
        "Jonas Weber",
        "jonas@nordlicht.example",
        ["DE", "AT"],
        ["Manufacturing", "Retail"],
        "platinum",
    ),
    ("Alpine Systems AG", "Lea Huber", "lea@alpine.example", ["CH", "AT"], ["Financial services"], "gold"),
    ("Thames Cloud Ltd", "Oliver Smith", "oliver@thames.example", ["GB", "IE"], ["Healthcare", "Government"], "gold"),
    ("Lumen Integrators", "Sofia Rossi", "sofia@lumen.example", ["IT", "FR"], ["Retail", "Education"], "silver"),
    ("Harbor MSP Inc", "Dana Lee", "dana@harbor.example", ["US", "CA"], ["Technology", "Healthcare"], "silver"),
    ("Polder Data BV", "Sem de Vries", "sem@polder.example", ["NL", "BE"], ["Government"], "registered"),
)

ACCOUNTS = (
    ("Bergmann Werkzeuge GmbH", "bergmann.example", "DE", "Manufacturing", "250-999", 2),
    ("Helvetia Privatbank AG", "helvetia-pb.example", "CH", "Financial services", "1000-4999", 4),
    ("St Anne's Hospital Trust", "stannes.example", "GB", "Healthcare", "1000-4999", 1),
    ("Moda Milano SpA", "modamilano.example", "IT", "Retail", "50-249", 0),
    ("Cascade Robotics Inc", "cascade-robotics.example", "US", "Technology", "250-999", 3),
    ("Gemeente Zuidstad", "zuidstad.example", "NL", "Government", "1000-4999", 1),
    ("Wiener Feinkost KG", "feinkost.example", "AT", "Retail", "50-249", 0),
    ("Lyon Université Ouverte", "univ-lyon-ouverte.example", "FR", "Education", "5000+", 2),
    ("Dublin Freight Ltd", "dublinfreight.example", "IE", "Other", "250-999", 0),
    ("Northwind Clinics LLC", "northwind-clinics.example", "US", "Healthcare", "50-249", 2),
    ("Rheinland Logistik GmbH", "rheinland-logistik.example", "DE", "Manufacturing", "1000-4999", 5),
    ("Maple Learning Inc", "maplelearning.example", "CA", "Education", "250-999", 1),
)


def load() -> None:
    """Add the demo records to the session; the caller commits."""
    users = {
        email: admin.create_user(email=email, name=name, role=role, password=DEMO_PASSWORD, actor=None)
        for email, name, role in USERS
    }
    manager = users["manager@example.com"]
    partners = [
        admin.save_partner(
            None,
            dict(name=n, contact_name=cn, contact_email=ce, countries=c, verticals=v, tier=t),
            actor=manager,
        )
        for n, cn, ce, c, v, t in PARTNERS
    ]
    reps = [users["alice@example.com"], users["bob@example.com"]]
    today = datetime.now(UTC).date()
    accounts = []
    for i, (name, domain, country, vertical, size, strength) in enumerate(ACCOUNTS):
        account = Account(
            name=name,
            name_key=normalise_company(name),
            domain=domain,
            country=country,
            vertical=vertical,
            size_band=size,
            owner=reps[i % 2],
            vendor_strength=strength,
            vendor_since=date(2015 + i % 8, 1 + i % 12, 1) if strength else None,
        )
        db.session.add(account)
        accounts.append(account)
    db.session.flush()

    statuses = (
        "draft",
        "awaiting_customer",
        "awaiting_customer",
        "ready_to_route",
        "routed",
        "accepted",
        "won",
        "draft",
    )
    for i, status in enumerate(statuses):
        account = accounts[i]
        rep = reps[i % 2]
        partner = partners[i % len(partners)]
        by_partner = i % 3 == 1
        deal = Deal(
            rep=rep,
            account=account,
            status=status,
            contact_name=f"Contact {i + 1}",
            contact_title="Head of IT",
            contact_email=f"it@{account.domain}",
            contact_phone="+49 30 1234567",
            originator="partner" if by_partner else "vendor",
            originator_partner=partner if by_partner else None,
            origin_channel="partner_marketing" if by_partner else "meeting",
            origin_date=today - timedelta(days=30 + i * 7),
            pain_points=["Rising infrastructure cost", "Security or compliance gaps"][: 1 + i % 2],
            business_impact="Cost overruns and audit findings slow the business down.",
            incumbent="On-premises servers, end of support next year",
            solutions=["Cloud platform", "Managed security"][: 1 + i % 2],
            estimated_value=Decimal(25000 + 15000 * i),
            currency="EUR",
            close_date=today + timedelta(days=60 + i * 10),
            budget=("approved", "identified", "unknown")[i % 3],
            has_decision_maker=True,
            decision_maker="CIO",
            decision_process="CIO decides with the CFO above 50k.",
            competitors="Two hyperscalers",
            next_step="Technical workshop",
            next_step_date=today + timedelta(days=7 + i),
            partners_known="yes",
        )
        if status == "draft" and i == 7:
            deal.close_date = deal.budget = deal.next_step_date = None
            deal.next_step = ""
            deal.partners_known = None
        if status != "draft":
            deal.completed_at = datetime.now(UTC) - timedelta(days=20 - i)
        db.session.add(deal)
        db.session.flush()
        if deal.partners_known == "yes":
            db.session.add(
                Relationship(
                    account=account,
                    deal_id=deal.id,
                    partner_id=partner.id,
                    strength=2 + i % 4,
                    source="rep",
                    since=date(2019, 1 + i, 1),
                    does_what="Runs their servers and licences",
                    position=0,
                )
            )
        audit.record(rep, "deal", deal.id, "created", {"status": [None, status]})

    _seed_examples(reps, partners, accounts, today)


def _ready_deal(rep, account, today, **values) -> Deal:
    """A completed questionnaire, answered by the customer: ready to route."""
    answers = dict(
        rep=rep,
        account=account,
        status="ready_to_route",
        contact_name="Pat Customer",
        contact_title="COO",
        contact_email=f"pat@{account.domain}",
        origin_date=today - timedelta(days=12),
        pain_points=["Legacy system end of life"],
        business_impact="Their platform goes out of support.",
        solutions=["Cloud platform", "Migration services"],
        estimated_value=Decimal(90000),
        currency="EUR",
        close_date=today + timedelta(days=75),
        budget="identified",
        has_decision_maker=True,
        decision_maker="COO",
        next_step="Scoping call",
        next_step_date=today + timedelta(days=4),
        partners_known="yes",
        completed_at=datetime.now(UTC) - timedelta(days=3),
    )
    deal = Deal(**{**answers, **values})
    db.session.add(deal)
    db.session.flush()
    audit.record(rep, "deal", deal.id, "created", {"status": [None, deal.status]})
    return deal


def _customer_said(deal, *, partner, strength, fulfilment, contact) -> None:
    db.session.add(
        CustomerAnswer(
            deal=deal,
            company_name=deal.account.name,
            contact_name=deal.contact_name,
            contact_email=deal.contact_email,
            works_with_partner="yes",
            fulfilment=fulfilment,
            fulfilment_row=0 if fulfilment == "partner" else None,
            contact_preference=contact,
            consented_at=datetime.now(UTC),
            consent_text="Demo consent",
            language="en",
        )
    )
    db.session.add(
        Relationship(
            account=deal.account,
            deal_id=deal.id,
            partner_id=partner.id,
            strength=strength,
            source="customer",
            duration="over_5",
            does_what="Runs our IT",
            position=0,
        )
    )


def _seed_examples(reps, partners, accounts, today) -> None:
    """The seed article's two worked examples, and two deals that compete for one account."""
    alice, bob = reps
    thames, nordlicht, harbor = partners[2], partners[0], partners[4]

    # 1. A partner has served Dublin Freight for years and introduced our products; the
    #    customer, happy with them, comes to us directly, though nobody here knows them.
    dublin = accounts[8]
    dublin.vendor_strength = 0
    first = _ready_deal(alice, dublin, today, originator="customer", origin_channel="referral")
    db.session.add(
        Relationship(
            account=dublin,
            deal_id=first.id,
            partner_id=thames.id,
            strength=4,
            source="rep",
            does_what="Their IT provider for years",
            position=0,
        )
    )
    _customer_said(first, partner=thames, strength=5, fulfilment="partner", contact="no_preference")

    # 2. We have served Rheinland Logistik for a decade; a partner's marketing produced a lead
    #    there, but nobody at the partner knows the customer.
    rheinland = accounts[10]
    rheinland.vendor_strength = 5
    second = _ready_deal(
        alice, rheinland, today, originator="partner", originator_partner=nordlicht, origin_channel="partner_marketing"
    )
    db.session.add(
        Relationship(
            account=rheinland,
            deal_id=second.id,
            partner_id=nordlicht.id,
            strength=1,
            source="rep",
            does_what="Sent the campaign",
            position=0,
        )
    )
    _customer_said(second, partner=nordlicht, strength=1, fulfilment="no_preference", contact="no_preference")

    # 3. Two deals for Maple Learning: Bob found one, a partner registered the other.
    maple = accounts[11]
    _ready_deal(bob, maple, today, originator="vendor", origin_channel="meeting", partners_known="no")
    other = _ready_deal(
        alice,
        maple,
        today,
        originator="partner",
        originator_partner=harbor,
        origin_channel="referral",
        status="awaiting_customer",
    )
    db.session.add(
        Relationship(account=maple, deal_id=other.id, partner_id=harbor.id, strength=3, source="rep", position=0)
    )
