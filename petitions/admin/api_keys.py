"""API keys for partner sites and article ingest (admins only)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_keys", __name__, url_prefix="/api-keys")
