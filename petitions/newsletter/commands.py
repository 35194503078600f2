"""`flask articles ...`: import articles from a feed or a JSON file, and manage polled feeds."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import Blueprint
from sqlalchemy import select

from petitions.cli_progress import Progress, counted, elapsed, number, summarise
from petitions.extensions import db
from petitions.newsletter.article_fields import clean_url
from petitions.newsletter.feeds import read_items, store_items
from petitions.newsletter.fetching import FeedError, fetch
from petitions.newsletter.models import ArticleFeed

bp = Blueprint("articles_cli", __name__, cli_group="articles")


def _read_source(source: str) -> tuple[bytes, str | None, str | None]:
    """(body, content type, base URL) of a local file or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        fetched = fetch(source)
        return fetched.body, fetched.content_type, source
    try:
        return Path(source).read_bytes(), None, None
    except OSError as exc:
        raise FeedError(f"cannot read the file ({exc.strerror or exc})") from None


@bp.cli.command("import")
@click.argument("source", metavar="PATH_OR_URL")
@click.option("--category", metavar="NAME", help="Category for entries that name none.")
def import_articles(source: str, category: str | None) -> None:
    """Import articles from an RSS 2.0 or Atom feed, or a JSON list of articles.

    Safe to run again: an article with the same external id (a feed entry's id or
    guid), or else the same URL, is updated rather than added twice.
    """
    started = time.monotonic()
    try:
        body, content_type, base_url = _read_source(source)
        items = read_items(body, content_type, default_category=category, base_url=base_url)
    except FeedError as exc:
        raise click.ClickException(f"Cannot import {source}: {exc}") from None
    with Progress("Importing articles", len(items)) as progress:
        tally = store_items(progress.track(items))
    # Standard output keeps its report (the tally, each skip and why); the summary is for
    # whoever watches the run or reads its log.
    click.echo(tally.summary())
    for label, reason in tally.skipped:
        click.echo(f"  skipped {label}: {reason}")
    stored = tally.created + tally.updated + tally.unchanged
    summarise(f"Imported {counted(stored, 'article')} ({number(tally.created)} new, "
              f"{number(tally.updated)} updated, {number(tally.unchanged)} unchanged, "
              f"{number(len(tally.skipped))} rejected) from {source} in {elapsed(started)}")


@bp.cli.command("add-feed")
@click.argument("url")
def add_feed(url: str) -> None:
    """Poll URL (RSS, Atom or a JSON list) every ARTICLE_FEED_INTERVAL minutes."""
    try:
        url = clean_url(url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URL") from None
    if db.session.scalar(select(ArticleFeed.id).where(ArticleFeed.url == url)) is not None:
        click.echo(f"Already polling {url}")
        return
    db.session.add(ArticleFeed(url=url))
    db.session.commit()
    click.echo(f"Added feed {url}; the next poll picks it up.")


@bp.cli.command("list-feeds")
def list_feeds() -> None:
    """The polled feeds, when each was last polled and what happened."""
    feeds = db.session.scalars(select(ArticleFeed).order_by(ArticleFeed.id)).all()
    if not feeds:
        click.echo("No feeds. Add one with `flask articles add-feed URL` or ARTICLE_FEEDS.")
        return
    for feed in feeds:
        polled = feed.last_polled_at.strftime("%Y-%m-%d %H:%M UTC") if feed.last_polled_at else "never"
        validators = [name for name, value in (("ETag", feed.etag),
                                               ("Last-Modified", feed.last_modified)) if value]
        click.echo(feed.url)
        click.echo(f"  last polled: {polled}; {feed.last_status or 'not polled yet'}")
        click.echo(f"  validators: {', '.join(validators) or 'none'}")
