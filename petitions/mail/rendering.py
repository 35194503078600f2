"""What an outbox row says: its stored bodies, or for deferred kinds, rendered at send time.

Transactional mail is rendered when it is queued. A digest row carries only a small
payload (which articles and petitions, for whom); its kind's renderer builds the
message while sending, sharing one rendered template among every subscriber who gets
the same content. That keeps a 100,000-subscriber run from writing gigabytes of HTML.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Protocol

from flask import current_app

from petitions.mail.mime import Attachment
from petitions.mail.models import OutboxMessage


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
    "digest": "petitions.newsletter.digest_render:DigestRenderer",
    "petition_update": "petitions.updates.rendering:UpdateRenderer",
    "petition_delivery": "petitions.delivery.rendering:DeliveryRenderer",
}


def renderer_for(kind: str) -> DeferredRenderer:
    renderers = current_app.extensions.setdefault("deferred_renderers", {})
    if kind not in renderers:
        module, _, name = DEFERRED_KINDS[kind].partition(":")
        renderers[kind] = getattr(import_module(module), name)()
    return renderers[kind]


def is_deferred(row: OutboxMessage) -> bool:
    return row.payload is not None and row.kind in DEFERRED_KINDS


def prepare(rows: Iterable[OutboxMessage]) -> dict[int, str]:
    by_kind: dict[str, list[OutboxMessage]] = {}
    for row in rows:
        if is_deferred(row):
            by_kind.setdefault(row.kind, []).append(row)
    cancelled: dict[int, str] = {}
    for kind, kind_rows in by_kind.items():
        cancelled.update(renderer_for(kind).prepare(kind_rows))
    return cancelled


def content_of(row: OutboxMessage) -> Content:
    if is_deferred(row):
        return renderer_for(row.kind).render(row)
    return Content(row.subject, row.text_body or "", row.html_body or "", dict(row.headers or {}))
