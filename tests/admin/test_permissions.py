"""Every admin route, for every kind of visitor: anonymous users are sent to log in,
moderators are refused the admin-only views, and nobody gets a server error."""

from __future__ import annotations

import pytest

from tests.admin.conftest import csrf_from

# The views that expose personal data in bulk or manage accounts. Keeping the list here,
# not only in the decorators, means a new admin-only view without @admin_only fails below.
ADMIN_ONLY = {
    "admin.accounts.index",
    "admin.accounts.create",
    "admin.accounts.change_role",
    "admin.accounts.set_active",
    "admin.accounts.reset_second_factor",
    "admin.accounts.audit_log",
}
ADMIN_ONLY_PREFIXES = ("admin.exports.signers", "admin.dashboard.outbox", "admin.dashboard.digest",
                       "admin.delivery.", "admin.access_rules.",
                       "admin.api_keys.")
OPEN_TO_ANONYMOUS = {"admin.auth.login", "admin.auth.second_factor"}


def admin_routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every admin route, with placeholder arguments."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        values = {}
        for argument in rule.arguments:
            converter = rule._converters[argument]
            if type(converter).__name__ == "IntegerConverter":
                values[argument] = 999999
            elif getattr(converter, "items", None):  # <any(a, b):name>
                values[argument] = sorted(converter.items)[0]
            else:
                values[argument] = "no-such-thing"
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, url))
    return routes


def is_admin_only(app, endpoint: str) -> bool:
    return getattr(app.view_functions[endpoint], "admin_only", False)


def call(client, method: str, url: str):
    data = {"csrf_token": getattr(client, "csrf", "")}
    return client.open(url, method=method, data=data if method != "GET" else None)


def test_the_route_table_is_not_empty(app):
    endpoints = {endpoint for endpoint, _, _ in admin_routes(app)}
    assert {"admin.dashboard.index", "admin.accounts.index", "admin.auth.login"} <= endpoints


def test_anonymous_visitors_are_sent_to_log_in_everywhere(app, client):
    client.csrf = csrf_from(client.get("/admin/login").get_data(as_text=True))
    for endpoint, method, url in admin_routes(app):
        if endpoint in OPEN_TO_ANONYMOUS:
            continue
        response = call(client, method, url)
        assert response.status_code == 302, (endpoint, method, response.status_code)
        assert response.headers["Location"].startswith("/admin/login"), endpoint


def test_admin_only_views_are_marked_so(app):
    for endpoint, _, _ in admin_routes(app):
        expected = endpoint in ADMIN_ONLY or endpoint.startswith(ADMIN_ONLY_PREFIXES)
        assert is_admin_only(app, endpoint) == expected, endpoint


@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_each_role_gets_what_it_may_and_nothing_fails(app, role, admin_client, moderator_client):
    client = admin_client if role == "admin" else moderator_client
    for endpoint, method, url in admin_routes(app):
        if endpoint == "admin.auth.logout":
            continue  # would end the session the loop is using
        response = call(client, method, url)
        assert response.status_code < 500, (endpoint, method, response.status_code)
        if role == "moderator" and is_admin_only(app, endpoint):
            assert response.status_code == 403, (endpoint, method, response.status_code)
        else:
            assert response.status_code != 403, (endpoint, method, response.status_code)
