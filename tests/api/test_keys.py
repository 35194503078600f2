"""Who may post articles: ARTICLES_API_TOKEN or an API key from `flask api create-key`."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from petitions.api.models import ApiKey
from petitions.database import utcnow
from petitions.extensions import db
from tests.api.helpers import TOKEN, articles, post


def create_key(runner, name: str = "news-site") -> str:
    result = runner.invoke(args=["api", "create-key", name])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", key), result.output
    return key


def api_keys() -> list[ApiKey]:
    db.session.expire_all()
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.id)))


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer wrong",
     f"Token {TOKEN}", "Bearer caf\u00e9"],
    ids=repr,
)
def test_missing_or_wrong_token_gets_401_json_with_www_authenticate(app, client, authorization):
    app.config["ARTICLES_API_TOKEN"] = TOKEN
    headers = {} if authorization is None else {"Authorization": authorization}

    response = client.post("/api/articles", json={}, headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "Bearer" in response.get_json()["error"]
    assert articles() == []


def test_configured_token_is_accepted(app, client):
    app.config["ARTICLES_API_TOKEN"] = TOKEN

    assert post(client).status_code == 201


def test_without_a_configured_token_nothing_is_accepted_but_keys(app, client):
    app.config["ARTICLES_API_TOKEN"] = None

    assert post(client, token="None").status_code == 401
    assert post(client, token=TOKEN).status_code == 401


def test_key_created_with_the_cli_works_and_only_its_hash_is_stored(app, client, runner):
    app.config["ARTICLES_API_TOKEN"] = None
    result = runner.invoke(args=["api", "create-key", "news-site"])
    key = result.output.strip().splitlines()[-1]

    assert "cannot be shown again" in result.output
    [stored] = api_keys()
    assert stored.name == "news-site"
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert stored.prefix == key[:8]
    assert key not in (stored.name, stored.prefix, stored.key_hash)
    assert len(key) >= 40 and stored.last_used_at is None

    response = post(client, token=key)

    assert response.status_code == 201
    assert api_keys()[0].last_used_at is not None


def test_revoked_key_gets_401(app, client, runner):
    app.config["ARTICLES_API_TOKEN"] = None
    key = create_key(runner)

    result = runner.invoke(args=["api", "revoke-key", key[:8]])

    assert result.exit_code == 0 and "Revoked" in result.output
    assert api_keys()[0].revoked_at is not None
    assert post(client, token=key).status_code == 401
    assert "already revoked" in runner.invoke(args=["api", "revoke-key", key[:8]]).output


def test_revoking_an_unknown_prefix_fails_with_a_message(runner):
    result = runner.invoke(args=["api", "revoke-key", "nope1234"])

    assert result.exit_code == 1
    assert "No API key has the prefix 'nope1234'" in result.output


def test_list_keys_shows_name_prefix_and_dates_but_never_the_key(app, client, runner):
    app.config["ARTICLES_API_TOKEN"] = None
    used = create_key(runner, "news-site")
    revoked = create_key(runner, "old-importer")
    post(client, token=used)
    runner.invoke(args=["api", "revoke-key", revoked[:8]])
    today = utcnow().strftime("%Y-%m-%d")

    output = runner.invoke(args=["api", "list-keys"]).output

    header, first, second = output.strip().splitlines()
    assert header.split() == ["NAME", "PREFIX", "CREATED", "LAST", "USED", "REVOKED", "SCOPE",
                              "LIMIT"]
    assert first.startswith("news-site") and used[:8] in first and first.count(today) == 2
    assert second.startswith("old-importer") and second.count(today) == 2
    assert used not in output and revoked not in output


def test_list_keys_without_keys_says_how_to_create_one(runner):
    assert "flask api create-key NAME" in runner.invoke(args=["api", "list-keys"]).output


def test_key_name_must_be_short(runner):
    result = runner.invoke(args=["api", "create-key", "n" * 101])

    assert result.exit_code == 2 and api_keys() == []
