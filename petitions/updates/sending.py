"""Sending an update: published once, fanned out in chunks of signatures, exactly once each.

The digest's pattern (petitions/newsletter/digests.py). Publishing sets the update to
"sending" and fixes its recipients (see recipients.py). They are walked in id order
(keyset pagination) and split into chunks. A chunk writes, in ONE transaction, a ledger
row per signature (unique per update and signature) and, for each ledger row that was
new, its outbox row, which carries a small payload and is rendered at send time. A
chunk that dies before its commit left nothing and is simply done again; one that
committed is skipped on a rerun because its ledger rows exist. The ordinary outbox
delivery sends the rows (same rate limit, one reused SMTP connection), claiming each
once. So a send that is interrupted, resumed, or pressed twice reaches everyone once.

When no recipient is left without a ledger row, the update is marked sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from email.utils import make_msgid
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import Row, func, insert, select, update

from petitions.database import insert_ignoring_duplicates, utcnow
from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.signing.models import Signature
from petitions.signing.translations import petition_text
from petitions.updates import recipients
from petitions.updates.content import update_subject
from petitions.updates.models import PetitionUpdate, UpdateDelivery, UpdateState

log = logging.getLogger(__name__)

KIND = "petition_update"
# A send with no new ledger row for this long is resumed by the sweep (updates.resume).
STALLED_AFTER = timedelta(minutes=10)


def publish(update: PetitionUpdate) -> None:
    """Draft -> sending: from now on it is public, and its recipients are fixed.
    The caller has checked the state (under a row lock) and commits."""
    update.state = UpdateState.SENDING.value
    update.published_at = utcnow()


def chunk_bounds(update: PetitionUpdate, chunk_size: int | None = None) -> Iterator[tuple[int, int]]:
    """(first id, last id) of each chunk of recipients not yet queued, by keyset pagination."""
    chunk_size = chunk_size or current_app.config["DIGEST_CHUNK_SIZE"]
    after = 0
    while True:
        ids = db.session.scalars(
            recipients.missing(update).where(Signature.id > after)
            .order_by(Signature.id).limit(chunk_size)
        ).all()
        if not ids:
            return
        yield ids[0], ids[-1]
        after = ids[-1]


def plan_chunk(update: PetitionUpdate, first_id: int, last_id: int) -> list[Row]:
    """(id, email, locale) of the chunk's recipients who have no ledger row yet."""
    return db.session.execute(
        select(Signature.id, Signature.email, Signature.locale)
        .where(Signature.id.in_(
            recipients.missing(update).where(Signature.id.between(first_id, last_id))))
        .order_by(Signature.id)
    ).all()


def queue_chunk(update: PetitionUpdate, planned: list[Row]) -> int:
    """Ledger rows, then outbox rows for those that were new, in one transaction.

    A ledger row that already exists (a chunk run twice, at once or later) is skipped by
    the unique constraint and gets no outbox row. Returns how many were queued.
    """
    if not planned:
        db.session.rollback()
        return 0
    now = utcnow()
    domain = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    message_ids = {row.id: make_msgid(domain=domain) for row in planned}
    inserted = set(db.session.scalars(
        insert_ignoring_duplicates(UpdateDelivery.__table__, db.engine).returning(
            UpdateDelivery.__table__.c.signature_id),
        [{"update_id": update.id, "signature_id": row.id, "message_id": message_ids[row.id],
          "created_at": now} for row in planned],
    ))
    if inserted:
        # Each signer's email in the language they signed in; the update's own words
        # are the admin's, the petition's title and everything around them translated.
        subjects = {locale: _subject_in(update, locale)
                    for locale in {row.locale or "en" for row in planned}}
        db.session.execute(insert(OutboxMessage), [
            {
                "kind": KIND,
                "to_address": row.email,
                "subject": subjects[row.locale or "en"],
                "headers": {},
                "payload": {"update": update.id, "locale": row.locale or "en"},
                "message_id": message_ids[row.id],
                "signature_id": row.id,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for row in planned if row.id in inserted
        ])
    db.session.commit()
    return len(inserted)


def _subject_in(update: PetitionUpdate, locale: str) -> str:
    from petitions.updates.milestones import words_for_reader  # it builds on this module

    petition_title = petition_text(update.petition, locale).title
    title, _body = words_for_reader(update, update.petition, petition_title, locale)
    with force_locale(locale):
        return update_subject(title, petition_title)


def build_chunk(update_id: int, first_id: int, last_id: int) -> int:
    update = db.session.get(PetitionUpdate, update_id)
    if update is None or update.state == UpdateState.DRAFT:
        return 0
    return queue_chunk(update, plan_chunk(update, first_id, last_id))


def finish_if_complete(update_id: int) -> bool:
    """Mark the update sent once every recipient has a ledger row. Safe to call often."""
    item = db.session.get(PetitionUpdate, update_id)
    if item is None or item.state != UpdateState.SENDING:
        return False
    if recipients.anyone_missing(item):
        db.session.rollback()
        return False
    db.session.execute(
        update(PetitionUpdate)
        .where(PetitionUpdate.id == update_id, PetitionUpdate.state == UpdateState.SENDING)
        .values(state=UpdateState.SENT.value, fanned_out_at=utcnow())
    )
    db.session.commit()
    return True


def fan_out(update_id: int) -> int:
    """The whole fan-out in this process (the CLI and the tests); the workers split it into
    one task per chunk instead. Returns how many emails were queued."""
    item = db.session.get(PetitionUpdate, update_id)
    if item is None or item.state != UpdateState.SENDING:
        return 0
    queued = 0
    for first_id, last_id in list(chunk_bounds(item)):
        queued += build_chunk(update_id, first_id, last_id)
    finish_if_complete(update_id)
    return queued


def stalled_updates(now=None) -> list[int]:
    """Updates still "sending" whose fan-out has made no progress for STALLED_AFTER: the
    worker died, or the broker lost the tasks. Running them again is safe."""
    now = now or utcnow()
    latest = (
        select(UpdateDelivery.update_id, func.max(UpdateDelivery.created_at).label("at"))
        .group_by(UpdateDelivery.update_id).subquery()
    )
    return list(db.session.scalars(
        select(PetitionUpdate.id)
        .outerjoin(latest, latest.c.update_id == PetitionUpdate.id)
        .where(PetitionUpdate.state == UpdateState.SENDING,
               PetitionUpdate.fanned_out_at.is_(None),
               PetitionUpdate.published_at < now - STALLED_AFTER)
        .where((latest.c.at.is_(None)) | (latest.c.at < now - STALLED_AFTER))
        .order_by(PetitionUpdate.id)
    ))


def enqueue(task_name: str, *args) -> bool:
    """Hand a task to the workers through this app's own Celery app. If the broker is
    down, the committed state is the truth: the sweep resumes the send later."""
    import petitions.updates.tasks  # noqa: F401  (registers the tasks with the Celery app)

    try:
        current_app.extensions["celery"].tasks[task_name].apply_async(args=args, retry=False)
    except Exception as exc:  # the broker is unreachable
        log.warning("task %s%r not queued (%s); the sweep will resume it", task_name, args, exc)
        return False
    return True


def start(update_id: int) -> bool:
    """Start (or resume) the fan-out on the workers."""
    return enqueue("updates.start", update_id)
