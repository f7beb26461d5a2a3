"""Two tabs, a double click: concurrent submissions of one customer's answer record one answer."""

import re
import threading
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

from sqlalchemy import select

from intake.extensions import db
from intake.models import AuditEvent, CustomerAnswer, Deal, Relationship

from .test_customer_link import answers, create_link


def test_concurrent_duplicate_submits_record_one_answer(client, live_server, rep, make_deal, make_partner):
    partner = make_partner()
    deal = make_deal(rep, status="awaiting_customer", contact_email="c@kunde.example")
    path = create_link(client, deal)
    url = live_server + path

    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(url, timeout=10).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({**answers(partner), "csrf_token": token}).encode()

    threads_count = 8
    start = threading.Barrier(threads_count)
    statuses = []

    def submit():
        start.wait()
        request = urllib.request.Request(url, data=body, method="POST")
        opener_no_redirect = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
        try:
            statuses.append(opener_no_redirect.open(request, timeout=30).status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)

    threads = [threading.Thread(target=submit) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [302] * threads_count
    assert db.session.scalar(select(db.func.count()).select_from(CustomerAnswer)) == 1
    assert db.session.scalar(select(db.func.count()).where(Relationship.source == "customer")) == 1
    events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("customer%answer%"))).all()
    assert events == ["customer answered"]
    assert db.session.get(Deal, deal.id).status == "ready_to_route"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

    def http_error_302(self, req, fp, code, msg, headers):
        return fp
