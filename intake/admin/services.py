"""The channel manager's use cases: users and partners. Services flush; the caller commits."""

from sqlalchemy import func, select

from .. import audit, partner_users
from ..auth import normalise_email
from ..extensions import db
from ..models import Partner, User
from ..routing.names import company_key


class Refused(Exception):
    """The change would break a rule; the message says which, and the field it belongs to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def create_user(*, email: str, name: str, role: str, password: str, actor: User | None) -> User:
    """Add a user who can sign in with this password."""
    email = normalise_email(email)
    if db.session.scalar(select(func.count()).where(User.email == email)):
        raise Refused("email", "A user with this email already exists.")
    user = User(email=email, name=name.strip(), role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user", user.id, "created", {"email": [None, email], "role": [None, role]})
    return user


def update_user(user: User, *, name: str, role: str, is_active: bool, actor: User) -> None:
    """Change a user's name, role or whether they may sign in; deactivation ends their sessions."""
    if user.id == actor.id and (role != "admin" or not is_active):
        raise Refused("role" if role != "admin" else "is_active", "You cannot demote or deactivate yourself.")
    changes = audit.apply_changes(user, {"name": name.strip(), "role": role, "is_active": is_active})
    if "is_active" in changes and not is_active or "role" in changes:
        user.end_sessions()
    if changes:
        audit.record(actor, "user", user.id, "updated", changes)


def change_password(user: User, password: str, *, actor: User) -> None:
    """Set a new password; every existing session of the user ends."""
    user.set_password(password)
    audit.record(actor, "user", user.id, "password changed")


PARTNER_FIELDS = ("name", "contact_name", "contact_email", "countries", "verticals", "tier")


def save_partner(partner: Partner | None, values: dict, *, actor: User) -> Partner:
    """Create a partner, or update one; partners are never deleted, only deactivated."""
    values = {k: values[k] for k in PARTNER_FIELDS}
    values["name"] = values["name"].strip()
    values["contact_name"] = (values["contact_name"] or "").strip()
    values["contact_email"] = (values["contact_email"] or "").strip().lower()
    values["verticals"] = list(values["verticals"] or [])
    # Two partners whose names reduce to one key would be one partner to a customer typing the name.
    key = company_key(values["name"])
    clash = db.session.scalar(
        select(Partner)
        .where(
            db.or_(func.lower(Partner.name) == values["name"].lower(), Partner.name_key == key),
            Partner.id != (partner.id if partner else -1),
        )
        .limit(1)
    )
    if clash is not None:
        raise Refused("name", f"“{clash.name}” is already a partner with this name.")
    if partner is None:
        partner = Partner(name_key=key, **values)
        db.session.add(partner)
        db.session.flush()
        audit.record(actor, "partner", partner.id, "created", {k: [None, v] for k, v in values.items()})
        partner_users.invite_contact(partner, actor=actor)
    else:
        changes = audit.apply_changes(partner, values)
        partner.name_key = key
        if changes:
            audit.record(actor, "partner", partner.id, "updated", changes)
    return partner


def set_partner_active(partner: Partner, is_active: bool, *, actor: User) -> None:
    """Activate or deactivate a partner; deals that refer to it keep it."""
    changes = audit.apply_changes(partner, {"is_active": is_active})
    if changes:
        audit.record(actor, "partner", partner.id, "activated" if is_active else "deactivated", changes)
