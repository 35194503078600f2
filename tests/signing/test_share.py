"""The petition page's Open Graph and Twitter card tags, and its share links."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.factories import PetitionFactory

TITLE = 'Say "no" & <script>alert(1)</script>'
SUMMARY = "Keep local police out of federal immigration enforcement."


class _Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.copy: list[dict] = []
        self.scripts: list[str] = []
        self._link: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "meta" and "content" in attributes:
            key = attributes.get("property") or attributes.get("name")
            if key:
                self.meta[key] = attributes["content"]
        elif tag == "a" and self._in_share:
            self._link = attributes["href"]
        elif tag == "section" and attributes.get("aria-labelledby") == "share-heading":
            self._in_share = True
        elif tag == "button" and "data-copy-text" in attributes:
            self.copy.append(attributes)
        elif tag == "script":
            self.scripts.append(attributes.get("src", ""))

    _in_share = False

    def handle_data(self, data):
        if self._link and data.strip():
            self.links[data.strip()] = self._link
            self._link = None

    def handle_endtag(self, tag):
        if tag == "section":
            self._in_share = False


@pytest.fixture
def page(app, client):
    app.config["BASE_URL"] = "https://petitions.example.org"
    PetitionFactory(slug="say-no", title=TITLE, summary=SUMMARY)
    response = client.get("/petitions/say-no")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_open_graph_and_twitter_tags_are_exact(app, page):
    url = f"{app.config['BASE_URL']}/petitions/say-no"
    meta = _Page(page).meta
    assert meta["og:title"] == TITLE
    assert meta["og:description"] == SUMMARY
    assert meta["og:url"] == url
    assert meta["og:type"] == "website"
    assert meta["og:site_name"] == "Truth and Resistance"
    assert meta["twitter:card"] == "summary"
    assert meta["twitter:title"] == TITLE
    assert meta["twitter:description"] == SUMMARY


def test_the_tags_escape_quotes_and_markup(page):
    assert ('<meta property="og:title" content="Say &#34;no&#34; &amp; '
            '&lt;script&gt;alert(1)&lt;/script&gt;">') in page
    assert "<script>alert(1)" not in page


def test_the_og_url_comes_from_base_url(app, client):
    app.config["BASE_URL"] = "https://news.example/petitions-site"
    PetitionFactory(slug="elsewhere")
    meta = _Page(client.get("/petitions/elsewhere").get_data(as_text=True)).meta
    assert meta["og:url"] == "https://news.example/petitions-site/petitions/elsewhere"


def test_share_links_are_exact_and_encoded(app, page):
    url = "https%3A%2F%2Fpetitions.example.org%2Fpetitions%2Fsay-no"
    title = "Say%20%22no%22%20%26%20%3Cscript%3Ealert%281%29%3C%2Fscript%3E"
    links = _Page(page).links
    assert links == {
        "Email": f"mailto:?subject={title}&body=Please%20sign%20this%20petition%3A%20{title}"
                 f"%0D%0A%0D%0A{url}",
        "X (Twitter)": f"https://twitter.com/intent/tweet?url={url}&text={title}",
        "Facebook": f"https://www.facebook.com/sharer/sharer.php?u={url}",
        "WhatsApp": f"https://wa.me/?text={title}%20{url}",
        "Bluesky": f"https://bsky.app/intent/compose?text={title}%20{url}",
    }


def test_share_links_open_safely_and_load_no_third_party_script(page):
    assert page.count('target="_blank" rel="noopener noreferrer"') == 4
    scripts = _Page(page).scripts
    assert scripts and all(src.startswith("/static/") for src in scripts)


def test_copy_link_button_with_the_address_visible_as_text(page):
    parsed = _Page(page)
    assert len(parsed.copy) == 1
    button = parsed.copy[0]
    assert button["data-copy-text"] == "https://petitions.example.org/petitions/say-no"
    assert button["type"] == "button"
    assert "hidden" in button, "shown by the script only where the Clipboard API exists"
    assert '<code class="share-url">' \
           "https://petitions.example.org/petitions/say-no</code>" in page
    assert "/static/embed-card.js" in parsed.scripts


def test_a_closed_petition_can_still_be_shared(app, client):
    PetitionFactory(slug="done", state="closed")
    page = client.get("/petitions/done").get_data(as_text=True)
    assert "https://www.facebook.com/sharer/sharer.php?u=" in page
    assert _Page(page).meta["og:url"].endswith("/petitions/done")
