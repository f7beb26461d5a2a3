"""One migration history for both engines: an empty database upgrades to head and matches the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from intake import create_app
from intake.extensions import db


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_an_empty_database_upgrades_to_head_and_matches_the_models(make_empty_database, engine):
    url = make_empty_database(engine)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True, "render_as_batch": True})
            assert compare_metadata(context, db.metadata) == []
        downgrade(revision="base")
        upgrade()
        db.engine.dispose()
