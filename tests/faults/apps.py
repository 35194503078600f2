"""A second app in the test process, set up the way production sets itself up."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from petitions.extensions import db, limiter
from tests.mail.apps import build_extra_app
from tests.support.apps import app_settings
from tests.support.smtp import SmtpSink


@contextmanager
def production_like_app(session_app: Flask, smtp_sink: SmtpSink, instance: Path,
                        env: Mapping[str, str] | None = None, **settings) -> Iterator[Flask]:
    """An app on the tests' database (or on `env["DATABASE_URL"]`), with the tests'
    settings overridden by `settings`, and whatever `env` holds read from the environment
    by config.py, as in production: there a DATABASE_URL also brings the engine options.

    Afterwards its engine is disposed of and the rate limiter, which every app in the
    process shares, is handed back to the session app's in-memory storage.
    """
    base = app_settings(session_app.config["SQLALCHEMY_DATABASE_URI"], smtp_sink, instance,
                        session_app.config["CELERY_QUEUE"])
    if env and "DATABASE_URL" in env:
        del base["SQLALCHEMY_DATABASE_URI"], base["SQLALCHEMY_ENGINE_OPTIONS"]
    with _environment(env or {}):
        app = build_extra_app({**base, **settings}, instance)
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()
        limiter.init_app(session_app)


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
