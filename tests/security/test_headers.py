"""Security headers on every page: CSP without inline scripts, frame protection except the
embed, HSTS only over https, no Referer from token pages, nosniff."""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import Rule

from petitions.database import utcnow
from petitions.security import add_security_headers, allow_framing
from petitions.signing.tokens import make_confirmation_token
from tests.factories import CategoryFactory, PetitionFactory, SignatureFactory, SubscriberFactory
from tests.newsletter.digest_helpers import article

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    pairs = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}


def assert_protected_page(response, referrer="strict-origin-when-cross-origin"):
    csp = directives(response)
    assert csp["script-src"] == "'self'"
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["default-src"] == "'self'" and csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'" and csp["base-uri"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == referrer
    assert "Strict-Transport-Security" not in response.headers  # BASE_URL is http here


def assert_no_inline_script(html: str):
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html).group(0)
    assert not EVENT_HANDLER.search(html), EVENT_HANDLER.search(html).group(0)
    assert not JAVASCRIPT_URL.search(html)


@pytest.fixture
def petition(app):
    return PetitionFactory(slug="sanctuary-city")


@pytest.mark.parametrize("path", [
    "/", "/petitions/sanctuary-city", "/petitions/sanctuary-city/check-email", "/subscribe",
    "/subscribe/check-email", "/privacy", "/admin/login",
])
def test_public_pages_have_every_header_and_no_inline_script(client, petition, path):
    response = client.get(path)

    assert response.status_code == 200
    # The newsletter's pages all send no Referer (its own, stricter choice).
    private = path.startswith("/subscribe")
    assert_protected_page(response, "no-referrer" if private else "strict-origin-when-cross-origin")
    assert_no_inline_script(response.get_data(as_text=True))


@pytest.mark.parametrize("path", ["/petitions/sanctuary-city/count.json",
                                  "/petitions/sanctuary-city.json", "/no-such-page",
                                  "/static/count.js"])
def test_json_errors_and_static_files_have_the_headers_too(client, petition, path):
    response = client.get(path)

    assert response.status_code in (200, 404)
    assert_protected_page(response)


@pytest.mark.parametrize("path", [
    "/admin/", "/admin/petitions/", "/admin/outbox", "/admin/digests",
    "/admin/petition-stats/sanctuary-city",
])
def test_admin_pages_have_no_inline_script(admin_client, petition, path):
    response = admin_client.get(path)

    assert response.status_code == 200
    assert_protected_page(response)
    assert_no_inline_script(response.get_data(as_text=True))


@pytest.mark.parametrize("path", [
    "/confirm/not-a-token", "/subscribe/confirm/not-a-token", "/subscription/not-a-token",
    "/updates/stop/not-a-token", "/deliveries/not-a-token.pdf",
])
def test_pages_with_a_token_in_their_url_send_no_referrer(client, path):
    response = client.get(path)

    assert 400 <= response.status_code < 500
    assert_protected_page(response, referrer="no-referrer")


def test_a_valid_confirmation_page_sends_no_referrer(client, petition):
    signature = SignatureFactory(petition=petition)
    response = client.get(f"/confirm/{make_confirmation_token(signature.id, signature.canonical_email)}")

    assert response.status_code == 200
    assert_protected_page(response, referrer="no-referrer")
    assert_no_inline_script(response.get_data(as_text=True))


def test_hsts_only_when_base_url_is_https(app, client, petition):
    assert "Strict-Transport-Security" not in client.get("/").headers

    app.config["BASE_URL"] = "https://petitions.example.org"
    response = client.get("/")

    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_the_digest_preview_can_be_framed_by_the_admin_page_only(app, admin_client):
    category = CategoryFactory(name="Immigration")
    article(category, utcnow(), title="ICE detention space to double")
    reader = SubscriberFactory(follows=[category])

    page = admin_client.get(f"/admin/digests?subscriber={reader.id}")
    preview = admin_client.get(f"/admin/digests/{reader.id}/preview.html")

    assert page.status_code == 200 and preview.status_code == 200
    assert f'src="/admin/digests/{reader.id}/preview.html"' in page.get_data(as_text=True)
    assert directives(page)["frame-src"] == "'self'"  # the page may show the preview
    # The preview keeps its own stricter policy, framable by this site only.
    preview_csp = directives(preview)
    assert preview_csp["frame-ancestors"] == "'self'" and preview_csp["default-src"] == "'none'"
    assert "script-src" not in preview_csp  # default-src 'none' covers scripts
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "ICE detention space to double" in preview.get_data(as_text=True)


def _headers_for(app, endpoint: str):
    response = app.response_class("embed")
    with app.test_request_context("/embed"):
        from flask import request

        request.url_rule = Rule("/embed", endpoint=endpoint)
        response.headers["X-Frame-Options"] = "DENY"  # as a blueprint's blanket default
        return add_security_headers(response).headers


def test_the_embed_endpoint_may_be_framed_and_nothing_else(app):
    embed = _headers_for(app, "embed.petition")
    other = _headers_for(app, "signing.petition")

    assert "X-Frame-Options" not in embed
    assert "frame-ancestors" not in embed["Content-Security-Policy"]
    assert "script-src 'self'" in embed["Content-Security-Policy"]
    assert other["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in other["Content-Security-Policy"]


def test_views_marked_allow_framing_may_be_framed(app):
    app.view_functions["test.widget"] = allow_framing(lambda: "widget")
    try:
        headers = _headers_for(app, "test.widget")
    finally:
        del app.view_functions["test.widget"]

    assert "X-Frame-Options" not in headers
    assert "frame-ancestors" not in headers["Content-Security-Policy"]


def test_a_view_that_sets_its_own_policy_keeps_it(client, app):
    # The dev mail catcher sets its own CSP; the hook must not replace a view's header.
    response = app.response_class("x", headers={"Content-Security-Policy": "script-src 'none'"})
    with app.test_request_context("/"):
        headers = add_security_headers(response).headers

    assert headers["Content-Security-Policy"] == "script-src 'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
