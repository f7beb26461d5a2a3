"""Domain errors: a rule a user's action would break, said in words the user can act on.

Services raise them; the web layer turns them into a field error beside the form field they
name, or into a clear 4xx page, in one place (`intake.web.errors`). The command line prints
them as one line.
"""

from __future__ import annotations


class DomainError(Exception):
    """An action refused by a rule; `fields` puts reasons beside form fields by name."""

    status = 400

    def __init__(self, message: str = "", *, field: str | None = None, fields: dict[str, str] | None = None):
        self.fields = dict(fields or {})
        if field is not None:
            self.fields[field] = message
        self.message = message or next(iter(self.fields.values()), "That cannot be done.")
        super().__init__(self.message)


class FieldErrors(DomainError):
    """Answers that break a rule, as {field: reason}; the page shows each beside its field."""

    def __init__(self, errors: dict[str, str], *, message: str = "Some answers need another look.", **context):
        super().__init__(message, fields=errors)
        self.errors = self.fields
        self.context = context  # e.g. the existing account a duplicate domain belongs to


class NotNow(DomainError):
    """The action does not fit the state the deal (or link, or request) is in."""

    status = 409


class ChangedMeanwhile(NotNow):
    """Someone else changed it a moment ago (a double click, a second tab, another server)."""


class Gone(DomainError):
    """It existed but can no longer be used: expired, revoked or replaced."""

    status = 410
