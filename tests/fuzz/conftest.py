"""Fixtures for the property-based tests: logged-in admin clients (shared with the admin tests)."""

from __future__ import annotations

from tests.admin.conftest import admin_client, fresh_csrf_per_request, make_account  # noqa: F401
