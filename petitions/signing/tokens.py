"""Confirmation tokens that name one signature (see petitions.tokens)."""

from __future__ import annotations

from petitions.tokens import MAX_TOKEN_LENGTH, ConfirmationToken, ConfirmationTokens, email_digest

__all__ = ["MAX_TOKEN_LENGTH", "SALT", "TokenResult", "email_digest",
           "make_confirmation_token", "read_confirmation_token"]

SALT = "signature-confirmation"


class TokenResult(ConfirmationToken):
    @property
    def signature_id(self) -> int | None:
        return self.row_id


_tokens = ConfirmationTokens(SALT, TokenResult)


def make_confirmation_token(signature_id: int, canonical_email: str) -> str:
    return _tokens.make(signature_id, canonical_email)


def read_confirmation_token(token: str) -> TokenResult:
    return _tokens.read(token)
