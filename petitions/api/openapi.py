"""The OpenAPI 3.1 document of every JSON endpoint, at /api/openapi.json.

Kept next to the code as Python dicts, one module per area (openapi_public: the read
API; openapi_partner: the partner signature API; openapi_ingest: article ingest and the
bounce webhook), and validated in tests/api/test_openapi.py.
"""

from __future__ import annotations

import copy

from flask import Blueprint, current_app, jsonify

from petitions.api import openapi_ingest, openapi_partner

try:
    from petitions.api import openapi_public
except ImportError:  # the read API's part lands separately
    openapi_public = None

bp = Blueprint("openapi", __name__)

OPENAPI_VERSION = "3.1.0"
PARTS = tuple(part for part in (openapi_public, openapi_partner, openapi_ingest) if part)
SECURITY_SCHEMES = {
    "partnerKey": {"type": "http", "scheme": "bearer",
                   "description": "A partner API key (admin → API keys, scope partner)."},
    "articlesToken": {"type": "http", "scheme": "bearer",
                      "description": "ARTICLES_API_TOKEN, or an API key of scope articles."},
    "bounceToken": {"type": "http", "scheme": "bearer",
                    "description": "BOUNCE_WEBHOOK_TOKEN."},
}


def _merged(name: str) -> dict:
    merged: dict = {}
    for part in PARTS:
        for key, value in getattr(part, name).items():
            if key in merged:
                raise ValueError(f"OpenAPI {name} {key!r} is defined twice")
            merged[key] = copy.deepcopy(value)
    return merged


def build_document(base_url: str) -> dict:
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Petitions API",
            "version": "1",
            "description": "Public read API (no key, CORS open, no personal data), the "
                           "partner signature API (partner keys), article ingest and the "
                           "bounce webhook.",
        },
        "servers": [{"url": base_url}],
        "tags": [{"name": "read"}, {"name": "feeds"}, {"name": "partner"},
                 {"name": "articles"}, {"name": "webhooks"}],
        "paths": _merged("PATHS"),
        "components": {"schemas": _merged("SCHEMAS"), "securitySchemes": SECURITY_SCHEMES},
    }


@bp.get("/api/openapi.json")
def document():
    response = jsonify(build_document(current_app.config["BASE_URL"]))
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response
