"""Admin → API keys: admins create keys (shown once, stored hashed), revoke them; audited."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from petitions.admin.models import AuditEntry
from petitions.api.models import ApiKey
from petitions.extensions import db
from tests.admin.conftest import (
    _logged_in_client,
    csrf_from,
    fresh_csrf_per_request,  # noqa: F401 (autouse fixture)
)
from tests.factories import AdminUserFactory, PetitionFactory

KEY_ON_PAGE = re.compile(r'<code id="new-api-key">([A-Za-z0-9_-]{43})</code>')


@pytest.fixture
def admin(app):
    return _logged_in_client(app, AdminUserFactory(role="admin"))


@pytest.fixture
def moderator(app):
    return _logged_in_client(app, AdminUserFactory(role="moderator"))


def create(client, **fields):
    page = client.get("/admin/api-keys/")
    data = {"name": "Partner news", "scope": "partner", "rate_limit": "30/minute",
            **fields, "csrf_token": csrf_from(page.get_data(as_text=True))}
    return client.post("/admin/api-keys/", data=data)


def keys() -> list[ApiKey]:
    db.session.expire_all()
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.id)))


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_admin_creates_a_partner_key_shown_once_and_it_works(admin, client):
    PetitionFactory(slug="sanctuary-city")
    response = create(admin)

    assert response.status_code == 200
    secret = KEY_ON_PAGE.search(response.get_data(as_text=True)).group(1)
    [key] = keys()
    assert (key.name, key.scope, key.rate_limit) == ("Partner news", "partner", "30/minute")
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert response.headers["Cache-Control"] == "no-store"
    assert "api_key_created" in actions()
    listing = admin.get("/admin/api-keys/").get_data(as_text=True)
    assert secret not in listing and key.prefix in listing and "30/minute" in listing

    signed = client.post("/api/v1/petitions/sanctuary-city/signatures",
                         json={"name": "Jane Doe", "email": "jane@example.org",
                               "postcode": "20004", "country": "US"},
                         headers={"Authorization": f"Bearer {secret}"})
    assert signed.status_code == 202


def test_bad_rate_limit_or_missing_name_is_422_and_creates_nothing(admin):
    assert create(admin, rate_limit="lots").status_code == 422
    assert create(admin, name="").status_code == 422
    assert create(admin, scope="root").status_code == 422
    assert keys() == []


def test_empty_rate_limit_gets_the_default(admin):
    create(admin, rate_limit="", scope="articles")

    [key] = keys()
    assert (key.scope, key.rate_limit) == ("articles", "60/minute")


def test_revoking_stops_the_key_and_is_audited(admin, client):
    secret = KEY_ON_PAGE.search(create(admin).get_data(as_text=True)).group(1)
    [key] = keys()
    page = admin.get("/admin/api-keys/").get_data(as_text=True)

    response = admin.post(f"/admin/api-keys/{key.id}/revoke",
                          data={"csrf_token": csrf_from(page)})

    assert response.status_code == 303
    assert keys()[0].revoked_at is not None
    assert actions()[-1] == "api_key_revoked"
    answer = client.get("/api/v1/signatures/validations?since=2025-01-01",
                        headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 401


def test_revoke_needs_csrf_and_unknown_key_is_404(admin):
    create(admin)
    [key] = keys()
    page = admin.get("/admin/api-keys/").get_data(as_text=True)

    assert admin.post(f"/admin/api-keys/{key.id}/revoke").status_code == 400
    assert admin.post("/admin/api-keys/999/revoke",
                      data={"csrf_token": csrf_from(page)}).status_code == 404
    assert keys()[0].revoked_at is None


def test_moderators_cannot_see_or_create_keys(moderator):
    assert moderator.get("/admin/api-keys/").status_code == 403
    assert moderator.post("/admin/api-keys/", data={"name": "x"}).status_code in (400, 403)
    assert keys() == []


def test_cli_keeps_working_with_scope_and_rate_limit(runner, client):
    result = runner.invoke(args=["api", "create-key", "Partner", "--scope", "partner",
                                 "--rate-limit", "10/minute;100/day"])
    assert result.exit_code == 0, result.output
    [key] = keys()
    assert (key.scope, key.rate_limit) == ("partner", "10/minute;100/day")
    assert actions() == ["api_key_created"]

    bad = runner.invoke(args=["api", "create-key", "X", "--rate-limit", "often"])
    assert bad.exit_code != 0 and len(keys()) == 1

    listed = runner.invoke(args=["api", "list-keys"]).output
    assert "partner" in listed and "10/minute;100/day" in listed
    runner.invoke(args=["api", "revoke-key", key.prefix])
    assert actions() == ["api_key_created", "api_key_revoked"]


def test_keys_made_without_a_scope_are_article_keys(runner):
    result = runner.invoke(args=["api", "create-key", "news-site"])

    assert result.exit_code == 0
    assert keys()[0].scope == "articles"
