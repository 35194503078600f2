"""GET /petitions/<slug>/count.json: cheap to poll from every article page."""

from __future__ import annotations

from petitions.extensions import db
from tests.factories import PetitionFactory


def test_count_json_keeps_its_fields_and_is_cacheable_by_shared_caches(app, client):
    PetitionFactory(slug="poll", signature_count=12, goal=100)

    response = client.get("/petitions/poll/count.json")

    assert response.get_json() == {"slug": "poll", "signature_count": 12, "goal": 100,
                                   "state": "open"}
    seconds = app.config["COUNT_REFRESH_SECONDS"]
    assert response.headers["Cache-Control"] == (
        f"public, max-age={seconds}, stale-while-revalidate=30, stale-if-error=86400")
    assert response.headers["ETag"] == 'W/"12-open-100"'
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_an_unchanged_count_is_a_304_with_no_body(client):
    PetitionFactory(slug="poll")
    etag = client.get("/petitions/poll/count.json").headers["ETag"]

    again = client.get("/petitions/poll/count.json", headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert "max-age" in again.headers["Cache-Control"]
    # Also when the client sends the tag without W/, or among others.
    strong = etag.removeprefix("W/")
    assert client.get("/petitions/poll/count.json",
                      headers={"If-None-Match": f'"x", {strong}'}).status_code == 304


def test_a_new_count_goal_or_state_changes_the_etag(client):
    petition = PetitionFactory(slug="poll", signature_count=1, goal=10)
    first = client.get("/petitions/poll/count.json").headers["ETag"]
    tags = {first}
    for change in ({"signature_count": 2}, {"goal": 20}, {"state": "closed"}):
        for key, value in change.items():
            setattr(petition, key, value)
        db.session.commit()
        response = client.get("/petitions/poll/count.json", headers={"If-None-Match": first})
        assert response.status_code == 200
        tags.add(response.headers["ETag"])
    assert len(tags) == 4


def test_count_json_answers_cors_preflight(client):
    PetitionFactory(slug="poll")
    response = client.options("/petitions/poll/count.json", headers={
        "Origin": "https://news.example", "Access-Control-Request-Method": "GET"})

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


def test_removed_and_hidden_petitions_are_not_polled(client):
    PetitionFactory(slug="hidden", hidden=True)
    assert client.get("/petitions/hidden/count.json").status_code == 404


def test_the_count_and_the_read_api_do_not_vary_on_cookies(client):
    """A reader who opened the form has a session cookie; their polls must still be
    answerable from a shared cache, so nothing on the way may look into the session."""
    PetitionFactory(slug="poll")
    client.get("/petitions/poll")  # the form's CSRF token starts a session
    assert client.get_cookie("session") is not None

    for url in ("/petitions/poll/count.json", "/petitions.json", "/petitions/poll.json"):
        vary = client.get(url).headers.get("Vary", "")
        assert "Cookie" not in vary, f"{url} varies on {vary}"
