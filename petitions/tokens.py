"""Signed, expiring confirmation tokens (the double opt-in links) that name one row.

A token carries the row's id and a short digest of its owner's canonical address, so
it never confirms a later row that reuses a deleted id, and dies when the address
changes. Each purpose has its own salt. An expired token still says whose it was, so
the page can say "expired" rather than "broken".

Rotating SECRET_KEY: put the old key in SECRET_KEY_FALLBACKS (Flask 3.1's own setting,
which keeps sessions alive too). Every token is then signed with SECRET_KEY and
accepted when signed with any key in the list, until the fallback is removed: after
the longest expiry for links that expire, never for links that don't (the preference
centre and update stop links sit in old emails, so removing a fallback breaks them).
serializer() and signer() are the one way to build a token's signer, per purpose
(salt), so every token rotates the same way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask import current_app
from itsdangerous import BadData, BadSignature, SignatureExpired, Signer, URLSafeTimedSerializer

MAX_TOKEN_LENGTH = 200


def secret_keys() -> tuple[str, ...]:
    """The keys tokens are checked against, oldest first: itsdangerous signs with the last.

    SECRET_KEY_FALLBACKS may be a list or a comma-separated string."""
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or ()
    if isinstance(fallbacks, str):
        fallbacks = fallbacks.split(",")
    old = tuple(key.strip() for key in fallbacks if key and key.strip())
    return (*old, current_app.config["SECRET_KEY"])


@lru_cache(maxsize=32)
def _timed_serializer(keys: tuple[str, ...], salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(list(keys), salt=salt)


@lru_cache(maxsize=32)
def _signer(keys: tuple[str, ...], salt: str) -> Signer:
    return Signer(list(keys), salt=salt)


def serializer(salt: str) -> URLSafeTimedSerializer:
    """A timed serializer for one purpose, over the current and fallback keys."""
    return _timed_serializer(secret_keys(), salt)


def signer(salt: str) -> Signer:
    """A plain (never expiring) signer for one purpose, over the current and fallback keys."""
    return _signer(secret_keys(), salt)


def email_digest(canonical_email: str) -> str:
    return hashlib.sha256(canonical_email.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class ConfirmationToken:
    row_id: int | None
    email_digest: str | None
    issued_at: datetime | None = None
    expired: bool = False

    @property
    def valid(self) -> bool:
        return self.row_id is not None and not self.expired


class ConfirmationTokens:
    """make() and read() for one purpose; read() returns result_class instances."""

    def __init__(self, salt: str, result_class: type[ConfirmationToken] = ConfirmationToken):
        self.salt = salt
        self.result_class = result_class

    def _serializer(self) -> URLSafeTimedSerializer:
        return serializer(self.salt)

    def make(self, row_id: int, canonical_email: str) -> str:
        return self._serializer().dumps([row_id, email_digest(canonical_email)])

    def read(self, token: str) -> ConfirmationToken:
        invalid = self.result_class(None, None)
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return invalid
        max_age = current_app.config["CONFIRMATION_MAX_AGE_DAYS"] * 86400
        try:
            payload, issued_at = self._serializer().loads(
                token, max_age=max_age, return_timestamp=True
            )
        except SignatureExpired as exc:
            # Genuine but old. itsdangerous hands back the payload still encoded.
            try:
                payload = self._serializer().load_payload(exc.payload)
            except BadData:
                return invalid
            return self._unpack(payload, exc.date_signed, expired=True) or invalid
        except BadSignature:
            return invalid
        return self._unpack(payload, issued_at) or invalid

    def _unpack(self, payload, issued_at, expired: bool = False) -> ConfirmationToken | None:
        if (
            isinstance(payload, list)
            and len(payload) == 2
            and isinstance(payload[0], int)
            and not isinstance(payload[0], bool)
            and isinstance(payload[1], str)
        ):
            return self.result_class(payload[0], payload[1], issued_at, expired)
        return None
