"""The HTML post-processing on its own: lines over SMTP's limit are broken where HTML
does not care, and nowhere else."""

from __future__ import annotations

from petitions.mail.render import MAX_LINE, fold_long_lines, inline_css

WORDS = " ".join(f"word{n}" for n in range(400))  # about 3,000 characters


def test_a_body_within_the_limit_is_returned_as_it_is():
    body = "<p>" + "x" * 990 + "</p>\n<p>short</p>"
    assert fold_long_lines(body) is body


def test_a_long_paragraph_is_broken_between_words_into_readable_lines():
    body = f'<p class="a b">{WORDS}</p>\n<p>next</p>'

    folded = fold_long_lines(body)

    lines = folded.split("\n")
    assert max(map(len, lines)) <= 78 + len("word399</p>")
    assert folded.replace("\n", " ") == body.replace("\n", " ")  # only spaces became newlines
    assert lines[0].startswith('<p class="a b">word0 word1')  # the tag's own space is kept


def test_spaces_inside_tags_and_preformatted_text_are_left_alone():
    title = "a title with spaces " * 10
    body = f'<p><a href="https://x.example/" title="{title}">{WORDS}</a></p>\n<pre>{WORDS}</pre>'

    folded = fold_long_lines(body)

    assert f'title="{title}"' in folded
    assert f"<pre>{WORDS}</pre>" in folded
    assert max(len(line) for line in folded.split("\n") if "<pre>" not in line) <= MAX_LINE


def test_inlining_folds_and_drops_the_style_block():
    html = inline_css(f"<html><head><style>p {{ color: red; }}</style></head>"
                      f"<body><p>{WORDS}</p></body></html>")

    assert "<style" not in html
    assert '<p style="color: red;">word0' in html
    assert max(map(len, html.split("\n"))) <= MAX_LINE
