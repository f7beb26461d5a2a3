"""What each audience reads of a deal: a partner only what is its own, the customer one contact and no routing.

Everything is read where its reader reads it: the mail as the SMTP server received it (text and
HTML), the PDF attached to it (read back), the partner's page its link opens, the customer's page.
"""

import html as markup
import re
from datetime import timedelta
from email.utils import getaddresses

import pytest
from sqlalchemy import select

from intake import tokens
from intake.extensions import db
from intake.models import Deal, OutboxMessage, PartnerRequest
from intake.models.types import utcnow

from .conftest import answer_for
from .test_customer_link import create_link
from .test_routed_mail import body, deliver, pdf_text
from .test_routing_flow import route

VENDOR = "Northwind Technologies"

# ---------------------------------------------------------------- reading what was sent


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def visible(page: str) -> str:
    """The words a reader sees of an HTML page or mail: no tags, no styles, entities decoded."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return " ".join(markup.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def holds(text: str, marker: str) -> bool:
    """Whether `marker` is in `text`, wherever a PDF or a mail broke its lines."""
    return squeezed(marker) in squeezed(text)


def sent(smtp) -> list[tuple[str, object]]:
    """Every message the SMTP server accepted, as (outbox kind, message), in arrival order."""
    kinds = {m.message_id.strip(): m.kind for m in db.session.scalars(select(OutboxMessage))}
    return [(kinds[m["Message-ID"].strip()], m) for m in smtp.received]


def addressed_to(message, address: str) -> bool:
    return address in [email for _, email in getaddresses([message["To"]])]


def sent_to(smtp, address: str) -> list[tuple[str, object]]:
    return [(kind, m) for kind, m in sent(smtp) if addressed_to(m, address)]


def mails(smtp, *, to: str | None = None, kind: str | None = None) -> list:
    return [m for k, m in sent(smtp) if (to is None or addressed_to(m, to)) and (kind is None or k == kind)]


def undelivered() -> list[str]:
    """The messages the worker could not deliver, with the server's reply."""
    return [
        f"{m.kind} to {', '.join(m.recipients)}: {m.last_error}"
        for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        if m.status != "sent"
    ]


def pdf_name(message) -> str | None:
    return next(
        (p.get_filename() for p in message.iter_attachments() if p.get_content_type() == "application/pdf"), None
    )


def of_version(messages: list, version: int) -> list:
    """The messages whose PDF is of this decision version."""
    return [m for m in messages if pdf_name(m) and f"-v{version}-" in pdf_name(m)]


def request_token(message) -> str | None:
    found = re.search(r"/r/([A-Za-z0-9_\-]+)", body(message))
    return found.group(1) if found else None


def copies(app, message) -> dict[str, str]:
    """What its reader reads of one mail: its text, its HTML, its PDF, and the page its link opens."""
    read = {"text": body(message), "html": visible(html_of(message))}
    if pdf_name(message):
        read["pdf"] = pdf_text(message)
    token = request_token(message)
    if token:
        page = app.test_client().get(f"/r/{token}")
        assert page.status_code == 200, page.status_code
        read["page"] = visible(page.get_data(as_text=True))
    return read


def assert_absent(read: dict[str, str], markers, who: str) -> None:
    for where, text in read.items():
        for marker in markers:
            assert not holds(text, marker), f"{who}'s {where} shows {marker!r}:\n{text}"


def assert_present(read: dict[str, str], markers, who: str) -> None:
    for where, text in read.items():
        for marker in markers:
            assert holds(text, marker), f"{who}'s {where} lacks {marker!r}:\n{text}"


# ---------------------------------------------------------------- acting as the people involved


def party(who) -> str:
    return "vendor" if who == "vendor" else f"partner:{who.id}"


