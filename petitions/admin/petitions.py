"""Creating and editing petitions, and moving them through their states."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("petitions", __name__, url_prefix="/petitions")
