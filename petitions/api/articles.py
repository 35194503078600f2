"""POST /api/articles: article ingest for the news site."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")
