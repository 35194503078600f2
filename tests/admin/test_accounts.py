"""Accounts: the create-user command, account management, passwords, TOTP and the audit log."""

from __future__ import annotations

import pyotp
from sqlalchemy import select

from petitions.admin.models import AdminUser, AuditEntry
from petitions.extensions import db
from tests.admin.conftest import csrf_from, log_in
from tests.factories import ADMIN_PASSWORD


def actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def account(email: str) -> AdminUser | None:
    db.session.expire_all()
    return db.session.scalar(select(AdminUser).where(AdminUser.email == email))


# --- flask admin create-user ---------------------------------------------------------------

def test_create_user_reads_the_password_from_stdin_and_stores_only_a_hash(app, runner):
    result = runner.invoke(args=["admin", "create-user", "ed@example.org", "--role", "moderator",
                                 "--password-stdin"], input="a long enough secret\n")

    assert result.exit_code == 0, result.output
    assert "Created moderator ed@example.org." in result.output
    created = account("ed@example.org")
    assert created.role == "moderator"
    assert created.password_hash.startswith("scrypt:")
    assert "a long enough secret" not in created.password_hash
    assert created.check_password("a long enough secret")
    assert actions() == ["account_created"]


def test_create_user_asks_twice_at_the_prompt(app, runner):
    result = runner.invoke(args=["admin", "create-user", "ann@example.org"],
                           input="prompted password!\nprompted password!\n")
    assert result.exit_code == 0, result.output
    assert account("ann@example.org").role == "admin"


def test_create_user_refuses_short_passwords_bad_addresses_and_duplicates(app, runner, make_account):
    short = runner.invoke(args=["admin", "create-user", "a@example.org", "--password-stdin"],
                          input="short\n")
    bad = runner.invoke(args=["admin", "create-user", "not-an-email", "--password-stdin"],
                        input="long enough password\n")
    existing = make_account()
    again = runner.invoke(args=["admin", "create-user", existing.email.upper(), "--password-stdin"],
                          input="long enough password\n")

    assert short.exit_code == bad.exit_code == again.exit_code == 1
    assert "at least 12 characters" in short.output
    assert "not a valid email address" in bad.output
    assert "already exists" in again.output
    assert account("a@example.org") is None


# --- managing accounts -------------------------------------------------------------------

def test_an_admin_adds_an_account_that_can_then_log_in(app, admin_client):
    response = admin_client.post("/admin/accounts/", data={
        "email": "new@example.org", "role": "moderator", "password": "twelve chars ok",
        "csrf_token": admin_client.csrf})

    assert response.status_code == 303
    assert account("new@example.org").role == "moderator"
    assert log_in(app.test_client(), "new@example.org", "twelve chars ok").status_code == 303
    assert "account_created" in actions()


def test_adding_an_account_with_bad_input_explains_why(admin_client, make_account):
    existing = make_account()
    duplicate = admin_client.post("/admin/accounts/", data={
        "email": existing.email, "role": "admin", "password": "twelve chars ok",
        "csrf_token": admin_client.csrf})
    weak = admin_client.post("/admin/accounts/", data={
        "email": "weak@example.org", "role": "superuser", "password": "short",
        "csrf_token": admin_client.csrf})

    assert duplicate.status_code == weak.status_code == 422
    assert "There is already an account for that address." in duplicate.get_data(as_text=True)
    assert "Use at least 12 characters." in weak.get_data(as_text=True)
    assert "Not a valid choice" in weak.get_data(as_text=True)


def test_changing_a_role_logs_that_account_out_and_is_audited(app, admin_client, make_account):
    moderator = make_account("moderator")
    their_client = app.test_client()
    log_in(their_client, moderator.email)

    response = admin_client.post(f"/admin/accounts/{moderator.id}/role",
                                 data={"role": "admin", "csrf_token": admin_client.csrf})

    assert response.status_code == 303
    assert account(moderator.email).role == "admin"
    assert their_client.get("/admin/").status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account_role_changed"))
    assert entry.detail == {"before": "moderator", "after": "admin"}
    assert entry.actor_email == admin_client.account.email


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(admin_client):
    me = admin_client.account
    admin_client.post(f"/admin/accounts/{me.id}/role",
                      data={"role": "moderator", "csrf_token": admin_client.csrf})
    admin_client.post(f"/admin/accounts/{me.id}/active",
                      data={"active": "0", "csrf_token": admin_client.csrf})
    assert account(me.email).role == "admin" and account(me.email).active


