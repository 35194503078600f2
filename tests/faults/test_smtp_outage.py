"""The SMTP relay refuses connections for 30 seconds, then answers 4xx for a while, then
recovers: every email, confirmations and a digest run, is delivered exactly once.

The relay is tests/support/flaky_smtp.py, on one port throughout. The back-off is
shortened with OUTBOX_RETRY_SECONDS=1 and OUTBOX_RETRY_MAX_SECONDS=8 (production's
30 s doubling to 2 h would keep the test waiting for minutes after the relay is back),
and the test sends the outbox sweep every 2 s, standing in for beat's 30 s.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from tests.factories import CategoryFactory, PetitionFactory, SubscriberFactory
from tests.faults.mailbox import copies_per_recipient, message_ids, wait_for_count
from tests.newsletter.digest_helpers import article

pytestmark = [pytest.mark.fault, pytest.mark.slow]

REFUSING_SECONDS = 30
DEFERRING_SECONDS = 5  # at RCPT TO, then as long again after DATA
SWEEP_EVERY_SECONDS = 2
SIGNERS = 5
SUBSCRIBERS = 3
RETRIES = {"OUTBOX_RETRY_SECONDS": "1", "OUTBOX_RETRY_MAX_SECONDS": "8"}


def test_mail_held_up_by_a_refusing_then_deferring_relay_arrives_exactly_once(
    app, client, no_csrf, flaky_smtp, start_worker
):
    slug = PetitionFactory().slug
    category = CategoryFactory()
    article(category, utcnow() - timedelta(hours=2))
    readers = [SubscriberFactory(follows=[category]).email for _ in range(SUBSCRIBERS)]
    db.session.remove()
    signers = [f"signer{n}@example.org" for n in range(SIGNERS)]
    celery = app.extensions["celery"]
    worker = start_worker(SMTP_URL=flaky_smtp.url, **RETRIES)

    refusing_since = time.monotonic()  # the relay's port is closed: nothing listens yet
    for email in signers:
        assert sign(client, slug, email).status_code == 303
    celery.send_task("digests.start", args=("daily",))
    with Sweeper(celery, SWEEP_EVERY_SECONDS):
        time.sleep(max(0.0, refusing_since + REFUSING_SECONDS - time.monotonic()))
        tried = outbox_summary()
        flaky_smtp.defer("451 4.3.0 Try again later", at="RCPT")
        time.sleep(DEFERRING_SECONDS)
        flaky_smtp.defer("452 4.3.1 Insufficient system storage", at="DATA")
        time.sleep(DEFERRING_SECONDS)
        assert flaky_smtp.messages == []
        flaky_smtp.accept()

        everyone = len(signers) + len(readers)
        arrived = wait_for_count(flaky_smtp.store, everyone, timeout=30)
        time.sleep(SWEEP_EVERY_SECONDS + 1)  # a sweep more: anything sent twice arrives now

    assert tried["rows"] == everyone and tried["attempts"] >= 1, tried
    assert "cannot reach SMTP server" in tried["errors"], tried
    assert sum(flaky_smtp.deferred.values()) > 0, "no message was tried while the relay deferred"
    messages = flaky_smtp.messages
    assert arrived == len(messages) == everyone, worker.output()
    assert copies_per_recipient(messages) == {email: 1 for email in signers + readers}
    assert len(set(message_ids(messages))) == everyone
    assert outbox_states() == {"sent": everyone}


def sign(client, slug: str, email: str):
    response = client.post(f"/petitions/{slug}/sign", data={
        "name": "Grace Hopper", "email": email, "postcode": "20004", "country": "US"})
    db.session.remove()  # the test client shares the test's session
    return response


class Sweeper:
    """Sends `outbox.sweep` every few seconds, as beat does every 30, until the block ends."""

    def __init__(self, celery, every: float):
        self.celery, self.every = celery, every
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sweeper", daemon=True)

    def __enter__(self) -> Sweeper:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopping.set()
        self.thread.join(10)

    def _run(self) -> None:
        while not self.stopping.wait(self.every):
            self.celery.send_task("outbox.sweep", expires=self.every * 2)


def outbox_summary() -> dict:
    rows = db.session.execute(
        select(func.count(), func.sum(OutboxMessage.attempts),
               func.string_agg(OutboxMessage.last_error, " | "))
    ).one()
    db.session.remove()
    return {"rows": rows[0], "attempts": rows[1] or 0, "errors": rows[2] or ""}


def outbox_states() -> dict[str, int]:
    rows = db.session.execute(
        select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all()
    db.session.remove()
    return dict(rows)
