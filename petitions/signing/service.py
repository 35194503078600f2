"""Signing and confirming, as transactions. Routes stay thin; tests call these too."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from functools import lru_cache

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from petitions.database import insert_ignoring_duplicates, utcnow
from petitions.extensions import db
from petitions.languages import current_language
from petitions.signing.canonical import canonical_email
from petitions.signing.email import (
    confirmation_subject,
    queue_confirmation,
    send_already_signed_notice,
    send_signature_confirmation,
)
from petitions.signing.models import Petition, Signature, SignatureState
from petitions.signing.tokens import email_digest, read_confirmation_token

# A pending signature gets its first email plus at most this many re-sends; a confirmed
# one at most this many "already signed" notices. Nobody can flood an inbox through us.
MAX_RESENDS = 3
MAX_NOTICES = 3


@dataclass(frozen=True)
class SignatureDetails:
    name: str
    email: str
    postcode: str
    country: str
    comment: str | None = None
    show_name_publicly: bool = False
    email_updates: bool = False
    subscribe_newsletter: bool = False


class SignOutcome(StrEnum):
    """What happened. Never shown to the signer: every outcome gets the same page."""

    CREATED = "created"
    RESENT = "resent"
    NOTIFIED = "notified"
    CAPPED = "capped"


def sign_petition(petition: Petition, details: SignatureDetails, ip: str | None,
                  flag_reason: str | None = None, api_key_id: int | None = None,
                  locale: str | None = None) -> SignOutcome:
    """Store the signature and queue its email. With a `flag_reason` (over a rate limit,
    blocked, a bot trap) a new signature is stored flagged, gets the same email and the
    same answer, and is never counted. An existing signature is never flagged by a later
    attempt: anyone could otherwise discount a real signer by reusing their address.
    `api_key_id` records the partner key that brought a new signature (never an
    existing one's, for the same reason). `locale` is the language the supporter signed
    in (default: the request's); it is stored, and their emails go out in it.

    A new address costs one INSERT and its outbox row, committed together: the unique
    constraint, not a lookup first, tells a new address from a known one, so two
    requests racing with the same address store one signature and re-send to the other."""
    canonical = canonical_email(details.email)
    locale = locale or current_language()
    for _ in range(3):  # a known signature deleted (expired, erased) meanwhile: try again
        signature_id = _insert_if_new(petition, details, canonical, ip, flag_reason,
                                      api_key_id, locale)
        if signature_id is not None:
            queue_confirmation(signature_id, details.email,
                               confirmation_subject(petition, locale), locale)
            db.session.commit()
            return SignOutcome.CREATED
        existing = _find(petition.id, canonical)
        if existing is not None:
            return _signed_again(existing)
    raise RuntimeError(f"signature for petition {petition.id} neither new nor found")


@lru_cache(maxsize=4)
def _new_signature_statement(dialect: str):
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id, built once per dialect: its values
    come as parameters, so every signing reuses one compiled statement."""
    table = Signature.__table__
    return insert_ignoring_duplicates(
        table, db.engine, index_elements=["petition_id", "canonical_email"],
    ).returning(table.c.id)


def _insert_if_new(petition: Petition, details: SignatureDetails, canonical: str,
                   ip: str | None, flag_reason: str | None, api_key_id: int | None,
                   locale: str) -> int | None:
    """The new signature's id, or None when the address has already signed."""
    now = utcnow()
    values = {
        **asdict(details),
        "comment": details.comment or None,
        "petition_id": petition.id,
        "canonical_email": canonical,
        "ip_address": ip,
        "flagged": flag_reason is not None,
        "flag_reason": flag_reason,
        "api_key_id": api_key_id,
        "locale": locale,
        "state": SignatureState.PENDING.value,
        "created_at": now,
        "confirmation_sent_at": now,
        "confirmation_sends": 1,
    }
    statement = _new_signature_statement(db.engine.dialect.name)
    return db.session.execute(statement, values).scalar()


def _find(petition_id: int, canonical: str) -> Signature | None:
    return db.session.scalar(
        select(Signature).where(
            Signature.petition_id == petition_id, Signature.canonical_email == canonical
        )
    )


def _bump(signature: Signature, counter, cap: int, state: SignatureState, **values) -> bool:
    """Atomically take one send from the signature's allowance; False when it is used up."""
    result = db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.state == state, counter < cap)
        .values({counter: counter + 1, **values})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _signed_again(signature: Signature) -> SignOutcome:
    if signature.state == SignatureState.PENDING:
        allowed = _bump(
            signature,
            Signature.confirmation_sends,
            1 + MAX_RESENDS,
            SignatureState.PENDING,
            confirmation_sent_at=utcnow(),
        )
        if allowed:
            send_signature_confirmation(signature)
        outcome = SignOutcome.RESENT
    else:
        allowed = _bump(signature, Signature.notices_sent, MAX_NOTICES, SignatureState.CONFIRMED)
        if allowed:
            send_already_signed_notice(signature)
        outcome = SignOutcome.NOTIFIED
    db.session.commit()
    return outcome if allowed else SignOutcome.CAPPED


class ConfirmOutcome(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already_confirmed"
    EXPIRED = "expired"
    INVALID = "invalid"
    CLOSED = "closed"


@dataclass(frozen=True)
class ConfirmResult:
    outcome: ConfirmOutcome
    signature: Signature | None = None
    # Held from before any commit: reached through the signature after the commit
    # expired it, it would cost a query for the signature first.
    petition: Petition | None = None

    @classmethod
    def of(cls, outcome: ConfirmOutcome, signature: Signature) -> ConfirmResult:
        return cls(outcome, signature, signature.petition)


def load_for_confirmation(token: str) -> ConfirmResult:
    """Check a token without changing anything (the GET of the confirm page)."""
    token_data = read_confirmation_token(token)
    if token_data.signature_id is None:
        return ConfirmResult(ConfirmOutcome.INVALID)
    # With its petition, in one query: the page shows it and is_open needs it.
    signature = db.session.get(Signature, token_data.signature_id,
                               options=[joinedload(Signature.petition)])
    # An invalidated signature's link answers like a link to nothing: the signer is not
    # told that a moderator acted.
    if (signature is None or signature.state == SignatureState.INVALIDATED
            or email_digest(signature.canonical_email) != token_data.email_digest):
        expired = ConfirmOutcome.EXPIRED if token_data.expired else ConfirmOutcome.INVALID
        return ConfirmResult(expired)
    if signature.state == SignatureState.CONFIRMED:
        return ConfirmResult.of(ConfirmOutcome.ALREADY_CONFIRMED, signature)
    if token_data.expired:
        return ConfirmResult.of(ConfirmOutcome.EXPIRED, signature)
    if not signature.petition.is_open:
        return ConfirmResult.of(ConfirmOutcome.CLOSED, signature)
    return ConfirmResult.of(ConfirmOutcome.CONFIRMED, signature)


def confirm_signature(token: str) -> ConfirmResult:
    """Confirm (the POST). Touches only the signature's row: the petition's count is folded
    later, so thousands of confirmations a second never queue on one petition row."""
    checked = load_for_confirmation(token)
    if checked.outcome != ConfirmOutcome.CONFIRMED:
        return checked
    signature, now = checked.signature, utcnow()
    result = db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.state == SignatureState.PENDING)
        .values(state=SignatureState.CONFIRMED, confirmed_at=now)
        .execution_options(synchronize_session=False)
    )
    _commit_keeping_what_was_read()
    if result.rowcount == 1:
        set_committed_value(signature, "state", SignatureState.CONFIRMED.value)
        set_committed_value(signature, "confirmed_at", now)
    else:  # another request, or a moderator, changed it meanwhile
        db.session.refresh(checked.signature)
        if checked.signature.state == SignatureState.INVALIDATED:
            return ConfirmResult(ConfirmOutcome.INVALID)
        return ConfirmResult(ConfirmOutcome.ALREADY_CONFIRMED, checked.signature,
                             checked.petition)
    # Newsletter opt-in: the box ticked on the signing form is confirmed by this same
    # click, so the supporter gets no second confirmation email. Runs after the
    # signature's commit and never fails it (errors are logged and rolled back).
    if signature.subscribe_newsletter:
        from petitions.newsletter.opt_in import subscribe_from_signature

        subscribe_from_signature(signature)
    return checked


def _commit_keeping_what_was_read() -> None:
    """Commit without expiring the objects read: the confirmation's page shows the petition
    and signature as read in this request (the signature's new state set above), instead of
    reading both again."""
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire
