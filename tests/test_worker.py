"""The real worker process, and what happens to signing when the broker is down.

Each test starts `celery -A worker worker` (and some a private redis-server), so they take a
few seconds each and are marked slow.
"""

from __future__ import annotations

import re
import time

import pytest
import redis

from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.mail.outbox import nudge_worker
from petitions.mail.tasks import sweep_outbox
from petitions.signing.models import Signature
from tests.factories import PetitionFactory
from tests.mail.apps import build_extra_app
from tests.support.apps import app_settings
from tests.support.processes import wait_for

pytestmark = pytest.mark.slow
DELIVERED_ONE = re.compile(r"Task outbox\.deliver\[[\w-]+\] succeeded in [\d.]+s: \{'sent': 1,")
SWEPT_TWO = re.compile(r"Task outbox\.sweep\[[\w-]+\] succeeded in [\d.]+s: \{'sent': 2,")


def sign(client, slug: str, email: str):
    response = client.post(
        f"/petitions/{slug}/sign",
        data={"name": "Grace Hopper", "email": email, "postcode": "20004", "country": "US"},
    )
    end_transaction()
    return response


def end_transaction() -> None:
    """Close the test's session. The test client shares it with the request, and on SQLite an
    open transaction (even one that only read) holds the write lock the worker needs."""
    db.session.remove()


def open_petition() -> str:
    slug = PetitionFactory().slug
    end_transaction()
    return slug


def full_log(worker) -> str:
    # worker.output() is only the tail, and nudges left queued by earlier tests add lines.
    return worker.log_path.read_text(errors="replace")


def outbox_for(email: str) -> list[dict]:
    """The outbox rows of the signature with this address, as the database has them now."""
    rows = [
        {"state": r.state, "attempts": r.attempts, "message_id": r.message_id}
        for r in db.session.query(OutboxMessage)
        .join(Signature, OutboxMessage.signature_id == Signature.id)
        .filter(Signature.email == email)
    ]
    end_transaction()
    return rows


def test_worker_process_delivers_the_confirmation_email_of_a_new_signature(
    client, no_csrf, mail, start_worker
):
    slug = open_petition()
    worker = start_worker()

    assert sign(client, slug, "ada@example.org").status_code == 303

    messages = mail.wait_for(1, timeout=20)
    assert [m.to for m in messages] == ["ada@example.org"]
    assert "Please confirm your signature" in messages[0].subject
    # The worker marks the row sent just after the server accepted the message.
    [row] = wait_for(lambda: [r for r in outbox_for("ada@example.org") if r["state"] == "sent"])
    assert row["message_id"] == messages[0].message["Message-ID"]
    # Sent by the nudge task in the worker process (no beat is running, nothing else sends).
    assert wait_for(lambda: DELIVERED_ONE.search(full_log(worker)), timeout=10)


@pytest.fixture
def private_app(app, smtp_sink, private_redis, tmp_path):
    """A second app on the test's database whose broker is the private, stoppable Redis."""
    instance = tmp_path / "private-instance"
    settings = app_settings(
        app.config["SQLALCHEMY_DATABASE_URI"], smtp_sink, instance, app.config["CELERY_QUEUE"]
    )
    settings.update(REDIS_URL=private_redis.url, WTF_CSRF_ENABLED=False)
    private = build_extra_app(settings, instance)
    yield private
    with private.app_context():
        db.engine.dispose()


def queued_nudges(private_redis, queue: str) -> int:
    with redis.Redis.from_url(private_redis.url) as client:
        return client.llen(queue)


def test_signing_while_the_broker_is_down_is_quick_keeps_the_email_and_the_sweep_sends_it(
    app, mail, private_redis, private_app, start_worker, caplog
):
    slug = open_petition()
    client = private_app.test_client()
    queue = app.config["CELERY_QUEUE"]

    assert sign(client, slug, "first@example.org").status_code == 303
    assert queued_nudges(private_redis, queue) == 1  # the nudge reached the private broker

    private_redis.stop()
    started = time.monotonic()
    response = sign(client, slug, "second@example.org")
    assert response.status_code == 303
    assert time.monotonic() - started < 5
    assert "outbox nudge not sent" in caplog.text  # the dead broker was tried, not skipped
    [row] = outbox_for("second@example.org")
    assert row["state"] == "pending" and row["attempts"] == 0
    assert mail.messages == []

    # The broker comes back empty (it kept nothing on disk): both nudges are lost.
    private_redis.start()
    assert queued_nudges(private_redis, queue) == 0
    worker = start_worker(REDIS_URL=private_redis.url, INSTANCE_PATH=private_app.instance_path)
    # What beat does every 30 s.
    private_app.extensions["celery"].tasks[sweep_outbox.name].apply_async(expires=60)

    messages = mail.wait_for(2, timeout=20)
    time.sleep(1)  # anything sent twice would arrive now
    assert sorted(m.to for m in mail.messages) == ["first@example.org", "second@example.org"]
    assert len(mail.to("second@example.org")) == 1
    assert len({m.message["Message-ID"] for m in messages}) == 2
    assert wait_for(lambda: [r["state"] for r in outbox_for("second@example.org")] == ["sent"])
    assert wait_for(lambda: SWEPT_TWO.search(full_log(worker)), timeout=10)


def test_nudge_while_the_broker_is_down_returns_false_without_raising(
    private_redis, private_app
):
    with private_app.app_context():
        assert nudge_worker() is True
        private_redis.stop()

        started = time.monotonic()
        assert nudge_worker() is False
        assert time.monotonic() - started < 5
