"""Deal registration: a partner registers a deal it found in the portal, is told at once whether the
account is claimed (never by whom), and the deal goes through the lifecycle with the partner as its
originator; the partner states its own relationships and records won or lost on what it fulfils."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from intake.deals import decisions, partner_requests, registrations, services
from intake.extensions import db
from intake.models import (
    Account,
    AuditEvent,
    Deal,
    OutboxMessage,
    PartnerUser,
    Registration,
    Relationship,
)
from intake.routing.facts import strength_of
from intake.vocabulary import REGISTRATION_STAGE

from .conftest import answer_for, sign_in, sign_in_partner

TODAY = datetime.now(UTC).date()
OLIVER = "oliver@thames.example"
DEAL_NUMBERS = re.compile(r"#(\d+)")


def _answers(**overrides) -> dict:
    """What a partner types into the registration form for a customer nobody has claimed."""
    values = {
        "account_name": "Harbour Freight Ltd",
        "domain": "harbour-freight.example",
        "country": "GB",
        "vertical": "Retail",
        "contact_name": "Hana Harbour",
        "contact_email": "Hana@Harbour-Freight.example",
        "contact_phone": "+44 20 7946 0000",
        "need": "Their warehouses need backups that survive losing a site.",
        "solutions": ["Backup and recovery"],
        "estimated_value": "42000",
        "currency": "GBP",
        "close_date": (TODAY + timedelta(days=60)).isoformat(),
        "strength": "4",
        "since": (TODAY - timedelta(days=3 * 365)).isoformat(),
        "notes": "Met their CIO at a trade fair.",
    }
    values.update(overrides)
    return values


def _register(browser, **overrides):
    return browser.submit("/partner/register", _answers(**overrides))


def _registered(response) -> Registration:
    """The registration a sent form redirected to."""
    assert response.status_code == 302, response.get_data(as_text=True)
    found = re.fullmatch(r"/partner/registrations/(\d+)", response.headers["Location"])
    assert found, response.headers["Location"]
    return db.session.get(Registration, int(found.group(1)))


def _mails(kind: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def _recipients(kind: str) -> list[list[str]]:
    return [message.recipients for message in _mails(kind)]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _stage(code: str) -> str:
    """A registration's stage as the partner's page shows it (escaped as HTML)."""
    return str(escape(REGISTRATION_STAGE.word(code, audience="partner")))


def _assign(manager, deal, rep):
    return manager.submit("/admin/registrations", {"deal_id": str(deal.id), "rep_id": str(rep.id)})


def _take_up(deal, rep, *, vendor_strength=1, partners=()) -> None:
    """The rep answers what the partner's registration left open and completes the questionnaire."""
    account = deal.account
    services.save_account_section(
        deal,
        {
            "name": account.name,
            "domain": account.domain,
            "country": account.country,
            "vertical": account.vertical,
            "size_band": "50-249",
            "vendor_strength": vendor_strength,
            "vendor_since": None,
            "contact_name": deal.contact_name,
            "contact_title": "Head of IT",
            "contact_email": deal.contact_email,
            "contact_phone": deal.contact_phone,
        },
        actor=rep,
    )
    services.save_section(
        deal,
        "need",
        {
            "pain_points": [],
            "pain_other": deal.pain_other,
            "business_impact": "A lost site stops their deliveries for days.",
            "incumbent": "",
            "solutions": deal.solutions,
            "estimated_value": deal.estimated_value,
            "currency": deal.currency,
            "close_date": deal.close_date,
        },
        actor=rep,
    )
    services.save_section(
        deal,
        "qualification",
        {
            "budget": "identified",
            "has_decision_maker": True,
            "decision_maker": "CIO",
            "decision_process": "",
            "competitors": "",
            "next_step": "Workshop",
            "next_step_date": TODAY + timedelta(days=7),
        },
        actor=rep,
    )
    rows = [
        {"partner_id": p.id, "partner_name": "", "strength": s, "since": None, "does_what": "", "notes": ""}
        for p, s in partners
    ]
    services.save_landscape(deal, "yes" if rows else "no", rows, actor=rep)
    services.complete_deal(deal, actor=rep)
    db.session.commit()


@pytest.fixture
def oliver(app, thames):
    """Thames Cloud's partner user, signed in to the portal in a browser of their own."""
    return sign_in_partner(app, OLIVER)


