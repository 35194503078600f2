"""Signed, expiring confirmation tokens that name one signature."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadData, BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "signature-confirmation"
MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True)
class TokenResult:
    signature_id: int | None
    email_digest: str | None
    expired: bool = False

    @property
    def valid(self) -> bool:
        return self.signature_id is not None and not self.expired


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def email_digest(canonical_email: str) -> str:
    # Binds the token to the address, so a token never confirms a later signature that
    # happens to reuse a deleted row's id.
    return hashlib.sha256(canonical_email.encode()).hexdigest()[:12]


def make_confirmation_token(signature_id: int, canonical_email: str) -> str:
    return _serializer().dumps([signature_id, email_digest(canonical_email)])


def read_confirmation_token(token: str) -> TokenResult:
    max_age = current_app.config["CONFIRMATION_MAX_AGE_DAYS"] * 86400
    if len(token) > MAX_TOKEN_LENGTH:
        return TokenResult(None, None)
    try:
        payload = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        # The signature is genuine but old. itsdangerous hands back the payload still
        # encoded (base64 bytes), so decode it to learn which signature it names.
        try:
            payload = _serializer().load_payload(exc.payload)
        except BadData:
            return TokenResult(None, None)
        ok, ident, digest = _unpack(payload)
        return TokenResult(ident if ok else None, digest if ok else None, expired=True)
    except BadSignature:
        return TokenResult(None, None)
    ok, ident, digest = _unpack(payload)
    return TokenResult(ident, digest) if ok else TokenResult(None, None)


def _unpack(payload) -> tuple[bool, int | None, str | None]:
    if (
        isinstance(payload, list)
        and len(payload) == 2
        and isinstance(payload[0], int)
        and isinstance(payload[1], str)
    ):
        return True, payload[0], payload[1]
    return False, None, None
