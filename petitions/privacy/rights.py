"""Self-service data rights: a signed link to everything held about an address, and erasure.

The link is an itsdangerous token with its own salt, valid for 24 hours, carrying the
canonical address (signed, not encrypted: the pages it opens are never cached and send
no Referer). Whoever can read the mailbox can see and erase what we hold about it.

Signatures are found by canonical address one petition at a time, so each lookup is a
probe of the (petition_id, canonical_email) unique index rather than a scan.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, or_, select

from petitions.admin.models import AuditEntry
from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.models import OutboxMessage, OutboxState, Suppression
from petitions.newsletter.preferences import erase as erase_subscriber
from petitions.newsletter.preferences import export as export_subscriber
from petitions.newsletter.subscribers import Subscriber
from petitions.privacy.emails import send_privacy_link
from petitions.privacy.retention import anonymise_signatures
from petitions.signing.canonical import GMAIL_DOMAINS, canonical_email
from petitions.signing.models import Petition, Signature, SignatureState

log = logging.getLogger(__name__)

SALT = "privacy.data-rights"
MAX_AGE = timedelta(hours=24)
MAX_TOKEN_LENGTH = 800
LINK_KIND = "privacy_link"
# At most this many links an hour to one mailbox, so the form can't be used to flood it.
MAX_LINKS_PER_HOUR = 3


# --- the link --------------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    # Old keys (Flask's SECRET_KEY_FALLBACKS) still verify; the newest, last, signs.
    keys = [*(current_app.config.get("SECRET_KEY_FALLBACKS") or []),
            current_app.config["SECRET_KEY"]]
    return URLSafeTimedSerializer(keys, salt=SALT)


def make_token(address: str) -> str:
    return _serializer().dumps({"email": canonical_email(address)})


@dataclass(frozen=True)
class DataToken:
    email: str | None
    expired: bool = False

    @property
    def valid(self) -> bool:
        return self.email is not None and not self.expired


def read_token(token: str) -> DataToken:
    """The canonical address a token names; expired ones still say so, for a kinder page."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return DataToken(None)
    try:
        payload = _serializer().loads(token, max_age=int(MAX_AGE.total_seconds()))
        expired = False
    except SignatureExpired:
        return DataToken(None, expired=True)
    except BadData:
        return DataToken(None)
    email = payload.get("email") if isinstance(payload, dict) else None
    if not isinstance(email, str) or "@" not in email:
        return DataToken(None)
    return DataToken(email, expired)


def links_sent_recently(address: str, now: datetime | None = None) -> int:
    canonical = canonical_email(address)
    since = (now or utcnow()) - timedelta(hours=1)
    recent = db.session.scalars(
        select(OutboxMessage.to_address)
        .where(OutboxMessage.kind == LINK_KIND, OutboxMessage.created_at >= since)
    )
    return sum(1 for to in recent if canonical_email(to) == canonical)


