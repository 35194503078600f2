"""Signature counts, folded in batches.

A confirmation only flips its own signature row. A periodic task (every
COUNT_REFRESH_SECONDS) marks confirmed-but-uncounted signatures as counted and adds
them to their petition's count in the same transaction, so the count is exact within
one fold of the last confirmation. Under PostgreSQL's row locks two folds running at
once never count a signature twice: the second one finds the rows already counted.
They never queue on each other either: each batch first takes a transaction-level
advisory lock (one per schema), and a fold that finds it taken stops at once, leaving
the work to the fold that holds it and to the next one. (Beat sends a fold every two
seconds; a slow one would otherwise hold the next one waiting on its rows.)
A nightly recount rebuilds every count from the signatures themselves.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select, update

from petitions.extensions import db
from petitions.signing.models import Petition, Signature, SignatureState

FOLD_BATCH = 5000
# The first key of the fold's advisory lock; the second is the schema's, so that
# deployments (and test runs) sharing one database never hold up each other's folds.
FOLD_LOCK = 1_718_576_212


def _fold_alone() -> bool:
    """Take the fold's lock for this transaction; False when another fold holds it."""
    if db.engine.dialect.name != "postgresql":
        return True  # SQLite lets one writer in at a time anyway
    return bool(db.session.scalar(
        select(func.pg_try_advisory_xact_lock(FOLD_LOCK, func.hashtext(func.current_schema())))))


def fold_confirmed_signatures(batch_size: int = FOLD_BATCH) -> int:
    """Add newly confirmed signatures to their petitions' counts; returns how many."""
    folded = 0
    while True:
        if not _fold_alone():
            db.session.rollback()
            return folded
        uncounted = (
            select(Signature.id)
            .where(Signature.state == SignatureState.CONFIRMED, Signature.counted.is_(False))
            .where(Signature.flagged.is_(False))
            .limit(batch_size)
        )
        marked = db.session.execute(
            update(Signature)
            .where(Signature.id.in_(uncounted.scalar_subquery()))
            # Re-checked on the row's latest version if another transaction changed it
            # meanwhile: a signature invalidated since the subquery's snapshot is skipped.
            .where(Signature.state == SignatureState.CONFIRMED, Signature.counted.is_(False))
            .where(Signature.flagged.is_(False))
            .values(counted=True)
            .returning(Signature.petition_id)
            .execution_options(synchronize_session=False)
        )
        per_petition = Counter(marked.scalars())
        for petition_id in sorted(per_petition):
            db.session.execute(
                update(Petition)
                .where(Petition.id == petition_id)
                .values(signature_count=Petition.signature_count + per_petition[petition_id])
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
        batch = sum(per_petition.values())
        folded += batch
        if batch < batch_size:
            return folded


def recount_all() -> int:
    """Rebuild every count from scratch; returns how many petitions changed."""
    fold_confirmed_signatures()
    # Locking the petitions first makes a concurrent fold wait for us, so the count we
    # write and the signatures it marks afterwards never overlap.
    db.session.execute(select(Petition.id).with_for_update()).all()
    exact = (
        select(func.count(Signature.id))
        .where(Signature.petition_id == Petition.id)
        .where(Signature.state == SignatureState.CONFIRMED, Signature.counted.is_(True))
        .scalar_subquery()
    )
    result = db.session.execute(
        update(Petition)
        .where(Petition.signature_count != exact)
        .values(signature_count=exact)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount or 0