def test_a_deactivated_account_cannot_log_in(app, admin_client, make_account):
    other = make_account("moderator")
    admin_client.post(f"/admin/accounts/{other.id}/active",
                      data={"active": "0", "csrf_token": admin_client.csrf})

    assert account(other.email).active is False
    assert log_in(app.test_client(), other.email).status_code == 401
    assert "account_deactivated" in actions()


def test_unknown_account_ids_are_404(admin_client):
    response = admin_client.post("/admin/accounts/999999/role",
                                 data={"role": "admin", "csrf_token": admin_client.csrf})
    assert response.status_code == 404


# --- your own password and second factor ---------------------------------------------------

def test_changing_your_password_ends_your_other_sessions(app, moderator_client):
    other_session = app.test_client()
    log_in(other_session, moderator_client.account.email)

    response = moderator_client.post("/admin/accounts/me/password", data={
        "current_password": ADMIN_PASSWORD, "new_password": "a brand new passphrase",
        "csrf_token": moderator_client.csrf})

    assert response.status_code == 303
    assert moderator_client.get("/admin/").status_code == 200
    assert other_session.get("/admin/").status_code == 302
    assert account(moderator_client.account.email).check_password("a brand new passphrase")


def test_a_wrong_current_password_changes_nothing(moderator_client):
    response = moderator_client.post("/admin/accounts/me/password", data={
        "current_password": "wrong", "new_password": "a brand new passphrase",
        "csrf_token": moderator_client.csrf})
    assert response.status_code == 422
    assert "That is not your current password." in response.get_data(as_text=True)


def test_turning_on_the_second_factor_needs_a_working_code(app, moderator_client):
    page = moderator_client.get("/admin/accounts/me/two-factor").get_data(as_text=True)
    assert "<svg" in page
    secret = page.split("<code>")[1].split("</code>")[0]

    wrong = moderator_client.post("/admin/accounts/me/two-factor",
                                  data={"code": "123456", "csrf_token": moderator_client.csrf})
    assert wrong.status_code == 422 and account(moderator_client.account.email).totp_secret is None

    right = moderator_client.post("/admin/accounts/me/two-factor", data={
        "code": pyotp.TOTP(secret).now(), "csrf_token": moderator_client.csrf})
    assert right.status_code == 303
    assert account(moderator_client.account.email).totp_secret == secret
    assert "totp_enabled" in actions()
    # From now on logging in asks for the code.
    fresh = app.test_client()
    assert log_in(fresh, moderator_client.account.email).headers["Location"] == "/admin/login/code"


def test_an_admin_can_remove_a_lost_second_factor(admin_client, make_account):
    other = make_account("moderator", totp_secret=pyotp.random_base32())
    admin_client.post(f"/admin/accounts/{other.id}/reset-second-factor",
                      data={"csrf_token": admin_client.csrf})
    assert account(other.email).totp_secret is None
    assert "totp_reset" in actions()


# --- the audit log -------------------------------------------------------------------------

def test_the_audit_log_lists_entries_newest_first_and_filters(admin_client, make_account):
    other = make_account("moderator")
    admin_client.post(f"/admin/accounts/{other.id}/active",
                      data={"active": "0", "csrf_token": admin_client.csrf})

    page = admin_client.get("/admin/accounts/audit").get_data(as_text=True)
    assert page.index("account_deactivated") < page.index("login")
    filtered = admin_client.get("/admin/accounts/audit?action=login").get_data(as_text=True)
    assert "account_deactivated" not in filtered and ">login<" in filtered


def test_moderators_cannot_manage_accounts_or_read_the_audit_log(moderator_client):
    assert moderator_client.get("/admin/accounts/").status_code == 403
    assert moderator_client.get("/admin/accounts/audit").status_code == 403
    response = moderator_client.post("/admin/accounts/", data={
        "email": "x@example.org", "role": "admin", "password": "twelve chars ok",
        "csrf_token": moderator_client.csrf})
    assert response.status_code == 403
    assert account("x@example.org") is None


def test_the_login_page_token_is_needed(client):
    page = client.get("/admin/login").get_data(as_text=True)
    assert csrf_from(page)
    response = client.post("/admin/login", data={"email": "a@example.org", "password": "x"})
    assert response.status_code == 400
