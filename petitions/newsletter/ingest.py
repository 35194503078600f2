"""Articles come in: one article from the API, a feed or a file, validated, then upserted.

`upsert_article()` is idempotent: the same `external_id`, or else the same `url`, updates
the article it names instead of adding another. It flushes but never commits, so the
caller decides the transaction (one per API request, a batch for imports and polls).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from petitions.extensions import db
from petitions.newsletter.article_fields import ArticleFields, ValidationError, validate_article
from petitions.newsletter.models import Article, Category, slugify

__all__ = ["CREATED", "UNCHANGED", "UPDATED", "ValidationError", "category_for", "upsert_article"]

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def _find_category(name: str) -> Category | None:
    by_name = db.session.scalar(select(Category).where(Category.name == name))
    return by_name or db.session.scalar(select(Category).where(Category.slug == slugify(name)))


def category_for(name: str) -> Category:
    """The category named `name` (by name or slug), created on first use."""
    category = _find_category(name)
    if category is not None:
        return category
    try:
        with db.session.begin_nested():
            category = Category(name=name, slug=slugify(name))
            db.session.add(category)
    except IntegrityError:
        # A concurrent request created it first: its row is committed, so read it.
        category = _find_category(name)
        if category is None:
            raise ValidationError(
                {"category": "The category could not be saved. Try again."}
            ) from None
    return category


def _existing(clean: ArticleFields) -> Article | None:
    if clean.external_id is not None:
        article = db.session.scalar(select(Article).where(Article.external_id == clean.external_id))
        if article is not None:
            return article
    return db.session.scalar(select(Article).where(Article.url == clean.url))


def _check_url_free(article: Article, url: str) -> None:
    other = db.session.scalar(select(Article.id).where(Article.url == url, Article.id != article.id))
    if other is not None:
        raise ValidationError(
            {"url": f"Another article (id {other}) already has this URL with a different external id."}
        )


def _update(article: Article, clean: ArticleFields) -> str:
    if article.url != clean.url:
        _check_url_free(article, clean.url)
    wanted: dict[str, Any] = {
        "title": clean.title,
        "url": clean.url,
        "published_at": clean.published_at,
        "category_id": category_for(clean.category).id,
    }
    if clean.summary is not None:
        wanted["summary"] = clean.summary
    if clean.external_id is not None:
        wanted["external_id"] = clean.external_id
    if clean.petition_given:
        wanted["petition_id"] = clean.petition_id
    changes = {name: value for name, value in wanted.items() if getattr(article, name) != value}
    if not changes:
        return UNCHANGED
    try:
        with db.session.begin_nested():
            for name, value in changes.items():
                setattr(article, name, value)
    except IntegrityError:
        raise ValidationError(
            {"url": "Another article already has this URL or external id."}
        ) from None
    return UPDATED


def upsert_article(fields: Mapping[str, Any], *, truncate_summary: bool = False) -> tuple[Article, str]:
    """Create or update one article; returns it and "created", "updated" or "unchanged".

    Fields: title, url, category (name or slug), published_at (ISO 8601 text, or a
    datetime; naive means UTC), and optionally summary (HTML is reduced to plain text),
    external_id and petition (a slug). On an update a missing summary, external_id or
    petition keeps the stored one; `"petition": null` unlinks the petition. Feeds pass
    `truncate_summary=True` to shorten a long summary instead of refusing it.
    Raises ValidationError.
    """
    clean = validate_article(fields, truncate_summary)
    article = _existing(clean)
    if article is not None:
        return article, _update(article, clean)
    article = Article(
        title=clean.title,
        url=clean.url,
        external_id=clean.external_id,
        summary=clean.summary or "",
        published_at=clean.published_at,
        category_id=category_for(clean.category).id,
        petition_id=clean.petition_id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(article)
    except IntegrityError:
        # The same article arrived concurrently and its row won; update that one.
        article = _existing(clean)
        if article is None:
            raise ValidationError(
                {"url": "Another article already has this URL or external id."}
            ) from None
        return article, _update(article, clean)
    return article, CREATED
