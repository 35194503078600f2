"""Signature counts (CSV, JSON) and signer lists (CSV, admins only)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/exports")
