"""One migration history for both engines: an empty database upgrades to head and matches the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from intake import create_app
from intake.extensions import db


def rows_of(query: str) -> list[tuple]:
    """What the query reads now, each row a tuple, on a connection of its own (outside any session)."""
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(db.text(query))]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_an_empty_database_upgrades_to_head_and_matches_the_models(make_empty_database, engine):
    url = make_empty_database(engine)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True, "render_as_batch": True})
            assert compare_metadata(context, db.metadata) == []
            if engine == "sqlite":
                # A rebuilt deals table keeps AUTOINCREMENT: a discarded draft's id is never given again.
                schema = connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'deals'").scalar()
                assert "AUTOINCREMENT" in schema
        downgrade(revision="base")
        upgrade()
        db.engine.dispose()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_each_partners_contact_becomes_its_first_partner_user_on_upgrade(make_empty_database, engine):
    """Partners kept before partner users existed: their contact email (once per address) signs in for them."""
    url = make_empty_database(engine)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(revision="0007")
        with db.engine.begin() as connection:
            for name, contact, email in [
                ("Thames Cloud", "Oliver Smith", "Oliver@Thames.example"),
                ("Thames Twin", "", "oliver@thames.example"),  # the same address: one partner keeps it
                ("No Contact", "", ""),
            ]:
                connection.execute(
                    db.text(
                        "INSERT INTO partners (name, name_key, contact_name, contact_email, countries, verticals,"
                        " tier, is_active, created_at) VALUES (:n, :k, :c, :e, '[]', '[]', 'gold', true, :t)"
                    ),
                    {"n": name, "k": name.lower(), "c": contact, "e": email, "t": "2026-11-01T00:00:00+00:00"},
                )
        upgrade()
        users = rows_of(
            "SELECT p.name, u.name, u.email, u.is_active FROM partner_users u JOIN partners p ON p.id = u.partner_id"
        )
        assert users == [("Thames Cloud", "Oliver Smith", "oliver@thames.example", True)]
        db.engine.dispose()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_decisions_made_before_credit_records_get_the_credit_they_earned_on_upgrade(make_empty_database, engine):
    """The demo's deals decided by today's services, their credit dropped (the schema before), upgraded again:
    the credit read back from each stored decision is the credit the services wrote."""
    from intake import demo_data

    url = make_empty_database(engine)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    query = (
        "SELECT deal_id, decision_id, party, partner_id, credit, originator, value, in_force, outcome, closed_on,"
        " final_value FROM credits ORDER BY deal_id, decision_id, party, partner_id, credit"
    )
    with app.app_context():
        upgrade()
        demo_data.load()
        db.session.commit()
        written = rows_of(query)
        db.session.remove()
        downgrade(revision="0009")
        upgrade()
        backfilled = rows_of(query)
        assert {row[8] for row in written} >= {None, "won", "lost"}  # the demo holds open, won and lost deals
        assert backfilled == written
        db.engine.dispose()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_deals_routed_before_they_kept_their_route_get_it_from_the_credit_in_force_on_upgrade(
    make_empty_database, engine
):
    """The demo's deals routed by today's services, their route dropped (the schema before), upgraded again: the
    route read back from each deal's credit in force is the route the credit module kept."""
    from intake import demo_data

    url = make_empty_database(engine)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    query = "SELECT id, routed_at, route_leader, route_fulfiller FROM deals ORDER BY id"
    with app.app_context():
        upgrade()
        demo_data.load()
        db.session.commit()
        kept = rows_of(query)
        db.session.remove()
        downgrade(revision="0016")
        upgrade()
        backfilled = rows_of(query)
        # The demo holds deals with no credit in force, and routes of each kind of leader and fulfiller.
        assert {(leader, fulfiller) for _, _, leader, fulfiller in kept} >= {
            (None, None),
            ("vendor", "partner"),
            ("partner", "partner"),
        }
        assert backfilled == kept
        db.engine.dispose()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_partners_kept_before_get_the_coverage_the_partner_model_keeps_on_upgrade(make_empty_database, engine):
    """The demo's partners, one made inactive by the channel manager's service, taken back to the coverage before
    pairs and upgraded again: their coverage rows are the ones the partner model keeps."""
    from intake import demo_data
    from intake.admin import services as admin
    from intake.models import Partner

    url = make_empty_database(engine)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    query = "SELECT partner_id, kind, value, tier_rank FROM partner_coverage"
    with app.app_context():
        upgrade()
        demo_data.load()
        leaving = db.session.scalars(db.select(Partner).order_by(Partner.id)).first()
        admin.set_partner_active(leaving, False, actor=None)
        db.session.commit()
        leaving_id = leaving.id
        kept = set(rows_of(query))
        db.session.remove()
        downgrade(revision="0017")
        before = set(rows_of(query))
        upgrade()
        rewritten = set(rows_of(query))
        assert {kind for _, kind, _, _ in kept} == {"any", "country", "vertical", "pair"}
        assert leaving_id not in {pid for pid, *_ in kept} and leaving_id in {pid for pid, *_ in before}
        assert "pair" not in {kind for _, kind, _, _ in before}
        assert rewritten == kept
        db.engine.dispose()
