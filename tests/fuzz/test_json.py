"""Every JSON endpoint, fed anything: never a 5xx, and nothing stored unless accepted."""

from __future__ import annotations

import json

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from petitions.extensions import db
from petitions.mail.models import Suppression
from petitions.newsletter.models import Article
from tests.api.helpers import ARTICLE, TOKEN
from tests.factories import PetitionFactory
from tests.fuzz.strategies import (
    CONTENT_TYPES,
    FUZZ,
    JSON_VALUES,
    PATH_SEGMENTS,
    RAW_BODIES,
    json_object_like,
)

BOUNCE_TOKEN = "bounce-token-" + "b" * 24
BOUNCE = {"email": "gone@example.org", "type": "hard_bounce", "detail": "550 no such user"}


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _send(client, path, body, content_type, token):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    return client.post(path, data=body, content_type=content_type, headers=headers)


ARTICLE_BODIES = st.one_of(json_object_like(ARTICLE), JSON_VALUES, RAW_BODIES,
                           st.lists(json_object_like(ARTICLE), max_size=2))


@FUZZ
@given(body=ARTICLE_BODIES, content_type=st.one_of(st.just("application/json"), CONTENT_TYPES),
       token=st.sampled_from([TOKEN, TOKEN, TOKEN, None, "wrong-token-" + "z" * 20]))
def test_post_articles(app, client, body, content_type, token):
    app.config["ARTICLES_API_TOKEN"] = TOKEN
    before = count(Article)

    response = _send(client, "/api/articles", body, content_type, token)
    event(f"status {response.status_code}")

    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    assert response.is_json
    after = count(Article)
    if response.status_code == 201:
        assert after == before + 1
        stored = db.session.get(Article, response.get_json()["id"])
        assert stored is not None and stored.url == body["url"]
    elif response.status_code == 200:
        assert after == before  # an update of the same article
    else:
        assert response.status_code in (400, 401, 413, 415, 422, 429)
        assert after == before




BOUNCE_BODIES = st.one_of(json_object_like(BOUNCE), st.lists(json_object_like(BOUNCE), max_size=3),
                          JSON_VALUES, RAW_BODIES)


@FUZZ
@given(body=BOUNCE_BODIES, content_type=st.one_of(st.just("application/json"), CONTENT_TYPES),
       token=st.sampled_from([BOUNCE_TOKEN, BOUNCE_TOKEN, None, "x" * 30]))
def test_post_bounce_webhook(app, client, body, content_type, token):
    app.config["BOUNCE_WEBHOOK_TOKEN"] = BOUNCE_TOKEN
    before = count(Suppression)

    response = _send(client, "/webhooks/bounce", body, content_type, token)
    event(f"status {response.status_code}")

    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code == 200:
        totals = response.get_json()
        assert count(Suppression) - before == totals["suppressed"]
    else:
        assert response.status_code in (400, 401, 413, 415, 429)
        assert count(Suppression) == before


@pytest.mark.parametrize("kind", [[], {}, ["hard_bounce"]])
def test_a_bounce_type_that_is_not_a_string_is_a_400(app, client, kind):
    app.config["BOUNCE_WEBHOOK_TOKEN"] = BOUNCE_TOKEN

    response = _send(client, "/webhooks/bounce", {**BOUNCE, "type": kind}, "application/json",
                     BOUNCE_TOKEN)

    assert response.status_code == 400
    assert count(Suppression) == 0


@FUZZ
@given(slug=PATH_SEGMENTS, suffix=st.sampled_from([".json", "/count.json"]),
       query=st.dictionaries(st.text(max_size=5), st.text(max_size=20), max_size=2))
def test_public_json_with_any_slug(client, slug, suffix, query):
    response = client.get(f"/petitions/{slug}{suffix}", query_string=query)

    assert response.status_code in (400, 404, 410, 414), response.status_code
    assert response.is_json or response.status_code in (400, 414)


def test_public_json_for_a_real_petition_still_answers(client):
    PetitionFactory(slug="real")

    assert client.get("/petitions/real.json").get_json()["slug"] == "real"
    assert client.get("/petitions/real/count.json").get_json()["slug"] == "real"
