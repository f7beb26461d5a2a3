"""The dashboard's filters and the deal list behind each of its numbers, and the pipeline chart.

Every number the dashboard shows links to the deal list filtered the same way, and that list holds exactly
the deals counted: by status, by how long they wait for the customer, by partner and by period. The pager and
the CSV export keep the filters; nonsense in a filter is no filter at all; a rep's slice is always their own.
Every deal is qualified, answered, routed, accepted, closed or withdrawn through the services a user's action
goes through.
"""

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select

from intake import quarters
from intake.deals import dashboard, decisions, partners, queries
from intake.extensions import db
from intake.models import Deal
from intake.models.types import utcnow
from intake.vocabulary import DEAL_STATUS

from .conftest import sign_in
from .deal_steps import close, request_to, route

SVG = {"svg": "http://www.w3.org/2000/svg"}
STAGES = [stage for stage, _ in dashboard.PIPELINE]


def listed(browser, url: str) -> set[int]:
    """The deals a list page shows, by id (one link to each deal's page)."""
    response = browser.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return {int(deal_id) for deal_id in re.findall(r'href="/deals/(\d+)"', response.get_data(as_text=True))}


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))


def links(page: str) -> dict[str, int]:
    """Every number on the dashboard that links to the deal list: {its address: the number}."""
    return {unescape(href): int(n) for href, n in re.findall(r'<a href="(/deals\?[^"]*)">(\d+)</a>', page)}


def the_svg_after(page: str, heading_id: str) -> ET.Element:
    start = page.index("<svg", page.index(f'id="{heading_id}"'))
    return ET.fromstring(page[start : page.index("</svg>", start) + len("</svg>")])


@pytest.fixture
def pipeline(rep, boss, make_user, make_deal, make_account, ready, thames):
    """Deals started this quarter, in every state, counted by hand (Thames found or holds credit on those marked T):

    not routed yet — a draft, one awaiting the customer, one ready to route; a conflict held (other rep's): the
        deal Thames found (T) still awaiting the customer and ours on hold;
    with the leader — routed (T), accepted (T), and the deal kept in a resolved conflict, routed again;
    won (T), lost (T), and withdrawn: the other rep's deal Thames found (T), which gave way in that conflict.
    """
    other_rep = make_user("rep", name="Olga Other")
    deals = {
        "draft": make_deal(rep),
        "waiting": make_deal(rep, status="awaiting_customer"),
        "ready": ready(),
    }
    held_account = make_account(owner=other_rep, name="Held GmbH", domain="held.example")
    deals["found_by_thames"] = make_deal(
        other_rep, account=held_account, status="awaiting_customer", originator="partner", originator_partner=thames
    )
    deals["held"] = route(ready(account=held_account, owner=other_rep), other_rep)
    for name in ("routed", "accepted", "won", "lost"):
        deals[name] = route(ready(partner=thames, strength=5, originator="customer"), rep)
    partners.accept(request_to(deals["accepted"]))
    db.session.commit()
    close(deals["won"], rep, "won", 40000)
    close(deals["lost"], rep, "lost", 0)
    kept_account = make_account(owner=rep, name="Kept GmbH", domain="kept.example")
    deals["withdrawn"] = make_deal(
        other_rep, account=kept_account, status="awaiting_customer", originator="partner", originator_partner=thames
    )
    kept = route(ready(account=kept_account), rep)
    assert (kept.status, kept.hold_reason) == ("on_hold", "conflict")
    decisions.resolve_conflict(
        kept,
        keep=kept,
        reason="Our meeting came first.",
        reason_shared=False,
        actor=boss,
        based_on=kept.decisions[-1].version,
    )
    db.session.commit()
    deals["kept"] = kept
    statuses = {name: db.session.get(Deal, deal.id).status for name, deal in deals.items()}
    assert statuses == {
        "draft": "draft",
        "waiting": "awaiting_customer",
        "ready": "ready_to_route",
        "found_by_thames": "awaiting_customer",
        "held": "on_hold",
        "routed": "routed",
        "accepted": "accepted",
        "won": "won",
        "lost": "lost",
        "withdrawn": "withdrawn",
        "kept": "routed",
    }
    return deals


# ---------------------------------------------------------------- each number links to exactly its deals


