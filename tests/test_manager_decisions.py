"""The channel manager decides in place of the engine: overrides, alignments, conflicts — and how they read."""

import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from intake.extensions import db
from intake.models import Account, Deal, Decision, OutboxMessage, PartnerRequest
from intake.routing.model import FLAGS

from .conftest import sign_in
from .test_customer_link import field_error
from .test_routing_flow import route

TODAY = date.today()


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def selected(page: str, name: str) -> list[str]:
    """The option values selected in the page's <select name=...>."""
    found = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert found, f"no select {name}"
    return re.findall(r'<option selected value="([^"]*)"', found.group(1))


def versions(deal) -> list[Decision]:
    return db.session.scalars(select(Decision).where(Decision.deal_id == deal.id).order_by(Decision.version)).all()


def traces(page: str) -> list[list[str]]:
    """Every trace on a page, each as its steps' words (rule heading and sentence)."""
    return [
        [text(step) for step in re.findall(r"<li>(.*?)</li>", ol, re.S)]
        for ol in re.findall(r'<ol class="trace">(.*?)</ol>', page, re.S)
    ]


def override(manager, deal, **form):
    return manager.submit(f"/admin/deals/{deal.id}/override", form)


def resolve(manager, deal, **form):
    return manager.submit(f"/admin/deals/{deal.id}/resolve", form)


@pytest.fixture
def alpha(make_partner):
    return make_partner(name="Alpha Systeme", tier="gold")


@pytest.fixture
def beta(make_partner):
    return make_partner(name="Beta Netzwerk", tier="silver")


@pytest.fixture
def alpha_leads(client, ready, alpha):
    """A routed deal: the customer's partner of many years, Alpha, leads and fulfils."""
    deal = ready(partner=alpha, strength=5, originator="customer")
    route(client, deal)
    deal = db.session.get(Deal, deal.id)
    assert deal.status == "routed"
    assert (
        deal.decisions[-1].output["leader"]
        == deal.decisions[-1].output["fulfilment"]
        == {
            "kind": "partner",
            "partner_id": alpha.id,
        }
    )
    return deal


@pytest.fixture
def needs_alignment(client, ready, alpha):
    """Our rep found the deal, but the customer's partner Alpha has the stronger relationship."""
    deal = ready(partner=alpha, strength=5, vendor_strength=2, originator="vendor")
    route(client, deal)
    deal = db.session.get(Deal, deal.id)
    assert (deal.status, deal.hold_reason) == ("on_hold", "needs_alignment")
    return deal


# ---------------------------------------------------------------- the forms start from the proposal


def test_the_override_form_starts_from_a_partner_the_engine_proposes(manager, alpha_leads, alpha):
    page = manager.get(f"/admin/deals/{alpha_leads.id}/override").get_data(as_text=True)
    assert selected(page, "leader") == [f"partner:{alpha.id}"]
    assert selected(page, "fulfilment") == [f"partner:{alpha.id}"]


def test_the_override_form_starts_from_the_vendor_leading_and_a_partner_fulfilling(client, manager, ready, alpha):
    deal = ready(partner=alpha, strength=3, vendor_strength=5, originator="customer")
    route(client, deal)
    output = db.session.get(Deal, deal.id).decisions[-1].output
    assert (output["leader"], output["fulfilment"]) == ({"kind": "vendor"}, {"kind": "partner", "partner_id": alpha.id})
    page = manager.get(f"/admin/deals/{deal.id}/override").get_data(as_text=True)
    assert selected(page, "leader") == ["vendor"]
    assert selected(page, "fulfilment") == [f"partner:{alpha.id}"]


def options(page: str, name: str) -> list[str]:
    found = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    return re.findall(r'<option[^>]*value="([^"]*)"', found.group(1))


