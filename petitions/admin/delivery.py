"""Delivering a petition to its target: the pack, and the delivery email (admins only)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("delivery", __name__, url_prefix="/petitions/<slug>/delivery")
