"""Rendering a "petition_delivery" outbox row when it is sent.

The row carries only {"delivery_id": ...}. Here the delivery's cover message, petition
and count become the email, with the signers' CSV attached (built now, from the
signatures confirmed by the delivery's cutoff) and a signed link to the PDF, valid for
links.LINK_MAX_AGE_DAYS from this moment.
"""

from __future__ import annotations

from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from petitions.delivery.links import LINK_MAX_AGE_DAYS, pdf_url
from petitions.delivery.models import PetitionDelivery
from petitions.delivery.pack import csv_attachment
from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.mail.render import inline_css
from petitions.mail.rendering import Content


def paragraphs(text: str) -> list[list[str]]:
    """Plain text as paragraphs (split at blank lines) of lines, for the HTML part."""
    blocks = "\n".join(line.rstrip() for line in text.splitlines()).split("\n\n")
    return [block.strip("\n").split("\n") for block in blocks if block.strip()]


def _delivery_id(row) -> int | None:
    payload = row.payload if isinstance(row.payload, dict) else {}
    value = payload.get("delivery_id")
    return value if type(value) is int else None


class DeliveryRenderer:
    def __init__(self) -> None:
        self._deliveries: dict[int, SimpleNamespace] = {}

    def prepare(self, rows: list[OutboxMessage]) -> dict[int, str]:
        ids = {i for i in map(_delivery_id, rows) if i is not None}
        # Plain copies: the delivery loop commits after every message, which would
        # expire ORM objects.
        self._deliveries = {
            d.id: SimpleNamespace(
                id=d.id, delivered_at=d.delivered_at, signature_count=d.signature_count,
                target_name=d.target_name, cover_message=d.cover_message or "",
                removed=d.petition.is_removed,
                petition=SimpleNamespace(id=d.petition.id, slug=d.petition.slug,
                                         title=d.petition.title, summary=d.petition.summary),
            )
            for d in db.session.scalars(
                select(PetitionDelivery).where(PetitionDelivery.id.in_(ids))
                .options(selectinload(PetitionDelivery.petition)))
        }
        cancelled = {}
        for row in rows:
            delivery = self._deliveries.get(_delivery_id(row))
            if delivery is None:
                cancelled[row.id] = "the delivery no longer exists"
            elif delivery.removed:
                cancelled[row.id] = "the petition was removed"
        return cancelled

    def render(self, row: OutboxMessage) -> Content:
        delivery = self._deliveries[_delivery_id(row)]
        zone = ZoneInfo(current_app.config["SITE_TIMEZONE"])
        base_url = current_app.config["BASE_URL"]
        attachment = csv_attachment(delivery.petition, delivery.delivered_at)
        # End the read: the outbox marks each row sent on a connection of its own, which
        # on SQLite (every transaction BEGIN IMMEDIATE) would wait on this session's lock.
        db.session.commit()
        context = {
            "delivery": delivery,
            "petition": delivery.petition,
            "cover_paragraphs": paragraphs(delivery.cover_message),
            "delivered_on": delivery.delivered_at.astimezone(zone).date(),
            "pdf_url": pdf_url(delivery),
            "link_days": LINK_MAX_AGE_DAYS,
            "petition_url": f"{base_url}/petitions/{delivery.petition.slug}",
            "privacy_url": f"{base_url}/privacy",
            "attachment": attachment,
            "base_url": base_url,
        }
        text = render_template("email/petition_delivery/body.txt", **context)
        html = inline_css(render_template("email/petition_delivery/body.html",
                                          subject=row.subject, **context))
        return Content(row.subject, text, html, {}, attachments=(attachment,))
