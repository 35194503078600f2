"""Fixtures: the app on every database backend, a real SMTP sink, real workers and brokers.

Every test that uses `app` runs once on SQLite and, when PostgreSQL is configured
(TEST_DATABASE_URL, or DATABASE_URL; always in CI), once more on PostgreSQL. The
schema is built once per backend by running the Alembic migrations, so every run
also tests them. Tests commit for real (the code under test commits, and workers in
other processes must see the rows), so each test ends by emptying the tables rather
than by rolling back a wrapping transaction.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.environment import IN_CI, POSTGRES_URL, PROJECT_ROOT, REDIS_URL, RUN_ID  # isort: skip

from petitions.config import normalise_database_url
from petitions.extensions import db
from tests.support.apps import app_settings, build_app, empty_tables, migrate_to_head
from tests.support.processes import RedisServer, WorkerProcess, free_port
from tests.support.smtp import SmtpSink


def _unavailable(what: str, why: str):
    message = f"{what} is not reachable ({why})"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)


# --- database backends ------------------------------------------------------------------

def _postgres_schema_url(base_url: str, schema: str) -> str:
    """Isolate the run in its own schema, so the tests never touch the database's tables."""
    url = normalise_database_url(base_url)
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if (POSTGRES_URL or IN_CI) else ["sqlite"]


def pytest_collection_modifyitems(config, items):
    """Fault tests (marked `fault`) play production's failures: when PostgreSQL is there,
    their SQLite run is left out."""
    if "postgresql" not in _backends():
        return
    sqlite_faults = [
        item for item in items
        if item.get_closest_marker("fault")
        and getattr(item, "callspec", None) and item.callspec.params.get("database_url") == "sqlite"
    ]
    if sqlite_faults:
        config.hook.pytest_deselected(items=sqlite_faults)
        items[:] = [item for item in items if item not in sqlite_faults]


@pytest.fixture(scope="session", params=_backends())
def database_url(request, tmp_path_factory) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.sqlite3"
        yield f"sqlite:///{path}"
        return
    import psycopg

    base = POSTGRES_URL or "postgresql://postgres@127.0.0.1:5432/test"
    conninfo = normalise_database_url(base).replace("postgresql+psycopg://", "postgresql://")
    schema = f"pytest_{RUN_ID}"
    try:
        with psycopg.connect(conninfo, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as exc:
        _unavailable("PostgreSQL", str(exc).strip().splitlines()[0])
    yield _postgres_schema_url(base, schema)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


# --- SMTP ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def smtp_sink(tmp_path_factory) -> Iterator[SmtpSink]:
    sink = SmtpSink(tmp_path_factory.mktemp("smtp"), port=free_port())
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def mail(smtp_sink) -> Iterator[SmtpSink]:
    """The SMTP sink, emptied, running, and accepting every address."""
    smtp_sink.clear()
    smtp_sink.start()
    yield smtp_sink
    smtp_sink.rules.clear()
    smtp_sink.start()


# --- broker -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def redis_url() -> str:
    """The shared Redis, when one is configured (always in CI)."""
    url = REDIS_URL or ("redis://127.0.0.1:6379/0" if IN_CI else "")
    if not url:
        pytest.skip("REDIS_URL is not set")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable("Redis", str(exc))
    return url


@pytest.fixture(scope="session")
def celery_queue(request) -> Iterator[str]:
    name = f"pytest-{RUN_ID}"
    yield name
    if REDIS_URL or IN_CI:
        import redis

        try:
            redis.Redis.from_url(REDIS_URL or "redis://127.0.0.1:6379/0").delete(name)
        except redis.RedisError:
            pass


# --- the app ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def instance_path(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def _session_app(database_url, smtp_sink, instance_path, celery_queue):
    app = build_app(app_settings(database_url, smtp_sink, instance_path, celery_queue), instance_path)
    migrate_to_head(app)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_session_app, mail):
    config_before = dict(_session_app.config)
    with _session_app.app_context():
        yield _session_app
        db.session.remove()
    _session_app.config.clear()
    _session_app.config.update(config_before)
    empty_tables(_session_app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def no_csrf(app):
    app.config["WTF_CSRF_ENABLED"] = False
    return app


# --- real processes -----------------------------------------------------------------------

@pytest.fixture
def start_worker(app, smtp_sink, tmp_path):
    """Start real worker processes for the app under test; all are stopped afterwards.

    Keyword arguments override the worker's environment; `beat=True` runs beat inside it.
    """
    workers: list[WorkerProcess] = []

    def start(*, beat: bool = False, **overrides: str) -> WorkerProcess:
        env = {
            **os.environ,
            "APP_ENV": "test",
            "INSTANCE_PATH": app.instance_path,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "SMTP_URL": smtp_sink.url,
            "CELERY_QUEUE": app.config["CELERY_QUEUE"],
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        if app.config["REDIS_URL"]:
            env["REDIS_URL"] = app.config["REDIS_URL"]
        env.update(overrides)
        worker = WorkerProcess(env, tmp_path / f"worker-{len(workers)}.log", beat=beat)
        workers.append(worker)
        worker.start()
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def private_redis(tmp_path) -> Iterator[RedisServer]:
    if not shutil.which("redis-server"):
        _unavailable("redis-server", "not installed")
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


