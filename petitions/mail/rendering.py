"""What an outbox row says: its stored bodies, or for deferred kinds, rendered at send time.

Most transactional mail is rendered when it is queued. A deferred row carries only a
small payload (a digest: which articles and petitions, for whom; a confirmation: when
its link was made); its kind's renderer builds the message while sending, sharing one
rendered template among every recipient who gets the same content. That keeps a
100,000-subscriber run from writing gigabytes of HTML, and a signing request from
rendering and inlining three templates while the supporter waits.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Protocol
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import insert, select

from petitions.extensions import db
from petitions.mail.mime import Attachment, header_value
from petitions.mail.models import OutboxMessage
from petitions.mail.outbox import NUDGE_FLAG, new_message_id, safe_headers, safe_recipient


@dataclass(frozen=True)
class Content:
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)
    # The same bodies already quoted-printable, when the renderer could reuse most of it.
    encoded_text: bytes | None = None
    encoded_html: bytes | None = None
    attachments: tuple[Attachment, ...] = ()


class DeferredRenderer(Protocol):
    def prepare(self, rows: list[OutboxMessage]) -> dict[int, str]:
        """Load what a batch needs in a few queries; return {row id: reason} to cancel."""

    def render(self, row: OutboxMessage) -> Content: ...


DEFERRED_KINDS = {
    "signature_confirmation": "petitions.signing.email_render:ConfirmationRenderer",
    "digest": "petitions.newsletter.digest_render:DigestRenderer",
    "petition_update": "petitions.updates.rendering:UpdateRenderer",
    "petition_delivery": "petitions.delivery.rendering:DeliveryRenderer",
}


# Values come as parameters: one compiled statement serves every row.
_OUTBOX_INSERT = insert(OutboxMessage.__table__)


def queue_deferred(kind: str, to: str, subject: str, payload: dict,
                   headers: dict[str, str] | None = None, **links) -> None:
    """Add a row of a DEFERRED_KINDS kind to the current transaction: the payload its
    renderer reads, no bodies; one INSERT, no ORM object. The caller commits; the worker
    is nudged only after that commit succeeds."""
    if kind not in DEFERRED_KINDS:
        raise ValueError(f"{kind!r} is not rendered at send time")
    domain = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    db.session.execute(_OUTBOX_INSERT, {
        "kind": kind,
        "to_address": safe_recipient(to),
        "subject": header_value(subject),
        "payload": payload,
        "headers": safe_headers(headers),
        "message_id": new_message_id(domain),
        **links,
    })
    db.session.info[NUDGE_FLAG] = True


def renderer_for(kind: str) -> DeferredRenderer:
    renderers = current_app.extensions.setdefault("deferred_renderers", {})
    if kind not in renderers:
        module, _, name = DEFERRED_KINDS[kind].partition(":")
        renderers[kind] = getattr(import_module(module), name)()
    return renderers[kind]


def is_deferred(row: OutboxMessage) -> bool:
    return row.payload is not None and row.kind in DEFERRED_KINDS


def prepare(rows: Iterable[OutboxMessage]) -> dict[int, str]:
    rows = list(rows)
    by_kind: dict[str, list[OutboxMessage]] = {}
    for row in rows:
        if is_deferred(row):
            by_kind.setdefault(row.kind, []).append(row)
    cancelled: dict[int, str] = {}
    for kind, kind_rows in by_kind.items():
        cancelled.update(renderer_for(kind).prepare(kind_rows))
    cancelled.update(_for_invalidated_signatures(rows))
    return cancelled


def _for_invalidated_signatures(rows: list[OutboxMessage]) -> dict[int, str]:
    """Invalidating a signature cancels its pending mail; this catches the rows a sender
    had already claimed, and anything queued for it later."""
    by_signature: dict[int, list[int]] = {}
    for row in rows:
        if row.signature_id is not None:
            by_signature.setdefault(row.signature_id, []).append(row.id)
    if not by_signature:
        return {}
    # Imported here: signing builds on mail, not the other way round.
    from petitions.signing.models import Signature, SignatureState

    invalidated = db.session.scalars(
        select(Signature.id).where(Signature.id.in_(sorted(by_signature)),
                                   Signature.state == SignatureState.INVALIDATED)
    )
    return {row_id: "signature invalidated"
            for signature_id in invalidated for row_id in by_signature[signature_id]}


def content_of(row: OutboxMessage) -> Content:
    if is_deferred(row):
        return renderer_for(row.kind).render(row)
    return Content(row.subject, row.text_body or "", row.html_body or "", dict(row.headers or {}))


class VariantCache:
    """The last `size` rendered variants a deferred renderer made, most recent kept: a run
    sends the same few variants to thousands of people, and never needs old ones again."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict = OrderedDict()

    def get_or_make(self, key, make):
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        value = self._entries[key] = make()
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return value
