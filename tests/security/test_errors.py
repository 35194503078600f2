"""Friendly error pages (JSON on JSON routes), the 64 KiB request limit, and no tracebacks."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug.exceptions import TooManyRequests

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.newsletter.models import Article
from petitions.signing.models import Signature
from tests.api.helpers import ARTICLE, TOKEN
from tests.factories import PetitionFactory
from tests.signing.helpers import SIGNER, csrf_token

TOO_BIG = 64 * 1024 + 1


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def assert_friendly_page(response, status: int):
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Traceback" not in page and "werkzeug" not in page.lower()
    assert "<title>" in page and "</html>" in page


def assert_json_error(response, status: int):
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert body["status"] == status and body["error"]


@pytest.fixture
def petition(app):
    return PetitionFactory(slug="sanctuary-city")


def test_an_oversized_signing_form_gets_413_and_nothing_is_stored(client, petition):
    page = client.get("/petitions/sanctuary-city").get_data(as_text=True)
    data = {**SIGNER, "csrf_token": csrf_token(page), "comment": "x" * TOO_BIG}

    response = client.post("/petitions/sanctuary-city/sign", data=data)

    assert_friendly_page(response, 413)
    assert "too large" in response.get_data(as_text=True)
    assert count(Signature) == 0 and count(OutboxMessage) == 0


def test_an_oversized_multipart_upload_gets_413(client, petition):
    import io

    response = client.post("/petitions/sanctuary-city/sign", data={
        **SIGNER, "file": (io.BytesIO(b"x" * TOO_BIG), "big.txt")})

    assert_friendly_page(response, 413)
    assert count(Signature) == 0


def test_an_oversized_json_body_gets_a_json_413_and_nothing_is_stored(app, client):
    app.config["ARTICLES_API_TOKEN"] = TOKEN
    body = {**ARTICLE, "summary": "x" * TOO_BIG}

    response = client.post("/api/articles", json=body, headers={"Authorization": f"Bearer {TOKEN}"})

    assert_json_error(response, 413)
    assert count(Article) == 0


def test_an_oversized_bounce_webhook_gets_413(app, client):
    app.config["BOUNCE_WEBHOOK_TOKEN"] = "bounce-token-" + "y" * 24
    response = client.post("/webhooks/bounce", data=b"{" + b" " * TOO_BIG + b"}",
                           content_type="application/json",
                           headers={"Authorization": f"Bearer {app.config['BOUNCE_WEBHOOK_TOKEN']}"})

    assert response.status_code == 413


def test_a_body_just_under_the_limit_is_not_refused_for_its_size(client, petition):
    page = client.get("/petitions/sanctuary-city").get_data(as_text=True)
    data = {**SIGNER, "csrf_token": csrf_token(page), "comment": "x" * 60_000}

    response = client.post("/petitions/sanctuary-city/sign", data=data)

    assert response.status_code == 422  # the comment is too long for the form, not the server
    assert count(Signature) == 0


def test_missing_csrf_gets_a_friendly_400(client, petition):
    response = client.post("/petitions/sanctuary-city/sign", data=SIGNER)

    assert_friendly_page(response, 400)
    assert count(Signature) == 0


def test_unknown_pages_get_404_and_unknown_json_gets_json(client):
    assert_friendly_page(client.get("/petitions/nope"), 404)
    assert_json_error(client.get("/petitions/nope.json"), 404)
    assert_json_error(client.get("/petitions/nope/count.json"), 404)
    assert_json_error(client.get("/api/articles/999999999"), 401)


def test_a_wrong_method_gets_405(client, petition):
    assert_friendly_page(client.get("/petitions/sanctuary-city/sign"), 405)
    assert_friendly_page(client.delete("/petitions/sanctuary-city"), 405)
    assert_json_error(client.get("/api/articles"), 405)


def test_a_removed_petition_gets_410_with_its_reason(client):
    PetitionFactory(slug="gone", removed_at=utcnow(), removal_reason="Duplicate of another")

    response = client.get("/petitions/gone")

    assert_friendly_page(response, 410)
    assert "Duplicate of another" in response.get_data(as_text=True)
    assert_json_error(client.get("/petitions/gone.json"), 410)


def test_admin_only_pages_give_moderators_a_friendly_403(moderator_client):
    assert_friendly_page(moderator_client.get("/admin/outbox"), 403)


@pytest.mark.parametrize("path", ["/petitions/sanctuary-city", "/api/articles"])
def test_too_many_requests_is_a_friendly_429(app, petition, path):
    with app.test_request_context(path):
        response = app.make_response(app.handle_http_exception(TooManyRequests()))

    assert response.status_code == 429
    if path.startswith("/api/"):
        assert response.get_json()["status"] == 429
    else:
        assert "Too many requests" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/petitions/%00", "/petitions/%00.json", "/petitions/a%00b/count.json", "/confirm/%00",
    "/subscription/%00", "/admin/petitions/%00/updates/",
])
def test_a_nul_in_the_url_path_is_a_400(client, path):
    response = client.get(path)

    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/subscribe?category=%00", "/?x=%00", "/admin/login?next=%00",
                                  "/petitions/sanctuary-city?%00=%00"])
def test_a_nul_in_the_query_string_is_never_a_5xx(client, petition, path):
    assert client.get(path).status_code in (200, 400, 422)


def test_a_nul_in_a_form_field_is_a_422_and_nothing_is_stored(app, client, no_csrf, petition):
    response = client.post("/petitions/sanctuary-city/sign", data={**SIGNER, "name": "Jane\x00"})
    subscribe = client.post("/subscribe", data={"email": "a\x00@example.org", "frequency": "daily"})

    assert (response.status_code, subscribe.status_code) == (422, 422)
    assert count(Signature) == 0 and count(OutboxMessage) == 0


def test_forms_refuse_json_and_file_uploads_with_415(app, client, no_csrf, petition):
    import io

    as_json = client.post("/petitions/sanctuary-city/sign", json={**SIGNER, "name": 5})
    as_file = client.post("/petitions/sanctuary-city/sign",
                          data={**SIGNER, "name": (io.BytesIO(b"Jane"), "name.txt")})

    assert (as_json.status_code, as_file.status_code) == (415, 415)
    assert count(Signature) == 0
