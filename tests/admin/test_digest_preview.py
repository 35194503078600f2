"""Digest previews and test sends: the worker's own choice and rendering, only the
subscriber's categories, a test copy through the real outbox and SMTP to the admin, and
the subscriber's real digest untouched. Admins only; CSRF enforced; audited."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from petitions.admin.models import AuditEntry
from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail import delivery, outbox
from petitions.mail.models import OutboxMessage
from petitions.newsletter.digest_models import DigestDelivery, DigestRun
from tests.factories import CategoryFactory, PetitionFactory, SubscriberFactory
from tests.newsletter.digest_helpers import article, digests_to, run_digest

YESTERDAY = utcnow() - timedelta(days=1)


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(outbox, "nudge_worker", lambda: True)


@pytest.fixture
def reader(app):
    immigration, courts = CategoryFactory(name="Immigration"), CategoryFactory(name="Courts")
    article(immigration, YESTERDAY, title="ICE detention space to double",
            summary="Budget <documents> show & more")
    article(courts, YESTERDAY, title="Ninth Circuit weighs layoffs")
    PetitionFactory(title="End 287(g) agreements", category=immigration)
    PetitionFactory(title="Fund the public defenders", category=courts)
    return SubscriberFactory(email="Reader.One@example.org", follows=[immigration])


def audit_actions() -> list[tuple[str, str | None, dict]]:
    db.session.expire_all()
    return [(e.action, e.target_id, e.detail) for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action.like("digest%")).order_by(AuditEntry.id))]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_search_finds_subscribers_by_part_of_their_address(app, admin_client, reader):
    SubscriberFactory(email="someone.else@example.net")

    html = admin_client.get("/admin/digests?q=reader.one").get_data(as_text=True)

    results = re.search(r'id="subscriber-results">(.*?)</table>', html, re.S).group(1)
    assert re.findall(r'<tr data-id="(\d+)">', results) == [str(reader.id)]
    assert "Reader.One@example.org" in results and "Immigration" in results
    assert f"subscriber={reader.id}" in results
    # LIKE wildcards are searched for literally.
    assert "No subscriber" in admin_client.get("/admin/digests?q=%25_").get_data(as_text=True)


def test_preview_shows_the_next_digest_with_only_the_subscribers_categories(
    app, admin_client, reader
):
    response = admin_client.get(f"/admin/digests?subscriber={reader.id}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<span id="digest-subject">1 new article: ICE detention space to double</span>' in html
    text = unescape(re.search(r'<pre class="digest-text" id="digest-text">(.*?)</pre>',
                              html, re.S).group(1))
    assert "== Immigration ==" in text and "* ICE detention space to double" in text
    assert "Budget <documents> show & more" in text
    assert "End 287(g) agreements" in text
    assert "Ninth Circuit" not in text and "public defenders" not in text
    assert "/subscription/" not in text and "http://petitions.test/\n" in text
    assert f'src="/admin/digests/{reader.id}/preview.html"' in html
    assert 'sandbox=""' in html
    assert audit_actions() == [("digest_previewed", str(reader.id), {"articles": 1})]
    # A preview writes no digest run and no ledger row.
    assert count(DigestRun) == count(DigestDelivery) == count(OutboxMessage) == 0


def test_preview_html_is_served_alone_under_a_strict_policy(app, admin_client, reader):
    response = admin_client.get(f"/admin/digests/{reader.id}/preview.html")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "script-src" not in policy
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    html = response.get_data(as_text=True)
    assert "ICE detention space to double" in html and "Ninth Circuit" not in html
    assert "Budget &lt;documents&gt; show &amp; more" in html
    assert "/subscription/" not in html and 'href="http://petitions.test/"' in html


def test_a_subscriber_with_nothing_new_gets_told_so_and_no_test_is_sent(app, admin_client, reader):
    zoning = CategoryFactory(name="Zoning")
    quiet = SubscriberFactory(follows=[zoning])

    html = admin_client.get(f"/admin/digests?subscriber={quiet.id}").get_data(as_text=True)
    assert "There is nothing new in their categories" in html
    assert "digest-text" not in html and "Send a test copy" not in html
    assert admin_client.get(f"/admin/digests/{quiet.id}/preview.html").status_code == 404

    response = admin_client.post(f"/admin/digests/{quiet.id}/test",
                                 data={"csrf_token": admin_client.csrf})
    assert response.status_code == 303
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No test was sent: There is nothing new" in page
    assert count(OutboxMessage) == 0
    assert [a for a, _, _ in audit_actions()] == ["digest_previewed", "digest_previewed"]


@pytest.mark.parametrize(("fields", "why"), [
    ({"paused": True}, "They have paused their digests."),
    ({"state": "pending"}, "They have not confirmed their subscription yet."),
    ({"state": "unsubscribed"}, "They have unsubscribed."),
])
def test_preview_says_why_a_subscriber_gets_no_digest(app, admin_client, reader, fields, why):
    category = reader.categories[0]
    other = SubscriberFactory(follows=[category], **fields)

    html = admin_client.get(f"/admin/digests?subscriber={other.id}").get_data(as_text=True)

    assert f'<p class="flash" id="no-digest">{why}</p>' in html


def test_test_send_reaches_the_admin_through_the_outbox_and_leaves_the_real_digest_alone(
    app, admin_client, reader, mail
):
    admin_email = admin_client.account.email

    response = admin_client.post(f"/admin/digests/{reader.id}/test",
                                 data={"csrf_token": admin_client.csrf})

    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/digests?subscriber={reader.id}"
    [row] = db.session.scalars(select(OutboxMessage)).all()
    assert (row.kind, row.to_address, row.subscriber_id, row.payload) == (
        "digest_test", admin_email, None, None)
    assert count(DigestRun) == count(DigestDelivery) == 0
    assert audit_actions() == [("digest_test_sent", str(reader.id),
                                {"to": admin_email, "articles": 1})]

    assert delivery.deliver_due()["sent"] == 1
    [copy] = mail.to(admin_email)
    assert copy.subject == "[Test] 1 new article: ICE detention space to double"
    plain, html = copy.part("plain"), copy.part("html")
    assert "ICE detention space to double" in plain and "Ninth Circuit" not in plain
    assert "ICE detention space to double" in html and "Ninth Circuit" not in html
    assert "/subscription/" not in plain and "/subscription/" not in html
    assert copy.message["List-Unsubscribe"] is None
    assert mail.to(reader.email) == []

    # The subscriber's own digest still goes out, whole, with their own links.
    assert run_digest() == 1
    [real] = digests_to(mail, reader.email)
    assert "ICE detention space to double" in real.part("plain")
    assert "/subscription/" in real.part("plain")
    assert real.message["List-Unsubscribe"] is not None


def test_posts_without_a_csrf_token_are_refused(app, admin_client, reader):
    response = admin_client.post(f"/admin/digests/{reader.id}/test", data={})
    assert response.status_code == 400
    assert count(OutboxMessage) == 0 and audit_actions() == []


def test_moderators_may_not_preview_or_send_digests(app, moderator_client, reader):
    assert moderator_client.get("/admin/digests").status_code == 403
    assert moderator_client.get(f"/admin/digests?subscriber={reader.id}").status_code == 403
    assert moderator_client.get(f"/admin/digests/{reader.id}/preview.html").status_code == 403
    assert moderator_client.post(f"/admin/digests/{reader.id}/test",
                                 data={"csrf_token": moderator_client.csrf}).status_code == 403
    assert count(OutboxMessage) == 0 and audit_actions() == []


@pytest.mark.parametrize(("query", "status", "text"), [
    ("subscriber=abc", 400, "That subscriber number is not valid"),
    ("subscriber=1e3", 400, "That subscriber number is not valid"),
    ("subscriber=99999999999999", 400, "That subscriber number is not valid"),
    ("subscriber=999999", 404, "Subscriber not found"),
    ("q=" + "a" * 255, 400, "That search is too long"),
])
def test_bad_input_gets_a_clear_4xx(app, admin_client, query, status, text):
    response = admin_client.get(f"/admin/digests?{query}")
    assert response.status_code == status
    assert text in response.get_data(as_text=True)
