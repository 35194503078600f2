"""POST /api/articles: article ingest for the news site.

Authenticated by `Authorization: Bearer <token>`: either ARTICLES_API_TOKEN or a key made
with `flask api create-key` (scope "articles"; a partner key gets 403). One article per
request; the same external_id (or else the same url) updates the article instead of
adding another.
"""

from __future__ import annotations

import hmac
import json

from flask import Blueprint, current_app, jsonify, request, url_for

from petitions.abuse.limiter import limit_string
from petitions.api.keys import active_key, bearer_token
from petitions.api.models import KeyScope
from petitions.extensions import db, limiter
from petitions.newsletter.ingest import CREATED, ValidationError, upsert_article
from petitions.newsletter.models import Article

bp = Blueprint("api", __name__, url_prefix="/api")


def _authorised() -> bool | None:
    """True for ARTICLES_API_TOKEN or an articles key; None for a valid key of another
    scope (403); False otherwise (401)."""
    token = bearer_token()
    if token is None:
        return False
    configured = current_app.config.get("ARTICLES_API_TOKEN")
    if configured and hmac.compare_digest(token.encode(), configured.encode()):
        return True
    key = active_key(token)
    if key is None:
        return False
    return True if key.scope == KeyScope.ARTICLES else None


def _error(status: int, message: str, **extra):
    response = jsonify(error=message, status=status, **extra)
    response.status_code = status
    return response


def article_json(article: Article) -> dict:
    return {
        "id": article.id,
        "title": article.title,
        "url": article.url,
        "category": {"slug": article.category.slug, "name": article.category.name},
        "summary": article.summary,
        "published_at": article.published_at.isoformat(),
        "external_id": article.external_id,
        "petition": article.petition.slug if article.petition else None,
    }


# Per IP, over the whole API, before the token is checked (so guessing tokens is limited).
limiter.limit(limit_string("RATELIMIT_API"))(bp)


@bp.before_request
def require_token():
    authorised = _authorised()
    if authorised is None:
        return _error(403, "This API key is not for article ingest.")
    if not authorised:
        response = _error(401, "Send a valid API token as 'Authorization: Bearer <token>'.")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    return None


@bp.post("/articles")
def upsert():
    """Create or update one article from a JSON object."""
    try:
        payload = json.loads(request.get_data())
    except (ValueError, RecursionError):
        return _error(400, "The request body must be JSON.")
    if not isinstance(payload, dict):
        return _error(400, "Send one article as a JSON object.")
    try:
        article, outcome = upsert_article(payload)
    except ValidationError as exc:
        db.session.rollback()
        return _error(422, "Some fields are missing or invalid.", fields=exc.fields)
    db.session.commit()
    response = jsonify(article_json(article))
    response.status_code = 201 if outcome == CREATED else 200
    response.headers["Location"] = url_for("api.show_article", article_id=article.id)
    return response


@bp.get("/articles/<int:article_id>")
def show_article(article_id: int):
    """The article as stored, so that the Location of a POST names something."""
    # Ids beyond a 32-bit integer exist nowhere, and the database would refuse the query.
    found = db.session.get(Article, article_id) if article_id < 2**31 else None
    if found is None:
        return _error(404, "There is no article with that id.")
    return jsonify(article_json(found))
