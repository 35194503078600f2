"""The public read API: petitions as JSON (no personal data, except the first names and
regions of signers who chose to be shown, on the petition's own endpoint)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public_api", __name__)
