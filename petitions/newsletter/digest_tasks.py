"""Celery tasks for digests: start a period's run, then one task per chunk."""

from __future__ import annotations

from celery import shared_task

from petitions.extensions import db
from petitions.mail import delivery
from petitions.newsletter import digests


@shared_task(name="digests.start", ignore_result=True)
def start_digest(frequency: str) -> int:
    """Beat calls this at DIGEST_DAILY_AT (and weekly). Running it again for the same
    period resumes that run: chunks already queued are skipped by the ledger."""
    run = digests.get_or_start_run(frequency)
    chunks = 0
    for first_id, last_id in digests.chunk_bounds(run):
        build_digest_chunk.delay(run.id, first_id, last_id)
        chunks += 1
    digests.mark_fanned_out(run)
    return chunks


@shared_task(name="digests.chunk", ignore_result=True, acks_late=True)
def build_digest_chunk(run_id: int, first_id: int, last_id: int) -> dict[str, int]:
    queued = digests.build_chunk(run_id, first_id, last_id)
    db.session.remove()
    # Send now over one connection; anything left is picked up by the outbox sweep.
    return {"queued": queued, **delivery.deliver_due()}
