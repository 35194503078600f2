"""Building a second app inside the test process without disturbing the first."""

from __future__ import annotations

from pathlib import Path

from celery import current_app as current_celery

from tests.support.apps import build_app


def build_extra_app(settings: dict, instance: Path):
    """conftest.build_app, then give the Celery "current app" back to whoever had it.

    Every create_app() makes its Celery app the process's current one, and module-level
    task objects (petitions.mail.tasks.*) resolve through it: without this, later tests
    calling a task directly would run it against this extra app's database.
    """
    previous = current_celery._get_current_object()
    try:
        return build_app(settings, instance)
    finally:
        previous.set_current()
        previous.set_default()
