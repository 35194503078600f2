"""Fixtures for the security tests: logged-in admin clients (shared with the admin tests)."""

from __future__ import annotations

from tests.admin.conftest import (  # noqa: F401
    admin_client,
    fresh_csrf_per_request,
    make_account,
    moderator_client,
)
