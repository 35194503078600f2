"""Role checks for admin views. Logging in is enforced for the whole area in __init__."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from petitions.admin.models import Role


def admin_only(view):
    """Personal-data exports, accounts and the audit log: admins, not moderators."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated or current_user.role != Role.ADMIN:
            abort(403)
        return view(*args, **kwargs)

    wrapper.admin_only = True  # read by the permission tests
    return wrapper
