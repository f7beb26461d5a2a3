"""Personal API tokens: made for a member of staff or a partner user, shown once, kept as a hash, recognised
from an `Authorization: Bearer` header while in force, and refused once revoked or their owner deactivated."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from intake import api_tokens
from intake.admin import services as admin
from intake.errors import FieldErrors
from intake.extensions import db
from intake.models import ApiToken, AuditEvent, PartnerUser
from intake.models.types import utcnow


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["tokens", *args])


def test_the_command_prints_a_token_once_and_keeps_only_its_hash(app, make_user):
    rep = make_user("rep", email="alice@example.com")
    result = _cli(app, "create", "Alice@Example.com", "--scope", "write", "--name", "Salesforce")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()  # only the token on stdout, for a script to capture
    assert api_tokens.SHAPE.match(token)
    assert "it is not shown again" in result.stderr
    row = db.session.scalar(select(ApiToken))
    assert (row.user_id, row.name, row.scope, row.prefix) == (rep.id, "Salesforce", "write", token[:11])
    assert token not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
    assert api_tokens.authenticate(f"Bearer {token}") == row
    listed = _cli(app, "list", "alice@example.com")
    assert row.prefix in listed.stdout and "last used" in listed.stdout and token not in listed.stdout
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "api_token")).action == "created"


def test_a_partner_user_gets_a_token_that_acts_as_them(app, make_partner):
    partner = make_partner(contact_email="oliver@thames.example")
    result = _cli(app, "create", "oliver@thames.example")
    assert result.exit_code == 0, result.output
    row = api_tokens.authenticate("Bearer " + result.stdout.strip())
    assert isinstance(row.owner, PartnerUser) and row.owner.partner_id == partner.id
    assert row.scope == "read" and not api_tokens.allows(row, writing=True) and api_tokens.allows(row, writing=False)


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Basic abc", "Bearer intake_short", "Bearer " + "intake_" + "A" * 43, "Token intake_x"],
)
def test_anything_but_a_token_of_ours_in_force_is_no_one(app, make_user, header):
    _, token = api_tokens.create(make_user("rep"), name="CRM", scope="read", actor=None)
    db.session.commit()
    assert api_tokens.authenticate(header) is None
    assert api_tokens.authenticate(f"bearer   {token}") is not None  # the scheme's case and spacing do not matter


def test_a_revoked_token_or_a_deactivated_owner_is_refused(app, make_user, make_partner, boss):
    rep = make_user("rep")
    row, token = api_tokens.create(rep, name="CRM", scope="write", actor=rep)
    db.session.commit()
    assert api_tokens.revoke(row, actor=rep) and not api_tokens.revoke(row, actor=rep)
    db.session.commit()
    assert api_tokens.authenticate(f"Bearer {token}") is None

    other = make_user("rep")
    _, second = api_tokens.create(other, name="CRM", scope="read", actor=other)
    admin.update_user(other, name=other.name, role="rep", is_active=False, actor=boss)
    db.session.commit()
    assert api_tokens.authenticate(f"Bearer {second}") is None

    partner = make_partner(contact_email="dana@harbor.example")
    contact = db.session.scalar(select(PartnerUser).where(PartnerUser.partner_id == partner.id))
    _, third = api_tokens.create(contact, name="Their CRM", scope="read", actor=boss)
    db.session.commit()
    assert api_tokens.authenticate(f"Bearer {third}") is not None
    admin.set_partner_active(partner, False, actor=boss)
    db.session.commit()
    assert api_tokens.authenticate(f"Bearer {third}") is None


def test_the_last_use_is_written_at_most_once_a_minute(app, make_user):
    row, token = api_tokens.create(make_user("rep"), name="CRM", scope="read", actor=None)
    now = utcnow()
    api_tokens.authenticate(f"Bearer {token}", now=now)
    api_tokens.authenticate(f"Bearer {token}", now=now + timedelta(seconds=30))
    assert row.last_used_at == now
    api_tokens.authenticate(f"Bearer {token}", now=now + timedelta(minutes=2))
    assert row.last_used_at == now + timedelta(minutes=2)


def test_a_token_needs_a_name_and_a_scope(app, make_user):
    rep = make_user("rep")
    with pytest.raises(FieldErrors) as refused:
        api_tokens.create(rep, name="  ", scope="admin", actor=rep)
    assert set(refused.value.fields) == {"name", "scope"}
    assert _cli(app, "create", "nobody@example.com").exit_code == 2
    assert _cli(app, "revoke", rep.email, "intake_xxxx").exit_code == 2
