"""Signed, expiring tokens that confirm one subscription (the double opt-in link).

Like a signature's: the subscriber's id and a short digest of their canonical address,
with their own salt and CONFIRMATION_MAX_AGE_DAYS expiry. The issue time is returned
too, so a link sent before someone unsubscribed cannot subscribe them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from itsdangerous import BadData, BadSignature, SignatureExpired, URLSafeTimedSerializer

from petitions.signing.tokens import email_digest

SALT = "subscription-confirmation"
MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True)
class ConfirmationToken:
    subscriber_id: int | None
    email_digest: str | None
    issued_at: datetime | None = None
    expired: bool = False


INVALID = ConfirmationToken(None, None)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_confirmation_token(subscriber_id: int, canonical_email: str) -> str:
    return _serializer().dumps([subscriber_id, email_digest(canonical_email)])


def read_confirmation_token(token: str) -> ConfirmationToken:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return INVALID
    max_age = current_app.config["CONFIRMATION_MAX_AGE_DAYS"] * 86400
    try:
        payload, issued_at = _serializer().loads(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired as exc:
        # Genuine but old: decode the payload to learn whose it was (for the right page).
        try:
            payload = _serializer().load_payload(exc.payload)
        except BadData:
            return INVALID
        return _unpack(payload, exc.date_signed, expired=True)
    except BadSignature:
        return INVALID
    return _unpack(payload, issued_at)


def _unpack(payload, issued_at: datetime | None, expired: bool = False) -> ConfirmationToken:
    if (
        isinstance(payload, list)
        and len(payload) == 2
        and isinstance(payload[0], int)
        and not isinstance(payload[0], bool)
        and isinstance(payload[1], str)
    ):
        return ConfirmationToken(payload[0], payload[1], issued_at, expired)
    return INVALID
