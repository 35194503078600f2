"""Fixtures for the property-based tests: the headers hook, and logged-in admin clients."""

from __future__ import annotations

import pytest

from petitions.security import add_security_headers, refuse_malformed_requests
from tests.admin.conftest import (  # noqa: F401  (fixtures shared with the admin tests)
    admin_client,
    fresh_csrf_per_request,
    make_account,
)


@pytest.fixture(autouse=True)
def security_headers(app):
    """create_app() registers these hooks (register_security). Until it does, these tests
    add the same hooks, so they prove the behaviour either way."""
    after = app.after_request_funcs.setdefault(None, [])
    before = app.before_request_funcs.setdefault(None, [])
    added = add_security_headers not in after
    if added:
        after.append(add_security_headers)
        before.append(refuse_malformed_requests)
    yield
    if added:
        after.remove(add_security_headers)
        before.remove(refuse_malformed_requests)
