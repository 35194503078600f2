"""Accounts (admins only), your own password and second factor, and the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import func, select

from petitions.admin import audit
from petitions.admin.forms import AccountForm, PasswordChangeForm, RoleForm
from petitions.admin.models import AdminUser, AuditEntry, Role
from petitions.admin.permissions import admin_only
from petitions.extensions import db

bp = Blueprint("accounts", __name__, url_prefix="/accounts")

AUDIT_PAGE_SIZE = 100


def _account(account_id: int) -> AdminUser:
    account = db.session.get(AdminUser, account_id)
    if account is None:
        abort(404)
    return account


def _other_active_admins(account: AdminUser) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AdminUser)
        .where(AdminUser.role == Role.ADMIN, AdminUser.active.is_(True), AdminUser.id != account.id)
    )


@bp.get("/")
@admin_only
def index(form: AccountForm | None = None, status: int = 200):
    accounts = db.session.scalars(select(AdminUser).order_by(AdminUser.email)).all()
    return render_template("admin/accounts/index.html", accounts=accounts,
                           form=form or AccountForm(), role_form=RoleForm()), status


@bp.post("/")
@admin_only
def create():
    form = AccountForm()
    if not form.validate_on_submit():
        return index(form, 422)
    email = form.email.data
    if db.session.scalar(select(AdminUser).where(func.lower(AdminUser.email) == email.lower())):
        form.email.errors.append(_("There is already an account for that address."))
        return index(form, 422)
    account = AdminUser(email=email, role=form.role.data)
    account.set_password(form.password.data)
    db.session.add(account)
    db.session.flush()
    audit.record("account_created", account, role=account.role)
    db.session.commit()
    flash(_("Account created for %(email)s.", email=email))
    return redirect(url_for(".index"), code=303)


@bp.post("/<int:account_id>/role")
@admin_only
def change_role(account_id: int):
    account = _account(account_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    if account.role == Role.ADMIN and form.role.data != Role.ADMIN and not _other_active_admins(account):
        flash(_("There must always be at least one active admin."))
        return redirect(url_for(".index"), code=303)
    if form.role.data != account.role:
        audit.record("account_role_changed", account, before=account.role, after=form.role.data)
        account.role = form.role.data
        account.session_version += 1  # the new rights apply from a fresh login
        db.session.commit()
        flash(_("%(email)s is now an admin.", email=account.email) if account.role == "admin"
              else _("%(email)s is now a moderator.", email=account.email))
    return redirect(url_for(".index"), code=303)


@bp.post("/<int:account_id>/active")
@admin_only
def set_active(account_id: int):
    account = _account(account_id)
    activate = request.form.get("active") == "1"
    if not activate and account.id == current_user.id:
        flash(_("You cannot deactivate your own account."))
        return redirect(url_for(".index"), code=303)
    if not activate and account.role == Role.ADMIN and not _other_active_admins(account):
        flash(_("There must always be at least one active admin."))
        return redirect(url_for(".index"), code=303)
    if account.active != activate:
        account.active = activate
        account.session_version += 1  # logs the account out everywhere
        audit.record("account_activated" if activate else "account_deactivated", account)
        db.session.commit()
    return redirect(url_for(".index"), code=303)


@bp.post("/<int:account_id>/reset-second-factor")
@admin_only
def reset_second_factor(account_id: int):
    """For someone who lost their phone: they log in with the password and enrol again."""
    account = _account(account_id)
    if account.totp_secret:
        account.totp_secret = None
        account.session_version += 1
        audit.record("totp_reset", account)
        db.session.commit()
        flash(_("Two-factor login removed for %(email)s.", email=account.email))
    return redirect(url_for(".index"), code=303)


@bp.route("/me/password", methods=["GET", "POST"])
def password():
    form = PasswordChangeForm()
    if request.method == "POST" and form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("That is not your current password."))
        else:
            current_user.set_password(form.new_password.data)
            current_user.session_version += 1  # every other session ends
            audit.record("password_changed", current_user)
            db.session.commit()
            login_user(current_user)
            flash(_("Your password has been changed. Other sessions have been logged out."))
            return redirect(url_for("admin.dashboard.index"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/accounts/password.html", form=form), status


@bp.get("/audit")
@admin_only
def audit_log():
    action = request.args.get("action", "").strip()[:60]
    actor = request.args.get("actor", "").strip()[:254]
    before = request.args.get("before", type=int)
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE_SIZE)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(func.lower(AuditEntry.actor_email) == actor.lower())
    if before:
        query = query.where(AuditEntry.id < before)
    entries = db.session.scalars(query).all()
    older = entries[-1].id if len(entries) == AUDIT_PAGE_SIZE else None
    return render_template("admin/accounts/audit.html", entries=entries, action=action,
                           actor=actor, older=older)


from petitions.admin import second_factor as _second_factor  # noqa: E402,F401  (routes on bp)