def test_the_override_form_does_not_choose_the_vendor_to_fulfil_when_the_engine_decided_no_one(
    client, manager, ready, alpha
):
    # The customer wants a partner we do not know to deliver: the engine holds the deal, fulfilment undecided.
    deal = ready(partner="Local Heroes Ltd", strength=5, fulfilment="partner", originator="customer")
    route(client, deal)
    deal = db.session.get(Deal, deal.id)
    assert (deal.status, deal.hold_reason) == ("on_hold", "fulfilment")
    assert deal.decisions[-1].output["fulfilment"] is None
    page = manager.get(f"/admin/deals/{deal.id}/override").get_data(as_text=True)
    assert selected(page, "leader") == ["vendor"]  # the engine's leader
    # Nothing the engine proposed is pre-chosen for fulfilment: not even the vendor, by being listed first.
    assert selected(page, "fulfilment") in ([], [""])
    assert options(page, "fulfilment")[0] != "vendor"


def test_the_alignment_form_starts_from_the_engines_proposal(manager, needs_alignment, alpha):
    page = manager.get(f"/admin/deals/{needs_alignment.id}/resolve").get_data(as_text=True)
    assert "Align who leads" in page
    assert selected(page, "leader") == [f"partner:{alpha.id}"]
    assert selected(page, "fulfilment") == [f"partner:{alpha.id}"]


# ---------------------------------------------------------------- removing a partner's role or credit


@pytest.mark.parametrize(
    "leader, fulfilment, loses, took",
    [
        ("vendor", "vendor", "role", "led and fulfilled the deal"),
        ("vendor", "alpha", "lead", "led the deal"),
        ("alpha", "vendor", "fulfilment", "fulfilled the deal"),
    ],
)
def test_an_override_that_removes_a_partners_role_says_so_and_waits_for_confirmation(
    client, manager, alpha_leads, alpha, leader, fulfilment, loses, took
):
    choice = {"vendor": "vendor", "alpha": f"partner:{alpha.id}"}
    first = versions(alpha_leads)[0].output
    form = {"leader": choice[leader], "fulfilment": choice[fulfilment], "reason": "The customer asked us directly."}
    refused = override(manager, alpha_leads, **form)
    assert refused.status_code == 400
    said = unescape(field_error(refused, "confirm"))
    assert f"This decision removes Alpha Systeme's {loses}: in the engine's proposal it {took}." in said
    page = refused.get_data(as_text=True)
    assert re.search(
        r'<input[^>]*name="confirm"[^>]*type="checkbox"|<input[^>]*type="checkbox"[^>]*name="confirm"', page
    )
    assert "The customer asked us directly." in page  # the reason typed is kept
    assert [v.kind for v in versions(alpha_leads)] == ["engine"]

    assert override(manager, alpha_leads, **form, confirm="y").status_code == 302
    first_version, second = versions(alpha_leads)
    assert (first_version.kind, second.kind) == ("engine", "override")
    assert first_version.output == first  # the first version is untouched
    removed = [step for step in second.output["trace"] if step["rule"] == "removed"]
    assert len(removed) == 1 and "Alpha Systeme" in removed[0]["says"] and took in removed[0]["says"]
    deal_page = text(client.get(f"/deals/{alpha_leads.id}").get_data(as_text=True))
    assert "roles removed This decision removes Alpha Systeme" in deal_page


@pytest.mark.parametrize("finder_led", [True, False], ids=["finder-led", "finder-had-credit-only"])
def test_an_override_keeps_the_finding_partners_origination_credit_by_itself(
    client, manager, ready, make_partner, alpha, beta, finder_led
):
    finder = make_partner(name="Gamma Finder", tier="gold")
    if finder_led:  # the finder is the customer's strongest partner, and leads and fulfils
        deal = ready(partner=finder, strength=5, vendor_strength=1, originator="partner", originator_partner=finder)
    else:  # the vendor's relationship is stronger: the finder keeps origination credit only
        deal = ready(
            vendor_strength=5,
            originator="partner",
            originator_partner=finder,
            rep_partners=[(finder, 1)],
        )
    route(client, deal)
    form = {"leader": f"partner:{beta.id}", "fulfilment": f"partner:{beta.id}", "reason": "Beta has the specialists."}
    response = override(manager, deal, **form)
    if finder_led:  # it loses its lead and fulfilment, and is told so, but not its origination credit
        said = unescape(field_error(response, "confirm"))
        assert "removes Gamma Finder's lead and fulfilment" in said and "origination" not in said
        response = override(manager, deal, **form, confirm="y")
    assert response.status_code == 302
    decision = versions(deal)[-1]
    assert decision.kind == "override"
    assert {"party": {"kind": "partner", "partner_id": finder.id}, "role": "origination_credit"} in decision.output[
        "supporting"
    ]
    words = " ".join(step["says"] for step in decision.output["trace"])
    assert "Gamma Finder found the deal and, neither leading nor fulfilling it, keeps origination credit" in words
    assert "removes Gamma Finder's role" not in words and "origination credit:" not in words


