"""Celery tasks for articles and subscriptions."""
