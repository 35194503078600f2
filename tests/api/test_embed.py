"""The embeddable petition card, embed.js for article pages, and the admin's snippet."""

from __future__ import annotations

from html import unescape
from html.parser import HTMLParser

import pytest

from petitions.database import utcnow
from petitions.extensions import db
from tests.admin.conftest import admin_client, fresh_csrf_per_request, make_account  # noqa: F401
from tests.factories import PetitionFactory

WEIGHT_LIMIT = 20 * 1024


class _Tags(HTMLParser):
    """Every start tag, as (tag, attributes), in order."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def all(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]


@pytest.fixture
def petition(app):
    return PetitionFactory(slug="sanctuary-city", title="Keep DC a sanctuary city",
                           goal=1000, signature_count=250)


def _base(app) -> str:
    return app.config["BASE_URL"]


def test_the_card_shows_title_count_progress_and_a_sign_button(client, app, petition):
    response = client.get("/petitions/sanctuary-city/embed")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Keep DC a sanctuary city" in html
    assert "<strong data-count>250</strong>" in html
    assert 'style="width: 25%"' in html
    assert 'aria-valuenow="250"' in html and 'aria-valuemax="1000"' in html
    assert 'data-count-url="/petitions/sanctuary-city/count.json"' in html
    sign = [a for a in _Tags(html).all("a") if a.get("class") == "button"]
    assert len(sign) == 1
    assert sign[0]["href"] == f"{_base(app)}/petitions/sanctuary-city"
    assert sign[0]["target"] == "_blank"
    assert "noopener" in sign[0]["rel"].split()
    assert "Sign this petition" in html


def test_the_card_of_a_closed_petition_has_no_sign_button(client, petition):
    petition.state = "closed"
    db.session.commit()
    html = client.get("/petitions/sanctuary-city/embed").get_data(as_text=True)
    assert '<p class="action" hidden data-open>' in html
    assert '<p class="closed" data-closed>' in html


def test_the_card_escapes_the_title(client):
    PetitionFactory(slug="quoted", title='Say "no" <script>alert(1)</script>')
    html = client.get("/petitions/quoted/embed").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "Say &#34;no&#34; &lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_card_may_be_framed_by_any_site(client, petition):
    response = client.get("/petitions/sanctuary-city/embed")
    assert "X-Frame-Options" not in response.headers
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in policy
    assert "frame-ancestors 'none'" not in policy
    # Still no inline script, and only this site's resources.
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.replace("style-src-attr 'unsafe-inline'", "")


@pytest.mark.parametrize("path", [
    "/petitions/sanctuary-city",
    "/petitions/sanctuary-city/count.json",
    "/petitions/sanctuary-city.json",
    "/",
    "/embed.js",
])
def test_nothing_else_may_be_framed(client, petition, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_the_card_is_light_and_loads_nothing_from_other_sites(client, app, petition):
    response = client.get("/petitions/sanctuary-city/embed")
    html = response.get_data(as_text=True)
    tags = _Tags(html)
    assets = [attrs["href"] for attrs in tags.all("link")] + [s["src"] for s in tags.all("script")]
    assert sorted(assets) == ["/static/embed-card.js", "/static/embed.css"]
    for tag, attrs in tags.tags:
        for name in ("src", "href", "action", "srcset", "data"):
            url = attrs.get(name)
            if url is not None:
                assert url.startswith("/") and not url.startswith("//") or \
                    url.startswith(_base(app) + "/"), (tag, url)
    assert "<style" not in html
    assert all(script.get("src") for script in tags.all("script")), "no inline scripts"
    total = len(response.data)
    for url in assets:
        asset = client.get(url)
        assert asset.status_code == 200
        total += len(asset.data)
        asset.close()
        for line in asset.get_data(as_text=True).splitlines():
            assert "http://" not in line and "https://" not in line and "@import" not in line
    assert total < WEIGHT_LIMIT, total


@pytest.mark.parametrize("change", [
    {"state": "draft"},
    {"hidden": True},
])
def test_draft_and_hidden_petitions_are_not_found(client, petition, change):
    for name, value in change.items():
        setattr(petition, name, value)
    db.session.commit()
    response = client.get("/petitions/sanctuary-city/embed")
    assert response.status_code == 404
    assert "Keep DC a sanctuary city" not in response.get_data(as_text=True)
    assert "X-Frame-Options" not in response.headers


def test_an_unknown_petition_is_not_found(client, app):
    response = client.get("/petitions/no-such-petition/embed")
    assert response.status_code == 404
    assert "Petition not found" in response.get_data(as_text=True)


def test_a_removed_petition_is_gone_with_the_reason(client, petition):
    petition.removed_at = utcnow()
    petition.removal_reason = "Withdrawn at the organiser's request."
    db.session.commit()
    response = client.get("/petitions/sanctuary-city/embed")
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "This petition has been removed" in html
    assert "Withdrawn at the organiser&#39;s request." in html
    assert "Sign this petition" not in html
    assert "X-Frame-Options" not in response.headers


def test_embed_js_is_served_as_javascript_to_any_site(client):
    response = client.get("/embed.js", headers={"Origin": "https://news.example"})
    assert response.status_code == 200
    assert response.mimetype in {"text/javascript", "application/javascript"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age=300" in response.headers["Cache-Control"]
    assert "public" in response.headers["Cache-Control"]
    script = response.get_data(as_text=True)
    assert "a.petition[href]" in script and "/embed" in script
    assert 'setAttribute("loading", "lazy")' in script and "frame.title" in script
    response.close()


def test_embed_js_answers_304_when_unchanged(client):
    first = client.get("/embed.js")
    etag = first.headers["ETag"]
    first.close()
    again = client.get("/embed.js", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_the_admin_shows_the_embed_snippet(admin_client, app, petition):  # noqa: F811
    html = admin_client.get(f"/admin/petitions/{petition.id}").get_data(as_text=True)
    base = _base(app)
    snippet = (f'<a class="petition" href="{base}/petitions/sanctuary-city">Sign Our Petition</a>\n'
               f'<script src="{base}/embed.js" async></script>')
    start = html.index('<textarea id="embed-snippet"')
    textarea = html[start:html.index("</textarea>", start)]
    assert "readonly" in textarea
    assert unescape(textarea.split(">", 1)[1]) == snippet
    assert "<script src=" not in textarea, "the snippet is shown, escaped, not run"
