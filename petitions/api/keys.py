"""API keys: making them, finding the one a request carries, and its per-key rate limit.

A key is shown once; only its SHA-256 and its first characters (the prefix) are kept.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time

from flask import request
from limits import parse_many
from sqlalchemy import select, update

from petitions.abuse.limiter import limits_enabled
from petitions.api.models import DEFAULT_RATE_LIMIT, ApiKey, KeyScope
from petitions.database import utcnow
from petitions.extensions import db, limiter

log = logging.getLogger("petitions.api")
PREFIX_LENGTH = 8


class BadRateLimit(ValueError):
    pass


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def active_key(token: str | None) -> ApiKey | None:
    """The unrevoked key this token is, its last use noted; None for anything else."""
    if not token:
        return None
    key = db.session.scalar(
        select(ApiKey).where(ApiKey.key_hash == key_hash(token), ApiKey.revoked_at.is_(None)))
    if key is not None:
        db.session.execute(
            update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=utcnow()))
        db.session.commit()
    return key


def normalise_rate_limit(text: str | None) -> str:
    """A Flask-Limiter limit string ("60/minute;1000/day"), checked; empty gives the default."""
    text = " ".join((text or "").split())
    if not text:
        return DEFAULT_RATE_LIMIT
    if len(text) > 100:
        raise BadRateLimit("at most 100 characters")
    try:
        items = parse_many(text)
    except ValueError:
        items = []
    if not items:
        raise BadRateLimit('use a limit like "60/minute" or "60/minute;1000/day"')
    return text


def _unused_key() -> str:
    """A random key whose prefix no other key has, so a prefix always names one key.

    A key never starts with "-", which `flask api revoke-key PREFIX` would take for an option.
    """
    while True:
        key = secrets.token_urlsafe(32)
        if key.startswith("-"):
            continue
        taken = db.session.scalar(select(ApiKey.id).where(ApiKey.prefix == key[:PREFIX_LENGTH]))
        if taken is None:
            return key


def create_key(name: str, scope: str = KeyScope.ARTICLES.value,
               rate_limit: str | None = None) -> tuple[ApiKey, str]:
    """Add a key to the session (the caller commits) and return it with its secret."""
    secret = _unused_key()
    key = ApiKey(name=name, prefix=secret[:PREFIX_LENGTH], key_hash=key_hash(secret),
                 scope=KeyScope(scope).value, rate_limit=normalise_rate_limit(rate_limit))
    db.session.add(key)
    db.session.flush()
    return key, secret


def over_key_limit(key: ApiKey) -> int | None:
    """Count one request against the key's own limit. Seconds to wait when it is over,
    else None. Counted per key id, whatever address the partner calls from; a limit
    storage that is down lets the request through (logged)."""
    if not limits_enabled():
        return None
    identifiers = ("api-key", str(key.id))
    wait = None
    try:
        for item in parse_many(key.rate_limit or DEFAULT_RATE_LIMIT):
            if not limiter.limiter.hit(item, *identifiers):
                reset = limiter.limiter.get_window_stats(item, *identifiers).reset_time
                wait = max(wait or 1, int(reset - time.time()) + 1)
    except Exception as exc:  # noqa: BLE001
        log.warning("API key rate limit not checked: %s", exc)
        return None
    return wait


def over_failure_limit(limit_text: str) -> int | None:
    """Count a request without a valid key against `limit_text` per IP (key guessing)."""
    if not limits_enabled():
        return None
    identifiers = ("api-key-failures", request.remote_addr or "unknown")
    try:
        for item in parse_many(limit_text):
            if not limiter.limiter.hit(item, *identifiers):
                reset = limiter.limiter.get_window_stats(item, *identifiers).reset_time
                return max(1, int(reset - time.time()) + 1)
    except Exception as exc:  # noqa: BLE001
        log.warning("API key failure limit not checked: %s", exc)
    return None
