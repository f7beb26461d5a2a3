"""A web process never loads the PDF renderer: only the outbox worker renders, so app servers stay small."""

import json
import subprocess
import sys
import textwrap

# Run in a fresh interpreter, so what the test process itself imported does not count.
SCRIPT = textwrap.dedent(
    """
    import json, re, sys
    from flask_migrate import upgrade
    from intake import create_app
    from intake.models import Deal, User
    from intake.extensions import db

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": "test-secret",
                      "MAIL_FILE_DIR": sys.argv[2], "MAIL_WORKER": False})
    with app.app_context():
        upgrade()
        from intake import demo_data
        demo_data.load()
        db.session.commit()
        deals = db.select(Deal.id, User.email).join(User, User.id == Deal.rep_id).limit(1)
        ready, router = db.session.execute(deals.where(Deal.status == "ready_to_route")).one()
        awaiting, _ = db.session.execute(deals.where(Deal.status == "awaiting_customer", User.email == router)).one()
    token = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
    seen = {}

    def visit(client, path, data=None):
        if data is None:
            seen[path] = client.get(path).status_code
        else:
            data["csrf_token"] = token.search(client.get(path).get_data(as_text=True)).group(1)
            seen["POST " + path] = client.post(path, data=data).status_code

    for email in (router, "manager@example.com"):
        with app.test_client() as client:
            visit(client, "/login", {"email": email, "password": "intake-demo"})
            for path in ("/dashboard", "/deals", f"/deals/{ready}", f"/deals/{awaiting}/need", "/admin/mail",
                         "/admin/ledger", "/api/v1/reference"):
                visit(client, path)
            if email == router:
                seen["route"] = client.post(f"/deals/{ready}/route", data={
                    "csrf_token": token.search(client.get(f"/deals/{ready}").get_data(as_text=True)).group(1)
                }).status_code
    print(json.dumps({"weasyprint": sorted(m for m in sys.modules if m.split(".")[0] == "weasyprint"), "seen": seen}))
    """
)


def test_serving_pages_and_routing_a_deal_never_imports_weasyprint(tmp_path):
    database = "sqlite:///" + str(tmp_path / "intake.sqlite")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, database, str(tmp_path / "mail")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    seen = report["seen"]
    # The requests really were served: signed in, pages shown, the deal routed (its mail queued).
    assert seen["POST /login"] == 302
    assert all(status == 200 for path, status in seen.items() if not path.startswith("POST") and path != "route"), seen
    assert seen["route"] == 302
    assert report["weasyprint"] == []
