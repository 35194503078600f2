"""OpenAPI 3.1 path items and schemas for the token-protected ingest endpoints:
article ingest (petitions/api/articles.py) and the bounce webhook (petitions/mail/webhooks.py).

Assembled into /api/openapi.json by petitions/api/openapi.py. Keep in step with the views.
"""

from __future__ import annotations

from petitions.mail.webhooks import MAX_REPORTS
from petitions.newsletter.article_fields import (
    CATEGORY_MAX,
    EXTERNAL_ID_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    URL_MAX,
)

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: str, **headers) -> dict:
    response = {"description": description,
                "content": {"application/json": {"schema": _ref(schema)}}}
    if headers:
        response["headers"] = {name: {"schema": STRING} for name in headers}
    return response


_ARTICLE_ERRORS = {
    "401": _json("No token, or a wrong or revoked one.", "ApiError", **{"WWW-Authenticate": 1}),
    "403": _json("A valid API key whose scope is not articles (a partner key).", "ApiError"),
    "429": _json("Too many requests from this address.", "ApiError", **{"Retry-After": 1}),
}

PATHS: dict = {
    "/api/articles": {"post": {
        "operationId": "upsertArticle",
        "summary": "Create or update one article (same external_id, or else same url, updates).",
        "tags": ["articles"],
        "security": [{"articlesToken": []}],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": _ref("ArticleInput")}}},
        "responses": {
            "200": _json("Updated (or unchanged).", "Article", Location=1),
            "201": _json("Created.", "Article", Location=1),
            "400": _json("The body is not JSON, or not one object.", "ApiError"),
            **_ARTICLE_ERRORS,
            "413": _json("The body is too large.", "ApiError"),
            "422": _json("Fields are missing or invalid: `fields` gives one message per field.",
                         "ApiError"),
        },
    }},
    "/api/articles/{article_id}": {"get": {
        "operationId": "getArticle",
        "summary": "One article as stored (the Location of a POST).",
        "tags": ["articles"],
        "security": [{"articlesToken": []}],
        "parameters": [{"name": "article_id", "in": "path", "required": True,
                        "schema": {"type": "integer", "minimum": 0}}],
        "responses": {
            "200": _json("The article.", "Article"),
            **_ARTICLE_ERRORS,
            "404": _json("No article has that id.", "ApiError"),
        },
    }},
    "/webhooks/bounce": {"post": {
        "operationId": "reportBounces",
        "summary": "Bounces and complaints from the mail relay (404 when not configured).",
        "tags": ["webhooks"],
        "security": [{"bounceToken": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "oneOf": [_ref("BounceReport"),
                      {"type": "array", "maxItems": MAX_REPORTS, "items": _ref("BounceReport")}],
        }}}},
        "responses": {
            "200": _json("What was done.", "BounceTotals"),
            "400": _json("A malformed body; nothing was stored.", "ApiError"),
            "401": _json("A missing or wrong token.", "ApiError", **{"WWW-Authenticate": 1}),
            "404": _json("BOUNCE_WEBHOOK_TOKEN is not set.", "ApiError"),
            "413": _json("The body is too large.", "ApiError"),
        },
    }},
}

_COUNT = {"type": "integer", "minimum": 0}

SCHEMAS: dict = {
    # The article API's and the webhook's errors, and the app's own JSON error pages.
    "ApiError": {
        "type": "object", "required": ["error", "status"],
        "properties": {
            "error": STRING,
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": STRING,
            "fields": {"type": "object", "additionalProperties": STRING},
        },
    },
    "ArticleInput": {
        "type": "object", "required": ["title", "url", "category", "published_at"],
        "properties": {
            "title": {"type": "string", "maxLength": TITLE_MAX},
            "url": {"type": "string", "format": "uri", "maxLength": URL_MAX,
                    "description": "Absolute http(s) URL."},
            "category": {"type": "string", "maxLength": CATEGORY_MAX,
                         "description": "A category's name or slug; a new name creates it."},
            "published_at": {"type": "string", "format": "date-time",
                             "description": "ISO 8601; without an offset it is UTC. Not in "
                                            "the future, not before 1900."},
            "summary": {"type": ["string", "null"], "maxLength": SUMMARY_MAX,
                        "description": "HTML is reduced to plain text."},
            "external_id": {"type": ["string", "integer", "null"],
                            "description": f"Up to {EXTERNAL_ID_MAX} characters."},
            "petition": {"type": ["string", "null"],
                         "description": "A petition slug to link; null unlinks."},
        },
    },
    "Article": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "title", "url", "category", "summary", "published_at",
                     "external_id", "petition"],
        "properties": {
            "id": {"type": "integer"},
            "title": STRING,
            "url": STRING,
            "category": {"type": "object", "additionalProperties": False,
                         "required": ["slug", "name"],
                         "properties": {"slug": STRING, "name": STRING}},
            "summary": STRING,
            "published_at": {"type": "string", "format": "date-time"},
            "external_id": NULLABLE_STRING,
            "petition": NULLABLE_STRING,
        },
    },
    "BounceReport": {
        "type": "object", "required": ["email", "type"],
        "properties": {
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "type": {"type": "string",
                     "enum": ["hard_bounce", "complaint", "soft_bounce", "delivered"]},
            "detail": NULLABLE_STRING,
            "verp": {"type": "string", "maxLength": 320,
                     "description": "The envelope sender the relay saw (bounces+<token>@...) "
                                    "or its token: ties the report to its message."},
        },
    },
    "BounceTotals": {
        "type": "object", "additionalProperties": False,
        "required": ["received", "suppressed", "already_suppressed", "unsubscribed", "ignored"],
        "properties": {name: _COUNT for name in ("received", "suppressed", "already_suppressed",
                                                 "unsubscribed", "ignored")},
    },
}
