"""Addresses we must not mail: hard bounces, complaints, soft-bounce streaks and manual blocks."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select

from petitions.database import insert_ignoring_duplicates, utcnow
from petitions.extensions import db
from petitions.mail.models import SoftBounceStreak, Suppression, SuppressionReason
from petitions.signing.canonical import canonical_email


def is_suppressed(address: str) -> bool:
    return bool(suppressed_among([address]))


def suppressed_among(addresses: Iterable[str]) -> set[str]:
    """The given addresses (as given) whose mailbox is suppressed; one query per batch."""
    by_canonical: dict[str, list[str]] = {}
    for address in addresses:
        by_canonical.setdefault(canonical_email(address), []).append(address)
    if not by_canonical:
        return set()
    found = db.session.scalars(
        select(Suppression.canonical_email).where(
            Suppression.canonical_email.in_(list(by_canonical))
        )
    )
    return {address for canonical in found for address in by_canonical[canonical]}


def suppress(address: str, reason: SuppressionReason | str, detail: str | None = None) -> bool:
    """Add the address's mailbox to the list; True if it was not on it. The caller commits.

    Idempotent under concurrency: the unique canonical address decides, and a second
    report of the same mailbox keeps the first row (and its reason).
    """
    inserted = db.session.execute(
        insert_ignoring_duplicates(Suppression, db.session.get_bind(),
                                   index_elements=["canonical_email"])
        .values(
            canonical_email=canonical_email(address),
            reason=SuppressionReason(reason).value,
            detail=(detail or None) and detail[:2000],
            created_at=utcnow(),
        )
        # RETURNING, not rowcount: an ORM-enabled INSERT reports rowcount -1 on psycopg.
        .returning(Suppression.id)
    ).first()
    return inserted is not None


def unsuppress(address: str) -> bool:
    """Take the address's mailbox off the list, and forget its soft bounces, so that it
    starts afresh; True if it was on the list. The caller commits."""
    canonical = canonical_email(address)
    db.session.execute(
        delete(SoftBounceStreak).where(SoftBounceStreak.canonical_email == canonical)
        .execution_options(synchronize_session=False)
    )
    result = db.session.execute(
        delete(Suppression)
        .where(Suppression.canonical_email == canonical)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
