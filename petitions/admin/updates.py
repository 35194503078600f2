"""Writing, previewing, test-sending and sending petition updates; their progress."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("updates", __name__, url_prefix="/petitions/<slug>/updates")