# ---------------------------------------------------------------- conflicts by common names, through the questionnaire


def start(browser, *, name: str, domain: str):
    """A rep starts a deal and creates its account in the questionnaire's first section."""
    response = browser.submit("/deals/new", page="/deals")
    deal_id = int(response.location.split("/")[2])
    return deal_id, browser.submit(
        f"/deals/{deal_id}/account",
        {
            "name": name,
            "domain": domain,
            "country": "DE",
            "vertical": "Retail",
            "size_band": "250-999",
            "vendor_strength": "2",
            "contact_name": "Chris Contact",
            "contact_email": "chris@customer.example",
            "action": "save",
        },
    )


def finish(browser, deal_id: int, *, originator: str = "vendor", partner=None) -> None:
    """The rep answers the questionnaire's other sections and completes it."""
    sections = {
        "origin": {
            "originator": originator,
            "originator_partner_id": str(partner.id) if partner else "",
            "origin_channel": "partner_marketing" if partner else "meeting",
            "origin_date": (TODAY - timedelta(days=3)).isoformat(),
        },
        "need": {
            "pain_points": ["Rising infrastructure cost"],
            "business_impact": "Costs up 30%",
            "solutions": ["Cloud platform"],
            "estimated_value": "80000",
            "currency": "EUR",
            "close_date": (TODAY + timedelta(days=90)).isoformat(),
        },
        "qualification": {
            "budget": "approved",
            "has_decision_maker": "yes",
            "decision_maker": "The CFO",
            "next_step": "Workshop",
            "next_step_date": (TODAY + timedelta(days=7)).isoformat(),
        },
        "landscape": {"partners_known": "no"},
    }
    for key, data in sections.items():
        saved = browser.submit(f"/deals/{deal_id}/{key}", {**data, "action": "save"})
        assert saved.status_code == 302, (key, saved.get_data(as_text=True))
    completed = browser.submit(f"/deals/{deal_id}/complete", page=f"/deals/{deal_id}")
    assert completed.status_code == 302


def qualify(browser, *, name: str, domain: str, originator: str = "vendor", partner=None) -> int:
    """A rep qualifies a deal through the questionnaire's pages, creating its account in the first section."""
    deal_id, account = start(browser, name=name, domain=domain)
    assert account.status_code == 302, account.get_data(as_text=True)
    finish(browser, deal_id, originator=originator, partner=partner)
    return deal_id


@pytest.mark.parametrize(
    "first, second, conflict",
    [
        (("A.C.M.E. GmbH", "acme.example"), ("ACME", "acme-group.example"), True),
        (("Müller Logistik GmbH & Co. KG", "mueller-logistik.example"), ("Müller Logistik GmbH", "ml.example"), True),
        (("ACME-Test, Inc.", "acme-test.example"), ("Acme Test GmbH", "acmetest.example"), True),
        (("Acme", "acme.example"), ("Acme Bank", "acmebank.example"), False),
        (("General Motors", "gm.example"), ("General Mills", "generalmills.example"), False),
    ],
    ids=["acme", "mueller", "acme-test", "acme-bank", "general"],
)
def test_accounts_with_one_company_name_conflict_and_similar_names_do_not(
    app, client, rep, make_user, make_partner, first, second, conflict
):
    finder = make_partner(name="Nordlicht IT")
    first_id = qualify(client, name=first[0], domain=first[1], originator="partner", partner=finder)
    other = sign_in(app, make_user("rep"))
    second_id = qualify(other, name=second[0], domain=second[1], originator="vendor")
    assert db.session.query(Account).count() == 2  # two accounts: the names alone never refuse one

    assert route(other, db.session.get(Deal, second_id)).status_code == 302
    deal = db.session.get(Deal, second_id)
    decision = deal.decisions[-1]
    if conflict:
        assert (deal.status, deal.hold_reason) == ("on_hold", "conflict")
        assert decision.output["conflicts"] == [first_id]
        says = " ".join(step["says"] for step in decision.output["trace"])
        assert "Another open deal is on the same account (same company name)" in says
        assert f"#{second_id}" in sign_in(app, make_user("admin")).get("/admin/queues/conflict").get_data(as_text=True)
    else:
        assert deal.status == "routed" and decision.output["conflicts"] == []
        assert "conflict" not in decision.output["flags"]
    assert db.session.get(Deal, first_id).status == "awaiting_customer"  # the first deal goes on as it was


