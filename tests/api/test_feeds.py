"""Atom feeds of new petitions: valid Atom 1.0, escaped, public petitions only."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree as ET

import feedparser

from petitions.database import utcnow
from tests.factories import CategoryFactory, PetitionFactory

ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "http://petitions.test"


def _petitions():
    housing = CategoryFactory(name="Housing & Rent", slug="housing")
    police = CategoryFactory(name="Police", slug="police")
    now = utcnow()
    PetitionFactory(slug="newest", title="Rent <b>freeze</b> & more", category=housing,
                    summary="Stop \"rent\" rises <script>alert(1)</script>", created_at=now)
    PetitionFactory(slug="older", category=police, created_at=now - timedelta(days=1))
    PetitionFactory(slug="closed-one", state="closed", category=housing,
                    created_at=now - timedelta(days=2))
    PetitionFactory(slug="a-draft", state="draft", category=housing)
    PetitionFactory(slug="hidden", hidden=True, category=housing)
    PetitionFactory(slug="removed", removed_at=now, removal_reason="x", category=housing)


def test_the_site_feed_is_valid_atom_with_public_petitions_newest_first(client):
    _petitions()

    response = client.get("/petitions.atom")

    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert [e.link for e in parsed.entries] == [
        f"{BASE}/petitions/newest", f"{BASE}/petitions/older", f"{BASE}/petitions/closed-one"]
    assert parsed.entries[0].title == "Rent <b>freeze</b> & more"
    assert parsed.entries[0].summary.startswith('Stop "rent" rises')

    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{tag}").text
    rels = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert rels == {"self": f"{BASE}/petitions.atom", "alternate": f"{BASE}/"}
    for entry in root.findall(f"{ATOM}entry"):
        for tag in ("id", "title", "summary", "updated", "link"):
            assert entry.find(f"{ATOM}{tag}") is not None
    assert b"<script>" not in response.data and b"<b>" not in response.data


def test_the_category_feed_has_only_that_category(client):
    _petitions()

    response = client.get("/categories/housing/petitions.atom")

    parsed = feedparser.parse(response.data)
    assert not parsed.bozo
    assert parsed.feed.title == "New petitions: Housing & Rent"
    assert [e.link for e in parsed.entries] == [f"{BASE}/petitions/newest",
                                                f"{BASE}/petitions/closed-one"]
    assert parsed.feed.links[0].href == f"{BASE}/categories/housing/petitions.atom"


def test_an_unknown_category_feed_is_404(client):
    assert client.get("/categories/nope/petitions.atom").status_code == 404
    assert client.get(f"/categories/{'x' * 81}/petitions.atom").status_code == 404


def test_an_empty_feed_is_still_valid(client):
    parsed = feedparser.parse(client.get("/petitions.atom").data)
    assert not parsed.bozo and parsed.entries == []


def test_feeds_are_cacheable_with_etag(client):
    _petitions()
    response = client.get("/petitions.atom")
    assert "max-age=60" in response.headers["Cache-Control"]
    again = client.get("/petitions.atom", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
