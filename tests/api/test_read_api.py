"""GET /petitions.json, /categories.json, /petitions.csv and the extended
/petitions/<slug>.json: filters, pages, caching, CORS, and what is never listed."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from petitions.database import utcnow
from tests.factories import ArticleFactory, CategoryFactory, PetitionFactory, SignatureFactory

BASE = "http://petitions.test"


def _make(slug, **fields):
    return PetitionFactory(slug=slug, title=fields.pop("title", slug.title()), **fields)


def slugs(response) -> list[str]:
    return [item["slug"] for item in response.get_json()["petitions"]]


@pytest.fixture
def listed():
    housing = CategoryFactory(name="Housing", slug="housing")
    police = CategoryFactory(name="Police", slug="police")
    now = utcnow()
    _make("rent-freeze", title="Freeze the RENT", category=housing,
          created_at=now - timedelta(days=1))
    _make("late", category=housing, closes_at=now - timedelta(hours=1),
          created_at=now - timedelta(days=2))
    _make("done", state="closed", category=police, summary="Body cameras 100% of the time",
          created_at=now - timedelta(days=3))
    _make("old", state="archived", category=police, created_at=now - timedelta(days=4))
    _make("secret-draft", state="draft", category=housing)
    _make("hidden-one", hidden=True, category=housing)
    _make("removed-one", removed_at=now, removal_reason="Abusive", category=housing)
    return housing, police


def test_the_list_has_only_public_petitions_newest_first_with_their_fields(app, client, listed):
    response = client.get("/petitions.json")

    assert response.status_code == 200
    assert slugs(response) == ["rent-freeze", "late", "done", "old"]
    body = response.get_json()
    assert body["total"] == 4 and body["page"] == 1 and body["per_page"] == 20
    item = body["petitions"][0]
    assert set(item) == {"slug", "title", "summary", "state", "signature_count", "goal",
                         "created_at", "closes_at", "category", "url", "json_url"}
    assert item["category"] == {"name": "Housing", "slug": "housing"}
    assert item["url"] == f"{BASE}/petitions/rent-freeze"
    assert item["json_url"] == f"{BASE}/petitions/rent-freeze.json"
    assert body["petitions"][1]["state"] == "closed"  # past its closing time


@pytest.mark.parametrize(("query", "expected"), [
    ({"state": "open"}, ["rent-freeze"]),
    ({"state": "closed"}, ["late", "done"]),
    ({"state": "archived"}, ["old"]),
    ({"category": "police"}, ["done", "old"]),
    ({"q": "rent"}, ["rent-freeze"]),
    ({"q": "100%"}, ["done"]),
    ({"q": "%"}, ["done"]),
    ({"q": "_"}, []),
    ({"q": "secret"}, []),
    ({"state": "closed", "category": "housing"}, ["late"]),
])
def test_filters(client, listed, query, expected):
    assert slugs(client.get("/petitions.json", query_string=query)) == expected


@pytest.mark.parametrize(("query", "code"), [
    ({"state": "draft"}, "invalid_state"),
    ({"state": "removed"}, "invalid_state"),
    ({"q": "x" * 101}, "q_too_long"),
    ({"q": "a\x00b"}, "invalid_q"),
    ({"category": "a\x00"}, "invalid_category"),
    ({"per_page": "51"}, "invalid_per_page"),
    ({"per_page": "0"}, "invalid_per_page"),
    ({"per_page": "-1"}, "invalid_per_page"),
    ({"page": "abc"}, "invalid_page"),
    ({"page": "²"}, "invalid_page"),
    ({"page": "99999999999999999999"}, "invalid_page"),
])
def test_bad_parameters_are_a_400_with_a_stable_code(client, listed, query, code):
    response = client.get("/petitions.json", query_string=query)

    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == code and body["status"] == 400
    assert body["error"] and body["detail"] and body["parameter"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_an_unknown_category_is_a_404_with_a_stable_code(client, listed):
    for url in ("/petitions.json?category=nope", "/petitions.csv?category=nope"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.get_json()["code"] == "unknown_category"


def test_pages_have_first_next_prev_and_last_links_in_body_and_header(client):
    category = CategoryFactory(slug="many")
    for n in range(7):
        _make(f"p-{n}", category=category, created_at=utcnow() - timedelta(minutes=n))

    first = client.get("/petitions.json?per_page=3&category=many").get_json()
    assert [p["slug"] for p in first["petitions"]] == ["p-0", "p-1", "p-2"]
    assert first["links"]["prev"] is None
    assert first["links"]["first"] == f"{BASE}/petitions.json?category=many&page=1&per_page=3"
    assert first["links"]["last"].endswith("page=3&per_page=3")

    second = client.get(first["links"]["next"].removeprefix(BASE))
    body = second.get_json()
    assert [p["slug"] for p in body["petitions"]] == ["p-3", "p-4", "p-5"]
    assert body["links"]["prev"] == first["links"]["first"]
    assert 'rel="next"' in second.headers["Link"] and 'rel="prev"' in second.headers["Link"]

    last = client.get(body["links"]["next"].removeprefix(BASE)).get_json()
    assert [p["slug"] for p in last["petitions"]] == ["p-6"]
    assert last["links"]["next"] is None

    beyond = client.get("/petitions.json?per_page=3&category=many&page=9").get_json()
    assert beyond["petitions"] == [] and beyond["links"]["prev"].endswith("page=3&per_page=3")


def test_at_most_50_a_page(client):
    category = CategoryFactory(slug="lots")
    PetitionFactory.create_batch(55, category=category)

    body = client.get("/petitions.json?per_page=50").get_json()
    assert len(body["petitions"]) == 50 and body["total"] == 55
    assert client.get("/petitions.json?per_page=51").status_code == 400


def test_lists_are_cacheable_with_etag_and_304(client, listed):
    for url in ("/petitions.json", "/categories.json", "/petitions.csv"):
        response = client.get(url)
        cache = response.headers["Cache-Control"]
        assert "public" in cache and "max-age=60" in cache
        assert "stale-while-revalidate=30" in cache and "stale-if-error=86400" in cache
        etag = response.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b""
        assert again.headers["ETag"] == etag


def test_every_read_endpoint_allows_any_origin_and_answers_preflight(client, listed):
    urls = ["/petitions.json", "/categories.json", "/petitions.csv", "/petitions.atom",
            "/categories/housing/petitions.atom", "/petitions/rent-freeze.json",
            "/petitions/rent-freeze/count.json"]
    for url in urls:
        response = client.get(url, headers={"Origin": "https://partner.example"})
        assert response.status_code == 200, url
        assert response.headers["Access-Control-Allow-Origin"] == "*", url
        assert "Access-Control-Allow-Credentials" not in response.headers
        assert "ETag" in response.headers["Access-Control-Expose-Headers"]

        preflight = client.options(url, headers={
            "Origin": "https://partner.example", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match"})
        assert preflight.status_code == 200, url
        assert preflight.headers["Access-Control-Allow-Origin"] == "*"
        assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
        assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]


def test_pages_that_are_not_the_read_api_get_no_cors(client, listed):
    assert "Access-Control-Allow-Origin" not in client.get("/petitions/rent-freeze").headers
    assert "Access-Control-Allow-Origin" not in client.get("/subscribe").headers


def test_categories_count_their_open_public_petitions(client, listed):
    body = client.get("/categories.json").get_json()

    assert body["categories"] == [
        {"name": "Housing", "slug": "housing", "open_petitions": 1,
         "url": f"{BASE}/petitions.json?category=housing",
         "feed_url": f"{BASE}/categories/housing/petitions.atom"},
        {"name": "Police", "slug": "police", "open_petitions": 0,
         "url": f"{BASE}/petitions.json?category=police",
         "feed_url": f"{BASE}/categories/police/petitions.atom"},
    ]


def test_the_csv_lists_public_petitions_and_cannot_run_formulas(client, listed):
    _make("formula", title='=HYPERLINK("http://evil")', created_at=utcnow())

    response = client.get("/petitions.csv")

    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["slug", "title", "state", "count", "url"]
    assert rows[1] == ["formula", "'=HYPERLINK(\"http://evil\")", "open", "0",
                       f"{BASE}/petitions/formula"]
    assert [row[0] for row in rows[1:]] == ["formula", "rent-freeze", "late", "done", "old"]
    assert client.get("/petitions.csv?state=archived").get_data(as_text=True).count("\n") == 2
    assert client.get("/petitions.csv?state=nope").status_code == 400


def test_the_petition_has_counts_by_country_and_postcode_area_articles_and_signers(client):
    petition = _make("library", title="Save the library")
    confirmed = {"state": "confirmed", "confirmed_at": utcnow(), "petition": petition}
    SignatureFactory(country="GB", postcode="sw1a 1aa", name="Ada Lovelace",
                     show_name_publicly=True, **confirmed)
    SignatureFactory(country="GB", postcode="SW1P 3BU", name="Hidden Person", **confirmed)
    SignatureFactory(country="US", postcode="20004", **confirmed)
    SignatureFactory(country="US", postcode="20004", flagged=True, flag_reason="rate",
                     **{**confirmed, "name": "Flagged Fred", "show_name_publicly": True})
    SignatureFactory(country="FR", postcode="75001", state="invalidated",
                     invalidated_at=utcnow(), petition=petition)
    SignatureFactory(country="DE", postcode="10115", petition=petition)  # pending
    ArticleFactory(title="Library to close", url="https://news.example/library",
                   petition=petition, published_at=utcnow() - timedelta(days=1))

    body = client.get("/petitions/library.json").get_json()

    assert body["counts_by_country"] == [
        {"country": "GB", "name": "United Kingdom", "signature_count": 2},
        {"country": "US", "name": "United States", "signature_count": 1},
    ]
    assert body["counts_by_postcode_area"] == [
        {"area": "SW1", "signature_count": 2}, {"area": "200", "signature_count": 1}]
    assert [(a["title"], a["url"]) for a in body["articles"]] == [
        ("Library to close", "https://news.example/library")]
    assert body["recent_signers"] == [{"first_name": "Ada", "region": "United Kingdom"}]


def test_the_petition_json_has_etag_304_and_short_cache(app, client):
    _make("etagged")
    response = client.get("/petitions/etagged.json")

    assert f"max-age={app.config['COUNT_REFRESH_SECONDS']}" in response.headers["Cache-Control"]
    again = client.get("/petitions/etagged.json",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


@pytest.mark.parametrize("url", ["/petitions/secret-draft.json", "/petitions/hidden-one.json",
                                 "/petitions/unknown.json"])
def test_hidden_draft_and_unknown_are_404_json(client, listed, url):
    response = client.get(url)
    assert response.status_code == 404
    assert set(response.get_json()) == {"error", "detail", "status"}


def test_removed_is_410_with_the_reason(client, listed):
    response = client.get("/petitions/removed-one.json")
    assert response.status_code == 410
    assert response.get_json()["detail"] == "Abusive"


def _conforms(body, schema_name: str) -> None:
    from openapi_schema_validator import OAS31Validator

    from petitions.api.openapi_public import SCHEMAS

    schema = {**SCHEMAS[schema_name], "components": {"schemas": SCHEMAS}}
    OAS31Validator(schema).validate(body)


def test_the_openapi_fragment_is_valid_and_matches_the_responses(client, listed):
    from openapi_spec_validator import validate

    from petitions.api.openapi_public import PATHS, SCHEMAS

    validate({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": PATHS,
              "components": {"schemas": SCHEMAS}})
    petition = PetitionFactory(slug="full", signature_count=3)
    SignatureFactory(petition=petition, state="confirmed", confirmed_at=utcnow(),
                     show_name_publicly=True)
    ArticleFactory(petition=petition)
    _conforms(client.get("/petitions.json?per_page=2&page=2").get_json(), "PetitionList")
    _conforms(client.get("/categories.json").get_json(), "CategoryList")
    _conforms(client.get("/petitions/full.json").get_json(), "PetitionDetail")
    _conforms(client.get("/petitions/full/count.json").get_json(), "PetitionCount")
    _conforms(client.get("/petitions.json?state=x").get_json(), "BadParameter")
    _conforms(client.get("/petitions.json?category=x").get_json(), "UnknownCategory")
    _conforms(client.get("/petitions.json?state=" + "x" * 30).get_json(), "BadParameter")
    for url in ("/petitions/removed-one.json", "/petitions/nope/count.json"):
        _conforms(client.get(url).get_json(), "Error")
