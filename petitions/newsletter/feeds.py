"""Articles from RSS 2.0, Atom and JSON: parsed, upserted, and polled with conditional GET.

Used by `flask articles import` and by the `articles.poll_feeds` beat task. feedparser
only parses bytes; fetching.py downloads them.
"""

from __future__ import annotations

import html
import io
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from petitions.database import utcnow
from petitions.extensions import db
from petitions.newsletter.article_fields import EXTERNAL_ID_MAX, ValidationError, plain_text
from petitions.newsletter.fetching import FeedError, fetch
from petitions.newsletter.ingest import CREATED, UPDATED, upsert_article
from petitions.newsletter.models import ArticleFeed

log = logging.getLogger(__name__)

COMMIT_EVERY = 100


@dataclass(frozen=True)
class Item:
    """One entry of a source: fields for upsert_article, or the reason it is skipped."""

    label: str
    fields: dict[str, Any] | None = None
    problem: str | None = None
    from_feed: bool = False


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        line = f"{self.created} created, {self.updated} updated, {len(self.skipped)} skipped"
        return line + (f" ({self.unchanged} unchanged)" if self.unchanged else "")


# --- parsing --------------------------------------------------------------------------------

def _looks_like_json(body: bytes) -> bool:
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{")


def _json_items(body: bytes, default_category: str | None) -> list[Item]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"not valid JSON ({exc})") from None
    if not isinstance(data, list):
        raise FeedError("JSON must be a list of article objects")
    items = []
    for number, entry in enumerate(data, 1):
        if not isinstance(entry, dict):
            items.append(Item(f"item {number}", problem="not a JSON object"))
            continue
        title = entry.get("title")
        label = f"item {number}" + (f" {title[:60]!r}" if isinstance(title, str) else "")
        fields = dict(entry)
        if default_category and not fields.get("category"):
            fields["category"] = default_category
        items.append(Item(label, fields=fields))
    return items


def _as_html(value: str | None, detail) -> str:
    """A feedparser text construct as HTML, whatever type the feed declared."""
    value = value or ""
    return html.escape(value) if (detail or {}).get("type") == "text/plain" else value


def _summary(entry) -> str:
    # feedparser fills `summary` from <content> without saying its type; ask the content.
    if entry.get("summary_detail") or not entry.get("content"):
        return _as_html(entry.get("summary"), entry.get("summary_detail"))
    content = entry["content"][0]
    return _as_html(content.get("value"), content)


def _entry_category(entry, default_category: str | None) -> str | None:
    for tag in entry.get("tags") or []:
        name = (tag.get("label") or tag.get("term") or "").strip()
        if name:
            return name
    return default_category


