"""Fault tests: production scenarios, so PostgreSQL only, with real Redis, SMTP and workers.

Every test here is marked `fault` (`bin/test -m fault` runs them alone) and `slow`. Their
SQLite run is left out (tests/conftest.py): these failures (a broker, a relay, a database
server going away) only exist in production's setup. Without PostgreSQL they skip.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from tests.support.flaky_smtp import FlakySmtpServer
from tests.support.processes import free_port
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture(autouse=True)
def _postgresql_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("fault tests need PostgreSQL (set TEST_DATABASE_URL)")


@pytest.fixture
def flaky_smtp(tmp_path) -> Iterator[FlakySmtpServer]:
    """An SMTP server the test switches between refusing, 4xx answers and accepting."""
    server = FlakySmtpServer(tmp_path / "flaky-mail", port=free_port())
    yield server
    server.stop()


@pytest.fixture
def postgres_proxy(app) -> Iterator[TcpProxy]:
    """A TCP proxy in front of the tests' PostgreSQL server."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432, port=free_port())
    proxy.start()
    yield proxy
    proxy.stop()