def override(manager, deal, *, leader, fulfilment, reason, shared=False, confirm=False):
    form = {"leader": party(leader), "fulfilment": party(fulfilment), "reason": reason}
    if shared:
        form["reason_shared"] = "y"
    if confirm:
        form["confirm"] = "y"
    response = manager.submit(f"/admin/deals/{deal.id}/override", form)
    assert response.status_code == 302, visible(response.get_data(as_text=True))
    return response


def accept_by_link(app, token: str) -> None:
    partner = app.test_client()
    response = partner.submit(f"/r/{token}/accept", page=f"/r/{token}")
    assert response.status_code == 302, response.status_code


def decline_by_link(app, token: str, reason: str) -> None:
    partner = app.test_client()
    response = partner.submit(f"/r/{token}/decline", {"reason": reason}, page=f"/r/{token}")
    assert response.status_code == 302, visible(response.get_data(as_text=True))


def queued_token(deal, partner) -> str:
    """The link in the newest mail queued for a partner about a deal (before the worker sends it)."""
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.deal_id == deal.id, OutboxMessage.kind == "routed_partner")
        .order_by(OutboxMessage.id.desc())
    ).all()
    mine = next(m for m in message if m.recipients == [partner.contact_email])
    return re.search(r"/r/([A-Za-z0-9_\-]+)", mine.text_body).group(1)


def customer_page(app, deal) -> str:
    """The customer's link page, as the customer sees it."""
    token = tokens.token_for(tokens.current_link(deal))
    response = app.test_client().get(f"/p/{token}")
    assert response.status_code == 200, response.status_code
    return visible(response.get_data(as_text=True))


# ---------------------------------------------------------------- fixtures


# The customer's own words and details, each a marker found nowhere else.
REASON = "Quillreason: they rebuilt our tills overnight"
CUSTOMER = {
    "contact_name": "Zelda Quorra",
    "contact_title": "Xylotitle Buyer",
    "contact_email": "zelda.quorra@customer.example",
    "contact_phone": "+49 555 0199",
}
# What the rep had typed in before the customer corrected it: a customer contact detail too.
AS_THE_REP_HAD_IT = {
    "contact_name": "Yorick Vantablack",
    "contact_title": "Xylotitle Manager",
    "contact_email": "yorick@customer.example",
    "contact_phone": "+49 444 0188",
}
CONTACT_MARKERS = (
    "Zelda",
    "Quorra",
    "zelda.quorra",
    "+49 555 0199",
    "Yorick",
    "Vantablack",
    "yorick@",
    "+49 444 0188",
    "Xylotitle",
)
TYPED = "Quokka Integrators"


@pytest.fixture
def customer_deal(rep, make_deal):
    """A deal the customer came in with, answered in their own words: Thames Cloud strongest, two others listed."""

    def make(*, thames, borealis, consent, finder=None, **answer):
        origin = {"originator": "partner", "originator_partner": finder} if finder else {"originator": "customer"}
        deal = make_deal(
            rep, status="awaiting_customer", account_values={"vendor_strength": 0}, **origin, **AS_THE_REP_HAD_IT
        )
        answer_for(
            deal,
            rows=[(thames, 5), (borealis, 2), (TYPED, 4)],
            consent=consent,
            fulfilment_reason=REASON,
            **CUSTOMER,
            **answer,
        )
        return deal

    return make


# ---------------------------------------------------------------- consent


def test_without_consent_no_customer_statement_or_contact_reaches_the_partner(
    app, client, smtp, rep, customer_deal, thames, borealis
):
    deal = customer_deal(thames=thames, borealis=borealis, consent=False)
    route(client, deal)
    assert db.session.get(Deal, deal.id).decisions[-1].output["leader"] == {"kind": "partner", "partner_id": thames.id}
    deliver(app)

    [partner_mail] = mails(smtp, to=thames.contact_email, kind="routed_partner")
    partner = copies(app, partner_mail)
    assert set(partner) == {"text", "html", "pdf", "page"}
    assert_absent(
        partner,
        (REASON, "Quillreason", "Borealis", TYPED, "Quokka", "strategic", "transactional", "trusted", "as the customer")
        + CONTACT_MARKERS,
        "Thames Cloud",
    )
    for where, text in partner.items():
        assert "shared only with the customer's consent" in text.lower(), where

    # The vendor side reads all of it.
    [vendor_mail] = mails(smtp, to=rep.email, kind="routed_vendor")
    vendor = copies(app, vendor_mail)
    assert_present(
        vendor,
        ("Quillreason", "Borealis Systems", TYPED, "Zelda Quorra", "zelda.quorra@customer.example", "+49 555 0199"),
        "the vendor side",
    )
    assert_present(vendor, ("5 · strategic", "2 · transactional", "4 · trusted"), "the vendor side")


