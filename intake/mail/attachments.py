"""Attachments: stored bytes, or a recipe the worker turns into bytes once.

A recipe names a builder registered here and gives it JSON params; the worker calls
the builder when it first sends the message and stores what it returns, so a PDF is
rendered in the worker (never in a web request) and never twice. A builder whose
bytes are already kept in a stored document returns `Kept`: the message refers to
that document, and no message keeps a copy of it. Register builders
when the app is created (from an `init_app`), so the web process that queues and the
worker that builds know the same names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..extensions import db
from ..models import Document
from ..models.outbox import OutboxAttachment
from . import headers

Built = tuple[str, str, bytes]


@dataclass(frozen=True)
class Kept:
    """What a builder returns when the bytes are a stored document's (`documents.id`)."""

    filename: str
    content_type: str
    document_id: int


Builder = Callable[[dict[str, Any]], "Built | Kept"]

Finder = Callable[[dict[str, Any]], "Kept | None"]

_builders: dict[str, Builder] = {}
_finders: dict[str, Finder] = {}


class UnknownBuilder(LookupError):
    """A recipe names a builder that is not registered."""


@dataclass(frozen=True)
class Stored:
    """An attachment whose bytes are known when the message is queued."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Recipe:
    """An attachment built by the worker: `builder(params)` returns (filename, content_type, bytes)."""

    builder: str
    params: dict[str, Any] = field(default_factory=dict)


def register(name: str, fn: Builder, *, find: Finder | None = None) -> None:
    """Make a builder available to recipes under `name` (registering again replaces it, as each app is created).

    `find`, when given, returns the stored document a recipe's bytes already are (or None) without building
    anything: the worker refers a whole batch's messages to their documents with it before sending (`refer`).
    """
    _builders[name] = fn
    if find is None:
        _finders.pop(name, None)
    else:
        _finders[name] = find


def is_registered(name: str) -> bool:
    return name in _builders


def as_attachment(item: Stored | Recipe | Mapping[str, Any]) -> Stored | Recipe:
    """Read an attachment given as Stored, Recipe, {"builder", "params"} or {"filename", "content_type", "data"}."""
    if isinstance(item, Stored | Recipe):
        return item
    if "builder" in item:
        return Recipe(builder=item["builder"], params=dict(item.get("params") or {}))
    return Stored(filename=item["filename"], content_type=item.get("content_type", ""), data=item["data"])


def row_for(item: Stored | Recipe | Mapping[str, Any], position: int) -> OutboxAttachment:
    """Check an attachment and return the row that keeps it with its message."""
    item = as_attachment(item)
    if isinstance(item, Stored):
        if not isinstance(item.data, bytes | bytearray):
            raise TypeError("attachment data must be bytes")
        return OutboxAttachment(
            position=position,
            filename=headers.filename(item.filename),
            content_type=headers.content_type(item.content_type),
            data=bytes(item.data),
        )
    if item.builder not in _builders:
        raise UnknownBuilder(item.builder)
    # A recipe is rebuilt from JSON in another process: refuse what JSON cannot keep.
    params = json.loads(json.dumps(item.params))
    return OutboxAttachment(position=position, builder=item.builder, params=params)


def _keep(row: OutboxAttachment, kept: Kept, now: datetime) -> None:
    # The document itself (one read per document, whatever the number of rows): its bytes go out with the message.
    row.document = db.session.get(Document, kept.document_id)
    row.filename = headers.filename(kept.filename)
    row.content_type = headers.content_type(kept.content_type)
    row.built_at = now


def refer(rows: list[OutboxAttachment], now: datetime) -> None:
    """Refer each recipe row whose document is already stored to that document (the caller commits), looking each
    recipe up once: the messages of one decision and copy share one lookup and nothing is rendered."""
    found: dict[tuple[str, str], Kept | None] = {}
    for row in rows:
        if row.data is not None or row.document_id is not None or row.builder not in _finders:
            continue
        recipe = (row.builder, json.dumps(row.params or {}, sort_keys=True))
        if recipe not in found:
            found[recipe] = _finders[row.builder](dict(row.params or {}))
        if found[recipe] is not None:
            _keep(row, found[recipe], now)


def build(row: OutboxAttachment, now: datetime) -> None:
    """Turn a recipe row into stored bytes, or a reference to the document that keeps them (the caller commits);
    a built row is left alone."""
    if row.data is not None or row.document_id is not None:
        return
    fn = _builders.get(row.builder or "")
    if fn is None:
        raise UnknownBuilder(row.builder)
    built = fn(dict(row.params or {}))
    if isinstance(built, Kept):
        _keep(row, built, now)
        return
    name, kind, data = built
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"attachment builder {row.builder!r} returned {type(data).__name__}, not bytes")
    row.filename = headers.filename(name)
    row.content_type = headers.content_type(kind)
    row.data = bytes(data)
    row.built_at = now
