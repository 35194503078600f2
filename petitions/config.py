"""Settings, read from the environment once and validated at start-up.

Every variable is listed in README.md and .env.example. A bad value stops the
process with one line that names the variable and the problem.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from email_validator import EmailNotValidError, validate_email

ENVIRONMENTS = ("development", "production", "test")


class ConfigError(SystemExit):
    """A setting is missing or malformed; exits with one readable line, no traceback."""

    def __init__(self, variable: str, problem: str):
        self.variable = variable
        self.problem = problem
        super().__init__(f"Configuration error: {variable}: {problem}")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    starttls: bool = False
    timeout: float = 15.0


def parse_smtp_url(url: str) -> SmtpSettings:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ConfigError("SMTP_URL", "must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ConfigError("SMTP_URL", "has no host name")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ConfigError("SMTP_URL", "has a port that is not a number from 1 to 65535")
    query = parse_qs(parts.query)
    flag = (query.get("starttls") or ["0"])[0].lower()
    if flag not in ("0", "1", "true", "false", "yes", "no"):
        raise ConfigError("SMTP_URL", "starttls must be 1 or 0")
    implicit = parts.scheme == "smtps"
    return SmtpSettings(
        host=parts.hostname,
        port=port or (465 if implicit else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit,
        starttls=flag in ("1", "true", "yes"),
    )


def normalise_database_url(url: str) -> str:
    """Accept the spellings platforms use and always drive PostgreSQL with psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("postgresql+psycopg://", "sqlite://")):
        return url
    raise ConfigError(
        "DATABASE_URL", "must be a postgresql:// (or postgres://) URL or a sqlite:/// path"
    )


def positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(name, "must be greater than zero")
    return value


def _secret_key(env: Mapping[str, str], app_env: str, instance_path: Path) -> str:
    key = env.get("SECRET_KEY", "").strip()
    if key:
        if app_env == "production" and len(key) < 32:
            raise ConfigError("SECRET_KEY", "must be at least 32 characters in production")
        return key
    if app_env == "production":
        raise ConfigError("SECRET_KEY", "is required in production (e.g. 64 random hex characters)")
    # Development keeps one generated key so sessions and email links survive restarts.
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _secret_key_fallbacks(env: Mapping[str, str], app_env: str) -> list[str]:
    """Old keys still accepted (sessions, links) after rotating SECRET_KEY, oldest first."""
    keys = [key.strip() for key in env.get("SECRET_KEY_FALLBACKS", "").split(",") if key.strip()]
    if app_env == "production" and any(len(key) < 32 for key in keys):
        raise ConfigError("SECRET_KEY_FALLBACKS", "each key must be at least 32 characters in production")
    return keys


def _base_url(env: Mapping[str, str]) -> str:
    url = env.get("BASE_URL", "").strip() or "http://localhost:5000"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("BASE_URL", "must be an absolute http:// or https:// URL")
    if parts.query or parts.fragment:
        raise ConfigError("BASE_URL", "must not have a query or fragment")
    return url.rstrip("/")


def _mail_from(env: Mapping[str, str], base_url: str) -> str:
    host = urlsplit(base_url).hostname or "localhost"
    default_domain = host if "." in host else "localhost.localdomain"
    sender = env.get("MAIL_FROM", "").strip() or f"Petitions <petitions@{default_domain}>"
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    try:
        validate_email(address, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ConfigError("MAIL_FROM", f"is not a valid sender address ({exc})") from None
    return sender


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"must be a number, got {raw!r}") from None
    if not value > 0:
        raise ConfigError(name, "must be greater than zero")
    return value


def clock_time(env: Mapping[str, str], name: str, default: str) -> tuple[int, int]:
    raw = env.get(name, "").strip() or default
    hours, _, minutes = raw.partition(":")
    if not (hours.isdigit() and minutes.isdigit()) or int(hours) > 23 or int(minutes) > 59:
        raise ConfigError(name, f"must be a time like 07:00, got {raw!r}")
    return int(hours), int(minutes)


def non_negative_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ConfigError(name, f"must be a whole number, 0 or more, got {raw!r}")
    return int(raw)


