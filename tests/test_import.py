"""Importing partners, accounts and relationships from CSV, on the command line and the upload page:
every row checked before anything is written, all or nothing, records updated instead of duplicated,
a dry run that says what would change, and a clear report for every kind of bad file."""

import io
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake import demo_data, imports
from intake.deals import facts
from intake.extensions import db
from intake.models import Account, AuditEvent, Partner, Relationship

from .conftest import sign_in

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["import", *args], catch_exceptions=False)


def _file(tmp_path: Path, text: str, *, name: str = "import.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _import(kind: str, text: str, *, dry_run: bool = False, actor=None) -> imports.Report:
    report = imports.run(kind, text.encode(), actor=actor, dry_run=dry_run, source="test.csv")
    db.session.commit()
    return report


@pytest.fixture
def demo(app):
    demo_data.load()
    db.session.commit()


def test_importing_the_examples_twice_changes_nothing_the_second_time(app, demo):
    partners_before, accounts_before = _count(Partner), _count(Account)
    for kind in ("partners", "accounts", "relationships"):
        result = _cli(app, kind, str(EXAMPLES / f"{kind}.csv"))
        assert result.exit_code == 0, result.output
        assert "Imported:" in result.output
    # Polder Data is a demo partner and Bergmann a demo account: updated, not added again.
    assert _count(Partner) == partners_before + 3
    assert _count(Account) == accounts_before + 5
    polder = db.session.scalar(select(Partner).where(Partner.name == "Polder Data BV"))
    assert (polder.tier, polder.countries) == ("silver", ["BE", "LU", "NL"])
    bergmann = db.session.scalar(select(Account).where(Account.domain == "bergmann.example"))
    assert bergmann.vendor_strength == 3
    relationships = _count(Relationship)

    for kind, rows in (("partners", 4), ("accounts", 6), ("relationships", 5)):
        result = _cli(app, kind, str(EXAMPLES / f"{kind}.csv"))
        assert result.exit_code == 0, result.output
        assert f"{rows} {kind[:-1]} rows: 0 created, 0 updated, {rows} unchanged." in result.output
    assert (_count(Partner), _count(Account), _count(Relationship)) == (
        partners_before + 3,
        accounts_before + 5,
        relationships,
    )
    # One audit event per import that changed something, none for the three that did not.
    assert db.session.scalar(select(func.count()).where(AuditEvent.entity == "import")) == 3


def test_a_dry_run_prints_each_change_and_writes_nothing(app, demo):
    result = _cli(app, "accounts", str(EXAMPLES / "accounts.csv"), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "line 2: update account Bergmann Werkzeuge GmbH (bergmann.example): vendor_strength 2 → 3" in result.output
    assert "line 3: create account Oslo Havn KF (oslohavn.example)" in result.output
    assert "Dry run: 6 account rows: 5 to create, 1 to update, 0 unchanged. Nothing was imported." in result.output
    assert db.session.scalar(select(Account).where(Account.domain == "oslohavn.example")) is None
    db.session.expire_all()
    assert db.session.scalar(select(Account.vendor_strength).where(Account.domain == "bergmann.example")) == 2


def test_one_bad_row_imports_nothing_and_every_bad_row_is_reported_with_its_line(app, tmp_path):
    path = _file(
        tmp_path,
        "name,domain,country,vendor_strength\n"
        "Good One Ltd,goodone.example,GB,3\n"
        "Bad Country Ltd,badcountry.example,XX,2\n"
        "Good Two Ltd,goodtwo.example,DE,\n"
        "Too Strong Ltd,toostrong.example,FR,9\n"
        "Bad Domain Ltd,not a domain,FR,1\n",
    )
    result = app.test_cli_runner().invoke(args=["import", "accounts", str(path)])
    assert result.exit_code == 1
    assert "line 3: country: “XX” is not an ISO country code" in result.output
    assert "line 5: vendor_strength: “9” is not a strength" in result.output
    assert "line 6: domain: “not a domain” is not a web domain" in result.output
    assert "3 row(s) cannot be imported" in result.output and "Nothing was imported." in result.output
    assert _count(Account) == 0


@pytest.mark.parametrize(
    "content, says",
    [
        ("name,domain,colour\nA Ltd,a.example,red\n", "Unknown column: colour."),
        ("domain,country\na.example,GB\n", "Missing column: name."),
        ("name,name\nA Ltd,B Ltd\n", "The column name appears twice."),
        ("", "The file is empty"),
        ("name,domain\n", "The file has a header but no rows."),
        ('name,domain\n"A Ltd,a.example\n', "is not valid CSV"),
        ("name,domain\nA Ltd\x00,a.example\n", "NUL characters"),
    ],
)
def test_a_file_that_cannot_be_read_says_why_and_imports_nothing(app, tmp_path, content, says):
    result = app.test_cli_runner().invoke(args=["import", "accounts", str(_file(tmp_path, content))])
    assert result.exit_code == 1
    assert says in result.output and "Nothing was imported." in result.output
    assert _count(Account) == 0


def test_a_file_not_in_utf8_is_told_to_be_saved_as_utf8(app, tmp_path):
    path = _file(tmp_path, "name,country\nBäckerei Müller GmbH,DE\n", encoding="latin-1")
    result = app.test_cli_runner().invoke(args=["import", "accounts", str(path)])
    assert result.exit_code == 1
    assert "not UTF-8 text (line 2" in result.output and "CSV UTF-8" in result.output
    assert _count(Account) == 0


def test_a_spreadsheet_export_with_a_bom_semicolons_and_other_column_case_is_read(app):
    report = _import("accounts", "\ufeffName;Domain;Country\nBäckerei Müller GmbH;baeckerei.example;de\n")
    assert report.imported and report.count("create") == 1
    account = db.session.scalar(select(Account))
    assert (account.name, account.domain, account.country) == ("Bäckerei Müller GmbH", "baeckerei.example", "DE")


def test_the_same_record_twice_in_one_file_is_a_bad_row(app, make_partner):
    report = _import(
        "accounts",
        "name,domain\nKestrel Health,kestrel.example\nKestrel Health Ltd,www.kestrel.example\n",
    )
    assert not report.imported
    assert [(p.line, p.reason) for p in report.problems] == [(3, "the same account as line 2 (kestrel.example)")]
    report = _import("partners", "name\nFjord Networks AS\nFJORD NETWORKS\n")
    assert [(p.line, p.reason) for p in report.problems] == [(3, "the same partner as line 2 (FJORD NETWORKS)")]
    assert _count(Account) == 0 and _count(Partner) == 0


def test_records_are_matched_by_normalised_domain_or_name_and_updated_not_duplicated(app, make_account):
    by_domain = make_account(name="Kestrel Health Ltd", domain="kestrel.example", country="GB")
    by_name = make_account(name="Osprey Analytics", domain=None, country="GB")
    report = _import(
        "accounts",
        "name,domain,country\n"
        "Kestrel Health Ltd,https://www.eu.kestrel.example/about,IE\n"  # the same registrable domain
        "OSPREY ANALYTICS LIMITED,osprey.example,\n",  # the same name once normalised, no domain yet
    )
    assert report.imported and report.count("update") == 2 and report.count("create") == 0
    db.session.expire_all()
    assert _count(Account) == 2
    assert (by_domain.country, by_domain.domain) == ("IE", "eu.kestrel.example")
    # A blank cell leaves a field as it is; the name is updated as the file writes it.
    assert (by_name.domain, by_name.country, by_name.name) == ("osprey.example", "GB", "OSPREY ANALYTICS LIMITED")


def test_an_account_named_like_one_with_another_domain_is_another_company(app, make_account):
    make_account(name="Atlas Group", domain="atlas-uk.example")
    report = _import("accounts", "name,domain\nAtlas Group,atlas-de.example\n")
    assert report.count("create") == 1
    assert _count(Account) == 2
    report = _import("accounts", "name,country\nAtlas Group,DE\n")
    assert [p.reason for p in report.problems] == [
        "2 accounts are called Atlas Group: give the domain of the one meant"
    ]


def test_partner_rows_are_checked_and_an_existing_partner_updated(app, make_partner):
    thames = make_partner(name="Thames Cloud Ltd", countries=["GB"], tier="gold")
    report = _import(
        "partners",
        "name,countries,verticals,tier,active\n"
        "thames cloud,GB IE,Healthcare;Government,platinum,yes\n"
        "New Partner BV,NL,Knitting,diamond,perhaps\n",
    )
    assert [p.line for p in report.problems] == [3]
    reason = report.problems[0].reason
    assert "verticals: “Knitting” is not a vertical" in reason
    assert "tier: “diamond” is not a tier" in reason and "active: “perhaps” is not yes or no" in reason
    db.session.expire_all()
    assert thames.tier == "gold"  # nothing was imported
    report = _import("partners", "name,countries,tier\nthames cloud,GB IE,platinum\nNew Partner BV,NL,\n")
    assert report.imported
    db.session.expire_all()
    assert (thames.name, thames.countries, thames.tier) == ("thames cloud", ["GB", "IE"], "platinum")
    created = db.session.scalar(select(Partner).where(Partner.name == "New Partner BV"))
    assert (created.tier, created.is_active, created.countries) == ("registered", True, ["NL"])
    assert created.name_key  # found by the engine when a customer types its name


def test_imported_relationships_are_the_vendor_sides_and_the_engine_reads_them(app, rep, make_deal, make_partner):
    thames = make_partner(name="Thames Cloud Ltd")
    deal = make_deal(rep, account_values={"name": "Kestrel Health", "domain": "kestrel.example"})
    report = _import(
        "relationships",
        "account,partner,strength,since,notes\n"
        "kestrel.example,Thames Cloud,trusted,2020-01-31,Runs their service desk\n"
        "Nobody Ltd,Thames Cloud,2,,\n"
        "kestrel.example,Unknown Partner,2,,\n"
        "kestrel.example,Thames Cloud Ltd,7,2099-01-01,\n",
    )
    assert {p.line: p.reason for p in report.problems} == {
        3: "no account Nobody Ltd: import accounts first",
        4: "no partner is called Unknown Partner: import partners first",
        5: "strength: “7” is not a strength: 0 to 5, or none, aware, transactional, working, trusted, strategic; "
        "since: 2099-01-01 is in the future",
    }
    report = _import("relationships", "account,partner,strength\nKestrel Health,Thames Cloud Ltd,4\n")
    assert report.imported
    row = db.session.scalar(select(Relationship).where(Relationship.deal_id.is_(None)))
    assert (row.partner_id, row.strength, row.source, row.account_id) == (thames.id, 4, "rep", deal.account_id)
    stated = [r for r in facts.gather(deal).data["relationships"] if not r["on_this_deal"]]
    assert [(r["partner_id"], r["strength"], r["source"]) for r in stated] == [(thames.id, 4, "rep")]
    # The same statement again changes nothing; another strength updates that row.
    assert (
        _import("relationships", "account,partner,strength\nkestrel.example,Thames Cloud Ltd,4\n").count("unchanged")
        == 1
    )
    assert (
        _import("relationships", "account,partner,strength\nkestrel.example,Thames Cloud Ltd,5\n").count("update") == 1
    )
    assert db.session.scalar(select(func.count()).where(Relationship.deal_id.is_(None))) == 1


def test_two_imports_of_one_file_at_once_create_each_record_once(app, database_url):
    text = "name,domain\n" + "".join(f"Company {i} Ltd,company{i}.example\n" for i in range(300))
    results, errors = [], []

    def import_it():
        with app.app_context():
            try:
                results.append(_import("accounts", text))
            except Exception as exc:  # noqa: BLE001 — reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=import_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(r.count("create") for r in results) == [0, 300]
    assert _count(Account) == 300


# ---------------------------------------------------------------- the upload page


def _upload(browser, content: bytes, *, kind="accounts", action="check", name="accounts.csv"):
    page = "/admin/import"
    return browser.submit(
        page,
        {"kind": kind, "action": action, "file": (io.BytesIO(content), name)},
        page=page,
        content_type="multipart/form-data",
    )


def test_the_upload_page_checks_then_imports_a_file(app, manager):
    content = b"name,domain,country\nOsprey Analytics,osprey.example,GB\nKestrel Health,kestrel.example,IE\n"
    checked = _upload(manager, content)
    body = checked.get_data(as_text=True)
    assert checked.status_code == 200
    assert "2 account rows: 2 to create, 0 to update, 0 unchanged. Nothing was imported yet." in body
    assert "create account Osprey Analytics (osprey.example)" in body
    assert _count(Account) == 0

    imported = _upload(manager, content, action="import")
    assert imported.status_code == 302
    assert "Imported. 2 account rows: 2 created" in manager.get("/admin/import").get_data(as_text=True)
    assert _count(Account) == 2


def test_the_upload_page_reports_bad_rows_with_a_400_and_imports_nothing(app, manager):
    response = _upload(manager, b"name,country\nGood Ltd,GB\nBad Ltd,Atlantis\n", action="import")
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "1 row cannot be imported" in body and "<td>3</td><td>country: “Atlantis” is not an ISO country code" in body
    assert _count(Account) == 0
    response = _upload(manager, "name\nBäckerei\n".encode("cp1252"))
    assert response.status_code == 400 and "not UTF-8 text" in response.get_data(as_text=True)
    assert _upload(manager, b"", name="").status_code == 400  # no file chosen


def _multipart(token: str, content: bytes) -> bytes:
    """A form with a file, encoded here: the test client's own encoder spools a large body to a file it never
    closes when the server refuses it unread."""
    parts = [
        b'--x\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + token.encode(),
        b'--x\r\nContent-Disposition: form-data; name="kind"\r\n\r\naccounts',
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\n'
        + content,
    ]
    return b"\r\n".join(parts) + b"\r\n--x--\r\n"


def test_a_file_over_the_upload_limit_is_told_to_use_the_command_line(app, boss):
    app.config["IMPORT_UPLOAD_LIMIT"] = 1024 * 1024
    browser = sign_in(app, boss)
    token = browser.csrf_token("/admin/import")
    content = b"name\n" + b"A Ltd\n" * 200_000
    response = browser.post(
        "/admin/import", data=_multipart(token, content), content_type="multipart/form-data; boundary=x"
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "The import page takes files up to 1 MB" in body and "flask --app intake import accounts" in body
    assert _count(Account) == 0
    # Under the limit, the same page takes it.
    response = browser.post(
        "/admin/import",
        data=_multipart(token, b"name\n" + b"A Ltd\n" * 100_000),
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code == 400 and "the same account as line 2" in response.get_data(as_text=True)


def test_only_the_channel_manager_may_send_a_large_file(app, rep, client):
    app.config["IMPORT_UPLOAD_LIMIT"] = 4 * 1024 * 1024
    big = _multipart("", b"a" * (2 * 1024 * 1024))
    # A rep (signed in through `client`) keeps the usual request limit: refused before the page runs.
    response = client.post("/admin/import", data=big, content_type="multipart/form-data; boundary=x")
    assert response.status_code == 413