@pytest.mark.parametrize(
    "first_domain, second_domain",
    [
        ("acme-group.com", "eu.acme-group.com"),
        ("eu.acme-group.com", "acme-group.com"),
        ("www.acme-group.com", "eu.acme-group.com"),
    ],
)
def test_sub_domains_of_one_company_are_one_account_and_the_first_is_offered(
    app, client, rep, make_user, make_partner, first_domain, second_domain
):
    finder = make_partner(name="Nordlicht IT")
    first_id = qualify(client, name="Acme Group", domain=first_domain, originator="partner", partner=finder)
    existing = db.session.get(Deal, first_id).account
    other = sign_in(app, make_user("rep"))
    second_id, refused = start(other, name="Acme Group Europe", domain=second_domain)
    assert refused.status_code == 400
    assert "“Acme Group” already has this domain" in unescape(field_error(refused, "domain"))
    assert f'name="account_id" value="{existing.id}"' in refused.get_data(as_text=True)
    assert db.session.query(Account).count() == 1

    # The rep takes the account offered; the two deals then conflict when the second is routed.
    assert (
        other.submit(
            f"/deals/{second_id}/account",
            {
                "account_id": str(existing.id),
                "contact_name": "Chris Contact",
                "contact_email": "chris@customer.example",
                "action": "save",
            },
        ).status_code
        == 302
    )
    assert db.session.get(Deal, second_id).account_id == existing.id
    finish(other, second_id)
    route(other, db.session.get(Deal, second_id))
    deal = db.session.get(Deal, second_id)
    assert (deal.status, deal.hold_reason) == ("on_hold", "conflict")
    assert deal.decisions[-1].output["conflicts"] == [first_id]


# ---------------------------------------------------------------- the trace reads as sentences


CODES = re.compile(r"\(partner \d+\)|\bpartner \d+\b|\b[a-z]+(?:_[a-z]+)+\b|\bNone\b|partner_id")


CODED_FLAGS = [flag for flag in FLAGS if "_" in flag]  # "conflict" is a word too


def assert_sentences(steps: list[str]) -> None:
    for step in steps:
        assert not CODES.search(step), step
        assert not [flag for flag in CODED_FLAGS if flag in step], step


@pytest.mark.parametrize(
    "scenario",
    ["direct", "any_partner", "unknown", "alignment", "tied-with-an-inactive-partner"],
)
def test_the_trace_on_the_deal_page_reads_as_sentences(client, ready, make_partner, alpha, beta, scenario):
    if scenario == "direct":
        deal = ready(partner=alpha, strength=4, fulfilment="direct", originator="partner", originator_partner=beta)
    elif scenario == "any_partner":
        deal = ready(fulfilment="any_partner", vendor_strength=1, originator="customer")
    elif scenario == "unknown":
        deal = ready(partner="Local Heroes Ltd", strength=5, fulfilment="partner", originator="customer")
    elif scenario == "alignment":
        deal = ready(partner=alpha, strength=5, vendor_strength=2, originator="vendor", rep_partners=[(beta, 5)])
    else:
        gone = make_partner(name="Gone Partner", is_active=False)
        deal = ready(
            partner=alpha, strength=3, vendor_strength=3, originator="customer", rep_partners=[(beta, 3), (gone, 4)]
        )
    before = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert traces(before), "no proposal trace"
    for steps in traces(before):
        assert_sentences(steps)
    route(client, deal)
    after = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert traces(after)
    for steps in traces(after):
        assert_sentences(steps)
    routing = text(re.search(r'<section class="card" id="routing">.*?</section>', after, re.S).group(0))
    assert not [flag for flag in CODED_FLAGS if flag in routing], routing


