"""`flask articles import`: its report stays on stdout; progress and a summary go to stderr."""

from __future__ import annotations

import re

from tests.newsletter.feed_samples import NEWS_RSS, json_articles


def test_import_ends_with_a_summary_on_stderr_and_keeps_its_report_on_stdout(runner, tmp_path):
    feed = tmp_path / "news.xml"
    feed.write_bytes(NEWS_RSS)

    result = runner.invoke(args=["articles", "import", str(feed)])

    assert result.exit_code == 0, result.output
    report = result.stdout.splitlines()
    assert report[0] == "2 created, 0 updated, 1 skipped"
    assert report[1].startswith("  skipped entry ")
    assert len(report) == 2
    assert re.fullmatch(
        rf"Imported 2 articles \(2 new, 0 updated, 0 unchanged, 1 rejected\) from "
        rf"{re.escape(str(feed))} in \d+\.\d s\n", result.stderr)


def test_a_second_import_is_summarised_as_unchanged(runner, tmp_path):
    path = tmp_path / "articles.json"
    path.write_bytes(json_articles({"title": "From JSON", "url": "https://news.example/json-1",
                                    "published_at": "2025-08-16T10:00:00Z"}))
    runner.invoke(args=["articles", "import", str(path), "--category", "Local"])

    again = runner.invoke(args=["articles", "import", str(path), "--category", "Local"])

    assert again.stderr.startswith(
        f"Imported 1 article (0 new, 0 updated, 1 unchanged, 0 rejected) from {path} in ")
