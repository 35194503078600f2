"""POST /api/articles: one article per request, idempotent, and never a 500 for any input."""

from __future__ import annotations

import pytest

from tests.api.helpers import ARTICLE, TOKEN, articles, categories, post
from tests.factories import CategoryFactory, PetitionFactory
from tests.support.concurrency import run_concurrently


@pytest.fixture(autouse=True)
def api_token(app):
    app.config["ARTICLES_API_TOKEN"] = TOKEN


def test_new_article_is_created_with_201_its_json_and_a_location(client):
    response = post(client)

    assert response.status_code == 201
    body = response.get_json()
    assert body == {
        "id": body["id"],
        "title": ARTICLE["title"],
        "url": ARTICLE["url"],
        "category": {"slug": "immigration-policy-border-issues", "name": ARTICLE["category"]},
        "summary": "DC\u2019s police chief ordered that officers may share information with ICE.",
        "published_at": "2025-08-16T23:58:22+00:00",
        "external_id": "tr-1001",
        "petition": None,
    }
    assert response.headers["Location"] == f"/api/articles/{body['id']}"
    shown = client.get(response.headers["Location"], headers={"Authorization": f"Bearer {TOKEN}"})
    assert shown.status_code == 200 and shown.get_json() == body


def test_same_external_id_updates_the_article_with_200(client):
    first = post(client).get_json()

    response = post(client, title="DC police will tell ICE about arrests",
                    url="https://truthandresistance.example/articles/dc-police-ice-renamed")

    assert response.status_code == 200
    assert response.get_json()["id"] == first["id"]
    [article] = articles()
    assert article.title == "DC police will tell ICE about arrests"
    assert article.url.endswith("/dc-police-ice-renamed")


def test_same_url_without_external_id_updates_the_article_with_200(client):
    without_id = {key: value for key, value in ARTICLE.items() if key != "external_id"}
    first = post(client, without_id).get_json()

    response = post(client, {**without_id, "title": "A better headline"})

    assert response.status_code == 200
    assert response.get_json()["id"] == first["id"]
    assert [a.title for a in articles()] == ["A better headline"]


def test_posting_the_same_article_again_changes_nothing(client):
    post(client)
    [before] = articles()
    updated_at = before.updated_at

    response = post(client)

    assert response.status_code == 200
    [after] = articles()
    assert after.updated_at == updated_at


def test_category_is_created_on_first_use_and_found_again_by_name_or_slug(client):
    post(client)
    by_slug = post(client, external_id="tr-2", url="https://news.example/2",
                   category="immigration-policy-border-issues")
    by_name = post(client, external_id="tr-3", url="https://news.example/3",
                   category="  Immigration Policy & Border Issues ")

    [category] = categories()
    assert (category.name, category.slug) == (
        "Immigration Policy & Border Issues", "immigration-policy-border-issues")
    assert by_slug.status_code == by_name.status_code == 201
    assert {a.category_id for a in articles()} == {category.id}


def test_an_existing_category_is_found_by_its_name(client):
    existing = CategoryFactory(name="Local Politics", slug="dc-politics")

    response = post(client, category="Local Politics")

    assert response.get_json()["category"] == {"slug": "dc-politics", "name": "Local Politics"}
    assert [c.id for c in categories()] == [existing.id]


def test_petition_slug_links_the_article_to_the_petition(client):
    petition = PetitionFactory(slug="sanctuary-city")

    response = post(client, petition="sanctuary-city")

    assert response.status_code == 201
    assert response.get_json()["petition"] == "sanctuary-city"
    assert articles()[0].petition_id == petition.id


def test_petition_null_unlinks_and_a_missing_petition_keeps_the_link(client):
    PetitionFactory(slug="sanctuary-city")
    post(client, petition="sanctuary-city")

    assert post(client, title="Kept").get_json()["petition"] == "sanctuary-city"
    assert post(client, petition=None).get_json()["petition"] is None


def test_unknown_petition_is_refused_with_422(client):
    response = post(client, petition="no-such-petition")

    assert response.status_code == 422
    assert response.get_json()["fields"] == {
        "petition": "There is no petition with the slug 'no-such-petition'."}
    assert articles() == [] and categories() == []


def test_control_characters_are_removed_and_whitespace_collapsed(client):
    response = post(client, title="  DC\x00 police\n\tand  ICE\x1b ", summary="a\x00b\x07c")

    assert response.status_code == 201
    assert response.get_json()["title"] == "DC police and ICE"
    assert response.get_json()["summary"] == "abc"


