"""Categories and articles: list, edit, link to petitions; the article-page snippet."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("content", __name__, url_prefix="/content")