def test_with_consent_the_acting_partner_reads_the_customer_and_a_partner_with_only_credit_does_not(
    app, client, smtp, rep, customer_deal, thames, borealis, make_partner, manager
):
    nordlicht = make_partner(name="Nordlicht IT", contact_name="Jonas Berg", contact_email="jonas@nordlicht.example")
    deal = customer_deal(
        thames=thames,
        borealis=borealis,
        consent=True,
        finder=nordlicht,
        fulfilment="partner",
        chosen_row=0,
    )
    route(client, deal)
    assert db.session.get(Deal, deal.id).hold_reason == "needs_alignment"
    aligned = manager.submit(
        f"/admin/deals/{deal.id}/resolve",
        {"leader": party(thames), "fulfilment": party(thames), "reason": "Alignreason: agreed on a call."},
    )
    assert aligned.status_code == 302, visible(aligned.get_data(as_text=True))
    output = db.session.get(Deal, deal.id).decisions[-1].output
    assert output["leader"] == output["fulfilment"] == {"kind": "partner", "partner_id": thames.id}
    assert {"party": {"kind": "partner", "partner_id": nordlicht.id}, "role": "origination_credit"} in output[
        "supporting"
    ]
    deliver(app)

    # Thames Cloud leads and fulfils: it reads the customer's contact and what they said about it.
    told = sent_to(smtp, thames.contact_email)
    assert sorted(kind for kind, _ in told) == ["alignment_notice", "routed_partner"]
    for _, message in told:
        read = copies(app, message)
        assert_present(
            read,
            ("Zelda Quorra", "zelda.quorra@customer.example", "+49 555 0199", "Quillreason", "5 · strategic"),
            "Thames Cloud",
        )
        # …but nothing the customer said about other partners, and not the manager's unshared reason.
        assert_absent(read, ("Borealis", "transactional", TYPED, "trusted", "Alignreason", "Yorick"), "Thames Cloud")

    # Nordlicht found the deal and keeps only origination credit: neither contact nor statements, consent or not.
    told = sent_to(smtp, nordlicht.contact_email)
    assert sorted(kind for kind, _ in told) == ["alignment_notice", "routed_partner"]
    for _, message in told:
        read = copies(app, message)
        assert_absent(
            read,
            ("Quillreason", "Borealis", TYPED, "strategic", "transactional", "trusted", "Alignreason")
            + CONTACT_MARKERS,
            "Nordlicht IT",
        )
        assert "shared only with the customer's consent" in read["text"].lower()

    [vendor_mail] = of_version(mails(smtp, to=rep.email, kind="routed_vendor"), 2)
    vendor = copies(app, vendor_mail)
    assert_present(vendor, ("Alignreason", "Borealis Systems", "Zelda Quorra"), "the vendor side")


# ---------------------------------------------------------------- other partners, declines, the manager's reason


@pytest.fixture
def trio(make_partner):
    return (
        make_partner(name="Aurora Partners", contact_name="Ada Aurora", contact_email="ada@aurora.example"),
        make_partner(name="Birch Digital", contact_name="Ben Birch", contact_email="ben@birch.example"),
        make_partner(name="Cobalt Works", contact_name="Cleo Cobalt", contact_email="cleo@cobalt.example"),
    )


