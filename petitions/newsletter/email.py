"""The emails a subscriber receives about their subscription. Each only adds an outbox row.

Each goes out in the subscriber's language (stored when they subscribed), whatever the
language of the request that sends it."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale

from petitions.mail import queue_email
from petitions.newsletter.consent import subscriber_choices_text
from petitions.newsletter.links import list_headers, manage_url, one_click_unsubscribe_url
from petitions.newsletter.subscribers import Subscriber
from petitions.newsletter.tokens import make_confirmation_token


def _locale(subscriber: Subscriber) -> str:
    return subscriber.locale or "en"


def confirm_url(token: str) -> str:
    return current_app.config["BASE_URL"] + f"/subscribe/confirm/{token}"


def send_subscription_confirmation(subscriber: Subscriber) -> None:
    token = make_confirmation_token(subscriber.id, subscriber.canonical_email)
    with force_locale(_locale(subscriber)):
        context = {
            "subscriber": subscriber,
            "choices": subscriber_choices_text(subscriber),
            "confirm_url": confirm_url(token),
            "max_age_days": current_app.config["CONFIRMATION_MAX_AGE_DAYS"],
        }
        queue_email(
            "subscription_confirmation", subscriber.email, context, subscriber_id=subscriber.id
        )


def send_already_subscribed_notice(subscriber: Subscriber) -> None:
    context = {"subscriber": subscriber, "manage_url": manage_url(subscriber)}
    queue_email(
        "subscription_already_active", subscriber.email, context, locale=_locale(subscriber),
        subscriber_id=subscriber.id,
    )


def send_welcome(subscriber: Subscriber) -> None:
    with force_locale(_locale(subscriber)):
        context = {
            "subscriber": subscriber,
            "choices": subscriber_choices_text(subscriber),
            "manage_url": manage_url(subscriber),
            "unsubscribe_url": one_click_unsubscribe_url(subscriber),
        }
        queue_email(
            "subscription_welcome",
            subscriber.email,
            context,
            headers=list_headers(subscriber, "newsletter"),
            subscriber_id=subscriber.id,
        )