def request_link(address: str) -> bool:
    """Email the address its link, whatever we hold about it (a link that shows "nothing"
    is harmless, and answering alike every time tells nobody whether we know the address).
    False when the hourly cap for that mailbox is reached."""
    if links_sent_recently(address) >= MAX_LINKS_PER_HOUR:
        log.info("privacy link not sent: hourly cap reached")
        return False
    send_privacy_link(address, make_token(address), hours=int(MAX_AGE.total_seconds() // 3600))
    db.session.commit()
    return True


# --- what we hold ----------------------------------------------------------------------------

def signatures_of(email: str) -> list[Signature]:
    petition_ids = list(db.session.scalars(select(Petition.id).order_by(Petition.id)))
    if not petition_ids:
        return []
    return list(db.session.scalars(
        select(Signature)
        .where(Signature.petition_id.in_(petition_ids), Signature.canonical_email == email)
        .order_by(Signature.created_at, Signature.id)
    ))


def subscriber_of(email: str) -> Subscriber | None:
    return db.session.scalar(select(Subscriber).where(Subscriber.canonical_email == email))


def _like_patterns(email: str) -> list[str]:
    """LIKE patterns that every spelling of this canonical address matches (and a few
    others, weeded out afterwards): any +tag, any case, and for Gmail any dots."""
    local, _, domain = email.rpartition("@")
    escaped = [c if c not in "%_\\" else "\\" + c for c in local]
    if domain == "gmail.com":
        return [f"{'%'.join(escaped)}%@{d}" for d in GMAIL_DOMAINS]
    return [f"{''.join(escaped)}%@{domain}"]


def _outbox_ids(email: str, signatures: list[Signature], subscriber: Subscriber | None):
    """Outbox rows for this person: linked to their rows, or addressed to them."""
    signature_ids = {s.id for s in signatures}
    subscriber_id = subscriber.id if subscriber is not None else None
    terms = [func.lower(OutboxMessage.to_address).like(p, escape="\\")
             for p in _like_patterns(email)]
    if signature_ids:
        terms.append(OutboxMessage.signature_id.in_(sorted(signature_ids)))
    if subscriber_id is not None:
        terms.append(OutboxMessage.subscriber_id == subscriber_id)
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.to_address, OutboxMessage.signature_id,
               OutboxMessage.subscriber_id).where(or_(*terms))
    ).all()
    return [row.id for row in rows
            if row.signature_id in signature_ids
            or (subscriber_id is not None and row.subscriber_id == subscriber_id)
            or canonical_email(row.to_address) == email]


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _signature_data(signature: Signature) -> dict:
    petition = signature.petition
    return {
        "petition": {"slug": petition.slug, "title": petition.title},
        "name": signature.name,
        "email": signature.email,
        "postcode": signature.postcode,
        "country": signature.country,
        "comment": signature.comment,
        "state": signature.state,
        "signed_at": _time(signature.created_at),
        "confirmed_at": _time(signature.confirmed_at),
        "show_name_publicly": signature.show_name_publicly,
        "email_updates": signature.email_updates,
        "updates_stopped_at": _time(signature.updates_stopped_at),
        "subscribe_newsletter": signature.subscribe_newsletter,
        "ip_address": signature.ip_address,
        "ip_address_hashed": signature.ip_hash is not None,
    }


def collect(email: str) -> dict:
    """Everything held about a canonical address, as plain data (the page and the JSON)."""
    signatures = signatures_of(email)
    subscriber = subscriber_of(email)
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(_outbox_ids(email, signatures, subscriber)))
        .order_by(OutboxMessage.id)
    ).all()
    suppression = db.session.scalar(
        select(Suppression).where(Suppression.canonical_email == email))
    return {
        "email": email,
        "exported_at": _time(utcnow()),
        "signatures": [_signature_data(s) for s in signatures],
        "subscription": export_subscriber(subscriber) if subscriber is not None else None,
        "emails": [
            {"to": m.to_address, "kind": m.kind, "subject": m.subject, "state": m.state,
             "created_at": _time(m.created_at), "sent_at": _time(m.sent_at)}
            for m in messages
        ],
        "do_not_email": (
            {"reason": suppression.reason, "since": _time(suppression.created_at)}
            if suppression is not None else None
        ),
    }


# --- erasing ---------------------------------------------------------------------------------

def erase(email: str) -> dict[str, int]:
    """Erase everything held about a canonical address, in one transaction.

    Confirmed (and invalidated) signatures are anonymised in place, so counts and their
    breakdowns stay exact; pending ones, never counted, are deleted. The subscriber goes
    with their consent records, digest ledger and emails (the newsletter's own erase). So
    do all emails to the address. A do-not-email entry stays, so that it is still honoured.
    The audit log records the numbers only: no address, no IP.
    """
    signatures = signatures_of(email)
    subscriber = subscriber_of(email)
    emails = db.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.id.in_(_outbox_ids(email, signatures, subscriber)))
        .where(OutboxMessage.state != OutboxState.SENDING)
        .execution_options(synchronize_session=False)
    ).rowcount or 0
    pending = [s.id for s in signatures if s.state == SignatureState.PENDING]
    deleted = 0
    if pending:
        deleted = db.session.execute(
            delete(Signature)
            .where(Signature.id.in_(pending), Signature.state == SignatureState.PENDING)
            .execution_options(synchronize_session=False)
        ).rowcount or 0
    # Every one of them: one confirmed since it was read above was not deleted, and must
    # not keep its details either.
    anonymised = anonymise_signatures([s.id for s in signatures])
    counts = {"signatures": anonymised + deleted, "signatures_anonymised": anonymised,
              "signatures_deleted": deleted, "subscribers": int(subscriber is not None),
              "emails": emails}
    # Written directly, not through audit.record(): that would add the request's IP (and
    # a logged-in admin as the actor) to an entry about someone else's erasure.
    db.session.add(AuditEntry(action="data_erased", detail=counts))
    if subscriber is not None:
        erase_subscriber(subscriber)  # commits the whole transaction
    else:
        db.session.commit()
        db.session.expunge_all()
    log.info("data_erased %s", counts)
    return counts
