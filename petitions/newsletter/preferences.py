"""What a subscriber can do with their manage link: change, pause, leave, download, erase."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.newsletter.consent import (
    ConsentAction,
    Source,
    choices_text,
    pause_text,
    record_consent,
    resume_text,
)
from petitions.newsletter.digest_models import DigestDelivery, DigestRun
from petitions.newsletter.models import Category
from petitions.newsletter.subscribers import Subscriber, SubscriberState


def change_choices(
    subscriber: Subscriber,
    categories: Sequence[Category],
    all_categories: bool,
    frequency: str,
    ip: str | None,
) -> bool:
    """Save new choices; False (and no record) when nothing changed."""
    before = ({c.id for c in subscriber.categories}, subscriber.all_categories,
              subscriber.frequency)
    if before == ({c.id for c in categories}, all_categories, frequency):
        return False
    subscriber.categories = list(categories)
    subscriber.all_categories = all_categories
    subscriber.frequency = frequency
    record_consent(subscriber, ConsentAction.CHANGE, Source.PREFERENCE_CENTRE,
                   choices_text(categories, all_categories, frequency), ip)
    db.session.commit()
    return True


def set_paused(subscriber: Subscriber, paused: bool, ip: str | None) -> bool:
    if subscriber.paused == paused:
        return False
    subscriber.paused = paused
    action, text = (ConsentAction.PAUSE, pause_text()) if paused else (
        ConsentAction.RESUME, resume_text())
    record_consent(subscriber, action, Source.PREFERENCE_CENTRE, text, ip)
    db.session.commit()
    return True


def unsubscribe(subscriber: Subscriber, source: str, text: str, ip: str | None) -> bool:
    """Stop all newsletter mail at once. True if this changed anything.

    Also cancels a request to come back that is waiting for its confirmation click. A
    subscriber who never confirmed has nothing worth keeping, so they are deleted.
    """
    if subscriber.state == SubscriberState.PENDING:
        erase(subscriber)
        return True
    was_active = subscriber.state == SubscriberState.ACTIVE
    was_returning = subscriber.confirmation_sends > 0
    if not was_active and not was_returning:
        return False
    subscriber.state = SubscriberState.UNSUBSCRIBED.value
    subscriber.unsubscribed_at = utcnow()
    subscriber.confirmation_sends = 0
    if was_active:
        record_consent(subscriber, ConsentAction.UNSUBSCRIBE, source, text, ip)
    db.session.commit()
    return was_active


def erase(subscriber: Subscriber) -> None:
    """Delete the subscriber; the database cascades to consents, ledger and outbox rows."""
    db.session.execute(delete(Subscriber).where(Subscriber.id == subscriber.id))
    db.session.commit()
    db.session.expunge_all()


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export(subscriber: Subscriber) -> dict:
    """Everything we hold about a subscriber, for them to download."""
    deliveries = db.session.execute(
        select(DigestDelivery, DigestRun)
        .join(DigestRun, DigestRun.id == DigestDelivery.run_id)
        .where(DigestDelivery.subscriber_id == subscriber.id)
        .order_by(DigestDelivery.id)
    ).all()
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.subscriber_id == subscriber.id)
        .order_by(OutboxMessage.id)
    ).all()
    return {
        "exported_at": _time(utcnow()),
        "subscriber": {
            "email": subscriber.email,
            "state": subscriber.state,
            "frequency": subscriber.frequency,
            "all_categories": subscriber.all_categories,
            "paused": subscriber.paused,
            "locale": subscriber.locale,
            "created_at": _time(subscriber.created_at),
            "confirmed_at": _time(subscriber.confirmed_at),
            "unsubscribed_at": _time(subscriber.unsubscribed_at),
            "updated_at": _time(subscriber.updated_at),
        },
        "categories": [{"slug": c.slug, "name": c.name} for c in subscriber.categories],
        "consent_records": [
            {
                "action": r.action,
                "source": r.source,
                "consent_text": r.consent_text,
                "ip_address": r.ip_address,
                "created_at": _time(r.created_at),
            }
            for r in subscriber.consents
        ],
        "digests": [
            {
                "frequency": run.frequency,
                "period": run.period_key,
                "article_count": delivery.article_count,
                "created_at": _time(delivery.created_at),
            }
            for delivery, run in deliveries
        ],
        "emails": [
            {
                "kind": m.kind,
                "subject": m.subject,
                "state": m.state,
                "created_at": _time(m.created_at),
                "sent_at": _time(m.sent_at),
            }
            for m in messages
        ],
    }
