"""Digest chunks as rows, and the sweep that queues again what the broker lost.

Redis, the broker, keeps nothing on disk: a restart, or an outage while a run fans out,
loses the chunk tasks queued in it. So a run's chunks are committed as rows (in the
transaction that marks the run fanned out) before their tasks are queued, and a chunk
task marks its row done once its digests are committed. Every few minutes beat's
`digests.resume` queues again each chunk still not done STALE_AFTER after it was
queued, fans out a run that was created but never fanned out, and starts the period's
run when beat's own `digests.start` never arrived. Doing a chunk twice is harmless: the
ledger (one row per subscriber and run) lets only one digest through.

Only each frequency's latest run is resumed. Once the next period's run exists, its
digests hold everything since each subscriber's last digest actually sent, so finishing
the older run then would send those articles twice.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select, update

from petitions.config import WEEKDAYS
from petitions.database import insert_ignoring_duplicates, utcnow
from petitions.extensions import db
from petitions.newsletter import digests
from petitions.newsletter.digest_models import DigestChunk, DigestRun

log = logging.getLogger(__name__)

CHUNK_TASK = "digests.chunk"
FREQUENCIES = ("daily", "weekly")
# Longer than a busy queue keeps a chunk waiting, so that a chunk that is merely slow is
# rarely queued twice (and when it is, the ledger makes the second one send nothing).
STALE_AFTER = timedelta(minutes=10)


def fan_out(run: DigestRun, now: datetime | None = None) -> int:
    """Record the run's chunks and mark it fanned out in one transaction, then queue them.

    Queuing never raises: a chunk the broker did not take waits for the sweep. Running
    this again for the same run (a rerun of the period) queues every chunk again.
    """
    now = now or utcnow()
    bounds = list(digests.chunk_bounds(run))
    if bounds:
        db.session.execute(insert_ignoring_duplicates(DigestChunk.__table__, db.engine), [
            {"run_id": run.id, "first_id": first_id, "last_id": last_id, "queued_at": now}
            for first_id, last_id in bounds
        ])
    run.fanned_out_at = run.fanned_out_at or now
    run_id = run.id
    db.session.commit()
    for first_id, last_id in bounds:
        enqueue(run_id, first_id, last_id)
    return len(bounds)


def mark_done(run_id: int, first_id: int, last_id: int) -> None:
    """After the chunk's digests are committed. A chunk queued before chunks were
    recorded has no row, and nothing to mark."""
    db.session.execute(
        update(DigestChunk)
        .where(DigestChunk.run_id == run_id, DigestChunk.first_id == first_id,
               DigestChunk.last_id == last_id, DigestChunk.done_at.is_(None))
        .values(done_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def enqueue(run_id: int, first_id: int, last_id: int) -> bool:
    """Hand one chunk to the workers through this app's Celery app. When the broker is
    down, say so once and carry on: the chunk's row is the truth, the sweep queues it."""
    from petitions.celery import BrokerPaused, BrokerUnavailable
    from petitions.newsletter import digest_tasks  # noqa: F401  (registers the chunk task)

    try:
        current_app.extensions["quick_publisher"].send(
            CHUNK_TASK, args=(run_id, first_id, last_id))
    except BrokerPaused:  # the failure moments ago was logged
        return False
    except BrokerUnavailable as exc:
        log.warning("digest chunk %s:%s-%s not queued (%s); digests.resume will queue it",
                    run_id, first_id, last_id, exc)
        return False
    return True


def due_at(frequency: str, key: str) -> datetime:
    """When beat starts the period `key`'s run: DIGEST_DAILY_AT on its day (the weekly
    one on DIGEST_WEEKLY_DAY of its ISO week), on the site's clock."""
    config = current_app.config
    hour, minute = config["DIGEST_DAILY_AT"]
    if frequency == "daily":
        day = date.fromisoformat(key)
    else:
        year, _, week = key.partition("-W")
        day = date.fromisocalendar(int(year), int(week),
                                   WEEKDAYS.index(config["DIGEST_WEEKLY_DAY"]) + 1)
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(config["SITE_TIMEZONE"]))


def latest_run(frequency: str) -> DigestRun | None:
    return db.session.scalar(
        select(DigestRun).where(DigestRun.frequency == frequency)
        .order_by(DigestRun.period_key.desc()).limit(1)
    )


def resume(now: datetime | None = None) -> dict[str, list[int]]:
    """The sweep, for each frequency's latest run: start the period's run if beat's start
    was lost, fan out a run whose fan-out died, and queue again its chunks that were
    lost. Returns the ids of the runs started and fanned out, and the chunk ids queued."""
    now = now or utcnow()
    done: dict[str, list[int]] = {"started": [], "fanned_out": [], "chunks": []}
    waiting = []
    for frequency in FREQUENCIES:
        run = latest_run(frequency)
        key = digests.period_key(frequency, now, current_app.config["SITE_TIMEZONE"])
        if (run is None or run.period_key < key) and now >= due_at(frequency, key) + STALE_AFTER:
            log.warning("digest run %s %s was not started on time; starting it now",
                        frequency, key)
            run = digests.get_or_start_run(frequency, now)
            done["started"].append(run.id)
            fan_out(run, now)
        elif run is None:
            continue
        elif run.fanned_out_at is None:
            # A run made early (`flask digests send --to`) waits for its time, as beat would.
            if now >= max(run.created_at, due_at(frequency, run.period_key)) + STALE_AFTER:
                done["fanned_out"].append(run.id)
                fan_out(run, now)
        else:
            waiting.append(run.id)
    done["chunks"] = requeue_stale_chunks(waiting, now)
    return done


def requeue_stale_chunks(run_ids: list[int], now: datetime) -> list[int]:
    """Queue again the runs' chunks not done STALE_AFTER after they were last queued.
    Their queued_at moves to now first, so a chunk that is merely slow is queued again
    at most once per STALE_AFTER, however often the sweep runs."""
    if not run_ids:
        return []
    stale = db.session.execute(
        update(DigestChunk)
        .where(DigestChunk.run_id.in_(run_ids), DigestChunk.done_at.is_(None),
               DigestChunk.queued_at < now - STALE_AFTER)
        .values(queued_at=now)
        .returning(DigestChunk.id, DigestChunk.run_id, DigestChunk.first_id, DigestChunk.last_id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()  # before queuing: hold no transaction (SQLite: no lock) meanwhile
    for chunk in stale:
        log.warning("digest chunk %s:%s-%s not done %s after it was queued; queuing it again",
                    chunk.run_id, chunk.first_id, chunk.last_id, STALE_AFTER)
        enqueue(chunk.run_id, chunk.first_id, chunk.last_id)
    return sorted(chunk.id for chunk in stale)
