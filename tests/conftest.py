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
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
RUN_ID = secrets.token_hex(4)

# Read what the developer pointed us at, then give the app a clean, known environment.
_POSTGRES_URL = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
_REDIS_URL = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or ""
for _name in ("DATABASE_URL", "REDIS_URL", "SMTP_URL", "BASE_URL", "MAIL_FROM", "CELERY_QUEUE"):
    os.environ.pop(_name, None)
os.environ.update(
    APP_ENV="test",
    SECRET_KEY="test-" + secrets.token_hex(24),
    BASE_URL="http://petitions.test",
    MAIL_FROM="Petitions <petitions@petitions.test>",
)

from petitions import create_app  # noqa: E402
from petitions.config import normalise_database_url, parse_smtp_url  # noqa: E402
from petitions.extensions import db  # noqa: E402
from tests.support.smtp import SmtpSink  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    return ["sqlite", "postgresql"] if (_POSTGRES_URL or IN_CI) else ["sqlite"]


@pytest.fixture(scope="session", params=_backends())
def database_url(request, tmp_path_factory) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.sqlite3"
        yield f"sqlite:///{path}"
        return
    import psycopg

    base = _POSTGRES_URL or "postgresql://postgres@127.0.0.1:5432/test"
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
    url = _REDIS_URL or ("redis://127.0.0.1:6379/0" if IN_CI else "")
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
    if _REDIS_URL or IN_CI:
        import redis

        try:
            redis.Redis.from_url(_REDIS_URL or "redis://127.0.0.1:6379/0").delete(name)
        except redis.RedisError:
            pass


# --- the app ------------------------------------------------------------------------------

def app_settings(database_url: str, smtp_sink: SmtpSink, instance: Path, queue: str) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SMTP": parse_smtp_url(smtp_sink.url),
        "MAIL_CATCHER": False,
        "REDIS_URL": _REDIS_URL or None,
        "BROKER_FOLDER": str(instance / "broker"),
        "CELERY_QUEUE": queue,
        "CONFIRMATION_MAX_AGE_DAYS": 7,
    }


def build_app(settings: dict, instance: Path):
    os.environ["INSTANCE_PATH"] = str(instance)
    try:
        return create_app(settings)
    finally:
        os.environ.pop("INSTANCE_PATH", None)


def migrate_to_head(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


def empty_tables(app) -> None:
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


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

class WorkerProcess:
    """`celery -A worker worker`, a real process, sharing the test's database and broker."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 40.0) -> None:
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "worker", "worker", "--pool", "solo",
             "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
            cwd=PROJECT_ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.output()}")
            if b"ready." in self.log_path.read_bytes():
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready in {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if getattr(self, "log", None):
            self.log.close()


@pytest.fixture
def start_worker(app, smtp_sink, tmp_path):
    """Start real worker processes for the app under test; all are stopped afterwards."""
    workers: list[WorkerProcess] = []

    def start(**overrides: str) -> WorkerProcess:
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
        worker = WorkerProcess(env, tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        worker.start()
        return worker

    yield start
    for worker in workers:
        worker.stop()


class RedisServer:
    """A private redis-server, so a test can stop and restart "the broker" safely."""

    def __init__(self, port: int, folder: Path):
        self.port = port
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[RedisServer]:
    if not shutil.which("redis-server"):
        _unavailable("redis-server", "not installed")
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()