def test_a_partner_never_reads_other_partners_strengths_declines_lapses_or_an_unshared_reason(
    app, client, smtp, rep, make_deal, trio, manager
):
    aurora, birch, cobalt = trio
    deal = make_deal(rep, status="awaiting_customer", originator="customer", account_values={"vendor_strength": 0})
    answer_for(deal, rows=[(aurora, 5), (birch, 4), (cobalt, 3)], contact="partner", consent=True)

    route(client, deal)  # version 1: Aurora Partners, the strongest, leads
    deliver(app)
    [first] = mails(smtp, to=aurora.contact_email)
    read = copies(app, first)
    assert_present(read, ("5 · strategic",), "Aurora")  # its own, with consent
    assert_absent(read, ("Birch", "Cobalt", "trusted", "working"), "Aurora")
    decline_by_link(app, request_token(first), "Declinemark: no capacity this quarter")

    route(client, deal)  # version 2: Birch Digital leads
    deliver(app)
    [second] = mails(smtp, to=birch.contact_email)
    read = copies(app, second)
    assert_present(read, ("4 · trusted",), "Birch")
    assert_absent(read, ("Aurora", "Cobalt", "declined", "Declinemark", "strategic", "working"), "Birch")

    # Birch's time passes; the channel manager sends the deal back.
    request = db.session.scalars(select(PartnerRequest).where(PartnerRequest.partner_id == birch.id)).one()
    request.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    recycled = manager.submit(f"/admin/deals/{deal.id}/recycle/{request.id}", page=f"/deals/{deal.id}")
    assert recycled.status_code == 302

    route(client, deal)  # version 3: Cobalt Works leads
    deliver(app)
    [third] = mails(smtp, to=cobalt.contact_email)
    read = copies(app, third)
    assert_present(read, ("3 · working",), "Cobalt")
    lapse_words = ("let its time", "lapsed", "did not answer", "in time")
    assert_absent(read, ("Aurora", "Birch", "declined", "Declinemark", "strategic", "trusted") + lapse_words, "Cobalt")

    # The vendor side reads why, in full.
    page = visible(client.get(f"/deals/{deal.id}").get_data(as_text=True))
    assert "Aurora Partners declined this deal" in page and "Birch Digital let its time" in page

    # An unshared reason — here about a referral fee — reaches no partner.
    override(
        manager, deal, leader=cobalt, fulfilment=cobalt, reason="Referralmark: Cobalt Works pays us a referral fee."
    )
    deliver(app)
    [fourth] = of_version(mails(smtp, to=cobalt.contact_email), 4)
    assert_absent(copies(app, fourth), ("Referralmark", "referral fee"), "Cobalt")
    vendor = copies(app, of_version(mails(smtp, to=rep.email, kind="routed_vendor"), 4)[0])
    assert_present(vendor, ("Referralmark",), "the vendor side")
    for kind, message in sent(smtp):
        if not addressed_to(message, rep.email) and not addressed_to(message, "boss@example.com"):
            assert "referral" not in body(message).lower() + html_of(message).lower(), (kind, message["To"])

    # A reason the manager shares reaches the partner, in its mail, its PDF and its page.
    override(
        manager,
        deal,
        leader=cobalt,
        fulfilment=cobalt,
        reason="Sharedmark: Cobalt has the certified team.",
        shared=True,
    )
    deliver(app)
    [fifth] = of_version(mails(smtp, to=cobalt.contact_email), 5)
    read = copies(app, fifth)
    assert set(read) == {"text", "html", "pdf", "page"}
    assert_present(read, ("Sharedmark: Cobalt has the certified team.",), "Cobalt")


