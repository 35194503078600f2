"""Failed-login limits per account and per IP, with a temporary lockout.

Kept in the database so every web process and machine sees the same counts.
"""

from __future__ import annotations

from datetime import timedelta

from petitions.admin.models import LoginThrottle
from petitions.database import utcnow
from petitions.extensions import db

WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
# An account is a narrow target; one IP may front a whole office, so it gets more room.
MAX_FAILURES = {"account": 5, "ip": 20}


def keys_for(email: str, ip: str | None) -> list[str]:
    keys = [f"account:{email.strip().lower()[:254]}"]
    if ip:
        keys.append(f"ip:{ip}")
    return keys


def seconds_locked(keys: list[str]) -> int:
    """How long until every one of these keys may try again (0: now)."""
    now = utcnow()
    remaining = 0
    for key in keys:
        row = db.session.get(LoginThrottle, key)
        if row is not None and row.locked_until and row.locked_until > now:
            remaining = max(remaining, int((row.locked_until - now).total_seconds()) + 1)
    return remaining


def register_failure(keys: list[str]) -> None:
    now = utcnow()
    for key in keys:
        row = db.session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_started_at=now)
            db.session.add(row)
        if row.window_started_at < now - WINDOW:
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        if row.failures >= MAX_FAILURES[key.split(":", 1)[0]]:
            row.locked_until = now + LOCKOUT
            row.failures, row.window_started_at = 0, now


def clear(key: str) -> None:
    row = db.session.get(LoginThrottle, key)
    if row is not None:
        db.session.delete(row)
