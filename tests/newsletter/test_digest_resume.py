"""Digest chunks the broker lost are queued again by beat's sweep (digests.resume), and
every subscriber still gets exactly one digest, without anyone starting the run again.

Real workers, a real redis-server that is stopped (it keeps nothing on disk), a broker
URL on a closed port, and the tests' SMTP sink. Where ten minutes must pass, the test
moves the chunks' queued_at back, or hands the sweep a later `now`.

Beat's own start times are put where no test reaches them (23:59, the weekly run on
Sunday), so the sweep never starts a period's run here unless a test asks it to.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from sqlalchemy import select

from petitions.database import utcnow
from petitions.extensions import db
from petitions.newsletter import digest_chunks, digest_tasks, digests
from petitions.newsletter.digest_models import DigestChunk, DigestRun
from tests.factories import CategoryFactory, SubscriberFactory
from tests.faults.mailbox import copies_per_recipient, wait_for_count
from tests.mail.apps import build_extra_app
from tests.newsletter.digest_helpers import article, ledger_rows
from tests.support.apps import app_settings
from tests.support.processes import free_port, wait_for

SUBSCRIBERS = 12
CHUNK_SIZE = 5  # three chunks: 5, 5 and 2 subscribers
LATER = digest_chunks.STALE_AFTER + timedelta(minutes=1)
QUIET_CLOCK = {"DIGEST_DAILY_AT": "23:59", "DIGEST_WEEKLY_DAY": "sunday",
               "DIGEST_CHUNK_SIZE": str(CHUNK_SIZE)}
CHUNK_DONE = re.compile(r"Task digests\.chunk\[[\w-]+\] succeeded in [\d.]+s: \{'queued': (\d+),")


@pytest.fixture
def quiet_clock(app):
    app.config.update(DIGEST_DAILY_AT=(23, 59), DIGEST_WEEKLY_DAY="sunday",
                      DIGEST_CHUNK_SIZE=CHUNK_SIZE)


@pytest.fixture
def app_on_broker(app, smtp_sink, tmp_path):
    """A second app on the tests' database whose broker is the given Redis URL."""

    @contextmanager
    def build(redis_url: str) -> Iterator:
        instance = tmp_path / f"instance-{free_port()}"
        settings = app_settings(app.config["SQLALCHEMY_DATABASE_URI"], smtp_sink, instance,
                                app.config["CELERY_QUEUE"])
        settings.update(REDIS_URL=redis_url, DIGEST_DAILY_AT=(23, 59),
                        DIGEST_WEEKLY_DAY="sunday", DIGEST_CHUNK_SIZE=CHUNK_SIZE)
        other = build_extra_app(settings, instance)
        try:
            with other.app_context():
                yield other
                db.session.remove()
        finally:
            with other.app_context():
                db.engine.dispose()

    return build


def readers(count: int = SUBSCRIBERS, ingested_at: datetime | None = None) -> list[str]:
    category = CategoryFactory()
    article(category, ingested_at or utcnow() - timedelta(hours=2))
    emails = [SubscriberFactory(follows=[category]).email for _ in range(count)]
    db.session.remove()  # release SQLite's write lock while a worker runs
    return emails


def chunks() -> list[DigestChunk]:
    rows = list(db.session.scalars(select(DigestChunk).order_by(DigestChunk.first_id)))
    db.session.remove()
    return rows


def age_chunks(by: timedelta = LATER) -> None:
    """The minutes a lost chunk waits before the sweep's next round finds it."""
    for chunk in db.session.scalars(select(DigestChunk)):
        chunk.queued_at -= by
    db.session.commit()
    db.session.remove()


def one_each(mail, emails: list[str], timeout: float = 40) -> None:
    arrived = wait_for_count(mail.store, len(emails), timeout=timeout)
    assert arrived >= len(emails)
    wait_for(lambda: False, timeout=1.5)  # a second copy, if any, would arrive now
    assert copies_per_recipient(mail.messages) == {email: 1 for email in emails}