@pytest.fixture
def riley(make_user):
    return make_user("rep", name="Riley Rep", email="riley@example.com")


@pytest.fixture
def dana(make_user):
    """The rep who owns the accounts that already exist."""
    return make_user("rep", name="Dana Dealmaker", email="dana@example.com")


# ---------------------------------------------------------------- registering


def test_a_registration_for_an_unknown_account_is_a_draft_the_channel_manager_gives_a_rep(
    app, oliver, thames, boss, manager, riley
):
    response = _register(oliver)
    registration = _registered(response)
    page = oliver.get(response.headers["Location"]).get_data(as_text=True)
    assert "<strong>Registered.</strong>" in page and "Already registered" not in page
    assert _stage("received") in page

    deal = registration.deal
    assert (deal.status, deal.rep, deal.hold_reason) == ("draft", None, None)
    assert (deal.originator, deal.originator_partner_id, deal.origin_channel) == ("partner", thames.id, "registration")
    assert (deal.contact_name, deal.contact_email, deal.contact_phone) == (
        "Hana Harbour",
        "hana@harbour-freight.example",
        "+44 20 7946 0000",
    )
    assert deal.pain_other == "Their warehouses need backups that survive losing a site."
    assert deal.solutions == ["Backup and recovery"]
    assert (deal.estimated_value, deal.currency) == (Decimal("42000.00"), "GBP")
    assert deal.close_date == TODAY + timedelta(days=60)
    assert (deal.account.name, deal.account.domain, deal.account.country) == (
        "Harbour Freight Ltd",
        "harbour-freight.example",
        "GB",
    )
    assert deal.account.owner is None
    assert (registration.partner_id, registration.clashed, registration.notes) == (
        thames.id,
        False,
        "Met their CIO at a trade fair.",
    )
    [stated] = db.session.scalars(select(Relationship).where(Relationship.account_id == deal.account_id)).all()
    assert (stated.partner_id, stated.source, stated.strength) == (thames.id, "partner", 4)
    assert stated.since == TODAY - timedelta(days=3 * 365)

    assert _recipients("registration_received") == [[OLIVER]]
    assert _recipients("registration_to_assign") == [[boss.email]]
    assert _mails("registration_claimed") == [] and _mails("registration_clash") == []

    queue = manager.get("/admin/registrations").get_data(as_text=True)
    assert f'href="/deals/{deal.id}"' in queue and "Thames Cloud" in queue
    assert _assign(manager, deal, riley).status_code == 302
    db.session.expire_all()
    deal = db.session.get(Deal, deal.id)
    assert deal.rep == riley and deal.account.owner == riley and deal.status == "draft"
    assert _recipients("registration_assigned") == [[riley.email]]
    queue = manager.get("/admin/registrations").get_data(as_text=True)
    assert f'href="/deals/{deal.id}"' not in queue and "Nothing waits here." in queue

    # A second tab still showing the registration assigns it again: refused, plainly, and the rep stays.
    again = _assign(manager, deal, boss)
    assert 400 <= again.status_code < 500, again.status_code
    assert "already has a rep" in again.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).rep == riley
    assert len(_mails("registration_assigned")) == 1


def test_a_registration_for_an_account_with_an_owner_and_no_open_deal_goes_to_its_owner_at_once(
    app, oliver, boss, dana, make_account
):
    account = make_account(owner=dana, name="Harbour Freight Ltd", domain="harbour-freight.example")
    registration = _registered(_register(oliver, account_name="Harbour Freight Limited"))
    deal = registration.deal
    assert (deal.account_id, deal.rep, deal.status, registration.clashed) == (account.id, dana, "draft", False)
    assert _recipients("registration_for_rep") == [[dana.email]]
    assert _mails("registration_to_assign") == []
    page = oliver.get(f"/partner/registrations/{registration.id}").get_data(as_text=True)
    assert "<strong>Registered.</strong>" in page


