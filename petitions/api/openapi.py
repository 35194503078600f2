"""The OpenAPI 3.1 document of every JSON endpoint, at /api/openapi.json."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("openapi", __name__)