@pytest.mark.slow
def test_a_run_records_its_chunks_and_the_workers_mark_them_done(
    app, mail, quiet_clock, start_worker
):
    emails = readers()
    start_worker(**QUIET_CLOCK)

    app.extensions["celery"].send_task("digests.start", args=("daily",))

    one_each(mail, emails)
    assert wait_for(lambda: all(c.done_at for c in chunks()), timeout=20), chunks()
    recorded = chunks()
    assert len(recorded) == 3
    assert [c.last_id - c.first_id for c in recorded] == [CHUNK_SIZE - 1] * 2 + [1]
    assert {c.run_id for c in recorded} == {db.session.scalar(select(DigestRun.id))}
    # Nothing left to do: the sweep, ten minutes on, queues nothing and sends nothing.
    assert digest_chunks.resume(utcnow() + LATER) == {"started": [], "fanned_out": [], "chunks": []}
    wait_for(lambda: False, timeout=2)
    assert len(mail.messages) == SUBSCRIBERS


@pytest.mark.fault
@pytest.mark.slow
def test_chunks_lost_in_a_redis_restart_are_queued_again_by_the_sweep_and_sent_once(
    app, mail, quiet_clock, private_redis, app_on_broker, start_worker
):
    emails = readers()
    queue = app.config["CELERY_QUEUE"]
    with app_on_broker(private_redis.url) as on_private:
        assert digest_tasks.start_digest.run("daily") == 3
        with redis.Redis.from_url(private_redis.url) as client:
            assert client.llen(queue) == 3  # the chunk tasks are in the broker...
        private_redis.stop()
        private_redis.start()
        with redis.Redis.from_url(private_redis.url) as client:
            assert client.llen(queue) == 0  # ...and gone with its restart

        worker = start_worker(REDIS_URL=private_redis.url, **QUIET_CLOCK)
        wait_for(lambda: False, timeout=3)
        assert mail.messages == [], "the lost chunks were sent anyway"
        assert [c.done_at for c in chunks()] == [None] * 3

        age_chunks()
        on_private.extensions["celery"].send_task("digests.resume")  # what beat does

        one_each(mail, emails)
    assert len(ledger_rows()) == SUBSCRIBERS
    assert wait_for(lambda: all(c.done_at for c in chunks()), timeout=20), worker.output()


@pytest.mark.slow
def test_a_start_while_the_broker_is_unreachable_leaves_the_chunks_to_the_sweep(
    app, mail, quiet_clock, app_on_broker, start_worker, caplog
):
    emails = readers()
    with app_on_broker(f"redis://127.0.0.1:{free_port()}/0"), caplog.at_level(logging.WARNING):
        assert digest_tasks.start_digest.run("daily") == 3  # queues nothing, raises nothing
    assert "not queued" in caplog.text and "digests.resume will queue it" in caplog.text
    run = db.session.scalar(select(DigestRun))
    assert run.fanned_out_at is not None
    db.session.remove()
    assert [c.done_at for c in chunks()] == [None] * 3
    worker = start_worker(**QUIET_CLOCK)

    later = utcnow() + LATER
    assert digest_chunks.resume(utcnow())["chunks"] == []  # not stale yet
    assert len(digest_chunks.resume(later)["chunks"]) == 3

    one_each(mail, emails)
    assert wait_for(lambda: all(c.done_at for c in chunks()), timeout=20), worker.output()
    assert digest_chunks.resume(later + LATER)["chunks"] == []


@pytest.mark.slow
def test_a_chunk_that_was_merely_slow_sends_nothing_twice(
    app, mail, quiet_clock, app_on_broker, start_worker
):
    emails = readers()
    with app_on_broker(f"redis://127.0.0.1:{free_port()}/0"):
        digest_tasks.start_digest.run("daily")  # the three tasks are "slow": still unsent
    worker = start_worker(**QUIET_CLOCK)
    assert len(digest_chunks.resume(utcnow() + LATER)["chunks"]) == 3
    one_each(mail, emails)

    # Now the original tasks arrive after all, each with its chunk's bounds.
    for chunk in chunks():
        app.extensions["celery"].send_task(
            "digests.chunk", args=(chunk.run_id, chunk.first_id, chunk.last_id))
    log = worker.log_path
    assert wait_for(lambda: len(CHUNK_DONE.findall(log.read_text())) == 6, timeout=20), \
        worker.output()
    assert [int(n) for n in CHUNK_DONE.findall(log.read_text())][3:] == [0, 0, 0]
    wait_for(lambda: False, timeout=1.5)
    assert len(mail.messages) == SUBSCRIBERS
    assert len(ledger_rows()) == SUBSCRIBERS


