"""Petitions with signers, updates, and sending them the way the workers do."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail import delivery
from petitions.mail.models import OutboxMessage
from petitions.updates import sending
from petitions.updates.models import PetitionUpdate, UpdateDelivery
from tests.factories import SignatureFactory

UPDATE_KIND = "petition_update"


def signer(petition, email: str, **fields):
    """A confirmed signature (an hour ago) whose signer asked for updates, unless told."""
    values = {"state": "confirmed", "confirmed_at": utcnow() - timedelta(hours=1),
              "email_updates": True, **fields}
    return SignatureFactory(petition=petition, email=email, **values)


def draft(petition, title: str = "We delivered it", body: str = "The **Mayor** has it.",
          **fields) -> PetitionUpdate:
    update = PetitionUpdate(petition_id=petition.id, title=title, body=body, **fields)
    db.session.add(update)
    db.session.commit()
    return update


def publish_and_send(update: PetitionUpdate) -> int:
    """Publish a draft, fan it out and deliver, all in this process; how many queued."""
    sending.publish(update)
    db.session.commit()
    return send_published(update.id)


def send_published(update_id: int) -> int:
    queued = sending.fan_out(update_id)
    delivery.deliver_due()
    return queued


def update_mail(mail, title: str | None = None):
    """Update emails the sink received (not test copies), optionally with this title."""
    found = [m for m in mail.messages if ".updates." in str(m.message["List-Id"] or "")
             and "[TEST]" not in m.subject]
    return [m for m in found if title is None or title in m.subject]


def copies_per_recipient(messages) -> dict[str, int]:
    """Distinct messages per address: a resend with the same Message-ID is the same email."""
    distinct = {(m.to, m.message["Message-ID"]) for m in messages}
    return dict(Counter(to for to, _ in distinct))


def ledger(update_id: int) -> list[UpdateDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(UpdateDelivery).where(UpdateDelivery.update_id == update_id)
        .order_by(UpdateDelivery.signature_id)))


def update_outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == UPDATE_KIND).order_by(OutboxMessage.id)))


def reload(update: PetitionUpdate) -> PetitionUpdate:
    db.session.expire_all()
    return db.session.get(PetitionUpdate, update.id)


def invalidate(signature, reason: str = "Duplicate signer") -> None:
    """As a moderator's invalidation leaves it."""
    signature.state, signature.invalidated_at = "invalidated", utcnow()
    signature.invalidation_reason = reason
    db.session.commit()

