"""Rate limits, the minimum fill time, flood alerts and the optional CAPTCHA: their
settings, read with the rest in petitions.config.load_settings."""

from __future__ import annotations

from collections.abc import Mapping

from petitions.config import ConfigError, non_negative_int

RATE_LIMITS = {  # setting -> default, in Flask-Limiter's notation
    "RATELIMIT_SIGN": "1/minute;5/5 minutes",  # per petition and IP: e-petitions' spirit
    "RATELIMIT_SIGN_IP": "5/minute;20/hour",  # per IP, across petitions
    "RATELIMIT_SUBSCRIBE": "5/minute;20/hour",
    "RATELIMIT_CONFIRM": "30/minute;200/hour",
    "RATELIMIT_LOGIN": "10/minute;50/hour",
    "RATELIMIT_API": "120/minute",
}
CAPTCHA_PROVIDERS = ("", "hcaptcha", "turnstile", "altcha")


def abuse_settings(env: Mapping[str, str], redis_url: str | None) -> dict:
    from limits import parse_many

    enabled = env.get("RATELIMIT_ENABLED", "true").strip().lower() or "true"
    if enabled not in ("0", "1", "true", "false", "yes", "no"):
        raise ConfigError("RATELIMIT_ENABLED", "must be true or false")
    settings: dict = {
        "RATELIMIT_ENABLED": enabled in ("1", "true", "yes"),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "").strip()
        or redis_url or "memory://",
    }
    for name, default in RATE_LIMITS.items():
        value = env.get(name, "").strip() or default
        try:
            parse_many(value)
        except ValueError:
            raise ConfigError(name, f"is not a rate limit like '5/minute;20/hour': {value!r}") from None
        settings[name] = value
    provider = env.get("CAPTCHA_PROVIDER", "").strip().lower()
    if provider not in CAPTCHA_PROVIDERS:
        raise ConfigError("CAPTCHA_PROVIDER", "must be empty, hcaptcha, turnstile or altcha")
    site_key, secret = env.get("CAPTCHA_SITE_KEY", "").strip(), env.get("CAPTCHA_SECRET", "").strip()
    if provider in ("hcaptcha", "turnstile") and not site_key:
        raise ConfigError("CAPTCHA_SITE_KEY", f"is required with CAPTCHA_PROVIDER={provider}")
    if provider and not secret:
        raise ConfigError("CAPTCHA_SECRET", f"is required with CAPTCHA_PROVIDER={provider}")
    return {
        **settings,
        "MIN_FILL_SECONDS": non_negative_int(env, "MIN_FILL_SECONDS", 3),
        "ABUSE_ALERT_IP_PER_HOUR": non_negative_int(env, "ABUSE_ALERT_IP_PER_HOUR", 50),
        "ABUSE_ALERT_DOMAIN_PER_HOUR": non_negative_int(env, "ABUSE_ALERT_DOMAIN_PER_HOUR", 200),
        "CAPTCHA_PROVIDER": provider,
        "CAPTCHA_SITE_KEY": site_key,
        "CAPTCHA_SECRET": secret,
    }
