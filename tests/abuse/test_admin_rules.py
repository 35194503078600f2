"""Editing the allow and block lists: admins only, CSRF-protected, validated, audited."""

from __future__ import annotations

from sqlalchemy import select

from petitions.abuse.models import AccessRule
from petitions.admin.models import AuditEntry
from petitions.extensions import db

URL = "/admin/access-rules/"


def _rules() -> list[tuple]:
    rows = db.session.scalars(select(AccessRule).order_by(AccessRule.id)
                              .execution_options(populate_existing=True))
    return [(r.kind, r.pattern, r.action, r.note) for r in rows]


def _audit(action: str) -> list[dict]:
    return [e.detail for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))]


def _add(client, **fields):
    data = {"kind": "ip", "pattern": "203.0.113.0/24", "action": "block", "note": "",
            "csrf_token": client.csrf, **fields}
    return client.post(URL, data=data)


def test_an_admin_adds_a_rule_and_it_is_audited(admin_client):
    page = admin_client.get(URL)
    assert page.status_code == 200
    response = _add(admin_client, note="flood on 3 May")
    assert response.status_code == 303
    assert _rules() == [("ip", "203.0.113.0/24", "block", "flood on 3 May")]
    assert _audit("access_rule_added") == [
        {"kind": "ip", "pattern": "203.0.113.0/24", "rule_action": "block"}]
    assert "203.0.113.0/24" in admin_client.get(URL).get_data(as_text=True)


def test_a_bad_cidr_is_a_422_with_a_message_and_nothing_stored(admin_client):
    response = _add(admin_client, pattern="203.0.113.0/33")
    assert response.status_code == 422
    assert "Enter an IP address such as" in response.get_data(as_text=True)
    response = _add(admin_client, pattern="10.0.0.1/8")
    assert response.status_code == 422
    assert "Did you mean 10.0.0.0/8?" in response.get_data(as_text=True)
    assert _rules() == []
    assert _audit("access_rule_added") == []


def test_a_duplicate_rule_is_a_422(admin_client):
    _add(admin_client, kind="email_domain", pattern="spam.example")
    response = _add(admin_client, kind="email_domain", pattern="SPAM.example", action="allow")
    assert response.status_code == 422
    assert "already a rule" in response.get_data(as_text=True)
    assert _rules() == [("email_domain", "spam.example", "block", None)]


def test_an_unknown_kind_or_action_is_a_422(admin_client):
    assert _add(admin_client, kind="asn").status_code == 422
    assert _add(admin_client, action="shadowban").status_code == 422
    assert _rules() == []


def test_without_a_csrf_token_nothing_changes(admin_client):
    assert _add(admin_client, csrf_token="").status_code == 400
    assert _rules() == []


def test_moderators_and_strangers_cannot_see_or_edit(moderator_client, client):
    assert moderator_client.get(URL).status_code == 403
    assert _add(moderator_client).status_code == 403
    assert client.get(URL).status_code == 302  # to the login page
    assert _rules() == []


def test_an_admin_removes_a_rule_and_it_is_audited(admin_client):
    _add(admin_client, kind="email", pattern="Jane.Doe@gmail.com")
    [rule_id] = db.session.scalars(select(AccessRule.id))
    response = admin_client.post(f"{URL}{rule_id}/delete", data={"csrf_token": admin_client.csrf})
    assert response.status_code == 303
    assert _rules() == []
    assert _audit("access_rule_removed") == [
        {"kind": "email", "pattern": "janedoe@gmail.com", "rule_action": "block"}]
    missing = admin_client.post(f"{URL}{rule_id}/delete", data={"csrf_token": admin_client.csrf})
    assert missing.status_code == 404