def test_a_registration_for_a_claimed_domain_is_told_already_registered_without_learning_by_whom(
    app, oliver, boss, manager, dana, make_deal, borealis
):
    other = make_deal(
        dana,
        status="awaiting_customer",
        originator="partner",
        originator_partner=borealis,
        origin_channel="partner_marketing",
        account_values={"name": "Acme Group AG", "domain": "acme-group.example"},
    )
    response = _register(oliver, account_name="Acme Holdings International", domain="https://eu.acme-group.example/x")
    registration = _registered(response)
    page = oliver.get(response.headers["Location"]).get_data(as_text=True)
    assert "Already registered." in page and "<strong>Registered.</strong>" not in page
    assert _stage("claimed") in page
    for secret in (dana.name, "Borealis", "bea@borealis.example", "casey@customer.example"):
        assert secret not in page, secret
    assert set(DEAL_NUMBERS.findall(page)) == {str(registration.deal_id)}  # never the other deal's number

    deal = registration.deal
    assert (deal.status, deal.hold_reason, deal.account_id, registration.clashed) == (
        "on_hold",
        "conflict",
        other.account_id,
        True,
    )
    [claimed] = _mails("registration_claimed")
    assert claimed.recipients == [OLIVER] and _mails("registration_received") == []
    for secret in (dana.name, "Borealis"):
        assert secret not in claimed.text_body and secret not in claimed.html_body
    assert set(DEAL_NUMBERS.findall(claimed.text_body)) == {str(deal.id)}
    assert _recipients("registration_clash") == [[boss.email]]

    queue = manager.get("/admin/queues/conflict").get_data(as_text=True)
    assert f"#{deal.id}" in queue and "registered by Thames Cloud" in queue


def test_a_registration_for_the_same_company_by_its_normalised_name_is_already_registered(app, oliver, dana, make_deal):
    other = make_deal(
        dana,
        status="awaiting_customer",
        account_values={"name": "Müller Logistik GmbH & Co. KG", "domain": "mueller-logistik.example"},
    )
    registration = _registered(
        _register(oliver, account_name="Müller Logistik GmbH", domain="mueller-gruppe.example", country="DE")
    )
    assert registration.clashed and registration.deal.account_id == other.account_id
    assert registration.deal.status == "on_hold"
    page = oliver.get(f"/partner/registrations/{registration.id}").get_data(as_text=True)
    assert "Already registered." in page


def test_a_name_that_only_looks_similar_is_not_a_claim_on_the_account(app, oliver, dana, make_deal):
    other = make_deal(dana, status="awaiting_customer", account_values={"name": "Acme", "domain": "acme.example"})
    registration = _registered(_register(oliver, account_name="Acme Bank", domain="acmebank.example"))
    assert not registration.clashed
    assert registration.deal.account_id != other.account_id and registration.deal.status == "draft"
    page = oliver.get(f"/partner/registrations/{registration.id}").get_data(as_text=True)
    assert "<strong>Registered.</strong>" in page and "Already registered" not in page
    assert _mails("registration_clash") == []


# ---------------------------------------------------------------- resolving a clash


@pytest.fixture
def clash(app, oliver, dana, make_deal, borealis):
    """Thames Cloud registers a deal for an account on which Dana already works a deal Borealis found."""
    other = make_deal(
        dana,
        status="awaiting_customer",
        originator="partner",
        originator_partner=borealis,
        origin_channel="partner_marketing",
        account_values={"name": "Acme Group AG", "domain": "acme-group.example"},
    )
    registration = _registered(_register(oliver, account_name="Acme Group", domain="www.acme-group.example"))
    return registration, other


def _resolve(manager, held, keep):
    url = f"/admin/deals/{held.id}/resolve"
    return manager.submit(url, {"keep": str(keep.id), "reason": "The partner brought the project to us first."})


def test_keeping_the_registration_lets_it_go_on_as_a_draft_and_withdraws_the_other_deal(
    app, oliver, manager, dana, clash
):
    registration, other = clash
    held = registration.deal
    page = manager.get(f"/admin/deals/{held.id}/resolve").get_data(as_text=True)
    assert f"#{held.id}" in page and f"#{other.id}" in page and "registered by Thames Cloud" in page

    assert _resolve(manager, held, keep=held).status_code == 302
    db.session.expire_all()
    held, other = db.session.get(Deal, held.id), db.session.get(Deal, other.id)
    assert (held.status, held.hold_reason, held.rep) == ("draft", None, dana)
    assert other.status == "withdrawn"
    notices = {tuple(m.recipients): m for m in _mails("withdrawn_notice")}
    assert set(notices) == {(dana.email,), ("bea@borealis.example",)}
    # The withdrawn deal's partner hears it was withdrawn, never who else claimed the account.
    assert "Thames" not in notices[("bea@borealis.example",)].text_body
    page = oliver.get(f"/partner/registrations/{registration.id}").get_data(as_text=True)
    assert _stage("received") in page
    assert f"#{held.id}" not in manager.get("/admin/queues/conflict").get_data(as_text=True)


