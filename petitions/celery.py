"""Celery, wired the Flask way: every task runs inside the app context."""

from __future__ import annotations

import time
from pathlib import Path

from celery import Celery, Task
from celery.signals import worker_process_init
from flask import Flask

from petitions.extensions import db

TASK_MODULES = [
    "petitions.admin.tasks",
    "petitions.mail.tasks",
    "petitions.signing.tasks",
    "petitions.updates.tasks",
    "petitions.privacy.tasks",
    "petitions.newsletter.tasks",
    "petitions.newsletter.digest_tasks",
]


def broker_settings(app: Flask) -> dict:
    redis_url = app.config["REDIS_URL"]
    if redis_url:
        return {
            "broker_url": redis_url,
            # Fail fast when Redis is down: the outbox row is already safe, and the
            # request must not hang on a nudge.
            "broker_connection_timeout": 2,
            "broker_transport_options": {"socket_connect_timeout": 2, "socket_timeout": 5},
        }
    # No server needed: messages are files in the instance folder, shared by the web,
    # worker and beat processes on this machine.
    folder = Path(app.config["BROKER_FOLDER"])
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "broker_url": "filesystem://",
        "broker_transport_options": {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        },
        "worker_enable_remote_control": False,
    }


class BrokerUnavailable(Exception):
    """The broker refused or failed a publish just now; the caller carries on without it."""


class BrokerPaused(BrokerUnavailable):
    """Not even tried: the broker failed moments ago (and that failure was reported)."""


class QuickPublisher:
    """Publishes from a web request without ever waiting on a broker that is down.

    One connection attempt and no retries (kombu would otherwise retry for
    broker_connection_timeout, 2 s, on every request). After a failure, publishes are
    refused at once for PAUSE_SECONDS, so that while the broker is down, or unreachable
    and answering nothing, only one request per process in that time pays for finding out.
    """

    PAUSE_SECONDS = 5.0

    def __init__(self, celery_app: Celery):
        self.celery_app = celery_app
        self.paused_until = 0.0

    def send(self, task_name: str, **options) -> None:
        if time.monotonic() < self.paused_until:
            raise BrokerPaused(f"the broker failed less than {self.PAUSE_SECONDS:g}s ago")
        try:
            with self.celery_app.producer_or_acquire() as producer:
                producer.connection.ensure_connection(max_retries=0)
                self.celery_app.tasks[task_name].apply_async(
                    producer=producer, retry=False, **options)
        except Exception as exc:
            self.paused_until = time.monotonic() + self.PAUSE_SECONDS
            raise BrokerUnavailable(str(exc)) from exc
        self.paused_until = 0.0


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                try:
                    return self.run(*args, **kwargs)
                finally:
                    db.session.remove()

    celery_app = Celery(app.name, task_cls=FlaskTask, include=TASK_MODULES)
    celery_app.conf.update(
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        beat_schedule_filename=str(Path(app.instance_path) / "celerybeat-schedule"),
        timezone=app.config["SITE_TIMEZONE"],
        task_default_queue=app.config["CELERY_QUEUE"],
        **broker_settings(app),
        **app.config.get("CELERY", {}),
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    app.extensions["quick_publisher"] = QuickPublisher(celery_app)

    @worker_process_init.connect(weak=False)
    def _fresh_engine_per_child(**_kwargs):
        # A forked child must not share its parent's database sockets.
        with app.app_context():
            db.engine.dispose(close=False)

    return celery_app
