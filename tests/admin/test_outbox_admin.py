"""The outbox page: counts, failures with the SMTP reply, and retrying (never the rows we
held back on purpose). Admins only; CSRF enforced; every retry in the audit log."""

from __future__ import annotations

import re
from datetime import timedelta
from email.utils import make_msgid

import pytest
from sqlalchemy import select

from petitions.admin.models import AuditEntry
from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail import delivery, outbox
from petitions.mail.models import OutboxMessage

SMTP_REFUSAL = "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown"


def message(kind: str = "signature_confirmation", state: str = "sent", to: str = "a@example.org",
            last_error: str | None = None, attempts: int = 1, **fields) -> OutboxMessage:
    row = OutboxMessage(
        kind=kind, to_address=to, subject="Please confirm your signature",
        text_body="Hello", html_body="<p>Hello</p>", headers={}, message_id=make_msgid(),
        state=state, attempts=attempts, last_error=last_error,
        sent_at=utcnow() if state == "sent" else None,
        next_attempt_at=utcnow() - timedelta(days=1), **fields,
    )
    db.session.add(row)
    db.session.commit()
    return row


def reload(row: OutboxMessage) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, row.id)


def audit_entries() -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "outbox_retried")
                                   .order_by(AuditEntry.id)))


@pytest.fixture
def nudges(monkeypatch):
    """Count worker nudges instead of reaching for the broker."""
    calls = []
    monkeypatch.setattr(outbox, "nudge_worker", lambda: calls.append(1) or True)
    return calls


@pytest.fixture
def mixed_outbox(app):
    rows = {
        "sent": [message(to=f"s{i}@example.org") for i in range(3)],
        "queued": message(state="pending", attempts=0),
        "sending": message(kind="digest", state="sending", attempts=0, claimed_at=utcnow()),
        "refused": message(state="failed", to="gone@example.org", last_error=SMTP_REFUSAL),
        "suppressed": message(state="failed", to="bounced@example.org",
                              last_error="not sent: address suppressed", attempts=0),
        "invalidated": message(state="failed", to="bot@example.org",
                               last_error="not sent: signature invalidated", attempts=0),
        "digest_failed": message(kind="digest", state="failed", to="full@example.org",
                                 attempts=12, last_error="452 4.2.2 Mailbox full"),
    }
    return rows


def cells(html: str, row_selector: str) -> dict[str, str]:
    match = re.search(row_selector + r"(.*?)</tr>", html, re.S)
    assert match, row_selector
    return dict(re.findall(r'<td class="num (\w+)">([\d,]+)</td>', match.group(1)))


def test_outbox_page_counts_by_state_and_kind(app, admin_client, mixed_outbox):
    response = admin_client.get("/admin/outbox")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    totals = re.search(r'id="outbox-totals">(.*?)</table>', html, re.S).group(1)
    assert cells(totals, r"<tbody><tr>") == {
        "pending": "1", "sending": "1", "sent": "3", "failed": "4", "held_back": "2"}
    assert cells(html, r'<tr data-kind="signature_confirmation">') == {
        "pending": "1", "sending": "0", "sent": "3", "failed": "3", "held_back": "2"}
    assert cells(html, r'<tr data-kind="digest">') == {
        "pending": "0", "sending": "1", "sent": "0", "failed": "1", "held_back": "0"}
    # "Retry all" counts only what it would retry.
    assert "Retry 1 failed" in html
    assert "Retry all" not in html.split('data-kind="signature_confirmation"')[0]


def test_failures_show_address_kind_attempts_and_the_smtp_reply(app, admin_client, mixed_outbox):
    html = admin_client.get("/admin/outbox").get_data(as_text=True)
    failures = re.search(r'id="outbox-failures">(.*?)</table>', html, re.S).group(1)
    rows = re.findall(r'<tr data-id="(\d+)">(.*?)</tr>', failures, re.S)

    ids = [int(i) for i, _ in rows]
    expected = [mixed_outbox[k].id for k in ("digest_failed", "invalidated", "suppressed",
                                             "refused")]
    assert ids == expected  # newest first
    refused = dict(rows)[str(mixed_outbox["refused"].id)]
    assert "gone@example.org" in refused and "signature_confirmation" in refused
    assert "Recipient address rejected: User unknown" in refused
    assert '<td class="num">1</td>' in refused
    assert f"/admin/outbox/{mixed_outbox['refused'].id}/retry" in refused
    held = dict(rows)[str(mixed_outbox["suppressed"].id)]
    assert "not sent: address suppressed" in held and "/retry" not in held
    assert "Held back" in held
    assert "They are never retried" in html


def test_failures_can_be_filtered_by_kind_and_are_paginated(app, admin_client):
    for i in range(51):
        message(kind="digest", state="failed", to=f"r{i}@example.org", last_error="554 no")
    message(state="failed", to="other@example.org", last_error="554 no")

    first = admin_client.get("/admin/outbox?kind=digest").get_data(as_text=True)
    second = admin_client.get("/admin/outbox?kind=digest&page=2").get_data(as_text=True)

    assert first.count('<tr data-id="') == 50 and "other@example.org" not in first
    assert "Page 1 of 2 (51 failed)" in first and "page=2" in first
    assert second.count('<tr data-id="') == 1 and "r0@example.org" in second
    assert "Page 2 of 2 (51 failed)" in second


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page=-1", "page=99999999999",
                                   "kind=" + "x" * 61])