def test_keeping_the_other_deal_withdraws_the_registration_and_the_partner_reads_not_proceeding(
    app, oliver, manager, clash
):
    registration, other = clash
    held = registration.deal
    assert _resolve(manager, held, keep=other).status_code == 302
    db.session.expire_all()
    held, other = db.session.get(Deal, held.id), db.session.get(Deal, other.id)
    assert held.status == "withdrawn" and other.status == "awaiting_customer"
    assert [OLIVER] in _recipients("withdrawn_notice")
    page = oliver.get(f"/partner/registrations/{registration.id}").get_data(as_text=True)
    assert _stage("not_proceeding") in page
    home = oliver.get("/partner/").get_data(as_text=True)
    assert _stage("not_proceeding") in home


# ---------------------------------------------------------------- through the lifecycle


def test_a_registered_deal_goes_through_the_lifecycle_originated_by_its_partner(app, oliver, thames, manager, riley):
    registration = _registered(_register(oliver))
    deal = registration.deal
    assert _assign(manager, deal, riley).status_code == 302
    deal = db.session.get(Deal, deal.id)
    _take_up(deal, riley, vendor_strength=1)
    assert deal.status == "awaiting_customer"
    [approved] = _mails("registration_approved")
    assert approved.recipients == [OLIVER] and f"#{deal.id}" in approved.text_body
    page = oliver.get(f"/partner/registrations/{registration.id}").get_data(as_text=True)
    assert _stage("with_customer") in page

    answer_for(deal)  # the customer names no partner and has no preference
    decisions.route_deal(deal, actor=riley)
    db.session.commit()
    deal = db.session.get(Deal, deal.id)
    assert deal.status == "routed"
    version = deal.decisions[-1]
    thames_party = {"kind": "partner", "partner_id": thames.id}
    assert version.input["originator"] == thames_party
    # The partner it found, with its own "trusted (4)" above the vendor's 1: it leads and fulfils.
    assert version.output["leader"] == thames_party and version.output["fulfilment"] == thames_party
    assert version.routing.roles_of(thames.id) == ("lead", "fulfilment")
    assert "needs_alignment" not in version.output["flags"]
    [request] = partner_requests.of_decision(version)
    assert request.partner_id == thames.id

    page = oliver.get(f"/partner/registrations/{registration.id}").get_data(as_text=True)
    assert _stage("routed") in page
    assert f"/partner/requests/{request.id}" in page


def test_a_registration_held_for_alignment_does_not_tell_its_partner_the_account_is_claimed(
    app, oliver, thames, manager, riley
):
    registration = _registered(_register(oliver, strength="2"))
    assert _assign(manager, registration.deal, riley).status_code == 302
    deal = db.session.get(Deal, registration.deal_id)
    _take_up(deal, riley, vendor_strength=5)
    answer_for(deal)
    decisions.route_deal(deal, actor=riley)
    db.session.commit()
    deal = db.session.get(Deal, deal.id)
    # The vendor's relationship is the stronger: the vendor leads, the finder keeps origination credit.
    assert (deal.status, deal.hold_reason) == ("on_hold", "needs_alignment")
    assert "origination_credit" in deal.decisions[-1].routing.roles_of(thames.id)
    page = oliver.get(f"/partner/registrations/{registration.id}").get_data(as_text=True)
    assert "<strong>Registered.</strong>" in page
    assert "Already registered" not in page


# ---------------------------------------------------------------- the partner's own relationships


