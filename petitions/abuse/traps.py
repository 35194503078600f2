"""Bot traps on the signing form: a honeypot field and a minimum time to fill the form.

The form carries a signed timestamp of when it was shown (itsdangerous, its own salt).
A form sent back sooner than MIN_FILL_SECONDS is flagged "too_fast"; a missing or
tampered timestamp, or a filled-in honeypot, is flagged "bot_trap". Both are silent:
the answer looks like any other signature's.
"""

from __future__ import annotations

import time

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from petitions.abuse.limiter import limits_enabled, setting

SALT = "signing-form-started"
HONEYPOT_FIELD = "website"
STARTED_FIELD = "form_started"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def started_token(petition_id: int) -> str:
    return _serializer().dumps(petition_id)


def trap_reason(petition_id: int, honeypot: str | None, started: str | None) -> str | None:
    """Why the form looks filled in by a bot ("bot_trap", "too_fast"), or None."""
    if honeypot:
        return "bot_trap"
    if not limits_enabled():  # benchmarks post without a timestamp
        return None
    try:
        shown_for, shown_at = _serializer().loads(started or "", return_timestamp=True)
    except BadSignature:
        return "bot_trap"
    if shown_for != petition_id:
        return "bot_trap"
    if time.time() - shown_at.timestamp() < float(setting("MIN_FILL_SECONDS")):
        return "too_fast"
    return None
