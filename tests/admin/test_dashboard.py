"""The dashboard: exact per-petition numbers (totals, confirmation rate, top countries),
subscribers per frequency and per category, and who may see it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from petitions.admin import stats
from petitions.database import utcnow
from tests.factories import CategoryFactory, PetitionFactory, SignatureFactory, SubscriberFactory

NOW = utcnow()
SETTLED = NOW - timedelta(days=2)   # older than the 24 hours the rate waits for
RECENT = NOW - timedelta(hours=1)


def sign(petition, state: str, created_at, country: str = "US"):
    fields = {}
    if state == "confirmed":
        fields["confirmed_at"] = created_at + timedelta(minutes=10)
    if state == "invalidated":
        fields.update(invalidated_at=NOW, invalidation_reason="same IP, 40 signatures a minute")
    return SignatureFactory(petition=petition, state=state, created_at=created_at,
                            country=country, **fields)


@pytest.fixture
def campaign(app):
    """Three settled confirmations (US, US, FR), one settled pending (GB), two recent
    confirmations (DE, IT) and one recent pending (US): 5 confirmed, 2 pending."""
    petition = PetitionFactory(slug="sanctuary", title="Keep our city a sanctuary", goal=500,
                               signature_count=4, created_at=NOW - timedelta(days=5))
    for country in ("US", "US", "FR"):
        sign(petition, "confirmed", SETTLED, country)
    sign(petition, "pending", SETTLED, "GB")
    sign(petition, "confirmed", RECENT, "DE")
    sign(petition, "confirmed", RECENT, "IT")
    sign(petition, "pending", RECENT, "US")
    quiet = PetitionFactory(slug="quiet", title="A quiet one", goal=100,
                            created_at=NOW - timedelta(days=1))
    PetitionFactory(slug="gone", title="Removed one", removed_at=NOW,
                    removal_reason="Duplicate of another petition")
    return petition, quiet


def row_of(html: str, slug: str) -> dict[str, str]:
    """The cells of one petition's row, by their class."""
    match = re.search(rf'<tr data-slug="{slug}">(.*?)</tr>', html, re.S)
    assert match, f"no row for {slug}"
    cells = re.findall(r'<td class="(?:num )?(\w+)">(.*?)</td>', match.group(1), re.S)
    return {name: " ".join(re.sub(r"<[^>]+>", "", text).split()) for name, text in cells}


def test_overview_numbers_are_exact(app, campaign):
    petition, quiet = campaign

    overview = stats.petition_overview(NOW)

    assert [s.petition.slug for s in overview] == ["quiet", "sanctuary"]  # newest first
    numbers = overview[1]
    assert (numbers.confirmed, numbers.pending, numbers.invalidated) == (5, 2, 0)
    assert (numbers.settled_confirmed, numbers.settled_pending) == (3, 1)
    assert numbers.confirmation_rate == 0.75
    # Ties are broken by country code: DE and FR before IT.
    assert numbers.top_countries == [("US", 2), ("DE", 1), ("FR", 1)]
    empty = overview[0]
    assert (empty.confirmed, empty.pending, empty.confirmation_rate, empty.top_countries) == (
        0, 0, None, [])


def test_invalidated_signatures_count_in_neither_the_totals_nor_the_rate(app, campaign):
    petition, _ = campaign
    sign(petition, "invalidated", SETTLED, "US")
    sign(petition, "invalidated", SETTLED, "RU")

    [numbers] = stats.petition_numbers([petition], NOW)

    assert (numbers.confirmed, numbers.pending, numbers.invalidated) == (5, 2, 2)
    assert numbers.confirmation_rate == 0.75
    assert numbers.top_countries == [("US", 2), ("DE", 1), ("FR", 1)]


def test_dashboard_page_shows_each_petition_row(app, campaign, moderator_client):
    response = moderator_client.get("/admin/")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert row_of(html, "sanctuary") == {
        "total": "4", "confirmed": "5", "pending": "2", "goal": "500", "rate": "75%",
        "countries": "US 2 · DE 1 · FR 1",
    }
    assert row_of(html, "quiet") == {
        "total": "0", "confirmed": "0", "pending": "0", "goal": "100", "rate": "—",
        "countries": "—",
    }
    assert 'data-slug="gone"' not in html
    assert "/admin/petition-stats/sanctuary" in html
    assert "made more than 24 hours ago and not invalidated" in html


def test_subscribers_per_frequency_and_per_category(app, admin_client):
    immigration, courts = CategoryFactory(name="Immigration"), CategoryFactory(name="Courts")
    CategoryFactory(name="Zoning")
    SubscriberFactory(frequency="daily", follows=[immigration])
    SubscriberFactory(frequency="weekly", follows=[immigration, courts])
    SubscriberFactory(frequency="daily", paused=True, follows=[courts])
    SubscriberFactory(frequency="weekly", state="pending", follows=[immigration])
    SubscriberFactory(frequency="daily", state="unsubscribed", unsubscribed_at=NOW,
                      follows=[immigration])
    SubscriberFactory(frequency="weekly", all_categories=True)

    assert stats.subscribers_per_frequency() == {
        "daily": {"active": 1, "paused": 1, "unsubscribed": 1},
        "weekly": {"active": 2, "pending": 1},
    }
    assert stats.subscribers_per_category() == [("Courts", 1), ("Immigration", 2), ("Zoning", 0)]
    assert stats.everything_subscribers() == 1

    html = admin_client.get("/admin/").get_data(as_text=True)
    daily = re.search(r'<tr data-frequency="daily">(.*?)</tr>', html, re.S).group(1)
    weekly = re.search(r'<tr data-frequency="weekly">(.*?)</tr>', html, re.S).group(1)
    cells = r'<td class="num (\w+)">(\d+)</td>'
    assert re.findall(cells, daily) == [("active", "1"), ("paused", "1"), ("pending", "0"),
                                        ("unsubscribed", "1")]
    assert re.findall(cells, weekly) == [("active", "2"), ("paused", "0"), ("pending", "1"),
                                         ("unsubscribed", "0")]
    categories = re.search(r'id="subscribers-per-category">(.*?)</table>', html, re.S).group(1)
    assert re.findall(r'<tr(?: class="everything")?><td>([^<]+)</td><td class="num">(\d+)</td>',
                      categories) == [("Courts", "1"), ("Immigration", "2"), ("Zoning", "0"),
                                      ("Every category", "1")]


def test_moderators_see_the_dashboard_without_admin_links(app, campaign, moderator_client):
    html = moderator_client.get("/admin/").get_data(as_text=True)
    assert "/admin/outbox" not in html and "/admin/digests" not in html
    assert moderator_client.get("/admin/petition-stats/sanctuary").status_code == 200


def test_admins_get_links_to_the_outbox_and_digests(app, admin_client):
    html = admin_client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/outbox"' in html and 'href="/admin/digests"' in html


def test_anonymous_visitors_are_sent_to_log_in(app, client, campaign):
    for url in ("/admin/", "/admin/petition-stats/sanctuary"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/admin/login")
