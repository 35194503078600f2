"""Fixtures for the abuse tests: rate limits switched on, in memory, emptied per test.

The rest of the suite runs with RATELIMIT_ENABLED off (it signs far faster than people
do); `limits_on` turns them on for one test.
"""

from __future__ import annotations

import pytest
from flask import g, request_started

from petitions.extensions import limiter
from tests.admin.conftest import _logged_in_client
from tests.factories import AdminUserFactory


@pytest.fixture(autouse=True)
def fresh_csrf_per_request(app):
    """One app context is held open for the whole test: forget `g` per request, as
    production does, so several clients in one test do not share tokens or logins."""

    def forget(sender, **extra):
        g.pop("csrf_token", None)
        g.pop("_login_user", None)

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)


@pytest.fixture
def limits_on(app):
    """Rate limits, bot traps and their defaults switched on, with empty counters."""
    app.config.update(RATELIMIT_ENABLED=True, MIN_FILL_SECONDS=0)
    limiter.reset()
    yield app
    limiter.reset()


@pytest.fixture
def admin_client(app):
    """Logged in as an admin, CSRF left on; `client.csrf` is a valid token."""
    return _logged_in_client(app, AdminUserFactory(role="admin"))


@pytest.fixture
def moderator_client(app):
    return _logged_in_client(app, AdminUserFactory(role="moderator"))