def test_the_vendor_copy_says_a_reason_was_kept_from_the_partners_and_a_partner_pdf_says_whose_copy_it_is(
    app, client, smtp, rep, ready, thames, manager
):
    deal = ready(originator="customer", vendor_strength=4)
    route(client, deal)
    override(manager, deal, leader=thames, fulfilment=thames, reason="Keptmark: they asked us.")
    deliver(app)
    [vendor] = of_version(mails(smtp, to=rep.email, kind="routed_vendor"), 2)
    for where, text in {"HTML": visible(html_of(vendor)), "PDF": pdf_text(vendor)}.items():
        assert holds(text, "The channel manager's reason (not shared with partners): Keptmark"), where
    [partner] = mails(smtp, to=thames.contact_email, kind="routed_partner")
    assert holds(pdf_text(partner), "partner copy")
    assert not holds(pdf_text(vendor), "partner copy")


def test_every_summary_reaches_the_vendor_side_however_long_its_trace(app, client, smtp, rep, make_deal, trio, manager):
    """A partner declined and another let its time pass: the trace says so in full, and the mail still goes out."""
    aurora, birch, cobalt = trio
    deal = make_deal(rep, status="awaiting_customer", originator="customer", account_values={"vendor_strength": 0})
    answer_for(deal, rows=[(aurora, 5), (birch, 4), (cobalt, 3)], contact="partner", consent=True)
    route(client, deal)
    decline_by_link(app, queued_token(deal, aurora), "No capacity")
    route(client, deal)
    request = db.session.scalars(select(PartnerRequest).where(PartnerRequest.partner_id == birch.id)).one()
    request.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert manager.submit(f"/admin/deals/{deal.id}/recycle/{request.id}", page=f"/deals/{deal.id}").status_code == 302
    route(client, deal)
    deliver(app)
    assert not undelivered()
    assert [pdf_name(m) for m in mails(smtp, to=rep.email, kind="routed_vendor")] == [
        f"deal-{deal.id}-v{n}-vendor.pdf" for n in (1, 2, 3)
    ]


@pytest.mark.parametrize("wanted", ["a partner that declined", "a partner typed by name"])
def test_a_partner_never_reads_that_the_customer_wanted_another_partner(
    app, client, smtp, rep, make_deal, trio, manager, wanted
):
    """With consent, what the customer said about another partner — the one they chose, and why — is not this
    partner's to read: it names that partner, and tells that it declined."""
    aurora, birch, _ = trio
    deal = make_deal(rep, status="awaiting_customer", originator="customer", account_values={"vendor_strength": 0})
    if wanted == "a partner that declined":
        other, rows = "Aurora", [(aurora, 5), (birch, 4)]
    else:
        other, rows = "Quokka", [(TYPED, 5), (birch, 4)]
    answer_for(deal, rows=rows, fulfilment="partner", chosen_row=0, consent=True, fulfilment_reason=REASON)
    if wanted == "a partner that declined":
        route(client, deal)
        decline_by_link(app, queued_token(deal, aurora), "No capacity")
    route(client, deal)
    held = db.session.get(Deal, deal.id)
    assert held.status == "on_hold" and held.hold_reason == "fulfilment"

    override(manager, deal, leader=birch, fulfilment=birch, reason="Birch can deliver.")
    deliver(app)
    [message] = mails(smtp, to=birch.contact_email, kind="routed_partner")
    read = copies(app, message)
    assert_present(read, ("4 · trusted", deal.contact_email), "Birch")  # what is its own, with consent
    assert_absent(read, (other, "Quillreason"), "Birch")


# ---------------------------------------------------------------- trace sentences


def trace_sentences(where: str, text: str) -> list[str]:
    """The trace's sentences in one thing read: a text mail, an HTML mail or page, or a PDF."""
    if where == "text":
        tail = text.split("Why, rule by rule:", 1)
        return re.findall(r"^\d+\. (.+)$", tail[1], re.M) if len(tail) == 2 else []
    if where == "pdf":
        tail = text.split("Why, rule by rule", 1)
        return [" ".join(tail[1].split())] if len(tail) == 2 else []
    return [
        visible(item)
        for block in re.findall(r'<ol class="trace">(.*?)</ol>', text, re.S)
        for item in re.findall(r"<li>(.*?)</li>", block, re.S)
    ]


