"""How long personal data is kept: IP addresses, and signatures after a petition closes.

IP addresses serve abuse handling only. After IP_RETENTION_DAYS (default 30) each
signature's address is replaced by a keyed hash (HMAC-SHA256 under a key derived from
SECRET_KEY), which can still tell that two signatures came from one address but can't be
turned back into the address, nor matched by the admin's IP or network search.

SIGNATURE_RETENTION_MONTHS (default 6) after a petition closed, its signatures are
anonymised in place: the name, email, comment, IP and the postcode beyond its area go.
The rows stay, with their state, dates, country and postcode area, so the count and its
breakdowns by day, country and postcode area stay exact.

When did a petition close? The last "petition_state_changed" entry to "closed" in the
audit log (written by hand moves and by the beat task that closes due petitions); with no
such entry, its closing time if that has passed; else its last change (updated_at), the
latest moment it can have closed. Once all of a petition's signatures are anonymised an
audit entry "signatures_anonymised" says so, and the petition is skipped until it closes
again (after a reopening).
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import ipaddress
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String, bindparam, cast, delete, func, literal, select, update

from petitions.admin.export_counts import postcode_prefix
from petitions.admin.models import AuditEntry
from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.models import OutboxMessage, OutboxState
from petitions.signing.models import Petition, PetitionState, Signature

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
IP_HASH_PURPOSE = b"petitions.privacy.ip-hash.v1"
ANONYMISED_PREFIX = "anonymised-"
CLOSED_STATES = (PetitionState.CLOSED.value, PetitionState.ARCHIVED.value)

# Told how many rows each committed batch handled: `flask privacy retention` shows progress.
BatchDone = Callable[[int], None]


# --- IP addresses ---------------------------------------------------------------------------

def _ip_hash_key() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, IP_HASH_PURPOSE, hashlib.sha256).digest()


def ip_hash(address: str, key: bytes | None = None) -> str:
    """HMAC-SHA256 of the address in its canonical form (an IPv4-mapped IPv6 address is
    its IPv4 address), as 64 hex digits."""
    text = address.strip()
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        mapped = getattr(parsed, "ipv4_mapped", None)
        text = str(mapped or parsed)
    return hmac.new(key or _ip_hash_key(), text.encode(), hashlib.sha256).hexdigest()


def ip_retention_days() -> int:
    return int(current_app.config.get("IP_RETENTION_DAYS", 30))


def _ip_cutoff(now: datetime | None) -> datetime:
    return (now or utcnow()) - timedelta(days=ip_retention_days())


def count_old_ip_addresses(now: datetime | None = None) -> int:
    """How many signatures still hold an IP address older than IP_RETENTION_DAYS."""
    return db.session.scalar(
        select(func.count()).select_from(Signature)
        .where(Signature.created_at < _ip_cutoff(now), Signature.ip_address.is_not(None))
    ) or 0


def hash_old_ip_addresses(now: datetime | None = None, batch_size: int = BATCH_SIZE,
                          on_batch: BatchDone | None = None) -> int:
    """Replace the IP address of every signature older than IP_RETENTION_DAYS by its hash.

    One batch per transaction; safe to run twice at once (a row whose address changed or
    went since it was read is left alone). Returns how many rows changed.
    """
    cutoff = _ip_cutoff(now)
    key = _ip_hash_key()
    table = Signature.__table__
    change = (
        update(table)
        .where(table.c.id == bindparam("row_id"), table.c.ip_address == bindparam("old_ip"))
        .values(ip_address=None, ip_hash=bindparam("new_hash"))
    )
    total = 0
    while True:
        rows = db.session.execute(
            select(Signature.id, Signature.ip_address)
            .where(Signature.created_at < cutoff, Signature.ip_address.is_not(None))
            .limit(batch_size)
        ).all()
        if rows:
            params = [{"row_id": row_id, "old_ip": ip, "new_hash": ip_hash(ip, key)}
                      for row_id, ip in rows]
            db.session.execute(change, params)
        db.session.commit()
        total += len(rows)
        if on_batch is not None:
            on_batch(len(rows))
        if len(rows) < batch_size:
            return total


# --- anonymising signatures -----------------------------------------------------------------

def anonymise_signatures(ids: Sequence[int], now: datetime | None = None) -> int:
    """Erase the personal fields of these signatures in place; the caller commits.

    Kept: petition, state, counted, flagged, dates, country and the postcode's area (the
    prefix the count exports group by, so their numbers don't move). Their emails still
    waiting in the outbox (or failed there) are cancelled: deleted, as they hold the name
    and address.
    """
    if not ids:
        return 0
    ids = list(ids)
    db.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.signature_id.in_(ids))
        .where(OutboxMessage.state != OutboxState.SENDING)
        .execution_options(synchronize_session=False)
    )
    result = db.session.execute(
        update(Signature)
        .where(Signature.id.in_(ids), Signature.anonymised_at.is_(None))
        .values(
            name="",
            email="",
            # Unique per row, so (petition_id, canonical_email) stays unique; never an
            # address, so nobody signing later can collide with it.
            canonical_email=literal(ANONYMISED_PREFIX, String) + cast(Signature.id, String),
            postcode=postcode_prefix(Signature.postcode),
            comment=None,
            ip_address=None,
            # The hash only links signatures to one another; with no one left to link
            # them to, it goes too.
            ip_hash=None,
            show_name_publicly=False,
            email_updates=False,
            anonymised_at=now or utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def signature_retention_months() -> int:
    return int(current_app.config.get("SIGNATURE_RETENTION_MONTHS", 6))


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` earlier (the 31st becomes the month's last day)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _audit_times(action: str, petition_ids: list[int], to: str | None = None) -> dict[int, datetime]:
    """The latest audit entry of this action per petition (with detail["to"] == to)."""
    rows = db.session.execute(
        select(AuditEntry.target_id, AuditEntry.at, AuditEntry.detail)
        .where(AuditEntry.action == action, AuditEntry.target_type == Petition.__tablename__)
        .where(AuditEntry.target_id.in_([str(i) for i in petition_ids]))
    ).all()
    latest: dict[int, datetime] = {}
    for target_id, at, detail in rows:
        if to is not None and (detail or {}).get("to") != to:
            continue
        petition_id = int(target_id)
        if petition_id not in latest or at > latest[petition_id]:
            latest[petition_id] = at
    return latest


def closed_since(petition: Petition, audited_close: datetime | None, now: datetime) -> datetime:
    """When the retention clock of a closed petition started (see the module's docstring)."""
    if audited_close is not None:
        return audited_close
    if petition.closes_at is not None and petition.closes_at <= now:
        return petition.closes_at
    return petition.updated_at


def petitions_due(now: datetime | None = None) -> list[Petition]:
    """Closed or archived petitions past their retention whose signatures are not yet all
    anonymised (as far as the audit log knows)."""
    now = now or utcnow()
    cutoff = months_before(now, signature_retention_months())
    closed = list(db.session.scalars(
        select(Petition).where(Petition.state.in_(CLOSED_STATES)).order_by(Petition.id)))
    if not closed:
        return []
    ids = [p.id for p in closed]
    closes = _audit_times("petition_state_changed", ids, to=PetitionState.CLOSED.value)
    done = _audit_times("signatures_anonymised", ids)
    due = []
    for petition in closed:
        since = closed_since(petition, closes.get(petition.id), now)
        if since <= cutoff and not (petition.id in done and done[petition.id] >= since):
            due.append(petition)
    return due


def signatures_to_anonymise(petitions: Sequence[Petition]) -> dict[int, int]:
    """Per petition id, how many of its signatures are not anonymised yet."""
    if not petitions:
        return {}
    counts = dict(db.session.execute(
        select(Signature.petition_id, func.count())
        .where(Signature.petition_id.in_([p.id for p in petitions]),
               Signature.anonymised_at.is_(None))
        .group_by(Signature.petition_id)
    ).all())
    return {p.id: counts.get(p.id, 0) for p in petitions}


def anonymise_closed_petitions(now: datetime | None = None, batch_size: int = BATCH_SIZE,
                               on_batch: BatchDone | None = None) -> dict[str, int]:
    """Anonymise the signatures of every petition past its retention, batch by batch, each
    batch its own transaction. Returns {slug: signatures anonymised} for the petitions done."""
    from petitions.admin import audit

    now = now or utcnow()
    done: dict[str, int] = {}
    for petition in petitions_due(now):
        petition_id, slug = petition.id, petition.slug
        total = 0
        while True:
            ids = list(db.session.scalars(
                select(Signature.id)
                .where(Signature.petition_id == petition_id, Signature.anonymised_at.is_(None))
                .limit(batch_size)
            ))
            total += anonymise_signatures(ids, now)
            if len(ids) < batch_size:
                break
            db.session.commit()
            if on_batch is not None:
                on_batch(len(ids))
        audit.record("signatures_anonymised", db.session.get(Petition, petition_id),
                     actor=None, signatures=total,
                     months=signature_retention_months())
        db.session.commit()
        if on_batch is not None:
            on_batch(len(ids))
        done[slug] = total
        log.info("anonymised %d signatures of %s (retention)", total, slug)
    return done
