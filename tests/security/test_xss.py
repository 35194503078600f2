"""XSS payloads in signers' names and comments and in admins' petition text: escaped or
sanitised on the pages and in the emails (HTML and plain text)."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail import outbox
from petitions.mail.delivery import deliver_due
from petitions.text import render_markdown
from tests.factories import CategoryFactory, PetitionFactory, SignatureFactory, SubscriberFactory
from tests.newsletter.digest_helpers import article
from tests.signing.helpers import sign, signatures
from tests.updates.helpers import draft, publish_and_send, update_mail

SCRIPT = "<script>alert(1)</script>"
COUNT_JS = '<script src="/static/count.js" defer></script>'
EMBED_CARD_JS = '<script src="/static/embed-card.js" defer></script>'
SITE_JS = '<script src="/static/site.js" defer></script>'  # on every page (base.html)
PAYLOADS = [
    SCRIPT,
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<a href='javascript:alert(1)'>x</a>",
    "'><style>*{display:none}</style>",
]
MARKDOWN_PAYLOADS = PAYLOADS + [
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](https://evil.test/x.png)",
    '<a href="https://ok.test" onclick="alert(1)" style="color:red">ok</a>',
    "<details open ontoggle=alert(1)>",
    "<!-- <script>alert(1)</script> -->",
    "[a](https://ok.test \"title\" onmouseover=alert(1))",
]
DANGEROUS_TAGS = {"script", "img", "svg", "iframe", "style", "details", "object", "embed"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href"}


class _Elements(HTMLParser):
    """Every element and attribute the browser would build: escaped text is not one."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag in DANGEROUS_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            url = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            elif name == "style" and re.search(r"url\(|expression|javascript|@import", url):
                # Emails carry inlined CSS, and the count's bar a width: only styles that
                # fetch or run anything count.
                self.found.append(f"<{tag} style={value}>")
            elif name in URL_ATTRIBUTES and url.startswith(("javascript:", "data:", "vbscript:")):
                self.found.append(f"<{tag} {name}={value}>")

    def handle_comment(self, data):
        if "<script" in data.lower():
            self.found.append("<!-- script -->")


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(outbox, "nudge_worker", lambda: True)


def assert_safe(html: str, *, where: str = "", scripts_allowed: tuple[str, ...] = ()):
    """No element, attribute or URL that could run script (bar the page's own scripts)."""
    for own in (SITE_JS, *scripts_allowed):
        html = html.replace(own, "")
    found = _Elements(html).found
    assert found == [], f"{where}: {found}"


@pytest.mark.parametrize("payload", MARKDOWN_PAYLOADS)
def test_markdown_from_admins_is_sanitised(payload):
    html = str(render_markdown(f"Before\n\n{payload}\n\nAfter **bold**"))

    assert_safe(html)
    assert "<strong>bold</strong>" in html


def test_sanitised_links_keep_safe_schemes_and_get_rel():
    html = str(render_markdown("[one](https://ok.test/a) [two](mailto:a@ok.test)"))

    assert 'href="https://ok.test/a"' in html and 'href="mailto:a@ok.test"' in html
    assert html.count('rel="noopener noreferrer nofollow"') == 2


@pytest.mark.parametrize("payload", PAYLOADS)
def test_petition_text_and_title_are_safe_on_the_page(client, payload):
    PetitionFactory(slug="xss", title=f"Title {payload}", summary=f"Summary {payload}",
                    body="\n\n".join(MARKDOWN_PAYLOADS), target=f"Target {payload}")

    for path in ("/", "/petitions/xss"):
        response = client.get(path)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        # our own two scripts: the live count, and the card's (copy-link) helpers
        assert_safe(page, where=path, scripts_allowed=(COUNT_JS, EMBED_CARD_JS))
        assert "Title &lt;" in page or "Title &#34;&gt;&lt;" in page or "Title &#39;&gt;&lt;" in page


@pytest.mark.parametrize("payload", PAYLOADS[:3])
def test_a_signers_name_and_comment_are_escaped_on_pages_and_in_emails(
        app, client, mail, admin_client, payload):
    petition = PetitionFactory(slug="xss")

    response = sign(client, "xss", name=f"{payload} Doe", comment=f"Hi {payload}",
                    show_name_publicly="y")

    assert response.status_code == 303
    [signature] = signatures()
    assert signature.comment == f"Hi {payload}"  # stored as written; escaped when shown
    assert deliver_due()["sent"] == 1
    [message] = mail.messages
    assert_safe(message.part("html"), where="confirmation email")
    assert f"Hello {payload} Doe" in message.part("plain")  # plain text is not HTML
    signature.state, signature.confirmed_at = "confirmed", utcnow()
    db.session.commit()

    page = client.get("/petitions/xss").get_data(as_text=True)
    assert_safe(page, where="petition page", scripts_allowed=(COUNT_JS, EMBED_CARD_JS))
    for path in (f"/admin/signatures/{signature.id}", f"/admin/signatures/?petition={petition.slug}"):
        admin_page = admin_client.get(path)
        assert admin_page.status_code == 200, path
        assert_safe(admin_page.get_data(as_text=True), where=path)
    assert "&lt;" in admin_client.get(f"/admin/signatures/{signature.id}").get_data(as_text=True)


def test_an_update_email_is_sanitised_in_html_and_plain_in_text(app, mail):
    petition = PetitionFactory(title=f"Petition {SCRIPT}")
    SignatureFactory(petition=petition, email="jane@example.org", state="confirmed",
                     confirmed_at=utcnow() - timedelta(hours=1), email_updates=True,
                     name=f"Jane {SCRIPT}")
    update = draft(petition, title=f"News {SCRIPT}", body="\n\n".join(MARKDOWN_PAYLOADS))

    assert publish_and_send(update) == 1

    [message] = update_mail(mail)
    assert_safe(message.part("html"), where="update email")
    assert "\n" not in message.subject and "News <script>" in message.subject


def test_a_digest_escapes_article_and_petition_titles(app, admin_client, mail):
    category = CategoryFactory(name=f"Cat {SCRIPT}")
    article(category, utcnow() - timedelta(hours=2), title=f"Headline {SCRIPT}",
            summary=f"Summary {SCRIPT}")
    PetitionFactory(title=f"Petition {SCRIPT}", category=category)
    reader = SubscriberFactory(follows=[category])

    preview = admin_client.get(f"/admin/digests/{reader.id}/preview.html")
    page = admin_client.get(f"/admin/digests?subscriber={reader.id}")

    assert preview.status_code == 200 and page.status_code == 200
    html = preview.get_data(as_text=True)
    assert "Headline &lt;script&gt;" in html
    assert_safe(html, where="digest")
    own_frame = re.compile(r'<iframe class="digest-preview".*?</iframe>', re.S)
    assert len(own_frame.findall(page.get_data(as_text=True))) == 1
    assert_safe(own_frame.sub("", page.get_data(as_text=True)), where="digest preview page")