def test_each_status_count_links_to_the_list_of_exactly_those_deals(app, pipeline, boss):
    manager = sign_in(app, boss)
    page = manager.get("/dashboard").get_data(as_text=True)
    by_status: dict[str, set[int]] = {}
    for deal in pipeline.values():
        by_status.setdefault(db.session.get(Deal, deal.id).status, set()).add(deal.id)
    status_links = {href: n for href, n in links(page).items() if re.fullmatch(r"/deals\?status=\w+", href)}
    assert status_links == {f"/deals?status={status}": len(ids) for status, ids in by_status.items()}
    for status, ids in by_status.items():
        assert listed(manager, f"/deals?status={status}") == ids, status
    assert set(by_status) == set(DEAL_STATUS.codes), "the pipeline has a deal in every status"


def test_the_waiting_by_age_counts_link_to_the_deals_waiting_that_long(app, client, rep, make_user, make_deal, boss):
    other_rep = make_user("rep")
    mine = {make_deal(rep, status="awaiting_customer").id, make_deal(rep, status="awaiting_customer").id}
    theirs = make_deal(other_rep, status="awaiting_customer").id
    make_deal(rep)  # a draft waits for nobody

    manager = sign_in(app, boss)
    page = manager.get("/dashboard").get_data(as_text=True)
    assert links(page)["/deals?status=awaiting_customer&waiting=0-3"] == 3
    # The older ages have no deal: no link.
    assert "waiting=4-7" not in page and "waiting=8-14" not in page and "waiting=15-" not in page
    shown = manager.get("/deals?status=awaiting_customer&waiting=0-3").get_data(as_text=True)
    assert {int(i) for i in re.findall(r'href="/deals/(\d+)"', shown)} == mine | {theirs}
    assert "Filtered by waiting for the customer: 0 to 3 days." in shown
    assert listed(manager, "/deals?status=awaiting_customer&waiting=4-7") == set()

    # The rep's own dashboard counts and lists only their own.
    page = client.get("/dashboard").get_data(as_text=True)
    assert links(page)["/deals?status=awaiting_customer&waiting=0-3"] == 2
    assert listed(client, "/deals?status=awaiting_customer&waiting=0-3") == mine


def test_the_waiting_filter_lists_the_deals_each_age_counts_as_the_days_pass(rep, make_deal, ready):
    waiting = [make_deal(rep, status="awaiting_customer") for _ in range(2)]
    ready()  # answered by the customer: it waits no more
    since = max(deal.status_changed_at for deal in waiting)
    ids = {deal.id for deal in waiting}

    def by_age(now) -> list[set[int]]:
        """For each age on the dashboard, the deals the list filtered by it holds at `now`."""
        found = []
        for _, low, high in queries.WAITING:
            query = queries.Scope(waiting=(low, high)).apply(select(Deal.id), now=now)
            found.append(set(db.session.scalars(query)))
        return found

    # (moment, how the dashboard counts by age then), hand-counted from the days since both were sent.
    for now, counts in (
        (since, [2, 0, 0, 0]),
        (since + timedelta(days=3, hours=23, minutes=59), [2, 0, 0, 0]),
        (since + timedelta(days=4, minutes=1), [0, 2, 0, 0]),
        (since + timedelta(days=14, hours=23), [0, 0, 2, 0]),
        (since + timedelta(days=15, minutes=1), [0, 0, 0, 2]),
        (since + timedelta(days=400), [0, 0, 0, 2]),
    ):
        built = dashboard.build(dashboard.Scope(), now=now)
        assert [count for *_, count in built.waiting_by_age] == counts, now - since
        assert by_age(now) == [ids if count else set() for count in counts], now - since


def test_waiting_keys_name_the_dashboards_ages_and_nothing_else():
    assert [queries.waiting_key(low, high) for _, low, high in queries.WAITING] == ["0-3", "4-7", "8-14", "15-"]
    assert [queries.waiting_range(queries.waiting_key(low, high)) for _, low, high in queries.WAITING] == [
        (0, 3),
        (4, 7),
        (8, 14),
        (15, None),
    ]
    for nonsense in ("abc", "", None, "0-4", "15", "-3", "3-0", "0-3 ", "٠-٣"):
        assert queries.waiting_range(nonsense) is None, nonsense


# ---------------------------------------------------------------- the partner filter