CODE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
PARTNER_ID = re.compile(r"\bpartner\s*#?\d+\b|\(\s*partner\s+\d+\s*\)|\bid\s*[:=]?\s*\d+", re.I)
FLAG_CODES = (
    "partner_credit",
    "no_customer_answer",
    "inactive_partner",
    "unknown_partner",
    "confirm_recommendation",
    "needs_alignment",
    "origination_credit",
    "relationship_credit",
)


def assert_plain(sentences: list[str], where: str) -> None:
    assert sentences, f"no trace in {where}"
    for sentence in sentences:
        for code in FLAG_CODES:
            assert code not in sentence, f"{where}: {code} in {sentence!r}"
        assert not CODE.search(sentence), f"{where}: a code in {sentence!r}"
        assert not PARTNER_ID.search(sentence), f"{where}: an id in {sentence!r}"


def test_no_trace_sentence_in_any_mail_pdf_or_page_holds_a_code(
    app, client, smtp, rep, ready, make_deal, trio, thames, borealis, manager
):
    aurora, birch, cobalt = trio
    deals = []
    # partner_credit: the customer buys direct from the vendor while Thames Cloud leads.
    direct = ready(partner=thames, strength=5, fulfilment="direct", originator="customer")
    route(client, direct)
    # no_customer_answer: routed before the customer answered.
    unanswered = make_deal(
        rep,
        status="awaiting_customer",
        originator="vendor",
        account_values={"vendor_strength": 4},
        partners=[(birch, 3)],
    )
    route(client, unanswered)
    # inactive_partner: the partner the customer chose declined.
    chosen = ready(partner=cobalt, strength=5, fulfilment="partner", originator="customer")
    route(client, chosen)
    decline_by_link(app, queued_token(chosen, cobalt), "No capacity")
    route(client, chosen)
    # unknown_partner: the customer chose a partner we do not know.
    unknown = make_deal(rep, status="awaiting_customer", originator="customer", account_values={"vendor_strength": 0})
    answer_for(unknown, rows=[(TYPED, 4)], fulfilment="partner", chosen_row=0, consent=True)
    route(client, unknown)
    # confirm_recommendation: the customer wants a partner we recommend; the rep confirms one.
    recommended = ready(fulfilment="any_partner", originator="vendor", vendor_strength=2)
    route(client, recommended, partner_id=str(borealis.id))
    deals = [direct, unanswered, chosen, unknown, recommended]
    flags = {code for deal in deals for code in db.session.get(Deal, deal.id).decisions[-1].output["flags"]}
    assert {"partner_credit", "no_customer_answer", "inactive_partner", "unknown_partner"} <= flags
    assert db.session.get(Deal, recommended.id).decisions[-1].kind == "recommendation"

    pages = {}
    for held in (chosen, unknown):
        pages[f"override page of #{held.id}"] = manager.get(f"/admin/deals/{held.id}/override").get_data(as_text=True)
    override(manager, chosen, leader="vendor", fulfilment="vendor", reason="We deliver it ourselves.")
    override(manager, unknown, leader="vendor", fulfilment=aurora, reason="Aurora covers the region.")
    deliver(app)

    assert not undelivered()
    received = sent(smtp)
    kinds = {kind for kind, _ in received}
    assert {"routed_vendor", "routed_partner", "fulfilment_alert"} <= kinds
    for kind, message in received:
        if kind in ("routed_vendor", "routed_partner", "fulfilment_alert", "alignment_notice", "alignment_alert"):
            who = f"{kind} to {message['To']}"
            assert_plain(trace_sentences("text", body(message)), who + " (text)")
            assert_plain(trace_sentences("html", html_of(message)), who + " (HTML)")
            if pdf_name(message):
                assert_plain(trace_sentences("pdf", pdf_text(message)), who + " (PDF)")
            token = request_token(message)
            if token:
                pages[f"{who}'s page"] = app.test_client().get(f"/r/{token}").get_data(as_text=True)
    for deal in deals:
        pages[f"deal page of #{deal.id}"] = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    for where, page in pages.items():
        assert_plain(trace_sentences("html", page), where)


