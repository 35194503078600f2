"""Screening a signature before it is stored: traps, allow and block rules, rate limits.

Every outcome gets the same answer as an accepted signature; only the stored row knows
(flagged, with flag_reason). A flagged signature is never counted.
"""

from __future__ import annotations

import logging

from limits import parse_many

from petitions.abuse import rules
from petitions.abuse.limiter import limits_enabled, setting
from petitions.abuse.traps import trap_reason
from petitions.extensions import limiter

log = logging.getLogger("petitions.abuse")


def over_signing_limit(petition_id: int, ip: str) -> bool:
    """Count this signing against RATELIMIT_SIGN (per petition and IP) and
    RATELIMIT_SIGN_IP (per IP); True when either is exceeded. While Redis is down the
    counts are kept in memory (SwitchableLimiter.hit); should that fail too, the
    signature goes through (logged)."""
    checks = [(setting("RATELIMIT_SIGN"), ("sign", str(petition_id), ip)),
              (setting("RATELIMIT_SIGN_IP"), ("sign-ip", ip))]
    over = False
    try:
        for limit_text, identifiers in checks:
            for item in parse_many(str(limit_text)):
                # Every window is hit, so a burst also uses up the longer allowance.
                if not limiter.hit(item, *identifiers):
                    over = True
    except Exception as exc:  # noqa: BLE001  (Redis down: never refuse a signature for it)
        log.warning("signing rate limit not checked: %s", exc)
        return False
    return over


def flag_reason(petition_id: int, email: str, ip: str | None, honeypot: str | None,
                started: str | None) -> str | None:
    """Why this signature should be stored flagged, or None to count it normally."""
    trapped = trap_reason(petition_id, honeypot, started)
    verdict = rules.check(email, ip)
    if verdict.allowed:
        return trapped
    over = limits_enabled() and over_signing_limit(petition_id, ip or "unknown")
    if trapped:
        return trapped
    if verdict.blocked:
        return "blocked"
    return "rate_limit" if over else None
