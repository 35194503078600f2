"""Every user-facing string in every template is marked for translation: a template with
unmarked text fails here, naming the template and the text."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import Environment

from tests.i18n.marked_text import unmarked_text

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def templates() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".txt"))


@pytest.fixture(scope="module")
def environment():
    # Parsing needs only the i18n extension ({% trans %}); no app, no database.
    return Environment(extensions=["jinja2.ext.i18n"])


@pytest.mark.parametrize("path", templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_has_unmarked_text(environment, path):
    assert unmarked_text(environment, path) == []


@pytest.mark.parametrize(("source", "found"), [
    ('<p>{{ _("Signed") }}</p>', []),
    ("<p>Signed</p>", ["Signed"]),
    ('<a href="{{ url }}">Read more</a>', ["Read more"]),
    ('<p>{{ count }} signatures</p>', ["signatures"]),
    ('{% if x %}<h2>Closed</h2>{% endif %}', ["Closed"]),
    ('<img src="a.png" alt="A map">', ['alt="A map"']),
    ('<img src="a.png" alt="{{ _("A map") }}">', []),
    ('<input placeholder="Your email">', ['placeholder="Your email"']),
    ('<input placeholder="you@example.org">', []),
    ('<div class="card wide" id="main" data-x="yes"></div>', []),
    ('<meta name="description" content="Sign now">', ['content="Sign now"']),
    ('<script>const label = "Loading";</script><style>p::after{content:"x"}</style>', []),
    ("<p>{% trans %}Thank you{% endtrans %}</p>", []),
    ("<p>{{ a }} · {{ b }} — {{ c }} / 100%</p>", []),
    ("<a>Facebook</a> · <a>WhatsApp</a>", []),
    ("<!-- a note for developers -->", []),
    ("<p>Run <code>flask db upgrade</code></p>", ["Run"]),
    ('<a href="{{ u }}">/petitions/{{ slug }}</a>', []),
    ("{% block main_class %} wrap-wide{% endblock %}", []),
])
def test_the_check_finds_unmarked_text_and_only_that(environment, tmp_path, source, found):
    template = tmp_path / "page.html"
    template.write_text(source)
    assert unmarked_text(environment, template) == found


def test_plain_text_templates_are_all_visible(environment, tmp_path):
    template = tmp_path / "body.txt"
    template.write_text('{{ _("Hello") }}\n-- \nUnsubscribe here: {{ url }}\n')
    assert unmarked_text(environment, template) == ["Unsubscribe here:"]
