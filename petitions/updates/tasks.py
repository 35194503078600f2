"""Celery tasks for updates: start a send, one task per chunk, milestones, and the sweep."""

from __future__ import annotations

from celery import shared_task

from petitions.extensions import db
from petitions.mail import delivery
from petitions.updates import milestones, sending
from petitions.updates.models import PetitionUpdate, UpdateState


@shared_task(name="updates.start", ignore_result=True)
def start_update(update_id: int) -> int:
    """Split a published update's recipients into chunks, one task each. Running it again
    (the admin's Resume, or the sweep) queues only the recipients still missing."""
    update = db.session.get(PetitionUpdate, update_id)
    if update is None or update.state != UpdateState.SENDING:
        return 0
    bounds = list(sending.chunk_bounds(update))
    db.session.commit()  # end the read: hold no transaction (SQLite: no lock) while queueing
    for first_id, last_id in bounds:
        sending.enqueue("updates.chunk", update_id, first_id, last_id)
    if not bounds:
        sending.finish_if_complete(update_id)
    return len(bounds)


@shared_task(name="updates.chunk", ignore_result=True, acks_late=True)
def build_update_chunk(update_id: int, first_id: int, last_id: int) -> dict[str, int]:
    queued = sending.build_chunk(update_id, first_id, last_id)
    sending.finish_if_complete(update_id)
    db.session.remove()
    # Send now over one connection; anything left is picked up by the outbox sweep.
    return {"queued": queued, **delivery.deliver_due()}


@shared_task(name="updates.milestones", ignore_result=True)
def send_milestones() -> list[int]:
    """Beat, every minute: write the goal-reached and closed updates that are due (only
    for petitions with milestone emails on) and start sending them."""
    created = milestones.create_due()
    for update_id in created:
        sending.start(update_id)
    return created


@shared_task(name="updates.resume", ignore_result=True)
def resume_stalled() -> list[int]:
    """Beat, every few minutes: resume sends whose fan-out stopped (a killed worker, a
    lost task). The ledger makes a resume of a send that was merely slow harmless."""
    stalled = sending.stalled_updates()
    db.session.commit()
    for update_id in stalled:
        sending.start(update_id)
    return stalled