# ---------------------------------------------------------------- the customer's one contact


INTERNAL = re.compile(
    r"\b(lead\w*|credit\w*|commission\w*|support\w*|rules?|routing|routed|route|engine|origination|fulfil\w*"
    r"|threshold|alignment|override|strength\w*)\b|\b[a-z]+_[a-z_]+\b",
    re.I,
)


def assert_one_voice(text: str, where: str) -> None:
    # The customer's personal link is a random token, not words: it may hold anything.
    found = INTERNAL.search(re.sub(r"https?://\S+", " ", text))
    assert not found, f"{where} says {found.group(0)!r}:\n{text}"


def _answer_by_the_form(app, link: str, form: dict) -> None:
    response = app.test_client().submit(link, {"action": "send", **form})
    assert response.status_code == 302, visible(response.get_data(as_text=True))


CUSTOMER_FORM = {
    "company_name": "Kunde GmbH",
    "contact_name": "Hanna Huber",
    "contact_email": "hanna@kunde.example",
}


def test_the_customer_hears_of_the_rep_throughout_when_the_vendor_leads(app, client, smtp, rep, make_deal, thames):
    deal = make_deal(rep, status="awaiting_customer", contact_name="Hanna Huber", contact_email="hanna@kunde.example")
    link = create_link(client, deal)
    assert client.submit(f"/deals/{deal.id}/link/email", page=f"/deals/{deal.id}").status_code == 302
    deliver(app)
    customer = app.test_client()

    [(kind, invitation)] = sent_to(smtp, "hanna@kunde.example")
    assert kind == "customer_link" and rep.name in body(invitation) and VENDOR in body(invitation)
    page = visible(customer.get(link).get_data(as_text=True))
    assert f"Your contact at the moment: {rep.name}, {VENDOR}." in page

    _answer_by_the_form(
        app, link, {**CUSTOMER_FORM, "works_with_partner": "no", "fulfilment": "direct", "contact_preference": "vendor"}
    )
    page = visible(customer.get(link).get_data(as_text=True))
    assert f"Your contact at the moment: {rep.name}, {VENDOR}." in page

    route(client, deal)
    assert db.session.get(Deal, deal.id).decisions[-1].output["leader"] == {"kind": "vendor"}
    deliver(app)
    told = sent_to(smtp, "hanna@kunde.example")
    assert [kind for kind, _ in told] == ["customer_link", "customer_confirmation"]
    confirmation = body(told[1][1])
    assert f"Your contact for this solution is {rep.name} at {VENDOR}" in confirmation and rep.email in confirmation
    page = visible(customer.get(link).get_data(as_text=True))
    assert rep.name in page and VENDOR in page and rep.email in page
    for kind, message in told:
        assert_one_voice(body(message), f"{kind} (text)")
        assert_one_voice(visible(html_of(message)), f"{kind} (HTML)")
        assert_one_voice(message["Subject"], f"{kind} (subject)")
    assert_one_voice(page, "the link page")


