"""Public routes for deliveries: the pack's PDF link, and the privacy page."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("delivery", __name__)