def test_a_chunk_not_done_is_queued_again_at_most_once_per_interval(
    app, quiet_clock, app_on_broker
):
    readers()
    with app_on_broker(f"redis://127.0.0.1:{free_port()}/0"):
        digest_tasks.start_digest.run("daily")
        now = utcnow()
        first = digest_chunks.resume(now + LATER)["chunks"]
        again = digest_chunks.resume(now + LATER + timedelta(minutes=5))["chunks"]
        later = digest_chunks.resume(now + 2 * LATER)["chunks"]

    assert len(first) == 3 and again == [] and later == first
    assert {c.queued_at for c in chunks()} == {now + 2 * LATER}


@pytest.mark.slow
def test_a_run_never_fanned_out_is_resumed_by_its_id_after_its_period(
    app, mail, quiet_clock, start_worker
):
    two_days_ago = utcnow() - timedelta(days=2)
    emails = readers(ingested_at=two_days_ago - timedelta(hours=1))
    run = digests.get_or_start_run("daily", two_days_ago)  # its start died right here
    run.created_at = two_days_ago
    db.session.commit()
    run_id = run.id
    db.session.remove()
    start_worker(**QUIET_CLOCK)

    app.extensions["celery"].send_task("digests.resume")

    one_each(mail, emails)
    assert {row.run_id for row in ledger_rows()} == {run_id}
    assert db.session.scalars(select(DigestRun.id)).all() == [run_id]  # no run of today
    assert db.session.get(DigestRun, run_id).fanned_out_at is not None


def test_a_run_made_early_waits_for_its_time_and_an_older_one_is_left_to_the_next(
    app, quiet_clock, app_on_broker
):
    """`flask digests send --to` makes the period's run before beat starts it: the sweep
    leaves it for beat. A run superseded by a newer period's is never finished: the newer
    digests already hold its articles."""
    readers()
    today = digests.get_or_start_run("daily")
    older = digests.get_or_start_run("daily", utcnow() - timedelta(days=3))
    older.created_at = older.cutoff
    db.session.commit()
    today_id, older_id = today.id, older.id
    db.session.remove()

    assert digest_chunks.resume(utcnow() + LATER) == {"started": [], "fanned_out": [], "chunks": []}
    assert chunks() == []
    runs = {r.id: r.fanned_out_at for r in db.session.scalars(select(DigestRun))}
    assert runs == {today_id: None, older_id: None}


def test_a_period_whose_start_never_arrived_is_started_by_the_sweep(app, app_on_broker):
    readers()
    site = ZoneInfo(app.config["SITE_TIMEZONE"])
    local_today = utcnow().astimezone(site).date()
    monday = local_today - timedelta(days=local_today.weekday())
    noon = datetime.combine(monday, time(12, 0), tzinfo=site)  # the weekly run is not due

    with app_on_broker(f"redis://127.0.0.1:{free_port()}/0") as broken:
        broken.config.update(DIGEST_DAILY_AT=(7, 0))  # beat's daily-digest at 07:00
        early = digest_chunks.resume(datetime.combine(monday, time(7, 5), tzinfo=site))
        done = digest_chunks.resume(noon)
        again = digest_chunks.resume(noon + timedelta(minutes=1))

    assert early == {"started": [], "fanned_out": [], "chunks": []}  # beat may be late
    [started] = done["started"]
    run = db.session.get(DigestRun, started)
    assert (run.frequency, run.period_key, run.cutoff) == ("daily", monday.isoformat(), noon)
    assert run.fanned_out_at == noon
    assert [(c.run_id, c.done_at) for c in chunks()] == [(started, None)] * 3
    assert again == {"started": [], "fanned_out": [], "chunks": []}


def test_queueing_a_run_while_the_broker_is_down_says_so_plainly(app_on_broker):
    with app_on_broker(f"redis://127.0.0.1:{free_port()}/0") as broken:
        result = broken.test_cli_runner().invoke(
            args=["digests", "send", "--frequency", "daily", "--queue"])

    assert result.exit_code == 1
    assert "The broker is unreachable" in result.output
    assert "Run without --queue" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
