"""Exports open cleanly in a spreadsheet: read back with the csv module, formulas neutralised, filtered as on screen."""

import csv
import io
from decimal import Decimal

import pytest

from intake import exports
from intake.deals import decisions, partner_requests, partners, services
from intake.extensions import db

from .conftest import sign_in


def _read(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # spreadsheets read it as UTF-8
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


@pytest.mark.parametrize("raw", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_would_read_as_a_formula_is_kept_as_text(raw):
    assert exports.cell(raw) == "'" + raw
    assert exports.cell("Acme " + raw) == "Acme " + raw
    assert exports.cell(None) == "" and exports.cell(Decimal("1.50")) == "1.50"
    assert exports.cell(-1) == "-1" and exports.cell(Decimal("-2.5")) == "-2.5"  # numbers stay numbers


def test_the_deals_export_is_the_list_as_filtered_with_each_partys_credit(
    app, client, rep, make_user, make_deal, make_account, ready, thames
):
    hostile = make_account(owner=rep, name='=HYPERLINK("http://evil.example") GmbH', domain="evil-name.example")
    draft = make_deal(rep, account=hostile, contact_name="@Casey")
    routed = ready(partner=thames, strength=5, contact="vendor", estimated_value=Decimal(42000))
    decisions.route_deal(routed, actor=rep)
    db.session.commit()
    other_rep = make_user("rep")
    theirs = make_deal(other_rep)

    rows = _read(client.get("/deals.csv"))
    assert {int(r["deal"]) for r in rows} == {draft.id, routed.id}  # a rep exports their own deals
    by_id = {int(r["deal"]): r for r in rows}
    assert by_id[draft.id]["account"] == '\'=HYPERLINK("http://evil.example") GmbH'
    credit = f"Northwind Technologies: lead, origination; {thames.name}: fulfilment"
    assert by_id[routed.id]["credit in force"] == credit
    assert by_id[routed.id]["estimated value"] == "42000.00" and by_id[routed.id]["status"] == "routed"

    only_routed = _read(client.get("/deals.csv?status=routed"))
    assert [int(r["deal"]) for r in only_routed] == [routed.id]
    searched = _read(client.get("/deals.csv?q=evil-name"))
    assert [int(r["deal"]) for r in searched] == [draft.id]
    # Nonsense filters are ignored, as on the list.
    assert len(_read(client.get("/deals.csv?status=nonsense"))) == 2

    manager = sign_in(app, make_user("admin"))
    assert theirs.id in {int(r["deal"]) for r in _read(manager.get("/deals.csv"))}


def test_the_ledger_and_scorecards_exports_hold_the_figures_on_screen(app, client, rep, ready, thames, manager):
    deal = ready(partner=thames, strength=5, contact="vendor", estimated_value=Decimal(30000))
    decisions.route_deal(deal, actor=rep)
    partners.accept(partner_requests.of_decision(deal.decisions[-1])[0])
    db.session.commit()
    services.close_deal(
        deal, outcome="won", closed_on=deal.close_date.today(), final_value=Decimal(31000), reason="", actor=rep
    )
    db.session.commit()

    [line] = _read(manager.get("/admin/ledger.csv"))
    assert line["partner"] == thames.name and line["we brought: deals"] == "1"
    assert line["we brought: won"] == "31000.00 EUR" and line["we brought: pipeline"] == ""
    assert line["brought us: deals"] == "0" and line["balance"] == "-1"
    assert _read(manager.get(f"/admin/ledger.csv?partner={thames.id + 1000}")) == []

    cards = {row["partner"]: row for row in _read(manager.get("/admin/scorecards.csv"))}
    assert cards[thames.name]["requests"] == "1" and cards[thames.name]["acceptance rate"] == "1.00"
    assert cards[thames.name]["fulfilled won"] == "1" and cards[thames.name]["win rate"] == "1.00"
    assert client.get("/admin/ledger.csv").status_code in (302, 403, 404)  # not for a rep


def _read_xlsx(response) -> list[dict]:
    from openpyxl import load_workbook

    assert response.status_code == 200 and response.mimetype == exports.XLSX_TYPE
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_the_xlsx_exports_keep_text_as_text_and_numbers_as_numbers(app, client, rep, make_account, make_deal):
    from openpyxl import load_workbook

    hostile = make_account(owner=rep, name='=HYPERLINK("http://evil.example") GmbH', domain="evil-xlsx.example")
    draft = make_deal(rep, account=hostile, contact_name="@Casey")
    response = client.get("/deals.xlsx")
    [row] = _read_xlsx(response)
    assert row["deal"] == draft.id  # a number cell
    assert row["account"] == '=HYPERLINK("http://evil.example") GmbH'  # shown as typed, not run
    # The cell is a text cell, never a formula.
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    account_column = [cell.value for cell in sheet[1]].index("account")
    assert sheet.cell(row=2, column=account_column + 1).data_type == "s"
    # The same filters as the CSV and the list.
    assert _read_xlsx(client.get("/deals.xlsx?status=won")) == []


def test_the_ledger_and_scorecards_export_as_xlsx_too(app, boss, thames):
    manager = sign_in(app, boss)
    assert _read_xlsx(manager.get("/admin/ledger.xlsx")) == []
    [card] = _read_xlsx(manager.get("/admin/scorecards.xlsx"))
    assert card["partner"] == thames.name and card["requests"] == 0
