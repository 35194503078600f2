"""Celery tasks for digests: start a period's run, one task per chunk, and the sweep."""

from __future__ import annotations

from celery import shared_task

from petitions.extensions import db
from petitions.mail import delivery
from petitions.newsletter import digest_chunks, digests


@shared_task(name="digests.start", ignore_result=True)
def start_digest(frequency: str) -> int:
    """Beat calls this at DIGEST_DAILY_AT (and weekly). Running it again for the same
    period resumes that run: chunks already queued are skipped by the ledger."""
    return digest_chunks.fan_out(digests.get_or_start_run(frequency))


@shared_task(name="digests.chunk", ignore_result=True, acks_late=True)
def build_digest_chunk(run_id: int, first_id: int, last_id: int) -> dict[str, int]:
    queued = digests.build_chunk(run_id, first_id, last_id)
    digest_chunks.mark_done(run_id, first_id, last_id)
    db.session.remove()
    # Send now over one connection; anything left is picked up by the outbox sweep.
    return {"queued": queued, **delivery.deliver_due()}


@shared_task(name="digests.resume", ignore_result=True)
def resume_digests() -> dict[str, list[int]]:
    """Beat, every 5 minutes: queue again the chunks the broker lost, and finish or start
    runs whose start was lost (petitions/newsletter/digest_chunks.py)."""
    return digest_chunks.resume()
