"""Settings from the environment: defaults, normalisation, and one clear error per bad value."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from petitions.config import ConfigError, load_settings
from tests.support.environment import PROJECT_ROOT

PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "k" * 64,
    "DATABASE_URL": "postgresql://app:secret@db.internal:5432/petitions",
    "SMTP_URL": "smtps://mailer:pw@smtp.example.org",
    "BASE_URL": "https://petitions.example.org",
}


def test_defaults_give_a_working_development_setup(tmp_path):
    settings = load_settings({}, str(tmp_path))

    assert settings["APP_ENV"] == "development"
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'petitions.sqlite3'}"
    assert settings["MAIL_CATCHER"] is True
    assert (settings["SMTP"].host, settings["SMTP"].port) == ("127.0.0.1", 1025)
    assert settings["MAIL_CATCHER_DIR"] == str(tmp_path / "mail")
    assert settings["BASE_URL"] == "http://localhost:5000"
    assert settings["MAIL_FROM"] == "Petitions <petitions@localhost.localdomain>"
    assert settings["REDIS_URL"] is None
    assert settings["BROKER_FOLDER"] == str(tmp_path / "broker")
    assert settings["CONFIRMATION_MAX_AGE_DAYS"] == 7
    assert settings["SESSION_COOKIE_SECURE"] is False


def test_full_production_environment_loads_without_the_mail_catcher(tmp_path):
    settings = load_settings(PRODUCTION, str(tmp_path))

    assert settings["MAIL_CATCHER"] is False
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["MAIL_FROM"] == "Petitions <petitions@petitions.example.org>"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("given", ["postgres://u:p@db/app", "postgresql://u:p@db/app"])
def test_postgres_urls_are_normalised_to_psycopg3(tmp_path, given):
    settings = load_settings({"DATABASE_URL": given}, str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/app"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://u:p@db/app"),
        ("DATABASE_URL", "db.internal:5432"),
        ("SMTP_URL", "http://smtp.example.org"),
        ("SMTP_URL", "smtp://smtp.example.org:twenty-five"),
        ("SMTP_URL", "smtp://smtp.example.org:0"),
        ("SMTP_URL", "smtp://smtp.example.org:70000"),
        ("SMTP_URL", "smtp://"),
        ("SMTP_URL", "smtp://smtp.example.org?starttls=maybe"),
        ("BASE_URL", "petitions.example.org"),
        ("BASE_URL", "ftp://petitions.example.org"),
        ("BASE_URL", "https://petitions.example.org/?ref=mail"),
        ("MAIL_FROM", "not an address"),
        ("MAIL_FROM", "Petitions <petitions>"),
        ("REDIS_URL", "localhost:6379"),
        ("REDIS_URL", "http://localhost:6379/0"),
        ("CONFIRMATION_MAX_AGE_DAYS", "seven"),
        ("CONFIRMATION_MAX_AGE_DAYS", "0"),
        ("COUNT_REFRESH_SECONDS", "1.5"),
        ("MAIL_CATCHER_PORT", "smtp"),
        ("MAIL_CATCHER_PORT", "70000"),
        ("APP_ENV", "staging"),
        ("OUTBOX_RETRY_SECONDS", "soon"),
        ("OUTBOX_RETRY_SECONDS", "0"),
        ("OUTBOX_RETRY_MAX_SECONDS", "-1"),
    ],
)
def test_bad_value_raises_config_error_naming_the_variable(tmp_path, variable, value):
    with pytest.raises(ConfigError) as caught:
        load_settings({variable: value}, str(tmp_path))

    assert caught.value.variable == variable
    assert str(caught.value).startswith(f"Configuration error: {variable}: ")
    assert "\n" not in str(caught.value)


def test_outbox_retry_defaults_and_overrides(tmp_path):
    defaults = load_settings({}, str(tmp_path))
    assert (defaults["OUTBOX_RETRY_SECONDS"], defaults["OUTBOX_RETRY_MAX_SECONDS"]) == (30, 7200)

    faster = load_settings({"OUTBOX_RETRY_SECONDS": "2", "OUTBOX_RETRY_MAX_SECONDS": "8"},
                           str(tmp_path))
    assert (faster["OUTBOX_RETRY_SECONDS"], faster["OUTBOX_RETRY_MAX_SECONDS"]) == (2, 8)


def test_the_longest_retry_wait_may_not_be_shorter_than_the_first(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings({"OUTBOX_RETRY_SECONDS": "60", "OUTBOX_RETRY_MAX_SECONDS": "30"},
                      str(tmp_path))
    assert caught.value.variable == "OUTBOX_RETRY_MAX_SECONDS"


def test_postgresql_connections_are_tested_before_use_and_sqlite_needs_nothing(tmp_path):
    production = load_settings(PRODUCTION, str(tmp_path))
    assert production["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "pool_pre_ping": True, "connect_args": {"connect_timeout": 5}}
    assert load_settings({}, str(tmp_path))["SQLALCHEMY_ENGINE_OPTIONS"] == {}


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "SMTP_URL"])
def test_production_refuses_to_start_without(tmp_path, missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(ConfigError) as caught:
        load_settings(env, str(tmp_path))
    assert caught.value.variable == missing


def test_production_refuses_a_short_secret_key(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings({**PRODUCTION, "SECRET_KEY": "too-short"}, str(tmp_path))
    assert caught.value.variable == "SECRET_KEY"


def test_smtps_means_implicit_tls_on_port_465(tmp_path):
    smtp = load_settings({"SMTP_URL": "smtps://smtp.example.org"}, str(tmp_path))["SMTP"]
    assert (smtp.host, smtp.port, smtp.implicit_tls, smtp.starttls) == (
        "smtp.example.org", 465, True, False,
    )


def test_plain_smtp_defaults_to_port_25_and_keeps_an_explicit_port(tmp_path):
    assert load_settings({"SMTP_URL": "smtp://mx.example.org"}, str(tmp_path))["SMTP"].port == 25
    smtp = load_settings({"SMTP_URL": "smtp://mx.example.org:2525"}, str(tmp_path))["SMTP"]
    assert (smtp.port, smtp.implicit_tls, smtp.starttls) == (2525, False, False)


def test_starttls_flag_in_the_query_is_parsed(tmp_path):
    env = {"SMTP_URL": "smtp://mx.example.org:587?starttls=1"}
    smtp = load_settings(env, str(tmp_path))["SMTP"]
    assert (smtp.port, smtp.starttls, smtp.implicit_tls) == (587, True, False)


def test_smtp_user_and_password_are_percent_decoded(tmp_path):
    url = "smtp://mailer%40example.org:p%40ss%3Aw%2Frd@mx.example.org:587"
    smtp = load_settings({"SMTP_URL": url}, str(tmp_path))["SMTP"]
    assert (smtp.username, smtp.password) == ("mailer@example.org", "p@ss:w/rd")


def test_development_generates_a_secret_key_once_and_keeps_it_in_the_instance_folder(tmp_path):
    first = load_settings({}, str(tmp_path))["SECRET_KEY"]
    second = load_settings({}, str(tmp_path))["SECRET_KEY"]

    assert len(first) == 64 and first == second
    key_file = tmp_path / "secret_key"
    assert key_file.read_text() == first
    assert key_file.stat().st_mode & 0o077 == 0  # readable by the owner only
    assert load_settings({}, str(tmp_path / "other"))["SECRET_KEY"] != first


def test_production_start_without_secret_key_prints_one_line_and_no_traceback(tmp_path):
    env = {
        k: v for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "DATABASE_URL", "SMTP_URL", "REDIS_URL")
    }
    env.update(
        APP_ENV="production",
        INSTANCE_PATH=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        SMTP_URL="smtp://127.0.0.1:25",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    result = subprocess.run(
        [sys.executable, "-c", "from petitions import create_app; create_app()"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )

    assert result.returncode != 0
    output = (result.stdout + result.stderr).strip()
    assert "Traceback" not in output
    assert len(output.splitlines()) == 1, output
    assert output.startswith("Configuration error: SECRET_KEY: ")


def test_trusted_proxies_make_the_client_address_the_forwarded_one(tmp_path):
    from flask import request

    from tests.support.apps import build_app

    seen = {}
    for hops in (0, 1):
        app = build_app({"TESTING": True, "TRUSTED_PROXIES": hops}, tmp_path)
        app.add_url_rule("/_client-ip", "client_ip", lambda: request.remote_addr)
        response = app.test_client().get(
            "/_client-ip", headers={"X-Forwarded-For": "203.0.113.9"},
            environ_base={"REMOTE_ADDR": "10.0.0.2"})
        seen[hops] = response.get_data(as_text=True)
    assert seen == {0: "10.0.0.2", 1: "203.0.113.9"}


def test_trusted_proxies_setting_is_validated(tmp_path):
    from petitions.config import ConfigError, load_settings

    assert load_settings({"TRUSTED_PROXIES": "2"}, str(tmp_path))["TRUSTED_PROXIES"] == 2
    assert load_settings({}, str(tmp_path))["TRUSTED_PROXIES"] == 0
    with pytest.raises(ConfigError):
        load_settings({"TRUSTED_PROXIES": "-1"}, str(tmp_path))
