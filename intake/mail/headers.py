"""Header values built only from checked, single-line text: no user text can add a header.

Every value that reaches a mail header (subject, addresses, Message-ID, attachment
names and types) passes through one of these functions first, when the message is
queued and again when it is sent.
"""

import re

from ..text import one_line

# An address as mail servers take it without SMTPUTF8: an ASCII local part of the
# usual characters and a domain of LDH labels (an international domain is turned
# into its ASCII form first; a single label like `localhost` is allowed).
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_MESSAGE_ID = re.compile(r"^<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+>$")
_ENCODED_WORD_OPENER = re.compile(r"=\?(?=[^?\s]*\?[BbQq]\?)")
_MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$")


class BadRecipient(ValueError):
    """An address that cannot be sent to as given."""


class BadHeader(ValueError):
    """A value that cannot go into a header."""


def address(value: str) -> str:
    """Return the address in the form it is sent in, or raise BadRecipient."""
    candidate = str(value).strip()
    if len(candidate) > 254 or candidate.count("@") != 1:
        raise BadRecipient(one_line(candidate, 80))
    local, domain = candidate.split("@")
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise BadRecipient(one_line(candidate, 80)) from None
    labels = domain.split(".")
    if not _LOCAL.match(local) or len(local) > 64 or not all(_LABEL.match(label) for label in labels):
        raise BadRecipient(one_line(candidate, 80))
    return f"{local}@{domain}"


def subject(value: str) -> str:
    """Return the subject on one line, with what opens an encoded word spaced apart.

    Mail readers decode an RFC 2047 encoded word ("=?charset?B-or-Q?…?=") wherever it stands in a
    subject: a name typed as one ("=?utf-8?b?QmFuaw==?=") would be read as other words than the ones
    written. With its "=?" spaced apart, it is no encoded word, and is shown as written.
    """
    return one_line(_ENCODED_WORD_OPENER.sub("= ?", str(value)), 200)


def sender(value: str) -> tuple[str, str]:
    """Split a configured sender like 'Intake <intake@example.com>' into a checked (name, address)."""
    text = str(value).strip()
    name, bracket, rest = text.rpartition("<")
    if bracket:
        if not rest.endswith(">"):
            raise BadHeader("The sender is not of the form 'Name <address>'.")
        return one_line(name.strip().strip('"'), 80), address(rest[:-1])
    return "", address(text)


def message_id(value: str) -> str:
    """Return a Message-ID of the form <local@domain>, or raise BadHeader."""
    if not _MESSAGE_ID.match(value) or len(value) > 200:
        raise BadHeader("malformed Message-ID")
    return value


def filename(value: str) -> str:
    """Return an attachment file name with no path, quotes or line breaks."""
    name = one_line(value, 120)
    name = re.sub(r'[\\/"<>:|?*;]', "_", name).strip(". ")
    return name or "attachment"


def content_type(value: str) -> str:
    """Return a MIME type of the form type/subtype, or the generic binary type."""
    value = str(value).strip().lower()
    return value if _MIME_TYPE.match(value) else "application/octet-stream"
