"""Subscribing and confirming, as transactions. Routes stay thin; tests call these too.

The double opt-in mirrors signing.service: the same answer for every address, a
capped number of emails per address (an atomic UPDATE ... WHERE sends < cap), and a
confirmation that only the owner of the mailbox can give.

`confirmation_sends` counts the confirmation emails sent since the last change of
state: while pending (or unsubscribed and asking to come back) it caps re-sends; once
active it caps the "you're already subscribed" notices. Confirming and unsubscribing
reset it, and only the mailbox's owner can do either, so nobody can flood an inbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from petitions.database import utcnow
from petitions.extensions import db
from petitions.languages import current_language
from petitions.mail.suppression import is_suppressed, unsuppress
from petitions.newsletter.consent import (
    ConsentAction,
    Source,
    record_consent,
    subscriber_choices_text,
)
from petitions.newsletter.email import (
    send_already_subscribed_notice,
    send_subscription_confirmation,
    send_welcome,
)
from petitions.newsletter.models import Category
from petitions.newsletter.subscribers import ConsentRecord, Subscriber, SubscriberState
from petitions.newsletter.tokens import ConfirmationToken, read_confirmation_token
from petitions.signing.canonical import canonical_email
from petitions.tokens import email_digest

MAX_RESENDS = 3
MAX_NOTICES = 3


@dataclass(frozen=True)
class SubscriptionRequest:
    email: str
    categories: Sequence[Category]
    all_categories: bool
    frequency: str
    consent_text: str
    ip: str | None
    source: str = Source.FORM


class SubscribeOutcome(StrEnum):
    """What happened. Never shown: every outcome gets the same "check your email" page."""

    CREATED = "created"
    RESENT = "resent"
    NOTIFIED = "notified"
    CAPPED = "capped"


def find_subscriber(canonical: str) -> Subscriber | None:
    return db.session.scalar(select(Subscriber).where(Subscriber.canonical_email == canonical))


def current_locale() -> str:
    return current_language()


def subscribe(request: SubscriptionRequest) -> SubscribeOutcome:
    canonical = canonical_email(request.email)
    existing = find_subscriber(canonical)
    if existing is None:
        subscriber = Subscriber(
            email=request.email,
            canonical_email=canonical,
            state=SubscriberState.PENDING.value,
            locale=current_locale(),
            confirmation_sends=1,
            confirmation_sent_at=utcnow(),
        )
        _apply_choices(subscriber, request)
        db.session.add(subscriber)
        try:
            db.session.flush()
        except IntegrityError:
            # A concurrent request with the same address won the unique constraint.
            db.session.rollback()
            existing = find_subscriber(canonical)
        else:
            record_consent(subscriber, ConsentAction.SUBSCRIBE, request.source,
                           request.consent_text, request.ip)
            send_subscription_confirmation(subscriber)
            db.session.commit()
            return SubscribeOutcome.CREATED
    if existing is None:
        return SubscribeOutcome.CAPPED
    return _subscribed_again(existing, request)


def _apply_choices(subscriber: Subscriber, request: SubscriptionRequest) -> None:
    subscriber.frequency = request.frequency
    subscriber.all_categories = request.all_categories
    subscriber.categories = list(request.categories)


def _bump(subscriber: Subscriber, cap: int, **values) -> bool:
    """Atomically take one email from the subscriber's allowance in their current state."""
    result = db.session.execute(
        update(Subscriber)
        .where(
            Subscriber.id == subscriber.id,
            Subscriber.state == subscriber.state,
            Subscriber.confirmation_sends < cap,
        )
        .values(confirmation_sends=Subscriber.confirmation_sends + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _subscribed_again(subscriber: Subscriber, request: SubscriptionRequest) -> SubscribeOutcome:
    if subscriber.state == SubscriberState.ACTIVE:
        allowed = _bump(subscriber, MAX_NOTICES)
        if allowed and is_suppressed(subscriber.email):
            # Their mail bounced: a fresh double opt-in is how they show it works again.
            send_subscription_confirmation(subscriber)
        elif allowed:
            send_already_subscribed_notice(subscriber)
        outcome = SubscribeOutcome.NOTIFIED
    else:
        # Pending, or unsubscribed and asking to come back: (re)send the confirmation,
        # with the latest choices. Nothing is sent to them until they confirm.
        allowed = _bump(subscriber, 1 + MAX_RESENDS, confirmation_sent_at=utcnow())
        if allowed:
            subscriber.email = request.email
            # New choices, made in this language: their emails follow it.
            subscriber.locale = current_locale()
            _apply_choices(subscriber, request)
            record_consent(subscriber, ConsentAction.SUBSCRIBE, request.source,
                           request.consent_text, request.ip)
            send_subscription_confirmation(subscriber)
        outcome = SubscribeOutcome.RESENT
    db.session.commit()
    return outcome if allowed else SubscribeOutcome.CAPPED


class ConfirmOutcome(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already_confirmed"
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass(frozen=True)
class ConfirmResult:
    outcome: ConfirmOutcome
    subscriber: Subscriber | None = None


def _sent_after_unsubscribing(token: ConfirmationToken, subscriber: Subscriber) -> bool:
    # Tokens carry whole seconds; a link from before the unsubscribe must not undo it.
    if subscriber.unsubscribed_at is None:
        return True
    if token.issued_at is None:
        return False
    return token.issued_at >= subscriber.unsubscribed_at.replace(microsecond=0)


def load_for_confirmation(token: str) -> ConfirmResult:
    """Check a token without changing anything (the GET of the confirm page)."""
    data = read_confirmation_token(token)
    if data.subscriber_id is None:
        return ConfirmResult(ConfirmOutcome.INVALID)
    subscriber = db.session.get(Subscriber, data.subscriber_id)
    if subscriber is None or email_digest(subscriber.canonical_email) != data.email_digest:
        return ConfirmResult(ConfirmOutcome.EXPIRED if data.expired else ConfirmOutcome.INVALID)
    if subscriber.state == SubscriberState.ACTIVE:
        if not data.expired and is_suppressed(subscriber.email):
            return ConfirmResult(ConfirmOutcome.CONFIRMED, subscriber)
        return ConfirmResult(ConfirmOutcome.ALREADY_CONFIRMED, subscriber)
    if data.expired:
        return ConfirmResult(ConfirmOutcome.EXPIRED, subscriber)
    if subscriber.state == SubscriberState.UNSUBSCRIBED and not _sent_after_unsubscribing(
        data, subscriber
    ):
        return ConfirmResult(ConfirmOutcome.EXPIRED, subscriber)
    return ConfirmResult(ConfirmOutcome.CONFIRMED, subscriber)


def _latest_subscribe_source(subscriber: Subscriber) -> str:
    return db.session.scalar(
        select(ConsentRecord.source)
        .where(ConsentRecord.subscriber_id == subscriber.id,
               ConsentRecord.action == ConsentAction.SUBSCRIBE.value)
        .order_by(ConsentRecord.id.desc())
        .limit(1)
    ) or Source.FORM


def activate(subscriber: Subscriber, **values) -> bool:
    """pending/unsubscribed -> active, only if nobody else changed its state first."""
    result = db.session.execute(
        update(Subscriber)
        .where(Subscriber.id == subscriber.id, Subscriber.state == subscriber.state)
        .values(state=SubscriberState.ACTIVE.value, confirmed_at=utcnow(), confirmation_sends=0,
                unsubscribed_at=None, paused=False, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def confirm_subscription(token: str, ip: str | None) -> ConfirmResult:
    """Confirm (the POST): activate, record consent, lift a suppression, send the welcome."""
    checked = load_for_confirmation(token)
    if checked.outcome != ConfirmOutcome.CONFIRMED:
        return checked
    subscriber = checked.subscriber
    if subscriber.state == SubscriberState.ACTIVE:
        # Active but suppressed: this click shows that their mailbox works again.
        changed = unsuppress(subscriber.email)
    else:
        changed = activate(subscriber)
        unsuppress(subscriber.email)
    if not changed:
        db.session.rollback()
        db.session.refresh(subscriber)
        return ConfirmResult(ConfirmOutcome.ALREADY_CONFIRMED, subscriber)
    db.session.refresh(subscriber)
    record_consent(subscriber, ConsentAction.CONFIRM, _latest_subscribe_source(subscriber),
                   subscriber_choices_text(subscriber), ip)
    send_welcome(subscriber)
    db.session.commit()
    return ConfirmResult(ConfirmOutcome.CONFIRMED, subscriber)
