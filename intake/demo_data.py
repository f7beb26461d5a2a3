"""A small, believable data set for `make run`: users, partners, accounts and deals in several states.

Every record is made the way a user's action makes it — the questionnaire's services, the
customer's answer by their link, routing, a partner's acceptance, won — so the demo holds
nothing the app itself would not have written.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from . import tokens
from .admin import services as admin
from .deals import customer, decisions, partner_requests, partners, services
from .extensions import db
from .models import Account

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
# Accounts of the deals of the quarters before this one (the dashboard's and the ledger's history).
HISTORY_ACCOUNTS = (
    ("Alster Reederei GmbH", "alster-reederei.example", "DE", "Manufacturing", "250-999", 1),
    ("Zurich Kantonal Versicherung", "zkv.example", "CH", "Financial services", "1000-4999", 3),
    ("Leeds Community Health", "leedshealth.example", "GB", "Healthcare", "1000-4999", 0),
    ("Torino Design Srl", "torinodesign.example", "IT", "Retail", "50-249", 1),
    ("Austin Data Labs Inc", "austindatalabs.example", "US", "Technology", "250-999", 2),
    ("Provincie Noordwaard", "noordwaard.example", "NL", "Government", "1000-4999", 0),
    ("Salzburg Handel AG", "salzburghandel.example", "AT", "Retail", "250-999", 2),
    ("Lille Campus Numérique", "lillecampus.example", "FR", "Education", "1000-4999", 1),
    ("Cork Harbour Logistics", "corkharbour.example", "IE", "Other", "50-249", 0),
    ("Toronto Care Network", "torontocare.example", "CA", "Healthcare", "250-999", 1),
    ("Bremen Stahlbau GmbH", "bremenstahl.example", "DE", "Manufacturing", "1000-4999", 4),
    ("Genève Gestion Privée SA", "genevegestion.example", "CH", "Financial services", "50-249", 0),
)
CONSENT = "I agree that the vendor may share these answers and my contact details with the partner who helps us."


def load() -> None:
    """Add the demo records to the session; the caller commits."""
    users = {
        email: admin.create_user(email=email, name=name, role=role, password=DEMO_PASSWORD, actor=None)
        for email, name, role in USERS
    }
    manager = users["manager@example.com"]
    partner_rows = [
        admin.save_partner(
            None,
            dict(name=n, contact_name=cn, contact_email=ce, countries=c, verticals=v, tier=t),
            actor=manager,
        )
        for n, cn, ce, c, v, t in PARTNERS
    ]
    reps = [users["alice@example.com"], users["bob@example.com"]]
    today = datetime.now(UTC).date()

    # Deals in the states a working week leaves them in.
    stages = ("draft", "awaiting_customer", "awaiting_customer", "ready_to_route", "routed", "accepted", "won", "draft")
    for i, stage in enumerate(stages):
        rep = reps[i % 2]
        partner = partner_rows[i % len(partner_rows)]
        # Deals further along were found by the vendor, so they route without alignment.
        by_partner = i % 3 == 1 and stage not in ("routed", "accepted", "won")
        name, domain, country, vertical, size, strength = ACCOUNTS[i]
        deal = qualify(
            rep,
            today,
            account=dict(
                name=name,
                domain=domain,
                country=country,
                vertical=vertical,
                size_band=size,
                vendor_strength=strength,
                vendor_since=date(2015 + i % 8, 1 + i % 12, 1) if strength else None,
            ),
            contact=dict(
                contact_name=f"Contact {i + 1}",
                contact_title="Head of IT",
                contact_email=f"it@{domain}",
                contact_phone="+49 30 1234567",
            ),
            origin=dict(
                originator="partner" if by_partner else "vendor",
                originator_partner_id=partner.id if by_partner else None,
                origin_channel="partner_marketing" if by_partner else "meeting",
                origin_date=today - timedelta(days=30 + i * 7),
            ),
            need=dict(
                pain_points=["Rising infrastructure cost", "Security or compliance gaps"][: 1 + i % 2],
                business_impact="Cost overruns and audit findings slow the business down.",
                incumbent="On-premises servers, end of support next year",
                solutions=["Cloud platform", "Managed security"][: 1 + i % 2],
                estimated_value=Decimal(25000 + 15000 * i),
                close_date=today + timedelta(days=60 + i * 10),
            ),
            qualification=dict(budget=("approved", "identified", "unknown")[i % 3]),
            landscape=[dict(partner_id=partner.id, strength=2 + i % 4, since=date(2019, 1 + i, 1))],
            complete=stage != "draft",
            partial=i == 7,
        )
        if stage == "draft":
            continue
        if stage == "awaiting_customer":
            customer.create_link(deal, language="de" if country in ("DE", "AT", "CH") else "en", actor=rep)
            continue
        # Customers further along asked for the vendor as their contact, so those deals route at once.
        contact = "no_preference" if stage == "ready_to_route" else "vendor"
        answer_as_customer(deal, rows=[(partner.id, 3 + i % 3)], fulfilment="no_preference", contact=contact)
        if stage == "ready_to_route":
            continue
        decisions.route_deal(deal, actor=rep)
        if stage in ("accepted", "won"):
            for request in partner_requests.of_decision(decisions.current(deal)):
                partners.accept(request)
        if stage == "won":
            services.close_deal(
                deal,
                outcome="won",
                closed_on=today - timedelta(days=2),
                final_value=Decimal(110000),
                reason="",
                actor=rep,
            )

    _seed_examples(reps, partner_rows, today)
    _history(manager, reps, partner_rows, today)


def qualify(rep, today, *, account, contact, origin, need, qualification, landscape, complete=True, partial=False):
    """Fill the questionnaire as a rep does, section by section, and complete it; `partial` stops after the need."""
    deal = services.start_deal(rep=rep)
    existing = db.session.scalar(select(Account).where(Account.domain == account["domain"]))
    if existing is not None:
        services.save_account_section(deal, {"account_id": existing.id, **contact}, actor=rep)
    else:
        services.save_account_section(deal, {**account, **contact}, actor=rep, replacing=True)
    services.save_section(deal, "origin", origin, actor=rep)
    services.save_section(
        deal,
        "need",
        {
            "pain_other": "",
            "incumbent": "",
            "currency": "EUR",
            **need,
        },
        actor=rep,
    )
    if partial:
        return deal
    services.save_section(
        deal,
        "qualification",
        {
            "has_decision_maker": True,
            "decision_maker": "CIO",
            "decision_process": "CIO decides with the CFO above 50k.",
            "competitors": "Two hyperscalers",
            "next_step": "Technical workshop",
            "next_step_date": today + timedelta(days=7),
            **qualification,
        },
        actor=rep,
    )
    rows = [
        {"partner_name": "", "does_what": "Runs their servers and licences", "notes": "", **row} for row in landscape
    ]
    services.save_landscape(deal, "yes" if rows else "no", rows, actor=rep)
    if complete:
        services.complete_deal(deal, actor=rep)
    return deal


def register_as_partner(email: str, today: date, **answers):
    """A partner user registers a deal in the portal, through the registration service."""
    from .deals import registrations
    from .models import PartnerUser

    user = db.session.scalar(select(PartnerUser).where(PartnerUser.email == email))
    values = dict(
        vertical="",
        contact_name="Sam Buyer",
        contact_email=f"sam@{answers['domain'].removeprefix('www.')}",
        contact_phone="",
        solutions=["Cloud platform"],
        estimated_value=Decimal(60000),
        currency="EUR",
        close_date=today + timedelta(days=90),
        since=date(2020, 5, 1),
        notes="",
    )
    values.update(answers)
    return registrations.register(user, values, form_key=f"demo-{answers['domain']}")


def answer_as_customer(
    deal,
    *,
    rows,
    fulfilment="no_preference",
    contact="no_preference",
    chosen_row=None,
    consent=True,
    language="en",
    **details,
):
    """The customer answers by their personal link: their partners (rows of (our partner's id, or the
    name they typed), strength), the delivery they want, their contact, their consent."""
    link = tokens.current_link(deal)
    if link is None or link.revoked_at is not None:
        link = customer.create_link(deal, language=language, actor=deal.rep)
    answer = {
        "company_name": deal.account.name,
        "contact_name": deal.contact_name,
        "contact_title": deal.contact_title,
        "contact_email": deal.contact_email,
        "contact_phone": deal.contact_phone,
        "works_with_partner": "yes" if rows else "no",
        "fulfilment": fulfilment,
        "fulfilment_reason": "",
        "contact_preference": contact,
        **details,
    }
    form_rows = [
        {
            "partner_id": None if isinstance(who, str) else who,
            "partner_name": who if isinstance(who, str) else "",
            "duration": "over_5",
            "strength": strength,
            "does_what": "Runs our IT",
        }
        for who, strength in rows
    ]
    customer.record_answer(
        link,
        answer,
        form_rows,
        chosen_row=chosen_row,
        consent=consent,
        consent_text=CONSENT if consent else "",
        language=language,
    )


def _seed_examples(reps, partner_rows, today) -> None:
    """The seed article's two worked examples, and two deals that compete for one account."""
    alice, bob = reps
    thames, nordlicht = partner_rows[2], partner_rows[0]

    def account(index, **overrides):
        name, domain, country, vertical, size, strength = ACCOUNTS[index]
        values = dict(
            name=name, domain=domain, country=country, vertical=vertical, size_band=size, vendor_strength=strength
        )
        return {**values, "vendor_since": None, **overrides}

    def ready(rep, index, *, origin, landscape, account_values=None, complete=True):
        name, domain, *_ = ACCOUNTS[index]
        return qualify(
            rep,
            today,
            account=account_values or account(index),
            contact=dict(
                contact_name="Pat Customer", contact_title="COO", contact_email=f"pat@{domain}", contact_phone=""
            ),
            origin={"origin_date": today - timedelta(days=12), "originator_partner_id": None, **origin},
            need=dict(
                pain_points=["Legacy system end of life"],
                business_impact="Their platform goes out of support.",
                solutions=["Cloud platform", "Migration services"],
                estimated_value=Decimal(90000),
                close_date=today + timedelta(days=75),
            ),
            qualification=dict(budget="identified", decision_maker="COO", next_step="Scoping call"),
            landscape=landscape,
            complete=complete,
        )

    # 1. A partner has served Dublin Freight for years and introduced our products; the
    #    customer, happy with them, comes to us directly, though nobody here knows them.
    first = ready(
        alice,
        8,
        origin=dict(originator="customer", origin_channel="referral"),
        landscape=[dict(partner_id=thames.id, strength=4, does_what="Their IT provider for years")],
        account_values=account(8, vendor_strength=0),
    )
    answer_as_customer(first, rows=[(thames.id, 5)], fulfilment="partner", contact="no_preference", chosen_row=0)

    # 2. We have served Rheinland Logistik for a decade; a partner's marketing produced a lead
    #    there, but nobody at the partner knows the customer.
    second = ready(
        alice,
        10,
        origin=dict(originator="partner", originator_partner_id=nordlicht.id, origin_channel="partner_marketing"),
        landscape=[dict(partner_id=nordlicht.id, strength=1, does_what="Sent the campaign")],
        account_values=account(10, vendor_strength=5, vendor_since=date(2015, 3, 1)),
    )
    answer_as_customer(second, rows=[(nordlicht.id, 1)], fulfilment="no_preference", contact="no_preference")

    # 3. Two deals for Maple Learning: Bob found one, then a partner registered the account in its
    #    portal and was told it is already registered; the channel manager finds it in the conflict queue.
    maple = ready(bob, 11, origin=dict(originator="vendor", origin_channel="meeting"), landscape=[])
    answer_as_customer(maple, rows=[], fulfilment="no_preference", contact="no_preference")
    register_as_partner(
        "dana@harbor.example",
        today,
        account_name="Maple Learning",
        domain="www.maplelearning.example",
        country="CA",
        vertical="Education",
        need="Their campus network needs replacing before the new term.",
        strength=3,
    )
    # 3b. A partner registered a new customer nobody here knows: it waits for a rep in "Registrations to assign".
    register_as_partner(
        "oliver@thames.example",
        today,
        account_name="Kestrel Health Partners Ltd",
        domain="kestrelhealth.example",
        country="GB",
        vertical="Healthcare",
        need="Moving three clinics' records to the cloud; security review in the spring.",
        strength=4,
    )

    # 4. One that got away: Northwind Clinics bought directly from us, then chose a competitor.
    lost = ready(bob, 9, origin=dict(originator="vendor", origin_channel="campaign"), landscape=[])
    answer_as_customer(lost, rows=[], fulfilment="direct", contact="vendor")
    decisions.route_deal(lost, actor=bob)
    services.close_deal(
        lost,
        outcome="lost",
        closed_on=today - timedelta(days=5),
        final_value=Decimal(0),
        reason="They chose a competitor's bundle with a longer support term.",
        actor=bob,
    )


