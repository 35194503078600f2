"""Logging in (password, then an optional TOTP code) and out."""

from __future__ import annotations

import time

import pyotp
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from petitions.abuse.limiter import limit_string
from petitions.admin import audit, throttle
from petitions.admin.forms import LoginForm, SecondFactorForm
from petitions.admin.models import AdminUser
from petitions.database import utcnow
from petitions.extensions import db, limiter

bp = Blueprint("auth", __name__)

PENDING_KEY = "admin_second_factor"
SECOND_FACTOR_SECONDS = 300
# Checked when the email is unknown, so a wrong address costs as long as a wrong password.
_UNKNOWN_USER_HASH = generate_password_hash("not a real password", method="scrypt")


def load_user(user_id: str) -> AdminUser | None:
    account_id, _, version = user_id.partition(":")
    if not account_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(AdminUser, int(account_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def _safe_next(target: str | None) -> str:
    """Only somewhere inside the admin: never an open redirect."""
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return url_for("admin.dashboard.index")


def _locked_page(form, seconds: int):
    minutes = max(1, (seconds + 59) // 60)
    message = ngettext("Too many failed attempts. Try again in %(num)d minute.",
                       "Too many failed attempts. Try again in %(num)d minutes.", minutes)
    return render_template("admin/login.html", form=form, error=message), 429, {
        "Retry-After": str(seconds)}


def _finish_login(user: AdminUser, next_url: str | None):
    session.clear()  # a fresh session: nothing from before login carries over
    login_user(user)
    session.permanent = True
    user.last_login_at = utcnow()
    throttle.clear(throttle.keys_for(user.email, None)[0])
    audit.record("login", user, actor=user)
    db.session.commit()
    return redirect(_safe_next(next_url), code=303)


def _fail(email: str, form, template: str, message: str, actor=None):
    throttle.register_failure(throttle.keys_for(email, request.remote_addr))
    audit.record("login_failed", actor=actor, email=email[:254])
    db.session.commit()
    return render_template(template, form=form, error=message), 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(limit_string("RATELIMIT_LOGIN"), methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if request.method == "GET":
        return render_template("admin/login.html", form=form)
    if not form.validate_on_submit():
        return render_template("admin/login.html", form=form), 422
    email = form.email.data.lower()
    locked = throttle.seconds_locked(throttle.keys_for(email, request.remote_addr))
    if locked:
        return _locked_page(form, locked)
    user = db.session.scalar(select(AdminUser).where(func.lower(AdminUser.email) == email))
    valid = check_password_hash(user.password_hash if user else _UNKNOWN_USER_HASH,
                                form.password.data)
    if user is None or not valid or not user.active:
        return _fail(email, form, "admin/login.html", _("That email and password do not match."))
    if user.totp_secret:
        session[PENDING_KEY] = {"user": user.id, "at": int(time.time()),
                                "next": request.args.get("next")}
        return redirect(url_for("admin.auth.second_factor"), code=303)
    return _finish_login(user, request.args.get("next"))


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor():
    pending = session.get(PENDING_KEY)
    user = db.session.get(AdminUser, pending["user"]) if pending else None
    if user is None or time.time() - pending["at"] > SECOND_FACTOR_SECONDS or not user.active:
        session.pop(PENDING_KEY, None)
        flash(_("Please log in again."))
        return redirect(url_for("admin.auth.login"), code=303)
    form = SecondFactorForm()
    if request.method == "GET":
        return render_template("admin/second_factor.html", form=form)
    if not form.validate_on_submit():
        return render_template("admin/second_factor.html", form=form), 422
    locked = throttle.seconds_locked(throttle.keys_for(user.email, request.remote_addr))
    if locked:
        session.pop(PENDING_KEY, None)
        return _locked_page(LoginForm(), locked)
    if not pyotp.TOTP(user.totp_secret).verify(form.code.data, valid_window=1):
        return _fail(user.email, form, "admin/second_factor.html",
                     _("That code is not right. Check your app's clock and try again."), actor=user)
    return _finish_login(user, pending.get("next"))


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        audit.record("logout", current_user)
        db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("admin.auth.login"), code=303)
