"""Celery, wired the Flask way: every task runs inside the app context."""

from __future__ import annotations

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

    @worker_process_init.connect(weak=False)
    def _fresh_engine_per_child(**_kwargs):
        # A forked child must not share its parent's database sockets.
        with app.app_context():
            db.engine.dispose(close=False)

    return celery_app