@pytest.fixture
def partner_deals(rep, make_deal, ready, thames, borealis):
    """Thames found one deal (not routed yet) and leads another; Borealis leads one, and declined one, which went
    to the vendor; one deal has no partner at all."""
    found = make_deal(rep, status="awaiting_customer", originator="partner", originator_partner=thames)
    led = route(ready(partner=thames, strength=5, originator="customer"), rep)
    theirs = route(ready(partner=borealis, strength=5, originator="customer"), rep)
    declined = route(ready(partner=borealis, strength=5, originator="customer"), rep)
    partners.decline(request_to(declined), reason="No capacity this quarter.")
    db.session.commit()
    route(declined, rep)  # routed again, without Borealis: the vendor leads and fulfils
    alone = route(ready(vendor_strength=4), rep)
    return {"found": found, "led": led, "theirs": theirs, "declined": declined, "alone": alone}


def test_the_deal_list_filtered_by_a_partner_holds_the_deals_it_found_or_holds_credit_on(
    app, partner_deals, thames, borealis, boss
):
    manager = sign_in(app, boss)
    d = partner_deals
    assert listed(manager, f"/deals?partner={thames.id}") == {d["found"].id, d["led"].id}
    # Borealis's credit on the deal it declined ended: that deal is no longer Borealis's.
    assert listed(manager, f"/deals?partner={borealis.id}") == {d["theirs"].id}
    page = manager.get(f"/deals?partner={thames.id}").get_data(as_text=True)
    assert f"Filtered by partner: {thames.name}." in page
    # The filter goes with the status and the search.
    assert listed(manager, f"/deals?partner={thames.id}&status=routed") == {d["led"].id}
    name = d["led"].account.name
    assert listed(manager, f"/deals?partner={thames.id}&q={name}") == {d["led"].id}


def test_the_pipeline_of_one_partner_counts_the_deals_it_found_or_holds_credit_on(partner_deals, thames):
    d = partner_deals
    theirs = dashboard.pipeline_by_quarter(dashboard.Scope(partner_id=thames.id))
    assert theirs[-1] == (quarters.of(utcnow()), dict(zip(STAGES, [1, 1, 0, 0, 0], strict=True)))
    everyone = dashboard.pipeline_by_quarter(dashboard.Scope())
    assert everyone[-1][1] == dict(zip(STAGES, [1, 4, 0, 0, 0], strict=True))
    assert d["declined"].status == "routed"


