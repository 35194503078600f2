"""Published updates on the petition's page and in GET /petitions/<slug>.json."""

from __future__ import annotations

from datetime import timedelta

from petitions.database import utcnow
from petitions.extensions import db
from tests.factories import CategoryFactory, PetitionFactory
from tests.updates.helpers import draft, signer


def published(petition, title: str, body: str, days_ago: int, kind: str = "manual"):
    return draft(petition, title=title, body=body, kind=kind, state="sent",
                 published_at=utcnow() - timedelta(days=days_ago))


def test_the_json_has_the_petition_and_its_published_updates_newest_first(app, client):
    category = CategoryFactory(name="Housing", slug="housing")
    petition = PetitionFactory(slug="rent-freeze", title="Freeze the rent", summary="Now.",
                               target="The Council", goal=500, signature_count=321,
                               category=category)
    signer(petition, "private.person@example.org", name="Private Person")
    older = published(petition, "Delivered", "We handed it in.", days_ago=3)
    newer = published(petition, "Hearing", "On **Tuesday**.", days_ago=1)
    draft(petition, title="Not yet sent")
    milestone = published(petition, "Goal", "Done.", days_ago=2, kind="goal_reached")

    response = client.get("/petitions/rent-freeze.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    db.session.refresh(petition)
    assert response.get_json() == {
        "slug": "rent-freeze",
        "title": "Freeze the rent",
        "summary": "Now.",
        "target": "The Council",
        "state": "open",
        "goal": 500,
        "signature_count": 321,
        "closes_at": petition.closes_at.isoformat(),
        "created_at": petition.created_at.isoformat(),
        "category": {"name": "Housing", "slug": "housing"},
        "url": f"{app.config['BASE_URL']}/petitions/rent-freeze",
        "updates": [
            {"title": "Hearing", "body_html": "<p>On <strong>Tuesday</strong>.</p>\n",
             "published_at": newer.published_at.isoformat(), "kind": "manual"},
            {"title": "Goal", "body_html": "<p>Done.</p>\n",
             "published_at": milestone.published_at.isoformat(), "kind": "goal_reached"},
            {"title": "Delivered", "body_html": "<p>We handed it in.</p>\n",
             "published_at": older.published_at.isoformat(), "kind": "manual"},
        ],
        "deliveries": [],
        "counts_by_country": [{"country": "US", "name": "United States", "signature_count": 1}],
        "counts_by_postcode_area": [{"area": "200", "signature_count": 1}],
        "articles": [],
        "recent_signers": [],
    }
    text = response.get_data(as_text=True)
    assert "private.person" not in text and "Private Person" not in text


def test_a_petition_past_its_closing_time_reads_closed_without_updates(client):
    PetitionFactory(slug="late", closes_at=utcnow() - timedelta(hours=1), category=None)

    body = client.get("/petitions/late.json").get_json()

    assert (body["state"], body["category"], body["updates"]) == ("closed", None, [])


def test_hidden_draft_and_unknown_petitions_are_404_json_and_removed_ones_410(client):
    PetitionFactory(slug="hidden-one", hidden=True)
    PetitionFactory(slug="draft-one", state="draft")
    PetitionFactory(slug="removed-one", removed_at=utcnow(), removal_reason="Spam petition")

    for slug in ("hidden-one", "draft-one", "no-such-petition", "x" * 100):
        response = client.get(f"/petitions/{slug}.json")
        assert response.status_code == 404, slug
        assert response.get_json()["status"] == 404
    gone = client.get("/petitions/removed-one.json")
    assert gone.status_code == 410
    assert gone.get_json() == {"error": "This petition has been removed",
                               "detail": "Spam petition", "status": 410}


def test_the_petition_page_shows_published_updates_newest_first_and_no_drafts(client):
    petition = PetitionFactory(slug="library")
    published(petition, "First news", "Old *news*.", days_ago=5)
    published(petition, "Latest news", "New [link](https://example.org).", days_ago=1)
    draft(petition, title="Secret draft")

    page = client.get("/petitions/library").get_data(as_text=True)

    assert page.index("Latest news") < page.index("First news")
    assert "<em>news</em>" in page
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">link</a>' in page
    assert "Secret draft" not in page


def test_a_petition_without_updates_has_no_updates_section(client):
    PetitionFactory(slug="quiet")
    draft(PetitionFactory(slug="other"))

    page = client.get("/petitions/quiet").get_data(as_text=True)

    assert 'id="updates-heading"' not in page
