"""Celery tasks for digests."""