def test_a_naive_publication_time_is_taken_as_utc_and_offsets_are_converted(client):
    naive = post(client, published_at="2025-08-16T23:58:22").get_json()
    offset = post(client, external_id="tr-2", url="https://news.example/2",
                  published_at="2025-08-16T19:58:22-04:00").get_json()

    assert naive["published_at"] == offset["published_at"] == "2025-08-16T23:58:22+00:00"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", None, "A title is required."),
        ("title", "   ", "A title is required."),
        ("title", 42, "The title must be text."),
        ("title", "t" * 301, "The title must be 300 characters or fewer."),
        ("url", None, "A URL is required."),
        ("url", "/articles/relative", "The URL must be absolute and start with http:// or https://."),
        ("url", "ftp://news.example/a", "The URL must be absolute and start with http:// or https://."),
        ("url", "javascript:alert(1)", "The URL must be absolute and start with http:// or https://."),
        ("url", "https://news example/a", "The URL must not contain spaces or control characters."),
        ("url", "https://news.example:port/a", "The URL is not valid."),
        ("url", "https://[::1/a", "The URL is not valid."),
        ("url", "https://news.example/" + "a" * 1980, "The URL must be 2000 characters or fewer."),
        ("category", None, "A category is required."),
        ("category", "c" * 121, "The category must be 120 characters or fewer."),
        ("category", "!!!", "The category must contain letters or digits."),
        ("category", ["News"], "The category must be text."),
        ("summary", "s" * 5001, "The summary must be 5000 characters or fewer."),
        ("external_id", "e" * 201, "The external id must be 200 characters or fewer."),
        ("external_id", {"id": 1}, "The external id must be text."),
        ("petition", 7, "The petition must be text."),
    ],
    ids=lambda value: repr(value)[:30],
)
def test_invalid_field_is_refused_with_422_and_a_message(client, field, value, message):
    response = post(client, **{field: value})

    assert response.status_code == 422
    assert response.get_json() == {
        "error": "Some fields are missing or invalid.", "status": 422, "fields": {field: message}}
    assert articles() == []


@pytest.mark.parametrize(
    "value",
    ["yesterday", "2025-13-45", "16/08/2025", "2025-08-16T25:00:00Z", 20250816, "",
     "1850-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00"],
)
def test_bad_publication_time_is_refused_with_422(client, value):
    response = post(client, published_at=value)

    assert response.status_code == 422
    assert "published_at" in response.get_json()["fields"]
    assert articles() == []


def test_every_missing_field_is_named_at_once(client):
    response = post(client, {"summary": "only this"})

    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"title", "url", "category", "published_at"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "The request body must be JSON."),
        ("", "The request body must be JSON."),
        ('{"title": ', "The request body must be JSON."),
        (b"\xff\xfe{}", "The request body must be JSON."),
        ("[" * 50_000, "The request body must be JSON."),
        ("1e999999999", "Send one article as a JSON object."),
        ("null", "Send one article as a JSON object."),
        ('"a string"', "Send one article as a JSON object."),
        ([ARTICLE], "Send one article as a JSON object."),
    ],
    ids=lambda value: repr(value)[:20],
)
def test_a_body_that_is_not_one_json_object_is_refused_with_400(client, body, message):
    response = post(client, body)

    assert response.status_code == 400
    assert response.get_json()["error"] == message
    assert articles() == []


def test_a_lone_surrogate_is_refused_not_a_server_error(client):
    response = post(client, '{"title": "bad \\ud800", "url": "https://news.example/a"}')

    assert response.status_code == 422
    assert response.get_json()["fields"]["title"] == \
        "The title contains characters that are not valid text."


def test_an_oversize_body_gets_413_json(client):
    response = post(client, {**ARTICLE, "summary": "s" * 70_000})

    assert response.status_code == 413
    assert response.is_json


def test_url_of_another_article_cannot_be_taken_over(client):
    post(client)
    post(client, external_id="tr-2", url="https://news.example/2")

    response = post(client, external_id="tr-2")

    assert response.status_code == 422
    assert "Another article" in response.get_json()["fields"]["url"]


def test_concurrent_first_uses_of_a_category_create_it_once(app):
    def create(number: int):
        return post(app.test_client(), external_id=f"tr-{number}",
                    url=f"https://news.example/{number}", category="Breaking Border News")

    responses = run_concurrently(create, [(n,) for n in range(6)])

    assert [r.status_code for r in responses] == [201] * 6
    assert [c.slug for c in categories()] == ["breaking-border-news"]
    assert len(articles()) == 6


def test_concurrent_posts_of_one_article_create_it_once(app):
    responses = run_concurrently(lambda: post(app.test_client()), [()] * 6)

    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len(articles()) == 1 and len(categories()) == 1


def test_wrong_method_is_json_not_html(client):
    response = client.get("/api/articles", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 405 and response.is_json


def test_unknown_article_id_is_404_json(client):
    response = client.get("/api/articles/999", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 404 and response.is_json
