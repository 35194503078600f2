"""The admin tests' logged-in clients, with CSRF on and a fresh `g` per request."""

from tests.admin.conftest import (  # noqa: F401  (fixtures)
    admin_client,
    fresh_csrf_per_request,
    make_account,
)
