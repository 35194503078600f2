"""Unconfirmed subscriptions are deleted after CONFIRMATION_MAX_AGE_DAYS, as signatures are."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.newsletter.subscribers import ConsentRecord, Subscriber, subscriber_categories
from petitions.newsletter.tasks import expire_pending_subscriptions
from tests.factories import CategoryFactory, SubscriberFactory


def days_ago(days: float):
    return utcnow() - timedelta(days=days)


def with_records(subscriber: Subscriber) -> Subscriber:
    db.session.add(ConsentRecord(subscriber_id=subscriber.id, action="subscribe",
                                 source="subscribe-form", consent_text="Yes please",
                                 ip_address="192.0.2.1"))
    db.session.add(OutboxMessage(kind="subscription_confirmation", to_address=subscriber.email,
                                 subject="Confirm", text_body="x", html_body="<p>x</p>",
                                 message_id=f"<s{subscriber.id}@petitions.test>",
                                 subscriber_id=subscriber.id))
    db.session.commit()
    return subscriber


def emails() -> list[str]:
    return sorted(db.session.scalars(select(Subscriber.email)
                                     .execution_options(populate_existing=True)))


def test_pending_subscriptions_older_than_seven_days_are_deleted_with_their_records(app):
    category = CategoryFactory()
    stale = with_records(SubscriberFactory(email="stale@example.org", state="pending",
                                           confirmation_sent_at=days_ago(8), follows=[category]))
    with_records(SubscriberFactory(email="recent@example.org", state="pending",
                                   confirmation_sent_at=days_ago(6)))
    with_records(SubscriberFactory(email="active@example.org", state="active",
                                   confirmation_sent_at=days_ago(60)))
    SubscriberFactory(email="gone@example.org", state="unsubscribed",
                      confirmation_sent_at=days_ago(60), unsubscribed_at=days_ago(50))
    stale_id = stale.id

    assert expire_pending_subscriptions.run() == 1

    assert emails() == ["active@example.org", "gone@example.org", "recent@example.org"]
    assert db.session.scalar(select(func.count()).select_from(ConsentRecord)
                             .where(ConsentRecord.subscriber_id == stale_id)) == 0
    assert db.session.scalar(select(func.count()).select_from(subscriber_categories)
                             .where(subscriber_categories.c.subscriber_id == stale_id)) == 0
    assert sorted(db.session.scalars(select(OutboxMessage.to_address))) == [
        "active@example.org", "recent@example.org"]
    assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 2
    assert expire_pending_subscriptions.run() == 0


def test_without_a_send_time_the_creation_time_counts(app):
    SubscriberFactory(email="old@example.org", state="pending", confirmation_sent_at=None,
                      created_at=days_ago(9))

    assert expire_pending_subscriptions.run() == 1
    assert emails() == []


def test_follows_confirmation_max_age_days(app):
    SubscriberFactory(state="pending", confirmation_sent_at=days_ago(3))
    assert expire_pending_subscriptions.run() == 0

    app.config["CONFIRMATION_MAX_AGE_DAYS"] = 2

    assert expire_pending_subscriptions.run() == 1
