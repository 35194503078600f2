"""Posting articles to the API the way the news site does."""

from __future__ import annotations

from sqlalchemy import select

from petitions.extensions import db
from petitions.newsletter.models import Article, Category

TOKEN = "news-site-token-" + "x" * 24
CATEGORY = "Immigration Policy & Border Issues"
ARTICLE = {
    "title": "DC Police to Notify ICE When They Encounter Illegal Aliens",
    "url": "https://truthandresistance.example/articles/dc-police-notify-ice",
    "category": CATEGORY,
    "summary": "<p>DC&#8217;s police chief ordered that officers may share information "
               "with <a href='https://ice.gov'>ICE</a>.</p><script>alert(1)</script>",
    "published_at": "2025-08-16T23:58:22Z",
    "external_id": "tr-1001",
}


def post(client, body=None, token: str | None = TOKEN, **changes):
    """POST /api/articles; a dict or list goes as JSON, str or bytes go as they are."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is None:
        body = {**ARTICLE, **changes}
    if isinstance(body, dict | list):
        return client.post("/api/articles", json=body, headers=headers)
    return client.post("/api/articles", data=body, headers=headers,
                       content_type="application/json")


def articles() -> list[Article]:
    db.session.expire_all()
    return list(db.session.scalars(select(Article).order_by(Article.id)))


def categories() -> list[Category]:
    db.session.expire_all()
    return list(db.session.scalars(select(Category).order_by(Category.id)))
