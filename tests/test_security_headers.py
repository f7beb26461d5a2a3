"""Every response carries the security headers, from one place (`intake.web.security`)."""

import pytest

from intake import create_app
from intake.web.security import CONTENT_SECURITY_POLICY

from .conftest import _settings
from .test_customer_link import create_link

ON_EVERY_RESPONSE = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _check(response, *, stored: bool = False) -> None:
    for name, value in ON_EVERY_RESPONSE.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "unsafe" not in policy
    if stored:
        assert "no-store" not in response.headers.get("Cache-Control", "")
    else:
        assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # only in production


def test_the_sign_in_page_and_its_errors_carry_them(client):
    _check(client.get("/login"))
    _check(client.get("/no-such-page"))
    _check(client.post("/login", data={}))  # a refused form (no CSRF token)


def test_signed_in_pages_are_never_stored(client, rep, make_deal):
    deal = make_deal(rep)
    for path in ("/deals", f"/deals/{deal.id}", f"/deals/{deal.id}/account", "/account/password"):
        _check(client.get(path))


def test_the_customers_and_the_partners_pages_are_never_stored(client, rep, make_deal):
    deal = make_deal(rep, status="awaiting_customer")
    link = create_link(client, deal)
    customer = client.application.test_client()
    _check(customer.get(link))
    _check(customer.get("/p/not-a-link"))
    _check(customer.get("/r/not-a-request"))


def test_static_files_keep_their_caching(client):
    response = client.get("/static/intake.css")
    assert response.status_code == 200
    _check(response, stored=True)
    response.close()


def test_the_policy_allows_nothing_inline():
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "style-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("mode", ["production", "development"])
def test_browsers_are_told_to_use_https_in_production_only(database_url, tmp_path, mode):
    app = create_app({**_settings(database_url, tmp_path), "INTAKE_ENV": mode})
    response = app.test_client().get("/login")
    hsts = response.headers.get("Strict-Transport-Security")
    if mode == "production":
        assert hsts == "max-age=31536000; includeSubDomains"
    else:
        assert hsts is None