def _outbox_retry_settings(env: Mapping[str, str]) -> dict:
    """The back-off after a 4xx reply or an unreachable SMTP server: the first wait,
    doubled after each failed attempt up to the longest wait."""
    first = positive_float(env, "OUTBOX_RETRY_SECONDS", 30.0)
    longest = positive_float(env, "OUTBOX_RETRY_MAX_SECONDS", 7200.0)
    if longest < first:
        raise ConfigError("OUTBOX_RETRY_MAX_SECONDS", "must not be less than OUTBOX_RETRY_SECONDS")
    return {"OUTBOX_RETRY_SECONDS": first, "OUTBOX_RETRY_MAX_SECONDS": longest}


def engine_options(database_url: str) -> dict:
    """PostgreSQL: test each pooled connection as it is taken (pool_pre_ping), so one that
    the server dropped (a restart, pg_terminate_backend, a proxy's idle timeout) is
    replaced quietly instead of failing a request; and stop connecting after 5 s."""
    if database_url.startswith("postgresql"):
        return {"pool_pre_ping": True, "connect_args": {"connect_timeout": 5}}
    return {}


def _newsletter_settings(env: Mapping[str, str], base_url: str, mail_from: str) -> dict:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    timezone = env.get("SITE_TIMEZONE", "").strip() or "America/New_York"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("SITE_TIMEZONE", f"is not a known time zone name: {timezone!r}") from None
    weekly_day = env.get("DIGEST_WEEKLY_DAY", "").strip().lower() or "monday"
    if weekly_day not in WEEKDAYS:
        raise ConfigError("DIGEST_WEEKLY_DAY", "must be a day name such as monday")
    feeds = env.get("ARTICLE_FEEDS", "").replace(",", " ").split()
    for feed in feeds:
        if urlsplit(feed).scheme not in ("http", "https"):
            raise ConfigError("ARTICLE_FEEDS", f"must list http(s) URLs, got {feed!r}")
    api_token = env.get("ARTICLES_API_TOKEN", "").strip() or None
    if api_token and len(api_token) < 24:
        raise ConfigError("ARTICLES_API_TOKEN", "must be at least 24 characters")
    bounce_token = env.get("BOUNCE_WEBHOOK_TOKEN", "").strip() or None
    if bounce_token and len(bounce_token) < 24:
        raise ConfigError("BOUNCE_WEBHOOK_TOKEN", "must be at least 24 characters")
    mail_domain = mail_from.rsplit("@", 1)[-1].rstrip(">").strip()
    unsubscribe_mailto = env.get("UNSUBSCRIBE_MAILTO", "").strip() or f"unsubscribe@{mail_domain}"
    try:
        validate_email(unsubscribe_mailto, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ConfigError("UNSUBSCRIBE_MAILTO", f"is not a valid address ({exc})") from None
    return {
        "SITE_TIMEZONE": timezone,
        "DIGEST_DAILY_AT": clock_time(env, "DIGEST_DAILY_AT", "07:00"),
        "DIGEST_WEEKLY_DAY": weekly_day,
        "ARTICLE_FEEDS": feeds,
        "ARTICLE_FEED_INTERVAL": positive_int(env, "ARTICLE_FEED_INTERVAL", 15),
        "ARTICLES_API_TOKEN": api_token,
        "BOUNCE_WEBHOOK_TOKEN": bounce_token,
        "MAIL_RATE_PER_SECOND": positive_float(env, "MAIL_RATE_PER_SECOND", 50.0),
        "DIGEST_CHUNK_SIZE": positive_int(env, "DIGEST_CHUNK_SIZE", 500),
        "OUTBOX_SENDING_TIMEOUT": positive_int(env, "OUTBOX_SENDING_TIMEOUT", 600),
        **_outbox_retry_settings(env),
        "UNSUBSCRIBE_MAILTO": unsubscribe_mailto,
        "LIST_ID_DOMAIN": urlsplit(base_url).hostname or "localhost",
    }


def _deliverability_settings(env: Mapping[str, str], mail_from: str) -> dict:
    """DKIM signing (DKIM_SELECTOR, DKIM_DOMAIN, DKIM_PRIVATE_KEY: all or none) and the
    VERP envelope sender (BOUNCE_ADDRESS); the key is read and tried once, here."""
    from petitions.mail.dkim import dkim_from_env
    from petitions.mail.verp import bounce_address_from_env

    mail_domain = mail_from.rsplit("@", 1)[-1].rstrip(">").strip()
    return {"DKIM": dkim_from_env(env, mail_domain), "BOUNCE_ADDRESS": bounce_address_from_env(env)}


def load_settings(env: Mapping[str, str], instance_path: str) -> dict:
    """Turn the environment into Flask config keys. Raises ConfigError on bad input."""
    # Each domain reads its own settings with this module's parsers.
    from petitions.abuse.settings import abuse_settings
    from petitions.languages import language_settings

    instance = Path(instance_path)
    app_env = env.get("APP_ENV", "development").strip().lower() or "development"
    if app_env not in ENVIRONMENTS:
        raise ConfigError("APP_ENV", f"must be one of {', '.join(ENVIRONMENTS)}")

    raw_db = env.get("DATABASE_URL", "").strip()
    if not raw_db and app_env == "production":
        raise ConfigError("DATABASE_URL", "is required in production")
    database_url = normalise_database_url(raw_db or f"sqlite:///{instance / 'petitions.sqlite3'}")

    redis_url = env.get("REDIS_URL", "").strip() or None
    if redis_url and urlsplit(redis_url).scheme not in ("redis", "rediss"):
        raise ConfigError("REDIS_URL", "must start with redis:// or rediss://")

    smtp_url = env.get("SMTP_URL", "").strip() or None
    if smtp_url is None and app_env == "production":
        raise ConfigError("SMTP_URL", "is required in production (the mail catcher is for development)")
    catcher_port = positive_int(env, "MAIL_CATCHER_PORT", 1025)
    if catcher_port > 65535:
        raise ConfigError("MAIL_CATCHER_PORT", "must be a port number from 1 to 65535")
    smtp = parse_smtp_url(smtp_url or f"smtp://127.0.0.1:{catcher_port}")

    base_url = _base_url(env)
    mail_from = _mail_from(env, base_url)
    return {
        **_newsletter_settings(env, base_url, mail_from),
        **language_settings(env),
        **abuse_settings(env, redis_url),
        **_deliverability_settings(env, mail_from),
        "APP_ENV": app_env,
        "SECRET_KEY": _secret_key(env, app_env, instance),
        "SECRET_KEY_FALLBACKS": _secret_key_fallbacks(env, app_env),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "REDIS_URL": redis_url,
        "SMTP": smtp,
        "MAIL_CATCHER": smtp_url is None,
        "MAIL_CATCHER_PORT": catcher_port,
        "MAIL_CATCHER_DIR": str(instance / "mail"),
        "BASE_URL": base_url,
        "MAIL_FROM": mail_from,
        "CONFIRMATION_MAX_AGE_DAYS": positive_int(env, "CONFIRMATION_MAX_AGE_DAYS", 7),
        # How many reverse proxies in front of gunicorn to trust for X-Forwarded-For/-Proto.
        "TRUSTED_PROXIES": non_negative_int(env, "TRUSTED_PROXIES", 0),
        "IP_RETENTION_DAYS": positive_int(env, "IP_RETENTION_DAYS", 30),
        "SIGNATURE_RETENTION_MONTHS": positive_int(env, "SIGNATURE_RETENTION_MONTHS", 6),
        "COUNT_REFRESH_SECONDS": positive_int(env, "COUNT_REFRESH_SECONDS", 2),
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": base_url.startswith("https://"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": base_url.startswith("https://"),
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "WTF_CSRF_TIME_LIMIT": None,
        "BROKER_FOLDER": str(instance / "broker"),
        "CELERY_QUEUE": env.get("CELERY_QUEUE", "").strip() or "celery",
    }


def from_environment(instance_path: str) -> dict:
    return load_settings(os.environ, instance_path)
