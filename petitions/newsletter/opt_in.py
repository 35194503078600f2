"""The petition opt-in: "Subscribe me to the newsletter", ticked on the signing form.

The click that confirms the signature also confirms this, so the supporter gets one
email and clicks once. Called from signing.service.confirm_signature after its commit.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.suppression import unsuppress
from petitions.newsletter.consent import (
    ConsentAction,
    Source,
    client_ip,
    petition_checkbox_text,
    record_consent,
)
from petitions.newsletter.email import send_welcome
from petitions.newsletter.service import activate, current_locale, find_subscriber
from petitions.newsletter.subscribers import Frequency, Subscriber, SubscriberState

log = logging.getLogger(__name__)


def subscribe_from_signature(signature) -> Subscriber | None:
    """The petition opt-in: the click that confirmed the signature also confirms this.

    Never lets a newsletter problem break the signature's confirmation, which is
    already committed: on error it logs and rolls back, and the supporter can still
    subscribe with the form.
    """
    try:
        return _subscribe_from_signature(signature)
    except Exception:
        log.exception("newsletter opt-in failed for signature %s", signature.id)
        db.session.rollback()
        return None


def _subscribe_from_signature(signature) -> Subscriber:
    petition = signature.petition
    category = petition.category
    source = Source.petition(petition.slug)
    subscriber = find_subscriber(signature.canonical_email)
    if subscriber is None:
        subscriber = Subscriber(
            email=signature.email,
            canonical_email=signature.canonical_email,
            state=SubscriberState.ACTIVE.value,
            frequency=Frequency.WEEKLY.value,
            # The box says "the newsletter": without a category, that is all of it.
            all_categories=category is None,
            # The language they signed in, not that of the browser the link opened in.
            locale=getattr(signature, "locale", None) or current_locale(),
            confirmation_sends=0,
            confirmed_at=utcnow(),
        )
        subscriber.categories = [category] if category else []
        db.session.add(subscriber)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            subscriber = find_subscriber(signature.canonical_email)
            return _opt_in_existing(subscriber, signature, source, category)
        return _finish_opt_in(subscriber, signature, source)
    return _opt_in_existing(subscriber, signature, source, category)


def _opt_in_existing(subscriber: Subscriber, signature, source: str, category) -> Subscriber:
    if subscriber.state == SubscriberState.ACTIVE:
        if category is not None and category not in subscriber.categories:
            subscriber.categories.append(category)
    else:
        # Choices never confirmed (pending) or given up (unsubscribed) are replaced by
        # what this click confirms; their frequency is kept.
        if not activate(subscriber, all_categories=category is None):
            db.session.rollback()
            return subscriber
        db.session.refresh(subscriber)
        subscriber.categories = [category] if category else []
    return _finish_opt_in(subscriber, signature, source)


def _finish_opt_in(subscriber: Subscriber, signature, source: str) -> Subscriber:
    text = petition_checkbox_text()
    # The box was ticked when they signed (their IP then); the click confirmed it now.
    record_consent(subscriber, ConsentAction.SUBSCRIBE, source, text, signature.ip_address,
                   at=signature.created_at)
    record_consent(subscriber, ConsentAction.CONFIRM, source, text, client_ip())
    unsuppress(subscriber.email)
    send_welcome(subscriber)
    db.session.commit()
    return subscriber