def test_bad_page_numbers_and_kinds_are_a_clear_400(app, admin_client, query):
    response = admin_client.get(f"/admin/outbox?{query}")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_retry_puts_one_failed_email_back_in_the_queue_and_it_is_delivered(
    app, admin_client, mixed_outbox, mail, nudges
):
    refused = mixed_outbox["refused"]
    before = utcnow()

    response = admin_client.post(f"/admin/outbox/{refused.id}/retry",
                                 data={"csrf_token": admin_client.csrf})

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/outbox"
    row = reload(refused)
    assert (row.state, row.attempts, row.claimed_at) == ("pending", 0, None)
    assert before - timedelta(seconds=1) <= row.next_attempt_at <= utcnow()
    assert nudges == [1]
    [entry] = audit_entries()
    assert (entry.actor_email, entry.target_type, entry.target_id) == (
        admin_client.account.email, "outbox", str(refused.id))
    assert entry.detail == {"kind": "signature_confirmation", "count": 1, "attempts": 1,
                            "last_error": SMTP_REFUSAL}
    assert "will be sent again shortly" in admin_client.get("/admin/outbox").get_data(as_text=True)

    assert delivery.deliver_due()["sent"] == 2  # it, and the row that was already queued
    assert [m.to for m in mail.messages if m.to == "gone@example.org"] == ["gone@example.org"]
    assert reload(refused).state == "sent"
    # The other failures were left alone.
    assert {reload(mixed_outbox[k]).state for k in ("suppressed", "invalidated",
                                                    "digest_failed")} == {"failed"}


def test_retry_refuses_held_back_emails_and_emails_that_did_not_fail(
    app, admin_client, mixed_outbox, nudges
):
    for key in ("suppressed", "invalidated"):
        response = admin_client.post(f"/admin/outbox/{mixed_outbox[key].id}/retry",
                                     data={"csrf_token": admin_client.csrf})
        assert response.status_code == 409
        assert "held back on purpose" in response.get_data(as_text=True)
        assert reload(mixed_outbox[key]).state == "failed"
    response = admin_client.post(f"/admin/outbox/{mixed_outbox['sent'][0].id}/retry",
                                 data={"csrf_token": admin_client.csrf})
    assert response.status_code == 409
    assert "Only failed emails can be retried" in response.get_data(as_text=True)
    missing = admin_client.post("/admin/outbox/999999/retry", data={"csrf_token": admin_client.csrf})
    assert missing.status_code == 404
    assert audit_entries() == [] and nudges == []


def test_retry_all_retries_one_kind_and_skips_what_was_held_back(
    app, admin_client, mixed_outbox, nudges
):
    second_refusal = message(state="failed", to="gone2@example.org", last_error=SMTP_REFUSAL,
                             attempts=12)
    no_reply = message(state="failed", to="odd@example.org", last_error=None)

    response = admin_client.post("/admin/outbox/retry-all", data={
        "csrf_token": admin_client.csrf, "kind": "signature_confirmation"})

    assert response.status_code == 303
    states = {k: reload(mixed_outbox[k]).state for k in
              ("refused", "suppressed", "invalidated", "digest_failed")}
    assert states == {"refused": "pending", "suppressed": "failed", "invalidated": "failed",
                      "digest_failed": "failed"}
    assert (reload(second_refusal).state, reload(second_refusal).attempts) == ("pending", 0)
    assert reload(no_reply).state == "pending"
    [entry] = audit_entries()
    assert entry.target_type is None
    assert entry.detail == {"kind": "signature_confirmation", "count": 3}
    assert nudges == [1]
    page = admin_client.get("/admin/outbox").get_data(as_text=True)
    assert "3 “signature_confirmation” emails will be sent again shortly." in page

    again = admin_client.post("/admin/outbox/retry-all", data={
        "csrf_token": admin_client.csrf, "kind": "signature_confirmation"})
    assert again.status_code == 303
    assert "There were no failed “signature_confirmation” emails to retry." in (
        admin_client.get("/admin/outbox").get_data(as_text=True))
    assert len(audit_entries()) == 1 and nudges == [1]


def test_retry_all_needs_a_kind(app, admin_client, mixed_outbox):
    for kind in ("", "x" * 61):
        response = admin_client.post("/admin/outbox/retry-all",
                                     data={"csrf_token": admin_client.csrf, "kind": kind})
        assert response.status_code == 400
    assert reload(mixed_outbox["refused"]).state == "failed"


def test_posts_without_a_csrf_token_are_refused(app, admin_client, mixed_outbox):
    refused = mixed_outbox["refused"]
    one = admin_client.post(f"/admin/outbox/{refused.id}/retry", data={})
    every = admin_client.post("/admin/outbox/retry-all", data={"kind": "signature_confirmation"})

    assert one.status_code == every.status_code == 400
    assert reload(refused).state == "failed"
    assert audit_entries() == []


def test_moderators_may_not_see_or_retry_the_outbox(app, moderator_client, mixed_outbox):
    refused = mixed_outbox["refused"]
    assert moderator_client.get("/admin/outbox").status_code == 403
    assert moderator_client.post(f"/admin/outbox/{refused.id}/retry",
                                 data={"csrf_token": moderator_client.csrf}).status_code == 403
    assert moderator_client.post("/admin/outbox/retry-all", data={
        "csrf_token": moderator_client.csrf, "kind": "signature_confirmation"}).status_code == 403
    assert reload(refused).state == "failed"


def test_anonymous_visitors_are_sent_to_log_in(app, client):
    response = client.get("/admin/outbox")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")