def _history(manager, reps, partner_rows, today) -> None:
    """Deals of the three quarters before this one, each run through its whole life as a user's actions run it —
    qualified, answered, routed, accepted, declined or let lapse, won or lost — and then dated back to when it
    happened, so the dashboard, the ledger and the scorecards have a past to show."""
    from .deals import partner_requests as requests_of

    nordlicht, alpine, thames, lumen, harbor, polder = partner_rows
    # (account, days ago it started, who found it, the customer's partner and strength, delivery, how it went)
    stories = (
        (0, 250, "vendor", nordlicht, 4, "partner", "won"),
        (1, 240, "partner", alpine, 5, "no_preference", "won"),
        (2, 225, "customer", thames, 4, "no_preference", "declined"),
        (3, 200, "vendor", None, 0, "direct", "lost"),
        (4, 160, "partner", harbor, 4, "no_preference", "won"),
        (5, 150, "vendor", polder, 3, "no_preference", "lapsed"),
        (6, 140, "vendor", nordlicht, 4, "partner", "lost"),
        (7, 125, "customer", lumen, 5, "partner", "won"),
        (8, 80, "vendor", thames, 4, "partner", "won"),
        (9, 70, "partner", harbor, 5, "no_preference", "accepted"),
        (10, 60, "vendor", nordlicht, 5, "no_preference", "declined"),
        (11, 45, "vendor", None, 0, "direct", "won"),
    )
    for i, (index, days, found_by, partner, strength, delivery, story) in enumerate(stories):
        rep = reps[i % 2]
        name, domain, country, vertical, size, vendor_strength = HISTORY_ACCOUNTS[index]
        by_partner = found_by == "partner"
        deal = qualify(
            rep,
            today,
            account=dict(
                name=name,
                domain=domain,
                country=country,
                vertical=vertical,
                size_band=size,
                vendor_strength=vendor_strength,
                vendor_since=None,
            ),
            contact=dict(
                contact_name="Robin Buyer", contact_title="CIO", contact_email=f"robin@{domain}", contact_phone=""
            ),
            origin=dict(
                originator=found_by,
                originator_partner_id=partner.id if by_partner else None,
                origin_channel="partner_marketing"
                if by_partner
                else "referral"
                if found_by == "customer"
                else "meeting",
                origin_date=today,
            ),
            need=dict(
                pain_points=["Rising infrastructure cost"],
                business_impact="Their data centre lease ends next year.",
                solutions=["Cloud platform"],
                estimated_value=Decimal(30000 + 10000 * (i % 6)),
                close_date=today + timedelta(days=90),
            ),
            qualification=dict(budget="approved"),
            landscape=[dict(partner_id=partner.id, strength=strength)] if partner else [],
        )
        rows = [(partner.id, strength)] if partner else []
        chosen = 0 if partner and delivery == "partner" else None
        # We lead what we found (the partner fulfils), so no deal of the past waited for alignment.
        contact = "vendor" if found_by == "vendor" else "no_preference"
        answer_as_customer(deal, rows=rows, fulfilment=delivery, contact=contact, chosen_row=chosen)
        decisions.route_deal(deal, actor=rep)
        asked = requests_of.of_decision(decisions.current(deal))
        if story == "declined":
            for request in asked:
                partners.decline(request, reason="No capacity for a new project this quarter.")
            decisions.route_deal(deal, actor=rep)
            asked = requests_of.of_decision(decisions.current(deal))
        if story == "lapsed":
            _date_back(deal, timedelta(days=partner_requests_days() + 1))
            days -= partner_requests_days() + 1
            for request in asked:
                partners.lapse(request, actor=manager)
            decisions.route_deal(deal, actor=manager)
            asked = requests_of.of_decision(decisions.current(deal))
        for request in asked:
            # Partners take a few hours to a couple of days to accept (the scorecard's median).
            partners.accept(request, now=request.created_at + timedelta(hours=3 + 7 * i))
        if story in ("won", "lost", "declined", "lapsed"):
            services.close_deal(
                deal,
                outcome="lost" if story == "lost" else "won",
                closed_on=today,
                final_value=Decimal(0) if story == "lost" else deal.estimated_value,
                reason="They chose a competitor's bundle." if story == "lost" else "",
                actor=rep,
            )
        _date_back(deal, timedelta(days=days))


def partner_requests_days() -> int:
    from flask import current_app

    return current_app.config["PARTNER_RESPONSE_DAYS"]


def _date_back(deal, by: timedelta) -> None:
    """Move everything a deal's life wrote `by` into the past: the deal, every row that refers to it, its
    audit events and its account; its dates (origin, expected close, closed) too."""
    from sqlalchemy import Date

    from .models import AuditEvent, Deal
    from .models.types import UTCDateTime

    db.session.flush()
    rows = [deal, deal.account]
    for mapper in db.Model.registry.mappers:
        model = mapper.class_
        if model is not Deal and "deal_id" in mapper.columns:
            rows += db.session.scalars(select(model).where(mapper.columns["deal_id"] == deal.id))
    rows += db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "deal", AuditEvent.entity_id == deal.id))
    for row in rows:
        for column in row.__mapper__.columns:
            value = getattr(row, column.key)
            if value is None:
                continue
            if isinstance(column.type, UTCDateTime) or (isinstance(column.type, Date) and row is deal):
                setattr(row, column.key, value - by)
            elif isinstance(column.type, Date) and column.key == "closed_on":
                setattr(row, column.key, value - by)
    db.session.flush()
