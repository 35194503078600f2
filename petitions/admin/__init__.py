"""The admin area under /admin: every route needs a logged-in account (see require_login).

Each area is a child blueprint of `bp`, so endpoints read "admin.<area>.<view>".
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, has_request_context, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from petitions.admin.clock import site_time, site_zone
from petitions.extensions import login_manager

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Reachable without a session: the login steps themselves.
PUBLIC_ENDPOINTS = {"admin.auth.login", "admin.auth.second_factor"}


@bp.before_request
def require_login():
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    return redirect(url_for("admin.auth.login", next=request.full_path.rstrip("?")))


# (endpoint, label, admins only) for the admin menu; a link shows once its view exists.
NAV = [
    ("admin.petitions.index", _l("Petitions"), False),
    ("admin.moderation.index", _l("Signatures"), False),
    ("admin.moderation.fraud", _l("Fraud"), False),
    ("admin.content.index", _l("Articles"), False),
    ("admin.exports.index", _l("Exports"), False),
    ("admin.dashboard.outbox", _l("Outbox"), True),
    ("admin.dashboard.digests", _l("Digests"), True),
    ("admin.access_rules.index", _l("Block lists"), True),
    ("admin.api_keys.index", _l("API keys"), True),
    ("admin.accounts.index", _l("Accounts"), True),
    ("admin.accounts.audit_log", _l("Audit log"), True),
]


@bp.app_context_processor
def admin_menu():
    # Emails are rendered outside any request, by the worker.
    if not has_request_context() or not (request.blueprint or "").startswith("admin"):
        return {}
    is_admin = current_user.is_authenticated and current_user.is_admin
    links = [(endpoint, label) for endpoint, label, admins_only in NAV
             if endpoint in current_app.view_functions and (is_admin or not admins_only)]
    return {"admin_nav_links": links, "site_time": site_time, "site_zone": site_zone(),
            "site_timezone": current_app.config["SITE_TIMEZONE"]}


@bp.after_request
def never_cache(response):
    # Admin pages show personal data: keep them out of shared and browser caches.
    response.headers["Cache-Control"] = "no-store"
    return response


def register_admin(app: Flask) -> None:
    from petitions.admin import auth
    from petitions.admin.access_rules import bp as access_rules
    from petitions.admin.accounts import bp as accounts
    from petitions.admin.api_keys import bp as api_keys
    from petitions.admin.content import bp as content
    from petitions.admin.dashboard import bp as dashboard
    from petitions.admin.delivery import bp as delivery
    from petitions.admin.exports import bp as exports
    from petitions.admin.moderation import bp as moderation
    from petitions.admin.petitions import bp as petitions
    from petitions.admin.updates import bp as updates

    login_manager.init_app(app)
    # Flask-Login's after-request hook looks into the session on every response, and a
    # session looked at makes Flask add "Vary: Cookie", which keeps shared caches from
    # serving count.json and the read API. Logins exist only under /admin: run it there.
    app.after_request_funcs[None].remove(login_manager._update_remember_cookie)
    if not bp._got_registered_once:
        bp.after_request(login_manager._update_remember_cookie)
    login_manager.login_view = "admin.auth.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        return auth.load_user(user_id)

    if not bp._got_registered_once:  # the same blueprint serves every app in a process
        for child in (auth.bp, access_rules, accounts, api_keys, content, dashboard, delivery, exports,
                      moderation, petitions, updates):
            bp.register_blueprint(child)
    app.register_blueprint(bp)