def test_the_engine_reads_the_partners_own_statement_when_it_is_above_the_reps_estimate(
    app, oliver, thames, dana, make_account
):
    account = make_account(owner=dana, name="Harbour Freight Ltd", domain="harbour-freight.example")
    registration = _registered(_register(oliver, strength="1"))
    deal = registration.deal
    assert deal.rep == dana
    services.save_landscape(
        deal,
        "yes",
        [{"partner_id": thames.id, "partner_name": "", "strength": 2, "since": None, "does_what": "", "notes": ""}],
        actor=dana,
    )
    db.session.commit()

    def thames_strength():
        facts = decisions.propose(db.session.get(Deal, deal.id)).facts
        return strength_of([r for r in facts.input.relationships if r.partner_id == thames.id])

    before = thames_strength()
    assert (before.strength, before.how) == (2, "as the rep estimated")

    page = oliver.get("/partner/relationships").get_data(as_text=True)
    assert "Harbour Freight Ltd" in page
    url = f"/partner/relationships/{account.id}"
    response = oliver.submit(url, {"strength": "4", "since": ""}, page="/partner/relationships")
    assert response.status_code == 302 and response.headers["Location"] == "/partner/relationships"
    stated = db.session.scalars(
        select(Relationship.strength)
        .where(Relationship.account_id == account.id, Relationship.source == "partner")
        .order_by(Relationship.id)
    ).all()
    assert stated == [1, 4]

    after = thames_strength()
    assert (after.strength, after.how) == (4, "as the partner stated")
    proposal = decisions.propose(db.session.get(Deal, deal.id))
    assert any("trusted (4), as the partner stated" in step.says for step in proposal.decision.trace)


def test_a_partner_states_relationships_only_with_accounts_it_works_with_and_on_the_scale(
    app, oliver, thames, make_account
):
    registration = _registered(_register(oliver))
    stranger = make_account(name="Nobody We Share Ltd", domain="nobody-we-share.example")

    def rows() -> int:
        return db.session.scalar(select(func.count()).select_from(Relationship).where(Relationship.source == "partner"))

    assert rows() == 1

    missing = oliver.submit(f"/partner/relationships/{stranger.id}", {"strength": "3"}, page="/partner/relationships")
    assert missing.status_code == 404
    assert "Nobody We Share Ltd" not in oliver.get("/partner/relationships").get_data(as_text=True)

    account_id = registration.deal.account_id
    refused = oliver.submit(f"/partner/relationships/{account_id}", {"strength": "9"}, page="/partner/relationships")
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert re.search(rf'<p class="field-error" id="strength-{account_id}-error">[^<]+</p>', page), page
    assert rows() == 1


# ---------------------------------------------------------------- what the form refuses


BAD_ANSWERS = [
    ("domain", "not a domain", "Enter the customer&#39;s web domain"),
    ("country", "XX", "Not a valid choice"),
    ("strength", "9", "Not a valid choice"),
    ("account_name", "A" * 161, "160 characters"),
    ("close_date", (TODAY - timedelta(days=1)).isoformat(), "cannot be in the past"),
]


def test_a_registration_with_a_bad_answer_is_refused_beside_the_field_with_the_answers_kept(app, oliver):
    accounts = _count(Account)
    for field, typed, message in BAD_ANSWERS:
        response = _register(oliver, **{field: typed})
        assert response.status_code == 400, field
        page = response.get_data(as_text=True)
        error = re.search(rf'<p class="field-error" id="{field}-error">([^<]+)</p>', page)
        assert error and message in error.group(1), (field, error and error.group(1))
        assert 'value="Hana Harbour"' in page and "Their warehouses need backups that survive losing a site." in page
        if field in ("domain", "account_name", "close_date"):
            assert f'value="{typed}"' in page, field
        else:
            assert 'value="harbour-freight.example"' in page, field
        assert (_count(Deal), _count(Registration), _count(Account)) == (0, 0, accounts), field


def test_the_same_registration_form_sent_twice_registers_one_deal(app, oliver):
    hidden = oliver.hidden("/partner/register")
    first = oliver.post("/partner/register", data={**hidden, **_answers()})
    second = oliver.post("/partner/register", data={**hidden, **_answers()})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert (_count(Deal), _count(Registration)) == (1, 1)
    assert len(_mails("registration_received")) == 1


def test_a_partner_user_registering_too_often_is_asked_to_wait_with_its_answers_kept(app, oliver):
    app.config["REGISTRATIONS_PER_HOUR"] = 2
    for n in (1, 2):
        _registered(_register(oliver, account_name=f"Customer Number {n} Ltd", domain=f"customer-{n}.example"))
    accounts = _count(Account)
    third = _register(oliver, account_name="Lighthouse Labs Ltd", domain="lighthouse-labs.example")
    assert third.status_code == 429
    page = third.get_data(as_text=True)
    assert "please wait a while" in page
    assert 'value="Lighthouse Labs Ltd"' in page and 'value="lighthouse-labs.example"' in page
    assert (_count(Deal), _count(Registration), _count(Account)) == (2, 2, accounts)


