"""Signing and confirming, as transactions. Routes stay thin; tests call these too."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from petitions.database import utcnow
from petitions.extensions import db
from petitions.signing.canonical import canonical_email
from petitions.signing.email import send_already_signed_notice, send_signature_confirmation
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
                  flag_reason: str | None = None, api_key_id: int | None = None) -> SignOutcome:
    """Store the signature and queue its email. With a `flag_reason` (over a rate limit,
    blocked, a bot trap) a new signature is stored flagged, gets the same email and the
    same answer, and is never counted. An existing signature is never flagged by a later
    attempt: anyone could otherwise discount a real signer by reusing their address.
    `api_key_id` records the partner key that brought a new signature (never an
    existing one's, for the same reason)."""
    canonical = canonical_email(details.email)
    existing = _find(petition.id, canonical)
    if existing is None:
        signature = Signature(
            petition=petition,
            canonical_email=canonical,
            ip_address=ip,
            flagged=flag_reason is not None,
            flag_reason=flag_reason,
            api_key_id=api_key_id,
            confirmation_sends=1,
            confirmation_sent_at=utcnow(),
            **{**asdict(details), "comment": details.comment or None},
        )
        db.session.add(signature)
        try:
            db.session.flush()
        except IntegrityError:
            # A concurrent request with the same address won the unique constraint.
            db.session.rollback()
            existing = _find(petition.id, canonical)
        else:
            send_signature_confirmation(signature)
            db.session.commit()
            return SignOutcome.CREATED
    return _signed_again(existing)


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


def load_for_confirmation(token: str) -> ConfirmResult:
    """Check a token without changing anything (the GET of the confirm page)."""
    token_data = read_confirmation_token(token)
    if token_data.signature_id is None:
        return ConfirmResult(ConfirmOutcome.INVALID)
    signature = db.session.get(Signature, token_data.signature_id)
    # An invalidated signature's link answers like a link to nothing: the signer is not
    # told that a moderator acted.
    if (signature is None or signature.state == SignatureState.INVALIDATED
            or email_digest(signature.canonical_email) != token_data.email_digest):
        expired = ConfirmOutcome.EXPIRED if token_data.expired else ConfirmOutcome.INVALID
        return ConfirmResult(expired)
    if signature.state == SignatureState.CONFIRMED:
        return ConfirmResult(ConfirmOutcome.ALREADY_CONFIRMED, signature)
    if token_data.expired:
        return ConfirmResult(ConfirmOutcome.EXPIRED, signature)
    if not signature.petition.is_open:
        return ConfirmResult(ConfirmOutcome.CLOSED, signature)
    return ConfirmResult(ConfirmOutcome.CONFIRMED, signature)


def confirm_signature(token: str) -> ConfirmResult:
    """Confirm (the POST). Touches only the signature's row: the petition's count is folded
    later, so thousands of confirmations a second never queue on one petition row."""
    checked = load_for_confirmation(token)
    if checked.outcome != ConfirmOutcome.CONFIRMED:
        return checked
    result = db.session.execute(
        update(Signature)
        .where(Signature.id == checked.signature.id, Signature.state == SignatureState.PENDING)
        .values(state=SignatureState.CONFIRMED, confirmed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(checked.signature)
    if result.rowcount != 1:
        if checked.signature.state == SignatureState.INVALIDATED:  # invalidated meanwhile
            return ConfirmResult(ConfirmOutcome.INVALID)
        return ConfirmResult(ConfirmOutcome.ALREADY_CONFIRMED, checked.signature)
    # Newsletter opt-in: the box ticked on the signing form is confirmed by this same
    # click, so the supporter gets no second confirmation email. Runs after the
    # signature's commit and never fails it (errors are logged and rolled back).
    if checked.signature.subscribe_newsletter:
        from petitions.newsletter.opt_in import subscribe_from_signature

        subscribe_from_signature(checked.signature)
    return checked
