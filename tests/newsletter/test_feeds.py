"""Feed polling (`articles.poll_feeds`) against a real HTTP server: conditional GETs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from petitions.extensions import db
from petitions.newsletter import fetching
from petitions.newsletter.models import Article, ArticleFeed
from petitions.newsletter.tasks import poll_feeds
from tests.newsletter.feed_samples import NEWS_RSS, rss, rss_item
from tests.newsletter.feed_server import FeedServer
from tests.support.processes import free_port


@pytest.fixture
def server():
    feed_server = FeedServer()
    feed_server.publish(NEWS_RSS)
    feed_server.start()
    yield feed_server
    feed_server.stop()


@pytest.fixture
def configured(app, server):
    app.config["ARTICLE_FEEDS"] = [server.url]
    return server


def poll() -> dict[str, str]:
    """Run the task as the worker does (its own app context and session)."""
    db.session.commit()
    return poll_feeds()


def articles() -> dict[str, Article]:
    db.session.expire_all()
    return {a.url: a for a in db.session.scalars(select(Article))}


def feed_rows() -> list[ArticleFeed]:
    db.session.expire_all()
    return list(db.session.scalars(select(ArticleFeed).order_by(ArticleFeed.id)))


def test_task_is_registered_under_the_name_beat_schedules(app):
    celery = app.extensions["celery"]
    celery.loader.import_default_modules()

    assert celery.tasks["articles.poll_feeds"].ignore_result


def test_first_poll_adds_the_configured_feed_and_creates_its_articles(configured):
    outcomes = poll()

    assert outcomes == {configured.url: "2 created, 0 updated, 1 skipped; "
                                        "first skipped: entry 3 'No link here': no link"}
    assert len(articles()) == 2
    [feed] = feed_rows()
    assert (feed.url, feed.etag, feed.last_modified) == (
        configured.url, configured.etag, configured.last_modified)
    assert feed.last_polled_at is not None and feed.last_status == outcomes[configured.url]
    assert "If-None-Match" not in configured.seen[0]


def test_second_poll_sends_the_validators_gets_304_and_changes_nothing(configured):
    poll()
    before = {url: a.updated_at for url, a in articles().items()}
    first_polled = feed_rows()[0].last_polled_at

    assert poll() == {configured.url: "not modified"}

    assert configured.seen[-1]["If-None-Match"] == configured.etag
    assert configured.seen[-1]["If-Modified-Since"] == configured.last_modified
    assert configured.answered == [200, 304]
    assert {url: a.updated_at for url, a in articles().items()} == before
    [feed] = feed_rows()
    assert feed.etag == configured.etag and feed.last_polled_at > first_polled


def test_a_changed_feed_is_fetched_in_full_and_picked_up(configured):
    poll()
    configured.publish(rss(
        rss_item("DC Police to Notify ICE, says chief",
                 "https://truthandresistance.example/articles/dc-police-ice", guid="tr-1001"),
        rss_item("Ukrainians in US about to lose temporary legal status",
                 "https://truthandresistance.example/articles/ukrainians", guid="tr-1004"),
    ))

    outcome = poll()[configured.url]

    assert outcome == "1 created, 1 updated, 0 skipped"
    assert configured.answered == [200, 200]
    found = articles()
    assert len(found) == 3
    assert found["https://truthandresistance.example/articles/dc-police-ice"].title == \
        "DC Police to Notify ICE, says chief"
    assert feed_rows()[0].etag == configured.etag


def test_feeds_added_with_the_cli_are_polled_and_listed(app, runner, server):
    added = runner.invoke(args=["articles", "add-feed", server.url])
    again = runner.invoke(args=["articles", "add-feed", server.url])
    assert added.output.startswith("Added feed") and again.output.startswith("Already polling")
    assert "last polled: never; not polled yet" in runner.invoke(args=["articles", "list-feeds"]).output

    poll()

    listing = runner.invoke(args=["articles", "list-feeds"]).output
    assert server.url in listing and "2 created, 0 updated, 1 skipped" in listing
    assert "validators: ETag, Last-Modified" in listing
    assert len(articles()) == 2


def test_add_feed_refuses_a_url_that_is_not_http(runner):
    result = runner.invoke(args=["articles", "add-feed", "file:///etc/passwd"])

    assert result.exit_code == 2
    assert "must be absolute and start with http:// or https://" in result.output
    assert feed_rows() == []


def test_list_feeds_without_feeds_says_how_to_add_one(runner):
    assert "flask articles add-feed URL" in runner.invoke(args=["articles", "list-feeds"]).output


def test_a_broken_feed_is_recorded_and_the_others_are_still_polled(app, configured):
    dead = f"http://127.0.0.1:{free_port()}/feed.xml"
    app.config["ARTICLE_FEEDS"] = [dead, configured.url]

    outcomes = poll()

    assert outcomes[dead].startswith("failed: could not connect")
    assert outcomes[configured.url].startswith("2 created")
    assert feed_rows()[0].last_status.startswith("failed: could not connect")


@pytest.mark.parametrize(
    ("setup", "status"),
    [
        (lambda server: setattr(server, "status", 500), "failed: the server answered HTTP 500"),
        (lambda server: server.publish(b"<rss" + b" " * (5 * 1024 * 1024)),
         "failed: the feed is larger than 5 MB"),
        (lambda server: server.publish(b"<html><p>Moved</p></html>"),
         "failed: not an RSS or Atom feed, nor a JSON list of articles"),
    ],
    ids=["server-error", "oversize", "not-a-feed"],
)
def test_a_feed_that_fails_is_recorded_without_validators_and_fetched_in_full_next_time(
        configured, setup, status):
    setup(configured)

    assert poll() == {configured.url: status}

    [feed] = feed_rows()
    assert feed.last_status == status and feed.etag is None and feed.last_modified is None
    assert articles() == {}


def test_a_slow_server_is_abandoned_after_the_timeout(configured, monkeypatch):
    monkeypatch.setattr(fetching, "TIMEOUT_SECONDS", 0.3)
    configured.delay = 1.0

    assert poll() == {configured.url: "failed: the server took longer than 0.3 seconds"}


def test_import_command_reads_a_feed_from_a_url(runner, server):
    server.publish(rss(rss_item("Relative link", "/articles/relative", guid="tr-9")))

    result = runner.invoke(args=["articles", "import", server.url])

    assert result.exit_code == 0, result.output
    assert "1 created, 0 updated, 0 skipped" in result.output
    assert list(articles()) == [server.url.replace("/feed.xml", "/articles/relative")]