def test_after_an_alignment_the_trace_ends_with_the_routable_status(client, manager, needs_alignment, alpha):
    response = resolve(
        manager, needs_alignment, leader=f"partner:{alpha.id}", fulfilment=f"partner:{alpha.id}", reason="Agreed."
    )
    assert response.status_code == 302
    deal = db.session.get(Deal, needs_alignment.id)
    assert deal.status == "routed" and [d.kind for d in deal.decisions] == ["engine", "alignment"]
    current = traces(client.get(f"/deals/{deal.id}").get_data(as_text=True))[0]  # "Why, rule by rule"
    assert current[-1].startswith("status Routable: Alpha Systeme can contact the customer")
    assert not [step for step in current if "needs alignment" in step.lower()], current
    assert_sentences(current)
    assert deal.decisions[-1].output["status"] == "routable"
    assert "needs_alignment" not in deal.decisions[-1].output["flags"]


# ---------------------------------------------------------------- a second click


def test_a_double_submitted_override_records_one_version(manager, ready, beta):
    deal = ready(originator="customer", vendor_strength=4)
    page = f"/admin/deals/{deal.id}/override"
    hidden = manager.hidden(page)  # what the browser sends back: the token and the version it showed
    form = {"leader": f"partner:{beta.id}", "fulfilment": f"partner:{beta.id}", "reason": "Beta asked for it."}
    assert manager.post(page, data={**form, **hidden}).status_code == 302
    second = manager.post(page, data={**form, **hidden})
    asked = db.session.scalars(select(PartnerRequest.partner_id).where(PartnerRequest.deal_id == deal.id)).all()
    mailed = db.session.scalars(
        select(OutboxMessage.kind).where(OutboxMessage.deal_id == deal.id, OutboxMessage.kind == "routed_partner")
    ).all()
    # One version, one request to Beta, one mail to Beta — not two of each.
    assert ([v.kind for v in versions(deal)], asked, mailed) == (["override"], [beta.id], ["routed_partner"])
    assert 400 <= second.status_code < 500, second.status_code


def test_a_double_submitted_alignment_records_one_version(manager, needs_alignment, alpha):
    page = f"/admin/deals/{needs_alignment.id}/resolve"
    hidden = manager.hidden(page)
    form = {"leader": "vendor", "fulfilment": "vendor", "reason": "We found it.", "confirm": "y"}
    assert manager.post(page, data={**form, **hidden}).status_code == 302
    second = manager.post(page, data={**form, **hidden})
    assert [v.kind for v in versions(needs_alignment)] == ["engine", "alignment"]
    assert 400 <= second.status_code < 500, second.status_code


def test_a_double_submitted_conflict_resolution_records_one_version(
    app, client, rep, ready, make_deal, make_account, make_partner, make_user, manager
):
    rival = make_partner(name="Rival Partners")
    account = make_account(name="Contested GmbH", domain="contested.example", owner=rep)
    theirs = make_deal(
        make_user("rep"), account=account, status="awaiting_customer", originator="partner", originator_partner=rival
    )
    ours = ready(account=account, originator="vendor")
    route(client, ours)
    assert db.session.get(Deal, ours.id).hold_reason == "conflict"
    page = f"/admin/deals/{ours.id}/resolve"
    form = {"keep": str(ours.id), "reason": "Our meeting came first.", **manager.hidden(page)}
    assert manager.post(page, data=form).status_code == 302
    second = manager.post(page, data=form)
    assert [v.kind for v in versions(ours)] == ["engine", "conflict"]
    assert db.session.get(Deal, theirs.id).status == "withdrawn"
    assert 400 <= second.status_code < 500, second.status_code
