"""Who gets an update, and how far its sending has gone.

A recipient is a signature of the petition that is confirmed (so never invalidated),
whose signer ticked "email me updates" and has not stopped this petition's updates,
whose address is not suppressed, and that was confirmed by the time the update was
published. That last rule fixes the list when sending starts: someone who signs later
sees the update on the petition's page instead, and a send can tell when it is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, case, func, literal, select

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.models import OutboxMessage, OutboxState, Suppression
from petitions.signing.models import Signature, SignatureState
from petitions.updates.models import PetitionUpdate, UpdateDelivery, UpdateState


def wants_updates():
    """The conditions on a signature itself, checked again when each email is sent."""
    return and_(
        Signature.state == SignatureState.CONFIRMED,
        Signature.email_updates.is_(True),
        Signature.updates_stopped_at.is_(None),
        Signature.flagged.is_(False),
        Signature.anonymised_at.is_(None),
    )


def eligible(petition_id: int, cutoff: datetime) -> Select:
    """Signature ids of the recipients (see the module docstring)."""
    return (
        select(Signature.id)
        .where(Signature.petition_id == petition_id, wants_updates())
        .where(Signature.confirmed_at <= cutoff)
        .where(~select(Suppression.id)
               .where(Suppression.canonical_email == Signature.canonical_email).exists())
    )


def cutoff_of(update: PetitionUpdate) -> datetime:
    return update.published_at or utcnow()


def recipient_count(update: PetitionUpdate) -> int:
    query = eligible(update.petition_id, cutoff_of(update)).subquery()
    return db.session.scalar(select(func.count()).select_from(query)) or 0


def missing(update: PetitionUpdate) -> Select:
    """Recipients who have no ledger row yet (and so no email): an anti-join on the
    ledger's unique (update, signature) index."""
    done = select(UpdateDelivery.id).where(UpdateDelivery.update_id == update.id,
                                           UpdateDelivery.signature_id == Signature.id)
    return eligible(update.petition_id, cutoff_of(update)).where(~done.exists())


def anyone_missing(update: PetitionUpdate) -> bool:
    return db.session.scalar(select(missing(update).limit(1).exists())) or False


@dataclass(frozen=True)
class Progress:
    planned: int = 0   # recipients: ledger rows plus those still to be queued
    queued: int = 0    # in the outbox, not sent yet (or waiting for a retry)
    sent: int = 0
    failed: int = 0    # the mail server refused it, or it ran out of retries
    skipped: int = 0   # not sent: the signer stopped updates or was invalidated meanwhile
    waiting: int = 0   # recipients not queued yet (the fan-out is still running)

    @property
    def finished(self) -> bool:
        return self.planned == self.sent + self.failed + self.skipped


def _outcome():
    """Each ledger row's outcome, from its outbox row. Sent rows are purged after a week,
    so a ledger row whose outbox row is gone was sent."""
    return case(
        (OutboxMessage.id.is_(None), literal("sent")),
        (and_(OutboxMessage.state == OutboxState.FAILED,
              OutboxMessage.last_error.like("not sent:%")), literal("skipped")),
        (OutboxMessage.state.in_([OutboxState.PENDING, OutboxState.SENDING]), literal("queued")),
        else_=OutboxMessage.state,
    )


def progress_of(updates: list[PetitionUpdate]) -> dict[int, Progress]:
    """Progress per update id: one grouped query over the ledger joined to the outbox on
    message_id, and a count of the recipients still waiting for updates being fanned out."""
    ids = [u.id for u in updates if u.state != UpdateState.DRAFT]
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    if ids:
        outcome = _outcome().label("outcome")
        rows = db.session.execute(
            select(UpdateDelivery.update_id, outcome, func.count())
            .select_from(UpdateDelivery)
            .outerjoin(OutboxMessage, OutboxMessage.message_id == UpdateDelivery.message_id)
            .where(UpdateDelivery.update_id.in_(ids))
            .group_by(UpdateDelivery.update_id, outcome)
        )
        for update_id, state, count in rows:
            counts[update_id][state] = count
    result = {}
    for update in updates:
        if update.state == UpdateState.DRAFT:
            planned = recipient_count(update)
            result[update.id] = Progress(planned=planned, waiting=planned)
            continue
        seen = counts[update.id]
        waiting = 0
        if update.fanned_out_at is None:
            query = missing(update).subquery()
            waiting = db.session.scalar(select(func.count()).select_from(query)) or 0
        result[update.id] = Progress(
            planned=sum(seen.values()) + waiting, queued=seen.get("queued", 0),
            sent=seen.get("sent", 0), failed=seen.get("failed", 0),
            skipped=seen.get("skipped", 0), waiting=waiting,
        )
    return result
