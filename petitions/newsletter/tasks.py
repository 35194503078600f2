"""Celery tasks for articles and subscriptions."""

from datetime import timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy import delete, func

from petitions.database import utcnow
from petitions.extensions import db
from petitions.newsletter.feeds import poll_all
from petitions.newsletter.subscribers import Subscriber, SubscriberState


@shared_task(name="articles.poll_feeds", ignore_result=True)
def poll_feeds() -> dict[str, str]:
    """Poll every article feed (ARTICLE_FEEDS and `flask articles add-feed`) once."""
    return poll_all(current_app.config["ARTICLE_FEEDS"])


@shared_task(name="subscriptions.expire_pending", ignore_result=True)
def expire_pending_subscriptions() -> int:
    """Subscriptions never confirmed within CONFIRMATION_MAX_AGE_DAYS of their last
    confirmation email are deleted, as unconfirmed signatures are. The database cascades
    to their categories, consent records and outbox rows."""
    max_age = timedelta(days=current_app.config["CONFIRMATION_MAX_AGE_DAYS"])
    sent_at = func.coalesce(Subscriber.confirmation_sent_at, Subscriber.created_at)
    result = db.session.execute(
        delete(Subscriber)
        .where(Subscriber.state == SubscriberState.PENDING)
        .where(sent_at < utcnow() - max_age)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount or 0
