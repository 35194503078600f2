"""The admin's logged-in clients (CSRF on), and Celery tasks run in this process."""

from __future__ import annotations

import pytest

from tests.admin.conftest import (  # noqa: F401  (fixtures)
    admin_client,
    fresh_csrf_per_request,
    make_account,
    moderator_client,
)


@pytest.fixture
def eager_tasks(app):
    """Tasks that the code hands to the workers run at once, here, as they would there."""
    celery = app.extensions["celery"]
    before = celery.conf.task_always_eager
    celery.conf.task_always_eager = True
    yield celery
    celery.conf.task_always_eager = before


class TaskQueue:
    """Stands in for the broker: records what the code hands to the workers, and runs it
    here on demand, as a worker would (outside any request)."""

    def __init__(self, app):
        self.app = app
        self.sent: list[tuple[str, tuple]] = []
        self.pending: list[tuple[str, tuple]] = []

    def enqueue(self, task_name: str, *args) -> bool:
        self.sent.append((task_name, args))
        self.pending.append((task_name, args))
        return True

    def run_all(self) -> None:
        from petitions.extensions import db

        db.session.commit()  # on SQLite, the test's open transaction would lock them out
        while self.pending:
            name, args = self.pending.pop(0)
            with self.app.app_context():  # a session of its own, as in a worker
                try:
                    self.app.extensions["celery"].tasks[name].run(*args)
                finally:
                    db.session.remove()


@pytest.fixture
def task_queue(app, monkeypatch):
    from petitions.updates import sending

    queue = TaskQueue(app)
    monkeypatch.setattr(sending, "enqueue", queue.enqueue)
    return queue
