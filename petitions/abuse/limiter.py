"""Flask-Limiter, switched per app, and the settings every abuse check reads.

Flask-Limiter keeps its on/off switch on the one extension object and installs its
request hooks only when it starts switched on. Several apps can share that object (the
tests build one per database), so we always install the hooks and apply each app's own
`RATELIMIT_ENABLED` on every request instead: `false` still turns every limit off.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItem

log = logging.getLogger("petitions.abuse")

# A rate limit check that has to wait on Redis gives up after this, so that an unreachable
# Redis slows no request by more than a second (redis-py waits forever by default).
STORAGE_TIMEOUT_SECONDS = 1.0

# Read through setting(): config.py may set each one from the environment; these are the
# defaults when it does not.
DEFAULTS: dict[str, object] = {
    "RATELIMIT_ENABLED": True,
    # Signing: per petition and IP ("1 a minute in bursts, 5 in 5 minutes"), and per IP
    # over all petitions. Over the limit a signature is stored, flagged and never counted.
    "RATELIMIT_SIGN": "1/minute;5/5 minutes",
    "RATELIMIT_SIGN_IP": "5/minute;20/hour",
    # These answer 429 with Retry-After.
    "RATELIMIT_SUBSCRIBE": "5/minute;20/hour",
    "RATELIMIT_CONFIRM": "30/minute;200/hour",
    "RATELIMIT_LOGIN": "10/minute;50/hour",
    "RATELIMIT_API": "120/minute",
    "MIN_FILL_SECONDS": 3,
    "ABUSE_ALERT_IP_PER_HOUR": 50,
    "ABUSE_ALERT_DOMAIN_PER_HOUR": 200,
    "CAPTCHA_PROVIDER": "",
    "CAPTCHA_SITE_KEY": "",
    "CAPTCHA_SECRET": "",
}


def setting(key: str):
    value = current_app.config.get(key)
    return DEFAULTS[key] if value is None else value


def limits_enabled() -> bool:
    """The app's RATELIMIT_ENABLED. Unset, it is on, except in a TESTING app (the test
    suite signs far faster than people do; tests/abuse switches it on)."""
    value = current_app.config.get("RATELIMIT_ENABLED")
    if value is None:
        return not current_app.testing
    if isinstance(value, str):
        return value.strip().lower() not in {"0", "false", "no", "off", ""}
    return bool(value)


def client_ip() -> str:
    """The address the request came from (behind a proxy, ProxyFix must set it)."""
    return request.remote_addr or "127.0.0.1"


def limit_string(key: str):
    """A limit provider for @limiter.limit that reads the app's setting on each request."""
    return lambda: str(setting(key))


class SwitchableLimiter(Limiter):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.request_filter(lambda: not limits_enabled())

    def init_app(self, app: Flask) -> None:
        # Redis when REDIS_URL is set, so every web process shares the counts. While that
        # storage is unreachable, Flask-Limiter counts in this process's memory (the same
        # limits, per process) and goes back to Redis once it answers again; if even that
        # fails, the request goes through (logged) rather than failing.
        if not app.config.get("RATELIMIT_STORAGE_URI"):
            app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or "memory://"
        if str(app.config["RATELIMIT_STORAGE_URI"]).startswith(("redis://", "rediss://")):
            app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {
                "socket_connect_timeout": STORAGE_TIMEOUT_SECONDS,
                "socket_timeout": STORAGE_TIMEOUT_SECONDS,
            })
        app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
        app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
        # A new storage is not known to be down (the tests give one limiter several apps).
        self._storage_dead = False
        switch = app.config.get("RATELIMIT_ENABLED")
        app.config["RATELIMIT_ENABLED"] = True
        try:
            super().init_app(app)
        finally:
            if switch is None:
                app.config.pop("RATELIMIT_ENABLED")
            else:
                app.config["RATELIMIT_ENABLED"] = switch

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Count one hit of `item` for these identifiers; False once over the limit.

        For checks made outside Flask-Limiter's decorators (signing's silent flagging):
        like them, an unreachable storage switches to the in-memory fallback, which
        Flask-Limiter leaves again at a later request once the storage answers.
        """
        try:
            return self.limiter.hit(item, *identifiers)
        except Exception as exc:
            if self._storage_dead or not self._in_memory_fallback_enabled:
                raise
            log.warning("rate limit storage unreachable (%s); counting in memory", exc)
            self._storage_dead = True
            return self.limiter.hit(item, *identifiers)
