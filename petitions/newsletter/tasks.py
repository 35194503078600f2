"""Celery tasks for articles and subscriptions."""

from celery import shared_task
from flask import current_app

from petitions.newsletter.feeds import poll_all


@shared_task(name="articles.poll_feeds", ignore_result=True)
def poll_feeds() -> dict[str, str]:
    """Poll every article feed (ARTICLE_FEEDS and `flask articles add-feed`) once."""
    return poll_all(current_app.config["ARTICLE_FEEDS"])