# ---------------------------------------------------------------- who sees what


def test_a_registration_is_its_partners_alone_and_the_portal_and_the_staff_side_stay_apart(
    app, oliver, borealis, boss, manager
):
    registration = _registered(_register(oliver))
    bea = sign_in_partner(app, "bea@borealis.example")
    assert bea.get(f"/partner/registrations/{registration.id}").status_code == 404
    assert "Harbour Freight" not in bea.get("/partner/").get_data(as_text=True)

    staff = manager.get("/partner/register")
    assert staff.status_code == 302 and staff.headers["Location"].startswith("/partner/login")
    for path in ("/admin/registrations", f"/deals/{registration.deal_id}"):
        response = oliver.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path


def test_the_portals_home_lists_the_deals_registered_once_under_a_plain_title(app, oliver):
    _registered(_register(oliver))
    page = oliver.get("/partner/").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "<" not in title and "Thames Cloud" in title
    assert page.count("Deals you registered") == 1 and page.count("Harbour Freight Ltd") == 1


# ---------------------------------------------------------------- won or lost, by the partner that fulfils


def _routed_and_accepted(app, rep, ready, partner, **answers):
    deal = ready(partner=partner, strength=5, originator="customer", **answers)
    decisions.route_deal(deal, actor=rep)
    db.session.commit()
    [request] = partner_requests.of_decision(db.session.get(Deal, deal.id).decisions[-1])
    browser = sign_in_partner(app, partner.contact_email)
    page = f"/partner/requests/{request.id}"
    assert browser.submit(f"{page}/accept", page=page).status_code == 302
    return db.session.get(Deal, deal.id), request, browser


def test_the_partner_that_fulfils_records_the_deal_won_in_the_portal(app, client, rep, ready, thames):
    deal, request, browser = _routed_and_accepted(app, rep, ready, thames, fulfilment="partner")
    assert deal.status == "accepted"
    url = f"/partner/requests/{request.id}"
    page = browser.get(url).get_data(as_text=True)
    assert "Won or lost?" in page and f'action="{url}/outcome"' in page

    lost = browser.submit(f"{url}/outcome", {"outcome": "lost", "closed_on": TODAY.isoformat(), "final_value": "0"})
    assert lost.status_code == 400
    assert re.search(r'<p class="field-error" id="lost_reason-error">Say why it was lost', lost.get_data(as_text=True))
    assert db.session.get(Deal, deal.id).status == "accepted"

    closed_on = TODAY - timedelta(days=1)
    won = browser.submit(
        f"{url}/outcome", {"outcome": "won", "closed_on": closed_on.isoformat(), "final_value": "51000.50"}
    )
    assert won.status_code == 302 and won.headers["Location"] == url
    deal = db.session.get(Deal, deal.id)
    assert (deal.status, deal.closed_on, deal.final_value) == ("won", closed_on, Decimal("51000.50"))
    event = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity == "deal", AuditEvent.entity_id == deal.id, AuditEvent.action == "marked won"
        )
    ).one()
    oliver = db.session.scalar(select(PartnerUser).where(PartnerUser.email == OLIVER))
    assert (event.partner_user_id, event.actor_id) == (oliver.id, None)
    assert event.actor_name == "Oliver Smith, Thames Cloud"
    # The rep (signed in on `client`) finds the partner user and their partner named in the deal's history.
    assert "Oliver Smith, Thames Cloud · marked won" in client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert _recipients("partner_won") == [[rep.email]]
    assert "Won or lost?" not in browser.get(url).get_data(as_text=True)


