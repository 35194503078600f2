"""`flask articles import`: RSS 2.0, Atom and JSON files, safe to run again, skips explained."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from petitions.extensions import db
from petitions.newsletter.models import Article, Category
from tests.newsletter.feed_samples import NEWS_ATOM, NEWS_RSS, json_articles, rss, rss_item


def run_import(runner, path, *options: str):
    result = runner.invoke(args=["articles", "import", str(path), *options])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def articles() -> dict[str, Article]:
    db.session.expire_all()
    return {a.url: a for a in db.session.scalars(select(Article))}


def summary_line(output: str) -> str:
    return next(line for line in output.splitlines() if " created, " in line)


def test_rss_file_is_imported_with_category_date_summary_and_guid(runner, tmp_path):
    feed = tmp_path / "news.xml"
    feed.write_bytes(NEWS_RSS)

    result = run_import(runner, feed)

    assert result.exit_code == 0
    assert summary_line(result.output) == "2 created, 0 updated, 1 skipped"
    lead = articles()["https://truthandresistance.example/articles/dc-police-ice"]
    assert lead.title == "DC Police to Notify ICE When They Encounter Illegal Aliens"
    assert lead.external_id == "tr-1001"
    assert lead.published_at == datetime(2025, 8, 16, 23, 58, 22, tzinfo=UTC)
    assert lead.summary == "DC\u2019s police chief ordered that officers may share information with ICE."
    assert (lead.category.name, lead.category.slug) == (
        "Immigration Policy & Border Issues", "immigration-policy-border-issues")
    raid = articles()["https://truthandresistance.example/articles/ice-raid"]
    assert raid.published_at == datetime(2025, 8, 16, 22, 0, tzinfo=UTC)


def test_skipped_entries_are_reported_one_line_each_with_the_reason(runner, tmp_path):
    feed = tmp_path / "news.xml"
    feed.write_bytes(rss(
        rss_item("No link here", None),
        rss_item("No category", "https://news.example/1", category=None),
        rss_item("No date", "https://news.example/2", pub_date=None),
        rss_item("t" * 301, "https://news.example/3"),
        rss_item("Fine", "https://news.example/4"),
    ))

    output = run_import(runner, feed).output

    assert summary_line(output) == "1 created, 0 updated, 4 skipped"
    assert "  skipped entry 1 'No link here': no link" in output
    assert "  skipped entry 2 'No category': no category (give --category to use one)" in output
    assert "  skipped entry 3 'No date': no published or updated date" in output
    assert "The title must be 300 characters or fewer." in output


def test_second_import_reports_unchanged_and_then_updated_never_duplicates(runner, tmp_path):
    feed = tmp_path / "news.xml"
    feed.write_bytes(NEWS_RSS)
    run_import(runner, feed)

    again = run_import(runner, feed)

    assert summary_line(again.output) == "0 created, 0 updated, 1 skipped (2 unchanged)"
    feed.write_bytes(NEWS_RSS.replace(b"Man dies fleeing", b"A man dies fleeing"))
    changed = run_import(runner, feed)
    assert summary_line(changed.output) == "0 created, 1 updated, 1 skipped (1 unchanged)"
    assert len(articles()) == 2
    assert articles()["https://truthandresistance.example/articles/ice-raid"].title.startswith("A man")


def test_atom_file_is_imported_with_html_titles_made_plain_and_relative_links_resolved(
        runner, tmp_path):
    feed = tmp_path / "border.atom"
    feed.write_bytes(NEWS_ATOM)

    output = run_import(runner, feed).output

    assert summary_line(output) == "2 created, 0 updated, 1 skipped"
    assert "skipped entry 3 'Undated entry': no published or updated date" in output
    detention = articles()["https://border.example/ice-detention"]
    assert detention.title == "Report: ICE plans to double detention space"
    assert detention.summary == "Space for more detainees."
    assert detention.published_at == datetime(2025, 8, 17, 9, 0, tzinfo=UTC)
    assert detention.external_id == "tag:border.example,2025:1"
    assert detention.category.slug == "immigration-policy-border-issues"
    courts = articles()["https://border.example/remain-in-mexico"]
    assert courts.category.name == "courts"
    assert courts.summary == "Judges <asked> hard questions."


def test_category_option_is_used_for_entries_without_a_category(runner, tmp_path):
    feed = tmp_path / "news.xml"
    feed.write_bytes(rss(rss_item("Untagged", "https://news.example/1", category=None),
                         rss_item("Tagged", "https://news.example/2", category="Courts")))

    result = run_import(runner, feed, "--category", "Local News")

    assert summary_line(result.output) == "2 created, 0 updated, 0 skipped"
    assert articles()["https://news.example/1"].category.name == "Local News"
    assert articles()["https://news.example/2"].category.name == "Courts"


def test_json_file_is_imported_and_bad_items_are_skipped_with_reasons(runner, tmp_path):
    path = tmp_path / "articles.json"
    path.write_bytes(json_articles(
        {"title": "From JSON", "url": "https://news.example/json-1",
         "published_at": "2025-08-16T10:00:00Z", "external_id": "j-1"},
        {"title": "Broken date", "url": "https://news.example/json-2",
         "published_at": "last Tuesday"},
        "not an object",
    ))

    result = run_import(runner, path, "--category", "Immigration Policy & Border Issues")

    assert summary_line(result.output) == "1 created, 0 updated, 2 skipped"
    assert "  skipped item 2 'Broken date': The publication time is not a valid date." in result.output
    assert "  skipped item 3: not a JSON object" in result.output
    assert articles()["https://news.example/json-1"].category.slug == \
        "immigration-policy-border-issues"
    again = run_import(runner, path, "--category", "Immigration Policy & Border Issues")
    assert summary_line(again.output) == "0 created, 0 updated, 2 skipped (1 unchanged)"


def test_a_long_feed_summary_is_shortened_not_refused(runner, tmp_path):
    feed = tmp_path / "news.xml"
    feed.write_bytes(rss(rss_item("Long", "https://news.example/1", description="word " * 2000)))

    run_import(runner, feed)

    summary = articles()["https://news.example/1"].summary
    assert len(summary) <= 5000 and summary.endswith("word\u2026")


def test_a_source_that_cannot_be_read_fails_with_one_clear_line(runner, tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>Not a feed</p></body></html>")
    not_a_list = tmp_path / "object.json"
    not_a_list.write_text('{"title": "one article"}')
    broken = tmp_path / "broken.json"
    broken.write_text("[{")

    for path, reason in [
        (tmp_path / "missing.xml", "cannot read the file"),
        (page, "not an RSS or Atom feed, nor a JSON list of articles"),
        (not_a_list, "JSON must be a list of article objects"),
        (broken, "not valid JSON"),
    ]:
        result = run_import(runner, path)
        assert result.exit_code == 1
        assert f"Cannot import {path}: {reason}" in result.output
    assert articles() == {}
    assert db.session.scalars(select(Category)).all() == []
