"""Logging in and out: passwords, lockout, the second factor, sessions and CSRF."""

from __future__ import annotations

import pyotp
from sqlalchemy import select

from petitions.admin.models import AuditEntry
from petitions.extensions import db
from tests.admin.conftest import csrf_from, log_in


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=/admin/")


def test_logging_in_opens_the_dashboard_and_is_audited(app, make_account):
    account = make_account("moderator")
    client = app.test_client()

    response = log_in(client, account.email.upper())

    assert response.status_code == 303 and response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert audit_actions() == ["login"]
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(app, make_account):
    account = make_account()
    wrong = log_in(app.test_client(), account.email, "not the password")
    unknown = log_in(app.test_client(), "nobody@example.org", "not the password")

    assert wrong.status_code == unknown.status_code == 401
    assert "That email and password do not match." in wrong.get_data(as_text=True)
    assert "That email and password do not match." in unknown.get_data(as_text=True)
    assert audit_actions() == ["login_failed", "login_failed"]


def test_five_failures_lock_the_account_even_with_the_right_password(app, make_account):
    account = make_account()
    client = app.test_client()
    for _ in range(5):
        assert log_in(client, account.email, "guess").status_code == 401

    locked = log_in(client, account.email)

    assert locked.status_code == 429
    assert 800 < int(locked.headers["Retry-After"]) <= 901
    assert "Too many failed attempts" in locked.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_many_failures_from_one_ip_lock_that_ip_for_every_account(app, make_account):
    account = make_account()
    attacker = {"environ_base": {"REMOTE_ADDR": "203.0.113.9"}}
    for n in range(20):
        log_in(app.test_client(), f"guess{n}@example.org", "guess", **attacker)

    assert log_in(app.test_client(), account.email, **attacker).status_code == 429
    elsewhere = {"environ_base": {"REMOTE_ADDR": "198.51.100.7"}}
    assert log_in(app.test_client(), account.email, **elsewhere).status_code == 303


def test_an_account_with_a_second_factor_needs_its_code(app, make_account):
    secret = pyotp.random_base32()
    account = make_account(totp_secret=secret)
    client = app.test_client()

    first = log_in(client, account.email)
    assert first.status_code == 303 and first.headers["Location"] == "/admin/login/code"
    assert client.get("/admin/").status_code == 302  # not logged in yet

    page = client.get("/admin/login/code").get_data(as_text=True)
    wrong = client.post("/admin/login/code", data={"code": "000000", "csrf_token": csrf_from(page)})
    assert wrong.status_code in (401, 422)
    right = client.post("/admin/login/code", data={"code": pyotp.TOTP(secret).now(),
                                                    "csrf_token": csrf_from(page)})
    assert right.status_code == 303
    assert client.get("/admin/").status_code == 200


def test_posts_without_a_csrf_token_are_refused(admin_client):
    response = admin_client.post("/admin/logout")
    assert response.status_code == 400
    assert admin_client.get("/admin/").status_code == 200


def test_logging_out_ends_the_session(admin_client):
    response = admin_client.post("/admin/logout", data={"csrf_token": admin_client.csrf})
    assert response.status_code == 303
    assert admin_client.get("/admin/").status_code == 302
    assert audit_actions()[-1] == "logout"


def test_only_admin_paths_are_followed_after_login(app, make_account):
    account = make_account()
    client = app.test_client()
    page = client.get("/admin/login?next=https://evil.example/").get_data(as_text=True)
    response = client.post("/admin/login?next=https://evil.example/",
                           data={"email": account.email, "password": "correct horse battery staple",
                                 "csrf_token": csrf_from(page)})
    assert response.headers["Location"] == "/admin/"


def test_a_deactivated_account_is_logged_out_at_its_next_request(admin_client):
    admin_client.account.active = False
    db.session.commit()
    assert admin_client.get("/admin/").status_code == 302