def test_the_customer_hears_of_the_leading_partners_person_only_once_it_accepts(
    app, client, smtp, rep, make_deal, thames
):
    deal = make_deal(
        rep,
        status="awaiting_customer",
        originator="customer",
        contact_name="Hanna Huber",
        contact_email="hanna@kunde.example",
    )
    link = create_link(client, deal)
    client.submit(f"/deals/{deal.id}/link/email", page=f"/deals/{deal.id}")
    customer = app.test_client()
    pages = [visible(customer.get(link).get_data(as_text=True))]
    assert f"Your contact at the moment: {rep.name}, {VENDOR}." in pages[-1]
    _answer_by_the_form(
        app,
        link,
        {
            **CUSTOMER_FORM,
            "works_with_partner": "yes",
            "rows-0-partner_id": str(thames.id),
            "rows-0-strength": "5",
            "rows-0-duration": "over_5",
            "fulfilment": "partner",
            "fulfilment_row": "0",
            "contact_preference": "partner",
            "consent": "y",
        },
    )
    route(client, deal)
    assert db.session.get(Deal, deal.id).decisions[-1].output["leader"] == {"kind": "partner", "partner_id": thames.id}
    deliver(app)
    # Routed, not yet accepted: no word to the customer, and the page still names the rep.
    assert [kind for kind, _ in sent_to(smtp, "hanna@kunde.example")] == ["customer_link"]
    pages.append(visible(customer.get(link).get_data(as_text=True)))
    assert rep.name in pages[-1] and "Oliver Smith" not in pages[-1] and "Thames" not in pages[-1]

    [offer] = mails(smtp, to=thames.contact_email, kind="routed_partner")
    accept_by_link(app, request_token(offer))
    deliver(app)
    told = sent_to(smtp, "hanna@kunde.example")
    assert [kind for kind, _ in told] == ["customer_link", "customer_confirmation"]
    confirmation = body(told[1][1])
    assert "Your contact for this solution is Oliver Smith at Thames Cloud" in confirmation
    assert "oliver@thames.example" in confirmation and rep.name not in confirmation
    pages.append(visible(customer.get(link).get_data(as_text=True)))
    assert "Oliver Smith" in pages[-1] and "Thames Cloud" in pages[-1] and "oliver@thames.example" in pages[-1]
    assert rep.name not in pages[-1]
    for kind, message in told:
        assert_one_voice(body(message), f"{kind} (text)")
        assert_one_voice(visible(html_of(message)), f"{kind} (HTML)")
        assert_one_voice(message["Subject"], f"{kind} (subject)")
    for number, page in enumerate(pages):
        assert_one_voice(page, f"the link page, step {number + 1}")


# ---------------------------------------------------------------- one version, one story


def test_a_versions_pdfs_tell_what_its_mails_told_though_the_deal_changed_before_the_worker_ran(
    app, client, smtp, rep, make_deal, thames, borealis
):
    deal = make_deal(rep, status="awaiting_customer", originator="customer", account_values={"vendor_strength": 0})
    answer_for(
        deal,
        rows=[(thames, 5)],
        fulfilment="partner",
        chosen_row=0,
        consent=True,
        fulfilment_reason="Firstreason: they know our tills",
        contact_phone="+49 111 1111",
    )
    route(client, deal)  # version 1: Thames Cloud leads and fulfils
    decline_by_link(app, queued_token(deal, thames), "No capacity")
    # The customer changes their answer before any mail went out, and the deal is routed again.
    answer_for(
        deal,
        rows=[(thames, 3), (borealis, 4)],
        fulfilment="partner",
        chosen_row=1,
        consent=True,
        fulfilment_reason="Secondreason: Borealis is nearer",
        contact_phone="+49 222 2222",
    )
    route(client, deal)  # version 2: Borealis Systems
    assert db.session.get(Deal, deal.id).decisions[-1].version == 2
    deliver(app)

    first = of_version(mails(smtp, to=rep.email), 1) + of_version(mails(smtp, to=thames.contact_email), 1)
    assert len(first) == 2
    for message in first:  # the mail's text and HTML, its PDF, and the page its link opens
        read = copies(app, message)
        assert_present(read, ("Firstreason: they know our tills", "+49 111 1111", "5 · strategic"), message["To"])
        assert_absent(read, ("Secondreason", "+49 222 2222", "Borealis"), message["To"])
    second = of_version(mails(smtp, to=rep.email), 2) + of_version(mails(smtp, to=borealis.contact_email), 2)
    assert len(second) == 2
    for message in second:
        read = copies(app, message)
        assert_present(read, ("Secondreason: Borealis is nearer", "+49 222 2222", "4 · trusted"), message["To"])
        assert_absent(read, ("Firstreason", "+49 111 1111"), message["To"])
