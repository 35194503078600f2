"""Kill a real worker in the middle of a digest run, run it again: everyone gets one copy."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.catcher import MailStore
from tests.factories import CategoryFactory, SubscriberFactory
from tests.newsletter.digest_helpers import article, digest_outbox, ledger_rows
from tests.support.processes import wait_for
from tests.support.smtp import slow_smtp_sink

SUBSCRIBERS = 40


@pytest.fixture
def slow_sink(tmp_path):
    with slow_smtp_sink(tmp_path / "slow-mail") as sink:
        yield sink


def _start_run(app) -> None:
    app.extensions["celery"].send_task("digests.start", args=("daily",))


@pytest.mark.fault
@pytest.mark.slow
def test_a_run_killed_mid_way_and_run_again_reaches_everyone_exactly_once(
    app, start_worker, slow_sink
):
    store, smtp_url = slow_sink
    category = CategoryFactory()
    article(category, utcnow() - timedelta(hours=2))
    emails = [SubscriberFactory(follows=[category]).email for _ in range(SUBSCRIBERS)]
    db.session.remove()  # release SQLite's write lock while the worker runs
    settings = {"SMTP_URL": smtp_url, "DIGEST_CHUNK_SIZE": "7", "OUTBOX_SENDING_TIMEOUT": "1"}

    first = start_worker(**settings)
    _start_run(app)
    assert wait_for(lambda: len(store.ids()) >= 8, timeout=30), first.output()
    first.process.kill()  # SIGKILL: no clean-up, mid-chunk and mid-SMTP
    first.process.wait(10)
    sent_before_crash = len(store.ids())
    assert sent_before_crash < SUBSCRIBERS, "the run finished before it could be killed"

    second = start_worker(**settings)
    _start_run(app)  # the same period: resumes the run
    app.extensions["celery"].send_task("outbox.sweep")  # what beat does
    everyone = wait_for(lambda: len(_recipients(store)) >= SUBSCRIBERS, timeout=60)
    assert everyone, second.output()

    copies = _distinct_digests_per_recipient(store)
    assert copies == {email: 1 for email in emails}
    assert len(ledger_rows()) == SUBSCRIBERS
    wait_for(lambda: all(row.state == "sent" for row in digest_outbox()), timeout=20)
    assert [row.state for row in digest_outbox()] == ["sent"] * SUBSCRIBERS
    # The only duplicate SMTP can produce is a message accepted in the instant before
    # the worker died; it carries the same Message-ID, so it is the same message.
    assert len(store.ids()) <= SUBSCRIBERS + 1


def _recipients(store: MailStore) -> set[str]:
    return {message.to for message in store.all()}


def _distinct_digests_per_recipient(store: MailStore) -> dict[str, int]:
    distinct = {(m.to, m.message["Message-ID"]) for m in store.all()}
    return dict(Counter(to for to, _ in distinct))
