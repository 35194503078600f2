"""Embeds for article pages: the framable petition card and embed.js."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("embed", __name__)
