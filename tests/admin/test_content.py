"""Categories and articles in the admin: list, rename, edit, link to petitions."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from petitions.admin.models import AuditEntry
from petitions.database import utcnow
from petitions.extensions import db
from tests.admin.conftest import csrf_from
from tests.factories import ArticleFactory, CategoryFactory, PetitionFactory


@pytest.fixture(autouse=True)
def site_timezone(app):
    app.config["SITE_TIMEZONE"] = "America/New_York"


def post(client, url: str, data: dict | None = None):
    return client.post(url, data={**(data or {}), "csrf_token": client.csrf})


def audit_log() -> list[tuple]:
    rows = db.session.execute(select(AuditEntry.action, AuditEntry.actor_email,
                                     AuditEntry.target_type, AuditEntry.target_id,
                                     AuditEntry.detail)
                              .where(AuditEntry.action != "login").order_by(AuditEntry.id))
    return [tuple(row) for row in rows]


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def article_titles(page: str) -> list[str]:
    table = re.search(r'<table class="admin articles">(.*?)</table>', page, re.S)
    return re.findall(r'/edit">([^<]+)</a></td>', table.group(1)) if table else []


# --- guards ---------------------------------------------------------------------------------

@pytest.mark.parametrize("method, url", [
    ("get", "/admin/content/"),
    ("get", "/admin/content/categories/1/edit"),
    ("post", "/admin/content/categories/1/edit"),
    ("get", "/admin/content/articles/1/edit"),
    ("post", "/admin/content/articles/1/edit"),
    ("post", "/admin/content/articles/1/unlink"),
])
def test_anonymous_visitors_are_sent_to_the_login_page(client, method, url):
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    data = {"csrf_token": token} if method == "post" else None

    response = getattr(client, method)(url, data=data)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/login?next={url}"


@pytest.mark.parametrize("url, message", [
    ("/admin/content/categories/999999/edit", "There is no category with that number."),
    ("/admin/content/articles/999999/edit", "There is no article with that number."),
])
def test_unknown_ids_are_a_404_with_a_message(admin_client, url, message):
    response = admin_client.get(url)

    assert response.status_code == 404
    assert message in text(response)


# --- the list -------------------------------------------------------------------------------

def test_the_list_shows_categories_with_article_counts_and_recent_articles(moderator_client):
    immigration = CategoryFactory(name="Immigration", slug="immigration")
    CategoryFactory(name="Housing", slug="housing")
    petition = PetitionFactory(slug="sanctuary-city")
    now = utcnow()
    ArticleFactory(title="Older story", category=immigration, published_at=now - timedelta(days=2))
    ArticleFactory(title="Newest story", category=immigration, published_at=now,
                   petition=petition)

    response = moderator_client.get("/admin/content/")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    categories = re.search(r'<table class="admin categories">(.*?)</table>', page, re.S).group(1)
    rows = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
            for row in re.findall(r"<tr>(.*?)</tr>", categories, re.S)[1:]]
    assert rows == [  # by name; the petition's own category has no articles
        f"{petition.category.name} {petition.category.slug} 0 Rename",
        "Housing housing 0 Rename",
        "Immigration immigration 2 Rename",
    ]
    assert article_titles(page) == ["Newest story", "Older story"]
    assert f'href="/admin/petitions/{petition.id}">sanctuary-city</a>' in page


def test_articles_are_paged_fifty_at_a_time(admin_client):
    category = CategoryFactory()
    start = utcnow() - timedelta(days=1)
    for n in range(51):
        ArticleFactory(title=f"Story {n:02d}", category=category,
                       published_at=start + timedelta(minutes=n))

    first = admin_client.get("/admin/content/").get_data(as_text=True)
    second = admin_client.get("/admin/content/?page=2").get_data(as_text=True)

    assert article_titles(first) == [f"Story {n:02d}" for n in range(50, 0, -1)]
    assert "Page 1 of 2" in first and 'href="/admin/content/?page=2"' in first
    assert article_titles(second) == ["Story 00"]


@pytest.mark.parametrize("query, status, message", [
    ("page=0", 400, "Pages are numbered from 1."),
    ("page=two", 400, "Pages are numbered from 1."),
    ("page=99999999999999", 400, "Pages are numbered from 1."),
    ("page=3", 404, "There is no page 3: the last page is 1."),
    ("category=abc", 400, "There is no category with that number."),
    ("category=999999", 400, "There is no category with that number."),
])
def test_bad_paging_and_filters_are_a_4xx_with_a_message(admin_client, query, status, message):
    ArticleFactory()

    response = admin_client.get(f"/admin/content/?{query}")

    assert response.status_code == status
    assert message in text(response)


def test_the_list_can_show_one_category(admin_client):
    housing = CategoryFactory(name="Housing")
    ArticleFactory(title="Rent story", category=housing)
    ArticleFactory(title="Other story")

    page = admin_client.get(f"/admin/content/?category={housing.id}").get_data(as_text=True)

    assert article_titles(page) == ["Rent story"]
    assert "Articles in Housing" in page


# --- categories -----------------------------------------------------------------------------

def test_renaming_a_category_keeps_its_slug_and_is_audited(moderator_client):
    category = CategoryFactory(name="Immigration", slug="immigration")

    response = post(moderator_client, f"/admin/content/categories/{category.id}/edit",
                    {"name": "  Immigration   and borders "})

    assert response.status_code == 303 and response.headers["Location"] == "/admin/content/"
    db.session.expire_all()
    assert (category.name, category.slug) == ("Immigration and borders", "immigration")
    assert audit_log() == [("category_edited", moderator_client.account.email, "categories",
                            str(category.id), {"slug": "immigration", "from": "Immigration",
                                               "to": "Immigration and borders"})]


@pytest.mark.parametrize("name, message", [
    ("", "Give the category a name."),
    ("n" * 121, "Use 120 characters or fewer."),
    ("Housing", "Another category already has this name."),
    ("Bell\x07", "Please remove special characters."),
])
def test_bad_category_names_are_a_422_with_a_message(admin_client, name, message):
    CategoryFactory(name="Housing")
    category = CategoryFactory(name="Immigration")

    response = post(admin_client, f"/admin/content/categories/{category.id}/edit",
                    {"name": name})

    assert response.status_code == 422
    assert message in text(response)
    db.session.expire_all()
    assert category.name == "Immigration"
    assert audit_log() == []


def test_renaming_without_a_csrf_token_is_refused(admin_client):
    category = CategoryFactory(name="Immigration")

    response = admin_client.post(f"/admin/content/categories/{category.id}/edit",
                                 data={"name": "Changed"})

    assert response.status_code == 400
    db.session.expire_all()
    assert category.name == "Immigration"


# --- articles -------------------------------------------------------------------------------

def article_form(article, **changes) -> dict:
    published = article.published_at.astimezone(_ny()).strftime("%Y-%m-%dT%H:%M")
    form = {"title": article.title, "url": article.url, "summary": article.summary,
            "category": str(article.category_id), "published_at": published,
            "petition": str(article.petition_id or "")}
    return {**form, **changes}


def _ny():
    from zoneinfo import ZoneInfo

    return ZoneInfo("America/New_York")


def test_the_article_form_shows_the_stored_values(admin_client):
    petition = PetitionFactory(title="Sanctuary", slug="sanctuary")
    article = ArticleFactory(published_at=datetime(2025, 1, 15, 15, 4, 59, tzinfo=UTC),
                             petition=petition)

    page = admin_client.get(f"/admin/content/articles/{article.id}/edit").get_data(as_text=True)

    assert f'value="{article.url}"' in page
    assert 'value="2025-01-15T10:04"' in page
    assert f'<option selected value="{petition.id}">Sanctuary (sanctuary)</option>' in page
    assert f'<option selected value="{article.category_id}">' in page


def test_editing_an_article_saves_it_and_audits_the_changed_fields(moderator_client):
    article = ArticleFactory(title="Old headline", summary="Old summary",
                             published_at=utcnow() - timedelta(days=1, seconds=3))
    published_before = article.published_at
    other = CategoryFactory(name="Housing")

    response = post(moderator_client, f"/admin/content/articles/{article.id}/edit",
                    article_form(article, title="New headline", category=str(other.id),
                                 url="https://news.example/new-address",
                                 summary="Line one.\r\nLine two."))

    assert response.status_code == 303
    db.session.expire_all()
    assert (article.title, article.category_id, article.url, article.summary) == (
        "New headline", other.id, "https://news.example/new-address", "Line one.\nLine two.")
    assert article.published_at == published_before
    assert audit_log() == [("article_edited", moderator_client.account.email, "articles",
                            str(article.id),
                            {"fields": ["title", "url", "summary", "category_id"]})]


def test_linking_and_changing_the_petition_is_audited_with_both_slugs(admin_client):
    first = PetitionFactory(slug="first")
    second = PetitionFactory(slug="second")
    article = ArticleFactory()

    post(admin_client, f"/admin/content/articles/{article.id}/edit",
         article_form(article, petition=str(first.id)))
    db.session.expire_all()
    post(admin_client, f"/admin/content/articles/{article.id}/edit",
         article_form(article, petition=str(second.id)))

    db.session.expire_all()
    assert article.petition_id == second.id
    assert [entry[-1] for entry in audit_log()] == [
        {"fields": ["petition_id"], "petition_from": None, "petition_to": "first"},
        {"fields": ["petition_id"], "petition_from": "first", "petition_to": "second"},
    ]
    page = admin_client.get(f"/admin/petitions/{second.id}").get_data(as_text=True)
    assert article.title in page


def test_choosing_no_petition_unlinks_the_article(admin_client):
    article = ArticleFactory(petition=PetitionFactory(slug="was-linked"))

    post(admin_client, f"/admin/content/articles/{article.id}/edit",
         article_form(article, petition=""))

    db.session.expire_all()
    assert article.petition_id is None
    assert audit_log()[0][-1] == {"fields": ["petition_id"], "petition_from": "was-linked",
                                  "petition_to": None}


@pytest.mark.parametrize("field, value, message", [
    ("title", "", "Give the article a title."),
    ("title", "t" * 301, "Use 300 characters or fewer."),
    ("url", "", "Give the article's address, starting with https://."),
    ("url", "javascript:alert(1)", "The URL must be absolute and start with http:// or https://."),
    ("url", "https://news.example/a b", "The URL must not contain spaces or control characters."),
    ("url", "https://news.example/" + "a" * 2000, "The URL must be 2000 characters or fewer."),
    ("url", "https://news.example/taken", "Another article already has this address."),
    ("summary", "s" * 5001, "Use 5000 characters or fewer."),
    ("category", "999999", "Choose a category from the list."),
    ("category", "", "Choose a category from the list."),
    ("published_at", "", "Give the publication time."),
    ("published_at", "yesterday", "Enter a date and time like 2025-09-30 17:00."),
    ("published_at", "2999-01-01T00:00", "The publication time must be after 1900 and not in"),
    ("published_at", "1850-01-01T00:00", "The publication time must be after 1900 and not in"),
    ("petition", "999999", "Choose a petition from the list."),
])
def test_bad_article_input_is_a_422_with_a_message(admin_client, field, value, message):
    ArticleFactory(url="https://news.example/taken")
    article = ArticleFactory(title="Kept")

    response = post(admin_client, f"/admin/content/articles/{article.id}/edit",
                    article_form(article, **{field: value}))

    assert response.status_code == 422
    assert message in text(response)
    db.session.expire_all()
    assert article.title == "Kept"
    assert audit_log() == []


def test_editing_an_article_without_a_csrf_token_is_refused(admin_client):
    article = ArticleFactory(title="Kept")

    response = admin_client.post(f"/admin/content/articles/{article.id}/edit",
                                 data=article_form(article, title="Changed"))

    assert response.status_code == 400
    db.session.expire_all()
    assert article.title == "Kept"


# --- unlinking from the petition's page -----------------------------------------------------

def test_unlinking_from_the_petition_page_is_audited(moderator_client):
    petition = PetitionFactory(slug="linked")
    article = ArticleFactory(title="About the petition", petition=petition)

    response = post(moderator_client, f"/admin/content/articles/{article.id}/unlink")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/petitions/{petition.id}"
    db.session.expire_all()
    assert article.petition_id is None
    assert audit_log() == [("article_unlinked", moderator_client.account.email, "articles",
                            str(article.id), {"petition": "linked"})]
    page = moderator_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No articles are linked to this petition." in page


def test_unlinking_an_unlinked_article_changes_nothing(admin_client):
    article = ArticleFactory()

    response = post(admin_client, f"/admin/content/articles/{article.id}/unlink")

    assert response.status_code == 303
    assert audit_log() == []


def test_unlinking_without_a_csrf_token_is_refused(admin_client):
    article = ArticleFactory(petition=PetitionFactory())

    response = admin_client.post(f"/admin/content/articles/{article.id}/unlink")

    assert response.status_code == 400
    db.session.expire_all()
    assert article.petition_id is not None