def test_a_partner_that_leads_but_does_not_fulfil_cannot_record_won_or_lost(app, rep, ready, thames):
    # The customer buys direct: Thames Cloud, the strongest relationship, leads; the vendor fulfils.
    deal, request, browser = _routed_and_accepted(app, rep, ready, thames, fulfilment="direct")
    version = deal.decisions[-1]
    assert version.output["leader"] == {"kind": "partner", "partner_id": thames.id}
    assert version.output["fulfilment"] == {"kind": "vendor"}
    url = f"/partner/requests/{request.id}"
    assert "Won or lost?" not in browser.get(url).get_data(as_text=True)

    response = browser.submit(
        f"{url}/outcome", {"outcome": "won", "closed_on": TODAY.isoformat(), "final_value": "1000"}, page="/partner/"
    )
    assert 400 <= response.status_code < 500, response.status_code
    deal = db.session.get(Deal, deal.id)
    assert (deal.status, deal.closed_on, deal.final_value) == ("accepted", None, None)
    assert _mails("partner_won") == []


# ---------------------------------------------------------------- expiry


def test_a_registration_without_progress_is_reminded_then_expires(app, oliver, boss, riley):
    app.config["REGISTRATION_EXPIRY_DAYS"] = 30
    app.config["REGISTRATION_REMINDER_DAYS"] = 7
    registration = _registered(_register(oliver))
    registrations.assign(registration.deal, riley, actor=boss)
    db.session.commit()
    registered_at = db.session.get(Registration, registration.id).registered_at

    def sweep(days: int) -> tuple[int, int]:
        counts = registrations.sweep(now=registered_at + timedelta(days=days))
        db.session.commit()
        return counts

    assert sweep(22) == (0, 0)
    assert _mails("registration_reminder") == []
    assert sweep(24) == (1, 0)
    assert sorted(_recipients("registration_reminder")) == [[OLIVER], [riley.email]]
    assert sweep(24) == (0, 0)  # once
    assert len(_mails("registration_reminder")) == 2
    assert db.session.get(Deal, registration.deal_id).status == "draft"

    now = registered_at + timedelta(days=31)
    assert registrations.sweep(now=now) == (0, 1)
    db.session.commit()
    found = db.session.get(Registration, registration.id)
    assert found.deal.status == "withdrawn" and found.expired_at == now
    assert registrations.stage(found.deal) == "expired"
    assert sorted(_recipients("registration_expired")) == [[OLIVER], [riley.email]]
    page = oliver.get(f"/partner/registrations/{registration.id}").get_data(as_text=True)
    assert _stage("expired") in page
    assert sweep(40) == (0, 0)


def test_progress_on_a_registered_deal_resets_its_clock(app, oliver, boss, riley):
    app.config["REGISTRATION_EXPIRY_DAYS"] = 30
    app.config["REGISTRATION_REMINDER_DAYS"] = 7
    registration = _registered(_register(oliver))
    registrations.assign(registration.deal, riley, actor=boss)
    db.session.commit()
    # Three weeks pass before the rep takes the registration up (the clock moves on).
    three_weeks = timedelta(days=21)
    found = db.session.get(Registration, registration.id)
    found.registered_at -= three_weeks
    found.deal.status_changed_at -= three_weeks
    db.session.commit()
    db.session.expire_all()
    deal = db.session.get(Deal, registration.deal_id)
    _take_up(deal, riley)
    registered_at = db.session.get(Registration, registration.id).registered_at

    # 31 days after the registration, 10 after the rep completed it: nothing is due.
    now = registered_at + timedelta(days=31)
    assert now - db.session.get(Deal, deal.id).status_changed_at < timedelta(days=11)
    assert registrations.sweep(now=now) == (0, 0)
    db.session.commit()
    found = db.session.get(Registration, registration.id)
    assert (found.deal.status, found.expired_at, found.reminded_at) == ("awaiting_customer", None, None)


# ---------------------------------------------------------------- the rep


def test_a_rep_cannot_discard_a_deal_a_partner_registered(app, oliver, dana, make_account):
    make_account(owner=dana, name="Harbour Freight Ltd", domain="harbour-freight.example")
    registration = _registered(_register(oliver))
    assert registration.deal.rep == dana
    browser = sign_in(app, dana)
    page = browser.get(f"/deals/{registration.deal_id}").get_data(as_text=True)
    assert "Registered by Thames Cloud" in page and "Discard this draft" not in page

    response = browser.submit(f"/deals/{registration.deal_id}/discard", page=f"/deals/{registration.deal_id}")
    assert 400 <= response.status_code < 500, response.status_code
    assert "cannot be discarded" in response.get_data(as_text=True)
    assert db.session.get(Deal, registration.deal_id).status == "draft"
    assert db.session.get(Registration, registration.id) is not None
