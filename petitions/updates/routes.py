"""Public routes for updates: per-petition one-click unsubscribe."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("updates", __name__)
