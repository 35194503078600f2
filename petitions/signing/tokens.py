"""Confirmation tokens that name one signature (see petitions.tokens)."""

from __future__ import annotations

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from petitions.tokens import (
    MAX_TOKEN_LENGTH,
    ConfirmationToken,
    ConfirmationTokens,
    email_digest,
    secret_keys,
)

__all__ = ["MAX_TOKEN_LENGTH", "SALT", "TokenResult", "email_digest",
           "make_confirmation_token", "read_confirmation_token"]

SALT = "signature-confirmation"


class TokenResult(ConfirmationToken):
    @property
    def signature_id(self) -> int | None:
        return self.row_id


class _SignedAt(TimestampSigner):
    """Signs with a given time instead of now."""

    issued_at: int

    def get_timestamp(self) -> int:
        return self.issued_at


_tokens = ConfirmationTokens(SALT, TokenResult)


def make_confirmation_token(signature_id: int, canonical_email: str,
                            issued_at: int | None = None) -> str:
    """The token for the confirmation link. With `issued_at` (Unix seconds) it is the token
    that would have been made at that second: the worker renders a confirmation email
    after the request that queued it, and its link must expire as if made then."""
    if issued_at is None:
        return _tokens.make(signature_id, canonical_email)
    serializer = URLSafeTimedSerializer(list(secret_keys()), salt=SALT, signer=_SignedAt)
    signer = serializer.make_signer()
    signer.issued_at = issued_at
    payload = serializer.dump_payload([signature_id, email_digest(canonical_email)])
    return signer.sign(payload).decode()


def read_confirmation_token(token: str) -> TokenResult:
    return _tokens.read(token)
