"""Finding user-facing text in templates that is not inside a translation call.

A template is parsed with Jinja (so `{{ _("...") }}` and `{% trans %}` are calls, not
text), and its literal text (the TemplateData nodes, in document order, with a marker
where an expression's output goes) is read as HTML: text between tags, outside <script>
and <style>, (but not in <code>, <kbd>, <samp> or <pre>), and the attributes people read or hear (alt, title, aria-label,
placeholder, the description meta's content) must hold no letters. Plain-text
templates (.txt, email bodies and subjects) are all visible text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment, nodes

OUTPUT = "\x00"  # where an expression's output goes
LETTERS = re.compile(r"[^\W\d_]")
READ_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder"}
# Commands and code read the same in every language.
CODE_TAGS = {"code", "kbd", "samp", "pre"}
# Not words: a path or URL (/petitions/), an address, a CSS class put together in a block.
NOT_WORDS = re.compile(r"^(/\S*|\S+://\S*|\S+@\S+|[a-z0-9]+(-[a-z0-9]+)+)$")
# Names and symbols that are the same in every language.
ALLOWED = {
    "X", "Facebook", "WhatsApp", "Bluesky", "Email", "RSS", "Atom", "JSON", "CSV", "PDF",
    "Markdown", "OpenAPI", "TOTP", "QR", "HTML",
}


def literal_text(environment: Environment, source: str) -> str:
    """The template's literal text, with OUTPUT wherever an expression prints."""
    pieces: list[str] = []

    def walk(node: nodes.Node) -> None:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    pieces.append(child.data)
                else:
                    pieces.append(OUTPUT)
            return
        for child in node.iter_child_nodes():
            walk(child)

    walk(environment.parse(source))
    return "".join(pieces)


def _offending(text: str) -> str | None:
    words = " ".join(text.replace(OUTPUT, " ").split())
    if not LETTERS.search(words):
        return None
    if NOT_WORDS.match(words):
        return None
    remaining = [word for word in re.split(r"[\s·|/()\[\],:;.!?–—-]+", words)
                 if word and LETTERS.search(word) and word not in ALLOWED]
    return words if remaining else None


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style") or tag in CODE_TAGS:
            self._hidden += 1
        attributes = dict(attrs)
        for name, value in attrs:
            read = name in READ_ATTRIBUTES or (
                tag == "meta" and name == "content"
                and (attributes.get("name") or attributes.get("property", "")).endswith(
                    "description"))
            if read and value and (problem := _offending(value)):
                self.found.append(f'{name}="{problem}"')

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style") or tag in CODE_TAGS:
            self._hidden -= 1

    def handle_endtag(self, tag):
        if (tag in ("script", "style") or tag in CODE_TAGS) and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and (problem := _offending(data)):
            self.found.append(problem)


def unmarked_text(environment: Environment, path: Path) -> list[str]:
    text = literal_text(environment, path.read_text())
    if path.suffix == ".txt":
        return [problem for line in text.splitlines() if (problem := _offending(line))]
    parser = _VisibleText()
    parser.feed(text)
    parser.close()
    return parser.found