def test_the_dashboard_filtered_by_a_partner_links_to_that_partners_deals(app, partner_deals, thames, boss):
    manager = sign_in(app, boss)
    response = manager.get(f"/dashboard?partner={thames.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'<option value="{thames.id}" selected>{thames.name}</option>' in page
    found = links(page)
    assert found[f"/deals?partner={thames.id}&status=awaiting_customer"] == 1
    assert found[f"/deals?partner={thames.id}&status=routed"] == 1
    assert found[f"/deals?partner={thames.id}&status=awaiting_customer&waiting=0-3"] == 1
    assert listed(manager, f"/deals?partner={thames.id}&status=awaiting_customer") == {partner_deals["found"].id}
    # The route table counts only the deal Thames leads and fulfils.
    table = re.sub(r">\s+<", "><", page[page.index('id="routes-heading"') :])
    assert '<th scope="row">The vendor</th><td>0</td><td>0</td>' in table
    assert '<th scope="row">A partner</th><td>0</td><td>1</td>' in table


# ---------------------------------------------------------------- the period filter


def _started_on(deal_ids: set[int]):
    """The day the service started these deals (read back, so a run across midnight still agrees)."""
    (day,) = {db.session.get(Deal, deal_id).created_at.date() for deal_id in deal_ids}
    return day


def test_the_period_filter_reads_the_days_a_deal_was_started_at_the_service(rep, make_deal):
    deals = {make_deal(rep).id, make_deal(rep, status="awaiting_customer").id}
    today = _started_on(deals)

    def started(start, end) -> set[int]:
        return set(db.session.scalars(queries.Scope(start=start, end=end).apply(select(Deal.id))))

    assert started(today, today) == deals
    assert started(today + timedelta(days=1), None) == set()
    assert started(None, today - timedelta(days=1)) == set()
    assert started(today - timedelta(days=30), today + timedelta(days=30)) == deals


def test_the_deal_list_and_the_dashboard_filtered_by_period_hold_the_deals_started_then(app, rep, make_deal, boss):
    deals = {make_deal(rep).id, make_deal(rep, status="awaiting_customer").id}
    manager = sign_in(app, boss)
    started_on = _started_on(deals)
    today, tomorrow = started_on.isoformat(), (started_on + timedelta(days=1)).isoformat()
    assert listed(manager, f"/deals?from={today}&to={today}") == deals
    assert listed(manager, f"/deals?from={tomorrow}") == set()
    # From after to: the two are read the other way round.
    assert listed(manager, f"/deals?from={tomorrow}&to={today}") == deals
    page = manager.get(f"/dashboard?from={today}&to={today}").get_data(as_text=True)
    assert links(page)[f"/deals?from={today}&to={today}&status=draft"] == 1
    assert f'name="from" value="{today}"' in page


# ---------------------------------------------------------------- the pager and the export keep the filters


def test_the_pager_and_the_csv_export_keep_the_filters(app, rep, make_user, make_deal, boss):
    british = [make_deal(rep, status="awaiting_customer", account_values={"country": "GB"}) for _ in range(26)]
    make_deal(rep, status="awaiting_customer")  # German: never in the list
    make_deal(make_user("rep"), status="awaiting_customer", account_values={"country": "GB"})  # another rep's
    make_deal(rep, account_values={"country": "GB"})  # a draft: not awaiting the customer
    manager = sign_in(app, boss)
    filters = f"rep={rep.id}&country=GB&status=awaiting_customer&waiting=0-3"
    first = manager.get(f"/deals?{filters}").get_data(as_text=True)
    assert len(re.findall(r'href="/deals/(\d+)"', first)) == 25 and "Page 1 of 2" in first
    older = unescape(re.search(r'<a href="([^"]+)">Older →</a>', first).group(1))
    assert query_of(older) == {**query_of("?" + filters), "page": "2"}
    seen = listed(manager, "/deals?page=1&" + filters) | listed(manager, older)
    assert seen == {deal.id for deal in british}
    # Filtering again by name keeps what the dashboard's link set (hidden beside the form's own fields).
    search = re.search(r'<form class="filters" method="get".*?</form>', first, re.S).group(0)
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', search))
    assert hidden == {"rep": str(rep.id), "country": "GB", "waiting": "0-3"}

    export = unescape(re.search(r'<a class="btn btn-quiet" href="([^"]+)">Export as CSV</a>', first).group(1))
    assert urlsplit(export).path == "/deals.csv" and query_of(export) == query_of("?" + filters)
    rows = csv_rows(manager.get(export))
    assert {int(row["deal"]) for row in rows} == {deal.id for deal in british}
    assert {row["country"] for row in rows} == {"GB"}


# ---------------------------------------------------------------- nonsense and a rep's own slice


@pytest.mark.parametrize(
    "nonsense",
    ["from=2026-13-45", "to=99999-01-01", "waiting=abc", "waiting=0-4", f"partner={2**70}", "country=ZZ", "rep=abc"],
)
def test_nonsense_in_a_filter_is_no_filter_at_all(app, rep, make_deal, boss, nonsense):
    deals = {make_deal(rep).id, make_deal(rep, status="awaiting_customer").id}
    manager = sign_in(app, boss)
    everything = manager.get("/dashboard").get_data(as_text=True)
    response = manager.get(f"/dashboard?{nonsense}")
    assert response.status_code == 200
    assert links(response.get_data(as_text=True)) == links(everything)
    page = manager.get(f"/deals?{nonsense}").get_data(as_text=True)
    assert {int(i) for i in re.findall(r'href="/deals/(\d+)"', page)} == deals
    assert "Filtered by" not in page
    # The list's own links (its exports) carry no trace of it either.
    exports = re.findall(r'href="(/deals\.\w+[^"]*)"', page)
    assert exports and not [href for href in exports if nonsense.split("=")[0] + "=" in unescape(href)]


def test_a_negative_partner_id_is_no_filter_at_all(app, rep, make_deal, boss):
    deals = {make_deal(rep).id}
    manager = sign_in(app, boss)
    assert listed(manager, "/deals?partner=-1") == deals
    assert manager.get("/dashboard?partner=-1").status_code == 200


def test_a_rep_sees_only_their_own_deals_whatever_rep_they_ask_for(app, client, rep, make_user, make_deal):
    other_rep = make_user("rep")
    mine = {make_deal(rep, status="awaiting_customer").id}
    theirs = {make_deal(other_rep, status="awaiting_customer").id, make_deal(other_rep, status="awaiting_customer").id}

    page = client.get(f"/dashboard?rep={other_rep.id}").get_data(as_text=True)
    assert links(page) == {"/deals?status=awaiting_customer": 1, "/deals?status=awaiting_customer&waiting=0-3": 1}
    assert 'name="rep"' not in page  # a rep has no rep to choose
    assert listed(client, f"/deals?rep={other_rep.id}") == mine
    listing = client.get(f"/deals?rep={other_rep.id}&status=awaiting_customer").get_data(as_text=True)
    assert "Filtered by" not in listing and f"rep={other_rep.id}" not in listing
    rows = csv_rows(client.get(f"/deals.csv?rep={other_rep.id}"))
    assert {int(row["deal"]) for row in rows} == mine and not theirs & {int(row["deal"]) for row in rows}


# ---------------------------------------------------------------- the pipeline by quarter


def test_the_pipeline_counts_the_deals_started_each_quarter_by_where_they_stand_now(pipeline, rep, thames):
    now = utcnow()
    this_quarter = quarters.of(now)
    everyone = dashboard.pipeline_by_quarter(dashboard.Scope(), now=now)
    assert [quarter for quarter, _ in everyone] == [quarters.of(quarters.start(now, back)) for back in (3, 2, 1, 0)]
    assert everyone[-1] == (this_quarter, dict(zip(STAGES, [5, 3, 1, 1, 1], strict=True)))
    assert all(counts == dict.fromkeys(STAGES, 0) for _, counts in everyone[:-1])

    # A quarter on, this quarter's deals are the one before the last; four quarters on, out of the chart.
    next_quarter = quarters.start(now) + timedelta(days=100)
    later = dashboard.pipeline_by_quarter(dashboard.Scope(), now=next_quarter)
    assert later[-2] == (this_quarter, everyone[-1][1]) and later[-1][1] == dict.fromkeys(STAGES, 0)
    a_year_on = dashboard.pipeline_by_quarter(dashboard.Scope(), now=quarters.start(now) + timedelta(days=400))
    assert this_quarter not in dict(a_year_on) and all(sum(c.values()) == 0 for _, c in a_year_on)

    # The rep's own: not the other rep's held conflict, nor the deal that gave way.
    mine = dashboard.pipeline_by_quarter(dashboard.Scope(rep_id=rep.id), now=now)
    assert mine[-1][1] == dict(zip(STAGES, [3, 3, 1, 1, 0], strict=True))
    # Thames's: those it found (one waits, one was withdrawn) and those it holds credit on.
    theirs = dashboard.pipeline_by_quarter(dashboard.Scope(partner_id=thames.id), now=now)
    assert theirs[-1][1] == dict(zip(STAGES, [1, 2, 1, 1, 1], strict=True))


def test_the_pipeline_chart_is_svg_with_a_series_per_stage_and_its_table_holds_the_same_figures(app, pipeline, boss):
    page = sign_in(app, boss).get("/dashboard").get_data(as_text=True)
    drawn = the_svg_after(page, "pipeline-heading")
    assert drawn.find("svg:title", SVG).text == "Deals started per quarter, by where they stand now"
    texts = [t.text for t in drawn.findall("svg:text", SVG)]
    assert texts[: len(STAGES)] == STAGES  # the legend names each stage
    swatches = [r.get("fill") for r in drawn.findall("svg:rect", SVG)[: len(STAGES)]]
    assert len(set(swatches)) == len(STAGES)
    shown = [quarters.of(quarters.start(utcnow(), back)) for back in (3, 2, 1, 0)]
    # Each quarter's label, then a bar and its figure per stage in the legend's colours.
    bars = drawn.findall("svg:rect", SVG)[len(STAGES) :]
    assert len(bars) == len(shown) * len(STAGES)
    assert [bar.get("fill") for bar in bars] == swatches * len(shown)
    rows = texts[len(STAGES) :]
    step = 1 + len(STAGES)
    assert [rows[i] for i in range(0, len(rows), step)] == shown
    assert rows[-step:] == [shown[-1], "5", "3", "1", "1", "1"]
    widths = [int(bar.get("width")) for bar in bars[-len(STAGES) :]]
    assert widths[0] > widths[1] > widths[2] == widths[3] == widths[4] > 0  # the longest is the most deals
    # The table says the same, quarter by quarter.
    head = "".join(f'<th scope="col">{stage}</th>' for stage in STAGES)
    assert f'<th scope="col">Started in</th>{head}' in page
    assert f'<th scope="row">{shown[-1]}</th><td>5</td><td>3</td><td>1</td><td>1</td><td>1</td>' in page
    for quarter in shown[:-1]:
        assert f'<th scope="row">{quarter}</th>' + "<td>0</td>" * len(STAGES) in page
