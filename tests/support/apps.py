"""Building, migrating and emptying app instances for the tests."""

from __future__ import annotations

import os
from pathlib import Path

from petitions import create_app
from petitions.config import engine_options, parse_smtp_url
from petitions.extensions import db
from tests.support.environment import REDIS_URL
from tests.support.smtp import SmtpSink


def app_settings(database_url: str, smtp_sink: SmtpSink, instance: Path, queue: str) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "SMTP": parse_smtp_url(smtp_sink.url),
        "MAIL_CATCHER": False,
        "REDIS_URL": REDIS_URL or None,
        "BROKER_FOLDER": str(instance / "broker"),
        "CELERY_QUEUE": queue,
        "CONFIRMATION_MAX_AGE_DAYS": 7,
        # Limits and the minimum fill time have their own tests (tests/abuse), which turn
        # them on; everywhere else a test signs many times a second.
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
    }


def build_app(settings: dict, instance: Path):
    os.environ["INSTANCE_PATH"] = str(instance)
    try:
        return create_app(settings)
    finally:
        os.environ.pop("INSTANCE_PATH", None)


def migrate_to_head(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


def empty_tables(app) -> None:
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
