"""Signed, expiring tokens that confirm one subscription (the double opt-in link).

Like a signature's: the subscriber's id and a short digest of their canonical address,
with their own salt and CONFIRMATION_MAX_AGE_DAYS expiry. The issue time is returned
too, so a link sent before someone unsubscribed cannot subscribe them again.
"""

from __future__ import annotations

from petitions.tokens import MAX_TOKEN_LENGTH, ConfirmationTokens
from petitions.tokens import ConfirmationToken as _Token

__all__ = ["MAX_TOKEN_LENGTH", "SALT", "ConfirmationToken", "make_confirmation_token",
           "read_confirmation_token"]

SALT = "subscription-confirmation"


class ConfirmationToken(_Token):
    @property
    def subscriber_id(self) -> int | None:
        return self.row_id


_tokens = ConfirmationTokens(SALT, ConfirmationToken)


def make_confirmation_token(subscriber_id: int, canonical_email: str) -> str:
    return _tokens.make(subscriber_id, canonical_email)


def read_confirmation_token(token: str) -> ConfirmationToken:
    return _tokens.read(token)
