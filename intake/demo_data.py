"""A small, believable data set for `make run`: users, partners, accounts and deals."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from . import audit
from .admin import services as admin
from .extensions import db
from .matching import normalise_company
from .models import Account, Deal, Relationship

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