def _entry_item(number: int, entry, default_category: str | None, base_url: str | None) -> Item:
    title = plain_text(_as_html(entry.get("title"), entry.get("title_detail")))
    label = f"entry {number}" + (f" {title[:60]!r}" if title else "")
    link = (entry.get("link") or "").strip()
    if not link:
        return Item(label, problem="no link")
    category = _entry_category(entry, default_category)
    if not category:
        return Item(label, problem="no category (give --category to use one)")
    when = entry.get("published_parsed") or entry.get("updated_parsed")
    try:
        published_at = datetime(*when[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return Item(label, problem="no published or updated date")
    external_id = (entry.get("id") or "").strip()
    fields = {
        "title": title,
        "url": urljoin(base_url, link) if base_url else link,
        "category": category,
        "summary": _summary(entry),
        "published_at": published_at,
        # A guid too long to store still leaves the URL to recognise the entry by.
        "external_id": external_id if 0 < len(external_id) <= EXTERNAL_ID_MAX else None,
    }
    return Item(label, fields=fields, from_feed=True)


def _feed_items(body: bytes, content_type: str | None, default_category: str | None,
                base_url: str | None) -> list[Item]:
    headers = {}
    if content_type:
        headers["content-type"] = content_type
    if base_url:
        headers["content-location"] = base_url
    # A stream, never bytes: feedparser would try to open bytes as a file name.
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    if not parsed.get("version") and not parsed.entries:
        raise FeedError("not an RSS or Atom feed, nor a JSON list of articles")
    return [
        _entry_item(number, entry, default_category, base_url)
        for number, entry in enumerate(parsed.entries, 1)
    ]


def read_items(body: bytes, content_type: str | None = None, *,
               default_category: str | None = None, base_url: str | None = None) -> list[Item]:
    """The entries of an RSS 2.0 or Atom feed, or of a JSON list (told apart by content)."""
    if _looks_like_json(body):
        return _json_items(body, default_category)
    return _feed_items(body, content_type, default_category, base_url)


# --- storing --------------------------------------------------------------------------------

def store_items(items: Iterable[Item]) -> Tally:
    """Upsert each item in its own savepoint, so one bad entry never spoils the rest."""
    tally = Tally()
    for number, item in enumerate(items, 1):
        if item.fields is None:
            tally.skipped.append((item.label, item.problem or "could not be read"))
            continue
        try:
            with db.session.begin_nested():
                _, outcome = upsert_article(item.fields, truncate_summary=item.from_feed)
        except ValidationError as exc:
            tally.skipped.append((item.label, " ".join(exc.fields.values())))
            continue
        except SQLAlchemyError as exc:
            log.warning("article %s not saved: %s", item.label, exc)
            tally.skipped.append((item.label, "the database refused it"))
            continue
        if outcome == CREATED:
            tally.created += 1
        elif outcome == UPDATED:
            tally.updated += 1
        else:
            tally.unchanged += 1
        # Short transactions: on SQLite a long one would block every other writer.
        if number % COMMIT_EVERY == 0:
            db.session.commit()
    db.session.commit()
    return tally


# --- polling --------------------------------------------------------------------------------

def ensure_feeds(urls: Iterable[str]) -> None:
    """Give every configured feed URL its ArticleFeed row (safe under concurrent beats)."""
    known = set(db.session.scalars(select(ArticleFeed.url)))
    for url in urls:
        if url in known:
            continue
        try:
            with db.session.begin_nested():
                db.session.add(ArticleFeed(url=url))
        except IntegrityError:
            pass
    db.session.commit()


def poll_feed(feed: ArticleFeed) -> str:
    """Fetch one feed conditionally and upsert its entries; returns and stores the outcome."""
    try:
        fetched = fetch(feed.url, feed.etag, feed.last_modified)
        if fetched.status == 304:
            status = "not modified"
        else:
            items = read_items(fetched.body, fetched.content_type, base_url=feed.url)
            tally = store_items(items)
            # Validators only after the entries are stored: a failed poll fetches in full.
            feed.etag, feed.last_modified = fetched.etag, fetched.last_modified
            status = tally.summary()
            if tally.skipped:
                label, reason = tally.skipped[0]
                status += f"; first skipped: {label}: {reason}"
    except FeedError as exc:
        status = f"failed: {exc}"
    feed.last_polled_at = utcnow()
    feed.last_status = status[:300]
    db.session.commit()
    log.info("feed %s: %s", feed.url, status)
    return status


def poll_all(configured_urls: Iterable[str]) -> dict[str, str]:
    """Poll every ArticleFeed (the configured ones are added first); url -> outcome."""
    ensure_feeds(configured_urls)
    outcomes = {}
    for feed_id in db.session.scalars(select(ArticleFeed.id).order_by(ArticleFeed.id)).all():
        feed = db.session.get(ArticleFeed, feed_id)
        if feed is None:
            continue
        url = feed.url
        try:
            outcomes[url] = poll_feed(feed)
        except Exception:  # one broken feed must not stop the others
            log.exception("polling feed %s failed", url)
            db.session.rollback()
            outcomes[url] = "failed: unexpected error (see the worker log)"
    return outcomes
