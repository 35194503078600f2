"""Invalidating signatures, one or many, and restoring one.

An invalidated signature stops counting the moment the transaction commits: the
signatures that were counted are subtracted from their petitions' signature_count in
that same transaction, and the count fold (which only takes confirmed, uncounted rows)
never picks them up again. Their queued email is cancelled, and their confirmation link
answers as an invalid one (signing.service.load_for_confirmation).

Working alongside the count fold (signing.counting), which marks rows counted=True and
then adds to petitions in petition-id order, one transaction per batch:
- Each batch first locks its signature rows (SELECT ... FOR UPDATE, in id order) and
  reads `counted` from the locked rows. A fold that marked one of them a moment ago
  holds its lock; we wait for it to commit and then read counted=True, so the subtraction
  is exact. (An UPDATE ... RETURNING would hand back counted as we set it, False, and an
  UPDATE filtered on counted would skip a row that the fold flipped meanwhile.)
- The petitions are updated once, after every batch, in petition-id order like the fold.
  So we never hold a petition row while waiting for a signature row, and two writers
  that both take petitions in id order cannot deadlock on them.
- Two writers locking signature rows in different orders can still, rarely, deadlock;
  PostgreSQL then aborts one. A fold simply runs again later; here the whole change is
  rolled back and retried (RETRIES times).
SQLite has no row locks: every transaction there begins IMMEDIATE and so runs alone.

A bulk invalidation is one transaction, batched BATCH_SIZE rows per statement so that
no statement carries 100,000 ids; the audit entry commits with it, all or nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.exc import DBAPIError

from petitions.admin import audit
from petitions.admin.signature_search import SignatureFilters, conditions
from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.models import OutboxMessage, OutboxState
from petitions.signing.models import Petition, Signature, SignatureState

BATCH_SIZE = 5000
RETRIES = 3
# OutcomeWriter.cancel writes the same words when the sender finds one at send time.
NOT_SENT = "not sent: signature invalidated"
DEADLOCK = "40P01"


class CountChanged(Exception):
    """The filters now match a different number of signatures than the preview showed."""

    def __init__(self, count: int):
        super().__init__(count)
        self.count = count


@dataclass(frozen=True)
class Invalidated:
    count: int
    uncounted: dict[int, int]  # petition id -> signatures taken off its count


def _invalidate(where: list[ColumnElement[bool]], reason: str) -> Invalidated:
    """Invalidate every signature matching `where` that is not invalidated yet, in the
    current transaction (the caller commits)."""
    now = utcnow()
    total, after_id = 0, 0
    uncounted: Counter[int] = Counter()
    while True:
        batch = db.session.execute(
            select(Signature.id, Signature.petition_id, Signature.counted)
            .where(*where, Signature.state != SignatureState.INVALIDATED,
                   Signature.id > after_id)
            .order_by(Signature.id)
            .limit(BATCH_SIZE)
            .with_for_update()
        ).all()
        if not batch:
            break
        ids = [row.id for row in batch]
        db.session.execute(
            update(Signature)
            .where(Signature.id.in_(ids))
            .values(state=SignatureState.INVALIDATED, invalidated_at=now,
                    invalidation_reason=reason, counted=False)
            .execution_options(synchronize_session=False)
        )
        uncounted.update(row.petition_id for row in batch if row.counted)
        _cancel_queued_mail(ids)
        total, after_id = total + len(batch), ids[-1]
        if len(batch) < BATCH_SIZE:
            break
    for petition_id in sorted(uncounted):
        db.session.execute(
            update(Petition)
            .where(Petition.id == petition_id)
            .values(signature_count=Petition.signature_count - uncounted[petition_id])
            .execution_options(synchronize_session=False)
        )
    return Invalidated(total, dict(uncounted))


def _cancel_queued_mail(signature_ids: list[int]) -> None:
    """Rows already claimed by a sender are caught at send time (mail.rendering.prepare)."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.signature_id.in_(signature_ids))
        .where(OutboxMessage.state == OutboxState.PENDING)
        .values(state=OutboxState.FAILED, last_error=NOT_SENT, claimed_at=None)
        .execution_options(synchronize_session=False)
    )


