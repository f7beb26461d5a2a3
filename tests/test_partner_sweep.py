"""The partner sweep: under `make run` it runs inside the app process, never under tests."""

from sqlalchemy import select

from intake import create_app
from intake.extensions import db
from intake.models import OutboxMessage, PartnerRequest

from .test_mail_worker import wait_until
from .test_routing_flow import route


def test_in_development_the_partner_sweep_runs_in_the_app_process(app, client, ready, make_partner, database_url):
    # A deadline a day away is within the two days before it when partners are reminded.
    app.config.update(PARTNER_RESPONSE_DAYS=1, PARTNER_REMIND_HOURS=48)
    deal = ready(partner=make_partner(name="Thames Cloud"), strength=5, fulfilment="partner", originator="customer")
    route(client, deal)
    assert "intake.partner_sweep" not in app.extensions  # tests start none
    assert db.session.scalar(select(PartnerRequest.reminded_at)) is None
    development = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "PARTNER_SWEEP": True,
            "PARTNER_SWEEP_SECONDS": 0.05,
            "PARTNER_REMIND_HOURS": 48,
            "MAIL_WORKER": False,
        }
    )
    assert "intake.partner_sweep" not in development.extensions
    try:
        development.test_client().get("/login")  # the first request starts it

        def reminded() -> bool:
            db.session.expire_all()
            return db.session.scalar(select(PartnerRequest.reminded_at)) is not None

        wait_until(reminded, "the embedded sweep's reminder")
    finally:
        if "intake.partner_sweep" in development.extensions:
            thread, stop = development.extensions["intake.partner_sweep"]
            stop.set()
            thread.join(30)
        with development.app_context():
            db.engine.dispose()
    assert not thread.is_alive()
    kinds = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.kind == "partner_reminder")).all()
    assert kinds == ["partner_reminder"]  # reminded once, however often it swept
