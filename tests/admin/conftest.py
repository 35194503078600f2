"""Logged-in admin and moderator clients, with CSRF left on as in production."""

from __future__ import annotations

import re

import pytest
from flask import g, request_started

from tests.factories import ADMIN_PASSWORD, AdminUserFactory

CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"'
                        r'|name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def fresh_csrf_per_request(app):
    """The test holds one app context open, so `g` would outlive each request and hand one
    client's cached CSRF token and logged-in user to the next client. In production every
    request has its own."""

    def forget(sender, **extra):
        g.pop("csrf_token", None)
        g.pop("_login_user", None)

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)


def csrf_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def log_in(client, email: str, password: str = ADMIN_PASSWORD, **environ):
    """POST the login form as a browser would (token from the page); returns the response."""
    page = client.get("/admin/login", **environ)
    token = csrf_from(page.get_data(as_text=True))
    response = client.post("/admin/login", data={"email": email, "password": password,
                                                   "csrf_token": token}, **environ)
    client.csrf = token
    if response.status_code == 303 and "/login" not in response.headers["Location"]:
        # Logging in starts a new session, with a new CSRF secret.
        client.csrf = csrf_from(client.get("/admin/").get_data(as_text=True))
    return response


@pytest.fixture
def make_account(app):
    def make(role: str = "admin", **fields):
        return AdminUserFactory(role=role, **fields)

    return make


def _logged_in_client(app, account):
    client = app.test_client()
    response = log_in(client, account.email)
    assert response.status_code == 303, response.get_data(as_text=True)
    client.account = account
    return client


@pytest.fixture
def admin_client(app, make_account):
    """A test client logged in as an admin; `client.csrf` is a valid token for its POSTs."""
    return _logged_in_client(app, make_account("admin"))


@pytest.fixture
def moderator_client(app, make_account):
    return _logged_in_client(app, make_account("moderator"))