def preview(where: list[ColumnElement[bool]]) -> list[tuple[Petition, int, int]]:
    """What a bulk invalidation would take: (petition, signatures, of which counted now),
    largest first. `where` must leave out invalidated signatures."""
    counted = func.sum(case((Signature.counted.is_(True), 1), else_=0))
    rows = db.session.execute(
        select(Signature.petition_id, func.count(Signature.id), counted)
        .where(*where).group_by(Signature.petition_id)
    ).all()
    petitions = {p.id: p for p in db.session.scalars(
        select(Petition).where(Petition.id.in_([row[0] for row in rows])))}
    return sorted(((petitions[pid], n, int(c or 0)) for pid, n, c in rows),
                  key=lambda item: -item[1])


def _retrying(change):
    for attempt in range(RETRIES):
        try:
            return change()
        except DBAPIError as error:
            db.session.rollback()
            if getattr(error.orig, "sqlstate", None) != DEADLOCK or attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def invalidate_signature(signature: Signature, reason: str) -> bool:
    """Invalidate one signature and commit; False if it already was invalidated."""
    signature_id, petition_slug = signature.id, signature.petition.slug

    def change() -> bool:
        done = _invalidate([Signature.id == signature_id], reason)
        if not done.count:
            db.session.rollback()
            return False
        audit.record("signature_invalidated", signature, reason=reason, petition=petition_slug,
                     was_counted=bool(done.uncounted))
        db.session.commit()
        return True

    return _retrying(change)


def invalidate_matching(filters: SignatureFilters, reason: str, expected: int) -> int:
    """Invalidate what the filters match, if that is still `expected` signatures; commits
    and returns the count. Raises CountChanged (nothing changed) when it is not."""

    def change() -> int:
        where = [*conditions(filters), Signature.state != SignatureState.INVALIDATED]
        count, last_id = db.session.execute(
            select(func.count(Signature.id), func.max(Signature.id)).where(*where)
        ).one()
        if count != expected:
            db.session.rollback()
            raise CountChanged(count)
        if not count:
            db.session.rollback()
            return 0
        # Signatures made from now on are not part of what the moderator saw.
        done = _invalidate([*where, Signature.id <= last_id], reason)
        if done.count != expected:  # a row changed between the count and its lock
            db.session.rollback()
            raise CountChanged(done.count)
        slugs = dict(db.session.execute(
            select(Petition.id, Petition.slug).where(Petition.id.in_(done.uncounted))).all())
        audit.record("signatures_invalidated", filters=filters.as_args(), count=done.count,
                     reason=reason,
                     uncounted={slugs[pid]: n for pid, n in sorted(done.uncounted.items())})
        db.session.commit()
        return done.count

    return _retrying(change)


def restore_signature(signature: Signature) -> str | None:
    """Undo an invalidation: confirmed again if it had been confirmed, else pending. It
    stays uncounted, so the next fold counts it again. Commits; returns the new state,
    or None if it was not invalidated."""
    previous_reason = signature.invalidation_reason
    restored = db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.state == SignatureState.INVALIDATED)
        .values(
            state=case((Signature.confirmed_at.is_not(None), SignatureState.CONFIRMED.value),
                       else_=SignatureState.PENDING.value),
            invalidated_at=None, invalidation_reason=None, counted=False,
        )
        .returning(Signature.state)
        .execution_options(synchronize_session=False)
    ).first()
    if restored is None:
        db.session.rollback()
        return None
    audit.record("signature_restored", signature, state=restored.state,
                 petition=signature.petition.slug, invalidation_reason=previous_reason)
    db.session.commit()
    return restored.state
