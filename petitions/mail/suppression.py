"""Addresses we must not mail: hard bounces, complaints and manual blocks."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from petitions.extensions import db
from petitions.mail.models import Suppression
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
